//! Injected faults: their kinds, `--fault KIND:RATE` and `--fault-at KIND:N[-M]`
//! parsing, and the seeded draw that picks a request's fault from its
//! arrival number.

use std::fmt;
use std::str::FromStr;

/// One way an image request can go wrong on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// 400 in the dialect's error shape, at once.
    BadRequest,
    /// 422 (validation error shape), at once.
    Unprocessable,
    /// 429 with `retry-after` and `retry-after-ms`, at once.
    TooManyRequests,
    /// 500 text/plain after the service time.
    Internal,
    /// 500 text/plain after the service time, without `Connection: close`,
    /// then the connection is closed (SGLang's uvicorn after an unhandled
    /// exception).
    InternalClose,
    /// After the service time the connection is closed without an answer.
    Close,
    /// 503 with `retry-after`, at once.
    Unavailable,
    /// The answer is held `--stall-s` seconds after the service time.
    Stall,
    /// Headers and half the body, then the connection is closed.
    Drop,
    /// A 200 whose JSON is cut short.
    MalformedJson,
    /// A 200 whose base64 image is cut.
    TruncatedB64,
    /// A 200 whose image is half the requested width and height.
    WrongSize,
    /// A video job that ends `failed` halfway through its generation.
    Failed,
    /// A video job that stays `in_progress` for ever.
    Stuck,
    /// A video job whose first status poll gets a 500.
    PollError,
    /// A video job whose content answers 404 after completion.
    ContentMissing,
}

impl FaultKind {
    /// Every kind, in the order of the help text.
    pub const ALL: [FaultKind; 16] = [
        FaultKind::BadRequest,
        FaultKind::Unprocessable,
        FaultKind::TooManyRequests,
        FaultKind::Internal,
        FaultKind::InternalClose,
        FaultKind::Close,
        FaultKind::Unavailable,
        FaultKind::Stall,
        FaultKind::Drop,
        FaultKind::MalformedJson,
        FaultKind::TruncatedB64,
        FaultKind::WrongSize,
        FaultKind::Failed,
        FaultKind::Stuck,
        FaultKind::PollError,
        FaultKind::ContentMissing,
    ];

    /// Name as typed on the command line and written in the truth log.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::BadRequest => "400",
            FaultKind::Unprocessable => "422",
            FaultKind::TooManyRequests => "429",
            FaultKind::Internal => "500",
            FaultKind::InternalClose => "500-close",
            FaultKind::Close => "close",
            FaultKind::Unavailable => "503",
            FaultKind::Stall => "stall",
            FaultKind::Drop => "drop",
            FaultKind::MalformedJson => "malformed-json",
            FaultKind::TruncatedB64 => "truncated-b64",
            FaultKind::WrongSize => "wrong-size",
            FaultKind::Failed => "failed",
            FaultKind::Stuck => "stuck",
            FaultKind::PollError => "poll-500",
            FaultKind::ContentMissing => "content-404",
        }
    }

    /// Faults answered at arrival, without generating.
    pub fn is_immediate(self) -> bool {
        matches!(
            self,
            FaultKind::BadRequest
                | FaultKind::Unprocessable
                | FaultKind::TooManyRequests
                | FaultKind::Unavailable
        )
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FaultKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        FaultKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = FaultKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown fault {s:?}: expected one of {}", names.join(", "))
            })
    }
}

/// `--fault KIND:RATE`: this fraction of image requests get this fault.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultRate {
    /// The fault.
    pub kind: FaultKind,
    /// Fraction of requests, 0 to 1.
    pub rate: f64,
}

impl FromStr for FaultRate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, rate) = s
            .rsplit_once([':', '='])
            .ok_or_else(|| format!("expected KIND:RATE such as 429:0.05, got {s:?}"))?;
        let rate: f64 = rate
            .trim()
            .parse()
            .map_err(|_| format!("rate {rate:?} is not a number"))?;
        if !(0.0..=1.0).contains(&rate) {
            return Err(format!("rate must be between 0 and 1, got {rate}"));
        }
        Ok(FaultRate {
            kind: kind.parse()?,
            rate,
        })
    }
}

/// `--fault-at KIND:N[-M]`: image requests N to M (1-based) get this fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultAt {
    /// The fault.
    pub kind: FaultKind,
    /// First request number (1-based).
    pub from: u64,
    /// Last request number, inclusive.
    pub to: u64,
}

impl FromStr for FaultAt {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, range) = s
            .rsplit_once([':', '@'])
            .ok_or_else(|| format!("expected KIND:N or KIND:N-M such as 500:3, got {s:?}"))?;
        let num = |t: &str| {
            t.trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| format!("request number {t:?} is not an integer >= 1"))
        };
        let (from, to) = match range.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(range)?, num(range)?),
        };
        if to < from {
            return Err(format!("empty range {from}-{to}"));
        }
        Ok(FaultAt {
            kind: kind.parse()?,
            from,
            to,
        })
    }
}

/// The configured faults, ready to draw from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults {
    rates: Vec<FaultRate>,
    at: Vec<FaultAt>,
    seed: u64,
}

impl Faults {
    pub(crate) fn new(rates: &[FaultRate], at: &[FaultAt], seed: u64) -> Faults {
        Faults {
            rates: rates.iter().copied().filter(|r| r.rate > 0.0).collect(),
            at: at.to_vec(),
            seed,
        }
    }

    /// The fault of image request number `seq` (1-based), if any: a
    /// `--fault-at` match first, else one seeded uniform draw against the
    /// cumulative rates.
    pub(crate) fn pick(&self, seq: u64) -> Option<FaultKind> {
        if let Some(a) = self.at.iter().find(|a| (a.from..=a.to).contains(&seq)) {
            return Some(a.kind);
        }
        if self.rates.is_empty() {
            return None;
        }
        let u = unit(self.seed, STREAM_FAULT, seq);
        let mut acc = 0.0;
        for r in &self.rates {
            acc += r.rate;
            if u < acc {
                return Some(r.kind);
            }
        }
        None
    }
}

/// Random stream of the fault draws.
pub(crate) const STREAM_FAULT: u64 = 0x000F_A017;
/// Random stream of the latency jitter.
pub(crate) const STREAM_JITTER: u64 = 0x0071_7732;

/// SplitMix64 finaliser: a well-mixed 64-bit hash of `x` (shared with core's pictures).
pub(crate) use imgperf_core::picture::mix64;

/// A uniform draw in [0, 1) that depends only on (seed, stream, index), so
/// concurrency never changes which request gets which draw.
pub(crate) fn unit(seed: u64, stream: u64, index: u64) -> f64 {
    let h = mix64(mix64(seed ^ mix64(stream)) ^ index);
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kinds_rates_and_ranges() {
        let r: FaultRate = "429:0.25".parse().unwrap();
        assert_eq!((r.kind, r.rate), (FaultKind::TooManyRequests, 0.25));
        let r: FaultRate = "truncated_b64=0.5".parse().unwrap();
        assert_eq!(r.kind, FaultKind::TruncatedB64);
        assert!("429:1.5".parse::<FaultRate>().is_err());
        assert!("teapot:0.1".parse::<FaultRate>().is_err());
        let a: FaultAt = "drop:10-12".parse().unwrap();
        assert_eq!((a.kind, a.from, a.to), (FaultKind::Drop, 10, 12));
        let r: FaultRate = "500-close:0.33".parse().unwrap();
        assert_eq!((r.kind, r.rate), (FaultKind::InternalClose, 0.33));
        let a: FaultAt = "500@3".parse().unwrap();
        assert_eq!((a.from, a.to), (3, 3));
        assert!("500:0".parse::<FaultAt>().is_err());
        assert!("500:5-4".parse::<FaultAt>().is_err());
        for k in FaultKind::ALL {
            assert_eq!(k.name().parse::<FaultKind>().unwrap(), k);
        }
    }

    #[test]
    fn draws_follow_the_rates_and_the_schedule_wins() {
        let rates = ["500:0.2".parse().unwrap(), "drop:0.1".parse().unwrap()];
        let at = ["stall:7".parse().unwrap()];
        let f = Faults::new(&rates, &at, 42);
        let n = 20_000;
        let picks: Vec<_> = (1..=n).map(|i| f.pick(i)).collect();
        let count = |k| picks.iter().filter(|p| **p == Some(k)).count() as f64 / n as f64;
        assert!((count(FaultKind::Internal) - 0.2).abs() < 0.015);
        assert!((count(FaultKind::Drop) - 0.1).abs() < 0.01);
        assert_eq!(picks[6], Some(FaultKind::Stall));
        assert_eq!(Faults::new(&rates, &at, 42).pick(99), f.pick(99));
    }
}

//! When each request is due: pure, seeded arrival-time generation (no clock,
//! no I/O) for `--request-rate`, `--fixed-schedule` and the ramps.
//!
//! Offsets are `u64` nanoseconds from the start of a phase. A runner turns
//! them into absolute deadlines (`start + offset`) and sleeps until each one,
//! so the schedule never drifts: no sleep is ever accumulated.
//!
//! Every rate pattern is built the same way: a unit-rate "operational time"
//! sequence `u_0 = 0, u_1, u_2, ...` (constant: `u_k = k`; Poisson: gaps
//! `Exp(1)`; gamma: gaps `Gamma(shape, 1/shape)`, mean 1 and variance
//! `1/shape`) is mapped to wall time by inverting the cumulative rate
//! `Λ(t) = ∫ r`. Without a ramp `Λ(t) = R·t`, so arrival `k` is at `u_k / R`
//! (constant: exactly `k·1e9/R` ns, computed from `k`).
//!
//! With `--request-rate-ramp-duration D` the rate rises linearly,
//! `r(t) = R·min(1, t/D)`, so `Λ(t) = R·t²/(2D)` during the ramp and
//! `R·D/2 + R·(t − D)` after it. No rate floor is needed: inverting `Λ`
//! puts the first arrival at 0 and arrival `k` at `sqrt(2·D·u_k/R)`, which is
//! always finite (the first gap is `sqrt(2D/R)`, e.g. 1.4 s for R = 10, D = 10).
//! The ramp holds `R·D/2` arrivals; from `D` on the rate is exactly `R`.
//!
//! A run bounded by a request count `n` conditions the random patterns on
//! that count ([`Schedule::conditioned_on_count`]): the first `n − 1` gaps
//! are scaled by one common factor so that `u_{n−1} = n − 1` exactly. For
//! Poisson this is the textbook conditional law (given the `(n−1)`-th
//! arrival at `T`, the ones between are uniform order statistics on
//! `[0, T]`); for gamma the gaps become `(n−1)·Dirichlet(shape, …)`. The
//! pattern keeps its shape while the achieved rate, `(n−1)/(last − first)`,
//! is the requested one instead of a sample that is a few percent off at
//! `n = 1000` (the standard error of a Poisson rate is `R/√n`).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};

/// Why a schedule could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScheduleError {
    /// `--request-rate-mode` named no known pattern.
    #[error("unknown --request-rate-mode (--arrival-pattern) `{0}`: expected one of constant, poisson, gamma, concurrency_burst")]
    UnknownMode(String),
    /// The gamma shape was not a finite number > 0.
    #[error("--arrival-smoothness (the gamma shape) must be a finite number > 0, got {0}")]
    BadSmoothness(f64),
    /// The request rate was not a finite number > 0.
    #[error("--request-rate must be a finite number of requests per second > 0, got {0}")]
    BadRate(f64),
    /// The ramp duration was negative or not finite.
    #[error("--request-rate-ramp-duration must be a finite number of seconds >= 0, got {0}")]
    BadRamp(f64),
    /// A `--fixed-schedule` row (index, timestamp ms) was negative or not finite.
    #[error("--fixed-schedule: row {0} has timestamp {1} ms; timestamps must be finite and >= 0")]
    BadTimestamp(usize, f64),
    /// A start or end offset (flag, ms) was negative or not finite.
    #[error("{0} must be a finite number of milliseconds >= 0, got {1}")]
    BadOffset(&'static str, f64),
    /// The start offset (ms) lies after the end offset (ms).
    #[error(
        "--fixed-schedule-start-offset ({0} ms) is after --fixed-schedule-end-offset ({1} ms)"
    )]
    ReversedOffsets(f64, f64),
    /// No row of the input (this many rows) is left to send.
    #[error(
        "--fixed-schedule: no rows to send ({0} in the input, none within the start/end offsets)"
    )]
    Empty(usize),
}

/// How arrivals are spread in time (`--request-rate-mode`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ArrivalPattern {
    /// Evenly spaced: one request every `1/R` seconds.
    Constant,
    /// Exponential gaps with mean `1/R`.
    Poisson,
    /// Gamma gaps with mean `1/R` and variance `1/(R²·shape)`: shape < 1 is
    /// burstier than Poisson, > 1 smoother, 1 is Poisson.
    Gamma {
        /// `--arrival-smoothness`.
        shape: f64,
    },
    /// Every request due at once; the concurrency cap paces them.
    ConcurrencyBurst,
}

fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

impl ArrivalPattern {
    /// Parse `--request-rate-mode` (case-insensitive, `-` accepted for `_`).
    /// `smoothness` (`--arrival-smoothness`, default 1.0) is the gamma shape
    /// and is ignored by the other patterns.
    pub fn parse(mode: &str, smoothness: Option<f64>) -> Result<Self, ScheduleError> {
        match mode.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "constant" => Ok(Self::Constant),
            "poisson" => Ok(Self::Poisson),
            "concurrency_burst" => Ok(Self::ConcurrencyBurst),
            "gamma" => match smoothness.unwrap_or(1.0) {
                shape if positive(shape) => Ok(Self::Gamma { shape }),
                shape => Err(ScheduleError::BadSmoothness(shape)),
            },
            _ => Err(ScheduleError::UnknownMode(mode.to_string())),
        }
    }
}

/// An open-loop load: `--request-rate` and how it is shaped.
#[derive(Debug, Clone, PartialEq)]
pub struct RateSpec {
    /// Target requests per second, > 0 (ignored by `ConcurrencyBurst`).
    pub rate: f64,
    /// Arrival pattern.
    pub pattern: ArrivalPattern,
    /// `--request-rate-ramp-duration` (s): the rate rises linearly from 0 to
    /// `rate` over this time. `None` or 0: full rate from the start.
    pub ramp_duration_s: Option<f64>,
}

/// The arrival offsets (ns from phase start) of a [`RateSpec`]: an infinite,
/// non-decreasing, seeded iterator. The first arrival is at 0.
#[derive(Debug, Clone)]
pub struct Schedule {
    burst: bool,
    /// Unit-mean gaps of the random patterns (Poisson is gamma of shape 1);
    /// `None` for constant.
    gaps: Option<(ChaCha8Rng, Gamma<f64>)>,
    rate: f64,
    ramp_s: f64,
    index: u64,
    position: f64,
    /// Multiplies the random gaps (1 unless conditioned on a count).
    scale: f64,
}

impl Schedule {
    /// The schedule of `spec`; `seed` fixes the random patterns (same seed →
    /// identical offsets).
    pub fn new(spec: &RateSpec, seed: u64) -> Result<Schedule, ScheduleError> {
        let burst = spec.pattern == ArrivalPattern::ConcurrencyBurst;
        if !(burst || positive(spec.rate)) {
            return Err(ScheduleError::BadRate(spec.rate));
        }
        let ramp_s = spec.ramp_duration_s.unwrap_or(0.0);
        if !(ramp_s == 0.0 || positive(ramp_s)) {
            return Err(ScheduleError::BadRamp(ramp_s));
        }
        let shape = match spec.pattern {
            ArrivalPattern::Poisson => Some(1.0),
            ArrivalPattern::Gamma { shape } => Some(shape),
            _ => None,
        };
        let gaps = match shape {
            Some(k) => Some(Gamma::new(k, 1.0 / k).map_err(|_| ScheduleError::BadSmoothness(k))?),
            None => None,
        };
        let gaps = gaps.map(|g| (ChaCha8Rng::seed_from_u64(seed), g));
        let (rate, index, position, scale) = (spec.rate, 0, 0.0, 1.0);
        Ok(Schedule {
            burst,
            gaps,
            rate,
            ramp_s,
            index,
            position,
            scale,
        })
    }

    /// This schedule conditioned on sending `count` requests: the random
    /// gaps before arrival `count − 1` are scaled so that it lands exactly
    /// where a constant schedule of the same rate (and ramp) would put it.
    /// Arrivals past `count` keep the same scale. Constant and burst
    /// schedules, and counts below 2, are returned unchanged. Costs one
    /// pass of `count − 1` draws on a copy of the generator; no memory.
    pub fn conditioned_on_count(mut self, count: u64) -> Schedule {
        if let (Some((rng, gaps)), true) = (&self.gaps, count >= 2 && self.index == 0) {
            let mut probe = rng.clone();
            let sum: f64 = (1..count).map(|_| gaps.sample(&mut probe)).sum();
            if sum > 0.0 && sum.is_finite() {
                self.scale = (count - 1) as f64 / sum;
            }
        }
        self
    }

    /// Wall-time offset (ns) of operational time `u`: the inverse of `Λ`.
    fn warp_ns(&self, u: f64) -> u64 {
        let in_ramp = self.rate * self.ramp_s / 2.0;
        let ns = if self.ramp_s == 0.0 {
            u * 1e9 / self.rate
        } else if u <= in_ramp {
            (2.0 * self.ramp_s * u / self.rate).sqrt() * 1e9
        } else {
            self.ramp_s * 1e9 + (u - in_ramp) * 1e9 / self.rate
        };
        ns.round() as u64
    }
}

impl Iterator for Schedule {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.burst {
            return Some(0);
        }
        let u = match &mut self.gaps {
            None => self.index as f64,
            Some((rng, gaps)) => {
                let u = self.position;
                self.position += gaps.sample(rng) * self.scale;
                u
            }
        };
        self.index += 1;
        Some(self.warp_ns(u))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

fn check_offset(flag: &'static str, value: Option<f64>) -> Result<Option<f64>, ScheduleError> {
    match value {
        Some(v) if !(v == 0.0 || positive(v)) => Err(ScheduleError::BadOffset(flag, v)),
        other => Ok(other),
    }
}

/// `--fixed-schedule`: the rows to send and their offsets (ns), sorted by
/// offset (stable: equal offsets keep row order).
///
/// Rows whose timestamp (ms) lies outside `[start_offset_ms, end_offset_ms]`
/// (bounds given, inclusive) are dropped. The schedule's zero is the earliest
/// kept timestamp with `auto_offset`, else the start offset, else 0.
pub fn fixed_schedule(
    timestamps_ms: &[f64],
    auto_offset: bool,
    start_offset_ms: Option<f64>,
    end_offset_ms: Option<f64>,
) -> Result<Vec<(usize, u64)>, ScheduleError> {
    let bad = timestamps_ms
        .iter()
        .position(|&t| !(t == 0.0 || positive(t)));
    if let Some(row) = bad {
        return Err(ScheduleError::BadTimestamp(row, timestamps_ms[row]));
    }
    let start = check_offset("--fixed-schedule-start-offset", start_offset_ms)?;
    let end = check_offset("--fixed-schedule-end-offset", end_offset_ms)?;
    if let (Some(start), Some(end)) = (start, end) {
        if start > end {
            return Err(ScheduleError::ReversedOffsets(start, end));
        }
    }
    let inside = |t: f64| start.is_none_or(|s| t >= s) && end.is_none_or(|e| t <= e);
    let kept: Vec<(usize, f64)> = timestamps_ms
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, t)| inside(t))
        .collect();
    let zero = match kept.iter().map(|&(_, t)| t).reduce(f64::min) {
        None => return Err(ScheduleError::Empty(timestamps_ms.len())),
        Some(first) if auto_offset => first,
        Some(_) => start.unwrap_or(0.0),
    };
    let mut out: Vec<(usize, u64)> = kept
        .into_iter()
        .map(|(row, t)| (row, ((t - zero) * 1e6).round() as u64))
        .collect();
    out.sort_by_key(|&(_, offset)| offset);
    Ok(out)
}

/// `--concurrency-ramp-duration`: `(offset ns, allowed concurrency)` steps
/// rising from 1 to `target`, evenly spaced so that `target` is reached at
/// the end of the ramp (step `c` at `(c−1)/(target−1)` of the duration).
/// A ramp that is not a finite number > 0 means `[(0, target)]`; a target of
/// 0 gives no steps.
pub fn concurrency_ramp(target: usize, ramp_duration_s: f64) -> Vec<(u64, usize)> {
    match target {
        0 => Vec::new(),
        1 => vec![(0, 1)],
        _ if !positive(ramp_duration_s) => vec![(0, target)],
        _ => {
            let step_ns = ramp_duration_s * 1e9 / (target - 1) as f64;
            (1..=target)
                .map(|c| (((c - 1) as f64 * step_ns).round() as u64, c))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests;

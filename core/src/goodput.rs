//! Goodput, as AIPerf defines it: `--goodput "request_latency:15000
//! time_to_first_image:2000"` sets service-level objectives, each an upper
//! bound (in the metric's unit, ms) on a per-request time metric. A request
//! is *good* when it succeeded and every SLO holds (for a metric with one
//! value per event, such as the gaps between partial images, every value);
//! a request lacking an SLO's metric (no partial images in a non-streamed
//! run, say) is not good. Goodput = good requests / benchmark duration; SLO
//! attainment = good requests / all profiling requests (failed included).

use crate::metrics::{self, MetricDef};

/// One objective: `def` at most `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slo {
    /// The metric bounded.
    pub def: MetricDef,
    /// Largest value that still meets the objective (metric unit).
    pub max: f64,
}

/// Every objective of `--goodput`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Goodput {
    /// The objectives, in the order given.
    pub slos: Vec<Slo>,
}

/// Metrics an SLO may bound: the per-request times.
fn allowed() -> impl Iterator<Item = MetricDef> {
    metrics::DISTRIBUTION_METRICS
        .into_iter()
        .chain(metrics::VIDEO_DISTRIBUTION_METRICS)
        .filter(|d| d.unit == "ms" && *d != metrics::REQUEST_LATENCY_WITH_ERRORS)
}

impl Goodput {
    /// Parse `"tag:value tag:value"` (spaces or commas between pairs; `=`
    /// accepted for `:`).
    pub fn parse(spec: &str) -> Result<Goodput, String> {
        let mut slos = Vec::new();
        for pair in spec.split([' ', ',']).filter(|p| !p.trim().is_empty()) {
            let (tag, value) = pair.split_once([':', '=']).ok_or_else(|| {
                format!(
                    "invalid --goodput {pair:?}: expected metric:value, like request_latency:15000"
                )
            })?;
            let def = allowed().find(|d| d.tag == tag.trim()).ok_or_else(|| {
                let names: Vec<&str> = allowed().map(|d| d.tag).collect();
                format!(
                    "--goodput: {:?} is not a per-request time metric; use one of {}",
                    tag.trim(),
                    names.join(", ")
                )
            })?;
            let max: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| {
                    format!("--goodput {pair:?}: the bound must be a number of ms ≥ 0")
                })?;
            if slos.iter().any(|s: &Slo| s.def == def) {
                return Err(format!("--goodput names {} twice", def.tag));
            }
            slos.push(Slo { def, max });
        }
        if slos.is_empty() {
            return Err(
                "--goodput needs at least one metric:value, like request_latency:15000".into(),
            );
        }
        Ok(Goodput { slos })
    }

    /// Whether a successful request with these metric values meets every SLO.
    pub fn is_good(&self, values: &[(MetricDef, f64)]) -> bool {
        self.slos.iter().all(|slo| {
            let mut seen = false;
            let all_within = values.iter().filter(|(d, _)| *d == slo.def).all(|(_, v)| {
                seen = true;
                *v <= slo.max
            });
            seen && all_within
        })
    }

    /// The objectives as typed: `request_latency:15000 time_to_first_image:2000`.
    pub fn spec(&self) -> String {
        self.slos
            .iter()
            .map(|s| format!("{}:{}", s.def.tag, s.max))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::tests::{err, rec};
    use crate::metrics::{MetricValue, SummaryBuilder};

    #[test]
    fn parses_and_rejects() {
        let g = Goodput::parse("request_latency:15000  time_to_first_image=2000,").unwrap();
        assert_eq!(g.slos.len(), 2);
        assert_eq!(
            (g.slos[1].def.tag, g.slos[1].max),
            ("time_to_first_image", 2000.0)
        );
        assert_eq!(g.spec(), "request_latency:15000 time_to_first_image:2000");
        let v = Goodput::parse("video_queue_time:5000 video_generation_time:60000").unwrap();
        assert_eq!(v.slos[0].def, metrics::VIDEO_QUEUE_TIME);
        for bad in [
            "",
            "request_latency",
            "nope:1",
            "request_latency:x",
            "request_latency:-1",
            "request_count:3",
            "request_latency:1 request_latency:2",
        ] {
            assert!(Goodput::parse(bad).is_err(), "{bad:?}");
        }
        let msg = Goodput::parse("ttft:1").unwrap_err();
        assert!(msg.contains("time_to_first_partial_image"), "{msg}");
    }

    /// A hand computation: 6 requests over exactly 10 s.
    ///
    /// | # | latency ms | first image ms (= first partial) | good? |
    /// |---|-----------:|------------------:|-------|
    /// | 0 | 1000 | 400 | yes |
    /// | 1 | 1500 | 600 | no: first image > 500 |
    /// | 2 | 2500 | 300 | no: latency > 2000 |
    /// | 3 | 2000 | 500 | yes: bounds are inclusive |
    /// | 4 | failed | - | no |
    /// | 5 | 1200 | none | no: metric missing |
    ///
    /// good = 2; goodput = 2 / 10 s = 0.2 req/s; attainment = 2 / 6 = 33.33 %.
    #[test]
    fn goodput_matches_a_hand_computation() {
        let g = Goodput::parse("request_latency:2000 time_to_first_image:500").unwrap();
        let mut b = SummaryBuilder::with_goodput(g);
        let cases = [
            (1000.0, Some(400.0)),
            (1500.0, Some(600.0)),
            (2500.0, Some(300.0)),
            (2000.0, Some(500.0)),
            (1000.0, Some(1.0)),
            (1200.0, None),
        ];
        for (i, (lat, first)) in cases.into_iter().enumerate() {
            // Starts 1 s apart; the last one ends at exactly 11 s.
            let start = if i == 5 {
                9_800_000_000
            } else {
                (i as u64 + 1) * 1_000_000_000
            };
            let mut r = rec(i as u64, start, lat, Some(7));
            r.output.first_image_ns = first.map(|ms: f64| start + (ms * 1e6) as u64);
            if i == 4 {
                r.error = Some(err(500, "HTTPError"));
            }
            b.add(&r);
        }
        let s = b.finish();
        let scalar = |tag| match s.get(tag).map(|m| &m.value) {
            Some(MetricValue::Scalar(v)) => *v,
            other => panic!("{tag}: {other:?}"),
        };
        assert_eq!(s.benchmark_duration_s, 10.0);
        assert_eq!(scalar("good_request_count"), 2.0);
        assert_eq!(scalar("goodput"), 0.2);
        assert_eq!(format!("{:.2}", scalar("slo_attainment")), "33.33");
        assert_eq!(format!("{:.2}", scalar("error_rate")), "16.67");
        // Without --goodput the three metrics are absent.
        let mut plain = SummaryBuilder::new();
        plain.add(&rec(0, 0, 1.0, None));
        assert!(plain.finish().get("goodput").is_none());
    }
}

//! The latency CDF: for each run, the share of successful requests that
//! finished within each latency, as a step line (percentiles read off the
//! y axis: the p50 where the line crosses 50%).

use super::{empty, legend, line_path, ok_latencies, Frame, Series};
use std::fmt::Write;

/// Steps drawn per series at most (the sorted values are sampled evenly).
const MAX_STEPS: usize = 1000;

/// Latency CDF of successful requests, one line per run.
pub fn latency_cdf(series: &[Series<'_>]) -> String {
    const TITLE: &str = "Latency CDF";
    let mut all: Vec<Vec<f64>> = series.iter().map(ok_latencies).collect();
    all.iter_mut().for_each(|v| v.sort_by(f64::total_cmp));
    let lo = all
        .iter()
        .filter_map(|v| v.first())
        .copied()
        .fold(f64::INFINITY, f64::min);
    let hi = all
        .iter()
        .filter_map(|v| v.last())
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() {
        return empty(TITLE);
    }
    let frame = Frame::new((lo, hi.max(lo + 1.0)), (0.0, 100.0));
    let mut o = frame.open(TITLE, "request latency (ms)", "% of requests at most");
    for (s, vals) in series.iter().zip(&all) {
        if vals.is_empty() {
            continue;
        }
        let n = vals.len();
        let stride = n.div_ceil(MAX_STEPS).max(1);
        let mut d = format!("M{:.1} {:.1}", frame.sx(vals[0]), frame.sy(0.0));
        let mut i = 0;
        while i < n {
            let j = (i + stride).min(n) - 1;
            let share = (j + 1) as f64 * 100.0 / n as f64;
            let _ = write!(
                d,
                " L{:.1} {:.1} L{:.1} {:.1}",
                frame.sx(vals[i]),
                frame.sy(if i == 0 {
                    0.0
                } else {
                    i as f64 * 100.0 / n as f64
                }),
                frame.sx(vals[j]),
                frame.sy(share)
            );
            i = j + 1;
        }
        line_path(&mut o, s.name, &d, s.color, 2.0);
    }
    legend(&mut o, series);
    o.push_str("</svg>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Point;

    fn pts(lat: &[f64]) -> Vec<Point> {
        lat.iter()
            .map(|l| Point {
                start_s: 0.0,
                end_s: l / 1000.0,
                latency_ms: *l,
                ok: *l > 0.0,
            })
            .collect()
    }

    #[test]
    fn one_rising_line_per_run_ending_at_100_percent() {
        let (a, b) = (pts(&[300.0, 100.0, 200.0, -1.0]), pts(&[150.0]));
        let series = [
            Series {
                name: "a",
                color: "#000",
                points: &a,
            },
            Series {
                name: "b",
                color: "#111",
                points: &b,
            },
        ];
        let svg = latency_cdf(&series);
        assert_eq!(svg.matches(r#"class="series""#).count(), 2, "{svg}");
        // Run a ends at (300 ms, 100%): the top of the plot area.
        let top = format!("{:.1}", super::super::TOP);
        let path_a = svg.split(r#"data-name="a""#).nth(1).unwrap();
        let d = path_a.split('"').nth(1).unwrap();
        assert!(d.trim_end().ends_with(&top), "{d}");
        assert!(latency_cdf(&[Series {
            name: "x",
            color: "#000",
            points: &pts(&[-1.0])
        }])
        .contains("no successful requests"));
    }
}

//! Bars per requested size: for each size a run asked for, the p50
//! latency (bar) and p99 (tick) of its successful requests, runs side by
//! side in their colours; and the sweep plot, throughput against latency
//! with one marker per point of the grid.

use super::{empty, esc, legend, line_path, Frame};
use imgperf_core::metrics::SizeSummary;
use std::fmt::Write;

/// One run's per-size figures under a name and colour.
#[derive(Debug, Clone, Copy)]
pub struct SizeSeries<'a> {
    /// Legend text.
    pub name: &'a str,
    /// CSS colour.
    pub color: &'a str,
    /// Its per-size summary (core's image report).
    pub sizes: &'a [SizeSummary],
}

/// Latency by requested size: p50 bars with p99 ticks.
pub fn size_bars(series: &[SizeSeries<'_>]) -> String {
    const TITLE: &str = "Latency by requested size";
    let mut sizes: Vec<&str> = Vec::new();
    for s in series {
        for z in s.sizes {
            if !sizes.contains(&z.size.as_str()) {
                sizes.push(&z.size);
            }
        }
    }
    let top = series
        .iter()
        .flat_map(|s| s.sizes.iter())
        .filter_map(|z| z.request_latency.map(|l| l.p99))
        .fold(0.0, f64::max);
    if sizes.is_empty() || top <= 0.0 {
        return empty(TITLE);
    }
    let frame = Frame::new((0.0, sizes.len() as f64), (0.0, top * 1.1));
    let mut o = frame.open_categories(TITLE, &sizes, "p50 (bar) and p99 (tick) latency, ms");
    let slot = 1.0 / (series.len() as f64 + 1.0);
    for (k, s) in series.iter().enumerate() {
        let _ = write!(o, r##"<g class="series" data-name="{}">"##, esc(s.name));
        for z in s.sizes {
            let (Some(i), Some(l)) = (sizes.iter().position(|x| *x == z.size), z.request_latency)
            else {
                continue;
            };
            let x0 = i as f64 + slot * (k as f64 + 0.5);
            let (a, b) = (frame.sx(x0), frame.sx(x0 + slot));
            let _ = write!(
                o,
                r##"<rect x="{a:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{c}" fill-opacity="0.7"><title>{t}: p50 {p50:.0} ms, p99 {p99:.0} ms, {n} requests</title></rect><line x1="{a:.1}" x2="{b:.1}" y1="{y99:.1}" y2="{y99:.1}" stroke="{c}" stroke-width="3"/>"##,
                y = frame.sy(l.p50),
                w = b - a,
                h = frame.sy(0.0) - frame.sy(l.p50),
                c = s.color,
                t = esc(&z.size),
                p50 = l.p50,
                p99 = l.p99,
                n = z.request_count,
                y99 = frame.sy(l.p99),
            );
        }
        o.push_str("</g>");
    }
    legend(
        &mut o,
        &series
            .iter()
            .map(|s| super::Series {
                name: s.name,
                color: s.color,
                points: &[],
            })
            .collect::<Vec<_>>(),
    );
    o.push_str("</svg>");
    o
}

/// One point of a sweep: its name, throughput and latency percentiles.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPoint {
    /// `concurrency=2 size=512x512`.
    pub name: String,
    /// Request throughput (requests/s).
    pub throughput: f64,
    /// p50 request latency (ms).
    pub p50: f64,
    /// p99 request latency (ms).
    pub p99: f64,
}

/// A sweep: latency (p50 and p99) against request throughput, one marker
/// per point, joined in grid order.
pub fn sweep_curve(points: &[SweepPoint]) -> String {
    const TITLE: &str = "Sweep: latency against throughput";
    if points.is_empty() {
        return empty(TITLE);
    }
    let x_hi = points.iter().map(|p| p.throughput).fold(0.0, f64::max);
    let y_hi = points.iter().map(|p| p.p99.max(p.p50)).fold(0.0, f64::max);
    let frame = Frame::new((0.0, x_hi * 1.1), (0.0, y_hi * 1.1));
    let mut o = frame.open(
        TITLE,
        "request throughput (requests/s)",
        "request latency (ms)",
    );
    for (stat, color, pick) in [
        (
            "p50",
            super::PALETTE[0],
            (|p: &SweepPoint| p.p50) as fn(&SweepPoint) -> f64,
        ),
        ("p99", super::PALETTE[1], |p: &SweepPoint| p.p99),
    ] {
        let d: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                format!(
                    "{}{:.1} {:.1}",
                    if i == 0 { 'M' } else { 'L' },
                    frame.sx(p.throughput),
                    frame.sy(pick(p))
                )
            })
            .collect();
        line_path(&mut o, stat, &d.join(" "), color, 2.0);
        for p in points {
            let _ = write!(
                o,
                r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{color}"><title>{}: {stat} {:.0} ms at {:.2} req/s</title></circle>"##,
                frame.sx(p.throughput),
                frame.sy(pick(p)),
                esc(&p.name),
                pick(p),
                p.throughput
            );
        }
    }
    let names = ["p50", "p99"];
    let legend_series: Vec<super::Series<'_>> = names
        .iter()
        .enumerate()
        .map(|(i, n)| super::Series {
            name: n,
            color: super::PALETTE[i],
            points: &[],
        })
        .collect();
    legend(&mut o, &legend_series);
    o.push_str("</svg>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use imgperf_core::stats::Stats;

    fn size(name: &str, p50: f64) -> SizeSummary {
        SizeSummary {
            size: name.into(),
            request_count: 3,
            error_request_count: 0,
            request_latency: Stats::from_values(&[p50 - 10.0, p50, p50 + 30.0]),
            http_req_waiting: None,
            request_throughput: 1.0,
            image_throughput: 1.0,
            megapixel_throughput: 0.3,
        }
    }

    #[test]
    fn bars_per_size_and_run_and_a_sweep_curve() {
        let a = [size("512x512", 900.0), size("1024x1024", 3000.0)];
        let b = [size("1024x1024", 2500.0)];
        let svg = size_bars(&[
            SizeSeries {
                name: "a",
                color: "#000",
                sizes: &a,
            },
            SizeSeries {
                name: "b",
                color: "#111",
                sizes: &b,
            },
        ]);
        assert_eq!(
            svg.matches("<rect x=").count() - svg.matches(r#"width="10""#).count(),
            1 + 3,
            "{svg}"
        );
        assert!(svg.contains(">512x512</text>") && svg.contains(">1024x1024</text>"));
        assert!(size_bars(&[]).contains("no successful requests"));
        let points = [
            SweepPoint {
                name: "concurrency=1".into(),
                throughput: 1.0,
                p50: 900.0,
                p99: 950.0,
            },
            SweepPoint {
                name: "concurrency=2".into(),
                throughput: 1.8,
                p50: 1100.0,
                p99: 1400.0,
            },
        ];
        let svg = sweep_curve(&points);
        assert_eq!(svg.matches("<circle").count(), 4);
        assert!(svg.contains("concurrency=2: p99 1400 ms at 1.80 req/s"));
    }
}

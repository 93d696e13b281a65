//! Telemetry on the requests' time axis: request latency, GPU power, GPU
//! utilization and the server's queue gauges, one panel each, all with the
//! same x range (seconds since the run's first request), so they line up
//! one above the other. A failed scrape breaks its line.

use super::{empty, legend, line_path, Frame, Series, PALETTE};
use crate::model::Point;
use imgperf_core::telemetry::timeline::{Timeline, Track};
use std::fmt::Write;

/// The x range shared by every panel: requests and scrapes.
fn x_range(points: &[Point], origin_ns: u64, tl: &Timeline) -> (f64, f64) {
    let rel = |ns: u64| (ns as f64 - origin_ns as f64) / 1e9;
    let mut lo = 0.0f64;
    let mut hi = points.iter().map(|p| p.end_s).fold(0.0, f64::max);
    if let Some((a, b)) = tl.span {
        lo = lo.min(rel(a));
        hi = hi.max(rel(b));
    }
    (lo, hi)
}

fn lines_panel(
    title: &str,
    y_label: &str,
    tracks: &[Track],
    x: (f64, f64),
    origin_ns: u64,
    y_floor: Option<f64>,
) -> String {
    let values = tracks
        .iter()
        .flat_map(|t| t.points.iter().filter_map(|p| p.1));
    let top = values.clone().fold(f64::NEG_INFINITY, f64::max);
    if !top.is_finite() {
        return empty(title);
    }
    let bottom = y_floor.unwrap_or_else(|| values.fold(f64::INFINITY, f64::min));
    let frame = Frame::new(x, (bottom.min(top), top * 1.05 + 1e-9));
    let mut o = frame.open(title, "time since first request (s)", y_label);
    for (i, t) in tracks.iter().enumerate() {
        let mut d = String::new();
        let mut pen_down = false;
        for (ns, v) in &t.points {
            let Some(v) = v else {
                pen_down = false;
                continue;
            };
            let sx = frame.sx((*ns as f64 - origin_ns as f64) / 1e9);
            let cmd = if pen_down { 'L' } else { 'M' };
            let _ = write!(d, "{cmd}{sx:.1} {:.1} ", frame.sy(*v));
            pen_down = true;
        }
        line_path(&mut o, &t.name, &d, PALETTE[i % PALETTE.len()], 1.5);
    }
    let names: Vec<Series<'_>> = tracks
        .iter()
        .enumerate()
        .map(|(i, t)| Series {
            name: &t.name,
            color: PALETTE[i % PALETTE.len()],
            points: &[],
        })
        .collect();
    legend(&mut o, &names);
    o.push_str("</svg>");
    o
}

fn latency_panel(points: &[Point], x: (f64, f64)) -> String {
    const TITLE: &str = "Request latency";
    let top = points
        .iter()
        .filter(|p| p.ok)
        .map(|p| p.latency_ms)
        .fold(0.0, f64::max);
    if top <= 0.0 {
        return empty(TITLE);
    }
    let frame = Frame::new(x, (0.0, top * 1.05));
    let mut o = frame.open(TITLE, "time since first request (s)", "latency (ms)");
    o.push_str(r##"<g class="series" data-name="requests">"##);
    let stride = points.len().div_ceil(super::MAX_DOTS).max(1);
    for p in points.iter().filter(|p| p.ok).step_by(stride) {
        let _ = write!(
            o,
            r##"<line x1="{a:.1}" x2="{b:.1}" y1="{y:.1}" y2="{y:.1}" stroke="{c}" stroke-opacity="0.5"/><circle cx="{b:.1}" cy="{y:.1}" r="2.5" fill="{c}" fill-opacity="0.7"/>"##,
            a = frame.sx(p.start_s),
            b = frame.sx(p.end_s),
            y = frame.sy(p.latency_ms),
            c = PALETTE[0]
        );
    }
    o.push_str("</g></svg>");
    o
}

/// The panels, top to bottom: each request as a bar from start to end at
/// its latency, then power, utilization and queue (only those with data;
/// none without telemetry series).
/// `origin_ns` is the run's first request start (epoch ns).
pub fn telemetry_timeline(points: &[Point], origin_ns: u64, tl: &Timeline) -> Vec<String> {
    if tl.is_empty() {
        return Vec::new();
    }
    let x = x_range(points, origin_ns, tl);
    let mut out = Vec::new();
    if !points.is_empty() {
        out.push(latency_panel(points, x));
    }
    if !tl.power.is_empty() {
        out.push(lines_panel(
            "GPU power",
            "W",
            &tl.power,
            x,
            origin_ns,
            Some(0.0),
        ));
    }
    if !tl.utilization.is_empty() {
        let title = "GPU utilization";
        out.push(lines_panel(
            title,
            "%",
            &tl.utilization,
            x,
            origin_ns,
            Some(0.0),
        ));
    }
    if !tl.queue.is_empty() {
        let title = "Server queue and running requests";
        out.push(lines_panel(
            title,
            "requests",
            &tl.queue,
            x,
            origin_ns,
            Some(0.0),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_share_the_x_axis_and_break_at_gaps() {
        let origin = 10_000_000_000;
        let points = [Point {
            start_s: 0.0,
            end_s: 2.0,
            latency_ms: 2000.0,
            ok: true,
        }];
        let track = |name: &str, pts: Vec<(u64, Option<f64>)>| Track {
            name: name.into(),
            points: pts,
        };
        let tl = Timeline {
            power: vec![track(
                "gpu <0>",
                vec![
                    (origin - 500_000_000, Some(70.0)),
                    (origin + 1_000_000_000, None),
                    (origin + 3_000_000_000, Some(630.0)),
                ],
            )],
            utilization: vec![track("gpu <0>", vec![(origin, Some(100.0))])],
            queue: vec![],
            span: Some((origin - 500_000_000, origin + 3_000_000_000)),
        };
        assert_eq!(x_range(&points, origin, &tl), (-0.5, 3.0));
        let svgs = telemetry_timeline(&points, origin, &tl);
        assert_eq!(svgs.len(), 3, "no queue panel without queue data");
        assert!(svgs[1].contains("GPU power"));
        // Two pen-downs: the gap breaks the line.
        let path = svgs[1].split(r#"d=""#).nth(1).unwrap();
        assert_eq!(
            path.split('"').next().unwrap().matches('M').count(),
            2,
            "{path}"
        );
        assert!(svgs[1].contains("gpu &lt;0&gt;") && !svgs[1].contains("gpu <0>"));
        // Same x mapping in every panel: the tick labels match.
        let ticks = |svg: &str| {
            svg.matches("text-anchor=\"middle\" fill=\"#334155\"")
                .count()
        };
        assert_eq!(ticks(&svgs[0]), ticks(&svgs[1]));
        assert!(telemetry_timeline(&points, origin, &Timeline::default()).is_empty());
    }
}

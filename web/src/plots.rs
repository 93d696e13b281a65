//! The plots, as SVG text (no chart library, nothing to download): latency
//! histogram, latency over time, throughput over time, the latency CDF
//! ([`cdf`]) and latency per requested size ([`bars`]), each drawing one
//! or more runs overlaid in distinct colours with a legend; a sweep's
//! latency against throughput; and a run's telemetry on its requests' time
//! axis ([`telemetry_timeline`]).

mod bars;
mod cdf;
mod timeline;

pub use bars::{size_bars, sweep_curve, SizeSeries, SweepPoint};
pub use cdf::latency_cdf;
pub use timeline::telemetry_timeline;

use crate::model::Point;
use std::fmt::Write;

/// Colours of successive runs.
pub const PALETTE: [&str; 6] = [
    "#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2",
];

/// One run's points under a name and colour.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    /// Legend text.
    pub name: &'a str,
    /// CSS colour.
    pub color: &'a str,
    /// The run's requests.
    pub points: &'a [Point],
}

const W: f64 = 640.0;
const H: f64 = 250.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 40.0;
/// Points drawn per series in the scatter plot before sampling.
const MAX_DOTS: usize = 3000;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A step of 1, 2 or 5 × 10^k near `range / n`.
pub fn nice_step(range: f64, n: f64) -> f64 {
    if !(range > 0.0 && range.is_finite()) {
        return 1.0;
    }
    let raw = range / n;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

fn tick_label(v: f64, step: f64) -> String {
    let v = if v.abs() < step * 1e-9 { 0.0 } else { v }; // never "-0.0"
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    format!("{v:.decimals$}")
}

/// Data ranges mapped onto the plot area.
struct Frame {
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn new(x: (f64, f64), y: (f64, f64)) -> Frame {
        let widen = |(a, b): (f64, f64)| if b > a { (a, b) } else { (a, a + 1.0) };
        Frame {
            x: widen(x),
            y: widen(y),
        }
    }
    fn sx(&self, v: f64) -> f64 {
        LEFT + (v - self.x.0) / (self.x.1 - self.x.0) * (W - LEFT - RIGHT)
    }
    fn sy(&self, v: f64) -> f64 {
        H - BOTTOM - (v - self.y.0) / (self.y.1 - self.y.0) * (H - TOP - BOTTOM)
    }

    /// Open the SVG with its frame.
    fn start(title: &str) -> String {
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 {W} {H}" role="img" aria-label="{t}"><title>{t}</title><rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="#fff" stroke="#cbd5e1"/>"##,
            t = esc(title),
            pw = W - LEFT - RIGHT,
            ph = H - TOP - BOTTOM,
        )
    }

    /// Open the SVG with named categories along x (centred on 0.5, 1.5, ...).
    fn open_categories(&self, title: &str, names: &[&str], y_label: &str) -> String {
        let mut o = Self::start(title);
        for (i, n) in names.iter().enumerate() {
            let _ = write!(
                o,
                r##"<text x="{x:.1}" y="{ty}" font-size="11" text-anchor="middle" fill="#334155">{l}</text>"##,
                x = self.sx(i as f64 + 0.5),
                ty = H - BOTTOM + 16.0,
                l = esc(n)
            );
        }
        self.y_axis(&mut o);
        self.labels(&mut o, "requested size", y_label);
        o
    }

    /// Open the SVG and draw the axes, ticks and labels.
    fn open(&self, title: &str, x_label: &str, y_label: &str) -> String {
        let mut o = Self::start(title);
        let xs = nice_step(self.x.1 - self.x.0, 6.0);
        let mut v = (self.x.0 / xs).ceil() * xs;
        while v <= self.x.1 + xs * 1e-9 {
            let x = self.sx(v);
            let _ = write!(
                o,
                r##"<line x1="{x:.1}" y1="{y0}" x2="{x:.1}" y2="{y1}" stroke="#94a3b8"/><text x="{x:.1}" y="{ty}" font-size="11" text-anchor="middle" fill="#334155">{l}</text>"##,
                y0 = H - BOTTOM,
                y1 = H - BOTTOM + 4.0,
                ty = H - BOTTOM + 16.0,
                l = tick_label(v, xs)
            );
            v += xs;
        }
        self.y_axis(&mut o);
        self.labels(&mut o, x_label, y_label);
        o
    }

    fn y_axis(&self, o: &mut String) {
        let ys = nice_step(self.y.1 - self.y.0, 5.0);
        let mut v = (self.y.0 / ys).ceil() * ys;
        while v <= self.y.1 + ys * 1e-9 {
            let y = self.sy(v);
            let _ = write!(
                o,
                r##"<line x1="{LEFT}" y1="{y:.1}" x2="{x2}" y2="{y:.1}" stroke="#e2e8f0"/><text x="{tx}" y="{ty:.1}" font-size="11" text-anchor="end" fill="#334155">{l}</text>"##,
                x2 = W - RIGHT,
                tx = LEFT - 5.0,
                ty = y + 4.0,
                l = tick_label(v, ys)
            );
            v += ys;
        }
    }

    fn labels(&self, o: &mut String, x_label: &str, y_label: &str) {
        let _ = write!(
            o,
            r##"<text x="{cx}" y="{by}" font-size="12" text-anchor="middle" fill="#0f172a">{xl}</text><text transform="translate(14 {cy}) rotate(-90)" font-size="12" text-anchor="middle" fill="#0f172a">{yl}</text>"##,
            cx = (LEFT + W - RIGHT) / 2.0,
            by = H - 6.0,
            cy = (TOP + H - BOTTOM) / 2.0,
            xl = esc(x_label),
            yl = esc(y_label)
        );
    }
}

/// One named line series: an SVG path `d` stroked in `color`, unfilled.
fn line_path(o: &mut String, name: &str, d: &str, color: &str, width: f32) {
    let _ = write!(
        o,
        r##"<path class="series" data-name="{}" d="{d}" fill="none" stroke="{color}" stroke-width="{width}"/>"##,
        esc(name)
    );
}

fn legend(o: &mut String, series: &[Series<'_>]) {
    if series.len() < 2 {
        return;
    }
    for (i, s) in series.iter().enumerate() {
        let y = TOP + 8.0 + i as f64 * 15.0;
        let _ = write!(
            o,
            r##"<rect x="{x}" y="{ry}" width="10" height="10" fill="{c}"/><text x="{tx}" y="{ty}" font-size="11" fill="#0f172a">{n}</text>"##,
            x = LEFT + 8.0,
            ry = y - 8.0,
            c = s.color,
            tx = LEFT + 22.0,
            ty = y + 1.0,
            n = esc(s.name)
        );
    }
}

fn empty(title: &str) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 {W} 60"><text x="10" y="30" font-size="13" fill="#64748b">{}: no successful requests to plot</text></svg>"##,
        esc(title)
    )
}

fn ok_latencies(s: &Series<'_>) -> Vec<f64> {
    s.points
        .iter()
        .filter(|p| p.ok)
        .map(|p| p.latency_ms)
        .collect()
}

/// Histogram of successful requests' latency; with several runs, bars show
/// the share of each run's requests so that runs of different sizes compare.
pub fn latency_histogram(series: &[Series<'_>]) -> String {
    const TITLE: &str = "Latency histogram";
    let all: Vec<Vec<f64>> = series.iter().map(ok_latencies).collect();
    let flat = all.iter().flatten();
    let lo = flat.clone().copied().fold(f64::INFINITY, f64::min);
    let hi = flat.copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() {
        return empty(TITLE);
    }
    let n_max = all.iter().map(Vec::len).max().unwrap_or(1);
    let bins = ((n_max as f64).sqrt().ceil() as usize).clamp(5, 40);
    let hi = if hi > lo { hi } else { lo + 1.0 };
    let width = (hi - lo) / bins as f64;
    let share = series.len() > 1;
    let counts: Vec<Vec<f64>> = all
        .iter()
        .map(|vals| {
            let mut c = vec![0.0; bins];
            for v in vals {
                let i = (((v - lo) / width) as usize).min(bins - 1);
                c[i] += 1.0;
            }
            if share && !vals.is_empty() {
                c.iter_mut().for_each(|x| *x *= 100.0 / vals.len() as f64);
            }
            c
        })
        .collect();
    let top = counts.iter().flatten().copied().fold(0.0, f64::max);
    let frame = Frame::new((lo, hi), (0.0, top * 1.05));
    let y_label = if share { "% of requests" } else { "requests" };
    let mut o = frame.open(TITLE, "request latency (ms)", y_label);
    for (s, c) in series.iter().zip(&counts) {
        let mut d = format!("M{:.1} {:.1}", frame.sx(lo), frame.sy(0.0));
        for (i, v) in c.iter().enumerate() {
            let (x0, x1) = (lo + i as f64 * width, lo + (i + 1) as f64 * width);
            let _ = write!(
                d,
                " L{:.1} {:.1} L{:.1} {:.1}",
                frame.sx(x0),
                frame.sy(*v),
                frame.sx(x1),
                frame.sy(*v)
            );
        }
        let _ = write!(d, " L{:.1} {:.1} Z", frame.sx(hi), frame.sy(0.0));
        let _ = write!(
            o,
            r##"<path class="series" data-name="{n}" d="{d}" fill="{c}" fill-opacity="{op}" stroke="{c}" stroke-width="1.5"/>"##,
            n = esc(s.name),
            c = s.color,
            op = if share { 0.2 } else { 0.45 }
        );
    }
    legend(&mut o, series);
    o.push_str("</svg>");
    o
}

/// Each request's latency at its end time (failed requests as grey crosses).
pub fn latency_over_time(series: &[Series<'_>]) -> String {
    const TITLE: &str = "Latency over time";
    let pts = series.iter().flat_map(|s| s.points.iter());
    let x_hi = pts.clone().map(|p| p.end_s).fold(0.0, f64::max);
    let y_hi = pts
        .clone()
        .filter(|p| p.ok)
        .map(|p| p.latency_ms)
        .fold(0.0, f64::max);
    if !series.iter().any(|s| s.points.iter().any(|p| p.ok)) {
        return empty(TITLE);
    }
    let frame = Frame::new((0.0, x_hi * 1.02), (0.0, y_hi * 1.05));
    let mut o = frame.open(TITLE, "time since first request (s)", "latency (ms)");
    for s in series {
        let stride = s.points.len().div_ceil(MAX_DOTS).max(1);
        let _ = write!(o, r##"<g class="series" data-name="{}">"##, esc(s.name));
        for p in s.points.iter().step_by(stride) {
            let (x, y) = (frame.sx(p.end_s), frame.sy(p.latency_ms.min(y_hi)));
            if p.ok {
                let _ = write!(
                    o,
                    r##"<circle cx="{x:.1}" cy="{y:.1}" r="2.5" fill="{}" fill-opacity="0.7"/>"##,
                    s.color
                );
            } else {
                let _ = write!(
                    o,
                    r##"<path d="M{a:.1} {b:.1} l5 5 m0 -5 l-5 5" stroke="#64748b"/>"##,
                    a = x - 2.5,
                    b = y - 2.5
                );
            }
        }
        o.push_str("</g>");
    }
    legend(&mut o, series);
    o.push_str("</svg>");
    o
}

/// Successful completions per second, in time buckets.
pub fn throughput_over_time(series: &[Series<'_>]) -> String {
    const TITLE: &str = "Throughput over time";
    let x_hi = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| p.ok)
        .map(|p| p.end_s)
        .fold(0.0, f64::max);
    if !series.iter().any(|s| s.points.iter().any(|p| p.ok)) {
        return empty(TITLE);
    }
    let width = nice_step(x_hi, 30.0).max(0.1);
    let buckets = ((x_hi / width).floor() as usize) + 1;
    let rates: Vec<Vec<f64>> = series
        .iter()
        .map(|s| {
            let mut c = vec![0.0; buckets];
            for p in s.points.iter().filter(|p| p.ok) {
                c[((p.end_s / width) as usize).min(buckets - 1)] += 1.0 / width;
            }
            c
        })
        .collect();
    let top = rates.iter().flatten().copied().fold(0.0, f64::max);
    let frame = Frame::new((0.0, buckets as f64 * width), (0.0, top * 1.1));
    let label = format!("time since first request (s), {width} s buckets");
    let mut o = frame.open(TITLE, &label, "requests/s");
    for (s, r) in series.iter().zip(&rates) {
        let mut d = String::new();
        for (i, v) in r.iter().enumerate() {
            let (x0, x1) = (i as f64 * width, (i + 1) as f64 * width);
            let cmd = if i == 0 { 'M' } else { 'L' };
            let _ = write!(
                d,
                "{cmd}{:.1} {:.1} L{:.1} {:.1} ",
                frame.sx(x0),
                frame.sy(*v),
                frame.sx(x1),
                frame.sy(*v)
            );
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

    fn pts(lat: &[f64]) -> Vec<Point> {
        lat.iter()
            .enumerate()
            .map(|(i, l)| Point {
                start_s: i as f64,
                end_s: i as f64 + l / 1000.0,
                latency_ms: *l,
                ok: *l > 0.0,
            })
            .collect()
    }

    #[test]
    fn steps_are_nice() {
        assert_eq!(nice_step(10.0, 5.0), 2.0);
        assert_eq!(nice_step(0.9, 6.0), 0.2);
        assert_eq!(nice_step(7000.0, 5.0), 2000.0);
        assert_eq!(nice_step(0.0, 5.0), 1.0);
    }

    #[test]
    fn plots_draw_one_shape_per_series_and_escape_names() {
        let (a, b) = (pts(&[500.0, 520.0, 510.0, -1.0]), pts(&[800.0, 900.0]));
        let series = [
            Series {
                name: "run <a>",
                color: PALETTE[0],
                points: &a,
            },
            Series {
                name: "run b",
                color: PALETTE[1],
                points: &b,
            },
        ];
        for svg in [
            latency_histogram(&series),
            latency_over_time(&series),
            throughput_over_time(&series),
        ] {
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
            assert_eq!(svg.matches(r#"class="series""#).count(), 2, "{svg}");
            assert!(svg.contains("run &lt;a&gt;") && !svg.contains("run <a>"));
        }
        assert_eq!(
            latency_over_time(&series[..1]).matches("<circle").count(),
            3
        );
        assert!(latency_histogram(&[]).contains("no successful requests"));
        let none = pts(&[-1.0]);
        let only_failed = [Series {
            name: "x",
            color: "#000",
            points: &none,
        }];
        assert!(throughput_over_time(&only_failed).contains("no successful requests"));
    }
}

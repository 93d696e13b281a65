//! Sweeps: one command runs a grid of benchmarks. Each `--sweep KEY=V1,V2`
//! is an axis; the grid is their cartesian product, the first axis
//! outermost. A key naming a load flag (`concurrency`, `request_rate`,
//! `request_count`, `benchmark_duration`; `-` or `_`) sets that flag per
//! point; any other key is an `--extra-inputs` field of the payload
//! (`size`, `num_inference_steps`, `n`, `quality`, ...), its values coerced
//! as `--extra-inputs` coerces them. The sweep summary (JSON, CSV and a
//! console table of throughput against latency percentiles) repeats each
//! point's summary metrics as they are in the point's own summary JSON.

use serde_json::{json, Map, Value};

use crate::export::{csv_field, summary_metrics_json};
use crate::metrics::{MetricValue, Summary};
use crate::request::coerce_value;
use crate::table::format_number;

/// What an axis varies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AxisKind {
    /// `--concurrency`.
    Concurrency,
    /// `--request-rate`.
    RequestRate,
    /// `--request-count`.
    RequestCount,
    /// `--benchmark-duration`.
    BenchmarkDuration,
    /// A payload field, as with `--extra-inputs KEY:VALUE`.
    Extra,
}

/// One `--sweep KEY=V1,V2,...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Axis {
    /// Normalised key (`concurrency`, `request_rate`, `size`, ...).
    pub key: String,
    /// What it varies.
    pub kind: AxisKind,
    /// Values in the order given.
    pub values: Vec<String>,
}

fn check_value(kind: &AxisKind, key: &str, v: &str) -> Result<(), String> {
    let ok = match kind {
        AxisKind::Concurrency | AxisKind::RequestCount => v.parse::<u64>().is_ok_and(|n| n >= 1),
        AxisKind::RequestRate | AxisKind::BenchmarkDuration => {
            v.parse::<f64>().is_ok_and(|x| x > 0.0 && x.is_finite())
        }
        AxisKind::Extra => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--sweep {key}: {v:?} is not a valid value (positive number expected)"
        ))
    }
}

impl Axis {
    /// Parse `KEY=V1,V2` (`KEY:V1,V2` also accepted).
    pub fn parse(spec: &str) -> Result<Axis, String> {
        let (key, values) = spec.split_once(['=', ':']).ok_or_else(|| {
            format!("invalid --sweep {spec:?}: expected KEY=V1,V2 like concurrency=1,2,4 or size=512x512,1024x1024")
        })?;
        let raw = key.trim();
        let norm = raw.replace('-', "_");
        let kind = match norm.as_str() {
            "concurrency" => AxisKind::Concurrency,
            "request_rate" => AxisKind::RequestRate,
            "request_count" | "num_requests" => AxisKind::RequestCount,
            "benchmark_duration" => AxisKind::BenchmarkDuration,
            _ => AxisKind::Extra,
        };
        if raw.is_empty() {
            return Err(format!("invalid --sweep {spec:?}: the key is empty"));
        }
        let key = if kind == AxisKind::Extra {
            raw.to_owned()
        } else {
            norm
        };
        let key = if kind == AxisKind::RequestCount {
            "request_count".into()
        } else {
            key
        };
        let values: Vec<String> = values
            .split(',')
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            return Err(format!("--sweep {key}: no values"));
        }
        for v in &values {
            check_value(&kind, &key, v)?;
        }
        Ok(Axis { key, kind, values })
    }
}

/// Parse every `--sweep`; a key may appear once.
pub fn parse_axes(specs: &[String]) -> Result<Vec<Axis>, String> {
    let mut axes: Vec<Axis> = Vec::new();
    for s in specs {
        let a = Axis::parse(s)?;
        if axes.iter().any(|b| b.key == a.key) {
            return Err(format!(
                "--sweep {} given twice: list every value in one --sweep",
                a.key
            ));
        }
        axes.push(a);
    }
    Ok(axes)
}

/// One point of the grid: `(axis index, value)` per axis, in axis order.
pub type Point = Vec<(usize, String)>;

/// Every point, first axis outermost.
pub fn grid(axes: &[Axis]) -> Vec<Point> {
    let mut points: Vec<Point> = vec![Vec::new()];
    for (i, axis) in axes.iter().enumerate() {
        points = points
            .into_iter()
            .flat_map(|p| {
                axis.values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push((i, v.clone()));
                    q
                })
            })
            .collect();
    }
    points
}

/// Directory name of a point: `concurrency2-size512x512`.
pub fn point_name(axes: &[Axis], point: &Point) -> String {
    point
        .iter()
        .map(|(i, v)| {
            let clean: String = v
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || ".-".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            format!("{}{clean}", axes[*i].key)
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// A finished point.
#[derive(Debug, Clone)]
pub struct PointResult<'a> {
    /// Its parameters.
    pub point: &'a Point,
    /// Its artifact directory (relative to the sweep directory).
    pub dir: String,
    /// Its summary.
    pub summary: &'a Summary,
    /// It was stopped early.
    pub was_cancelled: bool,
}

fn parameters(axes: &[Axis], point: &Point) -> Map<String, Value> {
    point
        .iter()
        .map(|(i, v)| (axes[*i].key.clone(), coerce_value(v)))
        .collect()
}

/// The sweep summary JSON: the axes, then per point its parameters,
/// directory and summary metrics (exactly its summary JSON's metric keys).
pub fn sweep_json(axes: &[Axis], points: &[PointResult]) -> Value {
    let axes_json: Vec<Value> = axes
        .iter()
        .map(|a| json!({"key": a.key, "values": a.values.iter().map(|v| coerce_value(v)).collect::<Vec<_>>()}))
        .collect();
    let pts: Vec<Value> = points
        .iter()
        .map(|p| {
            json!({
                "parameters": parameters(axes, p.point),
                "artifact_dir": p.dir,
                "was_cancelled": p.was_cancelled,
                "metrics": summary_metrics_json(p.summary),
            })
        })
        .collect();
    json!({"axes": axes_json, "points": pts})
}

/// A column of the CSV and console table: metric tag and statistic.
const COLUMNS: [(&str, &str); 17] = [
    ("request_count", "avg"),
    ("error_request_count", "avg"),
    ("error_rate", "avg"),
    ("request_throughput", "avg"),
    ("image_throughput", "avg"),
    ("megapixel_throughput", "avg"),
    ("request_latency", "avg"),
    ("request_latency", "p50"),
    ("request_latency", "p90"),
    ("request_latency", "p99"),
    ("http_req_waiting", "p50"),
    ("time_to_first_image", "p50"),
    ("goodput", "avg"),
    ("slo_attainment", "avg"),
    ("energy_per_image", "avg"),
    ("energy_per_megapixel", "avg"),
    ("images_per_kwh", "avg"),
];

fn value(summary: &Summary, tag: &str, stat: &str) -> Option<f64> {
    match &summary.get(tag)?.value {
        MetricValue::Scalar(v) => (stat == "avg").then_some(*v),
        MetricValue::Distribution(s) => Some(match stat {
            "avg" => s.avg,
            "p50" => s.p50,
            "p90" => s.p90,
            _ => s.p99,
        }),
    }
}

/// Columns with a value in some point (goodput only with `--goodput`,
/// energy only with GPU telemetry).
fn columns(points: &[PointResult]) -> Vec<(&'static str, &'static str)> {
    COLUMNS
        .into_iter()
        .filter(|(t, s)| points.iter().any(|p| value(p.summary, t, s).is_some()))
        .collect()
}

/// The sweep summary CSV: one row per point, parameters then
/// `tag_stat` columns (`request_latency_p99`), numbers as `%.2f`.
pub fn sweep_csv(axes: &[Axis], points: &[PointResult]) -> String {
    let cols = columns(points);
    let mut head: Vec<String> = axes.iter().map(|a| csv_field(&a.key)).collect();
    head.extend(cols.iter().map(|(t, s)| {
        if *s == "avg" && !t.starts_with("request_latency") {
            t.to_string()
        } else {
            format!("{t}_{s}")
        }
    }));
    let mut out = head.join(",") + "\n";
    for p in points {
        let mut row: Vec<String> = p.point.iter().map(|(_, v)| csv_field(v)).collect();
        row.extend(
            cols.iter()
                .map(|(t, s)| value(p.summary, t, s).map_or(String::new(), |v| format!("{v:.2}"))),
        );
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// The console table of a sweep: header and rows of cells (the latency
/// average left to the CSV; time to first image only when images were
/// streamed or downloaded, otherwise it is the latency).
pub fn sweep_table(axes: &[Axis], points: &[PointResult]) -> (Vec<String>, Vec<Vec<String>>) {
    let apart = points.iter().any(|p| {
        p.summary.get("time_to_first_partial_image").is_some()
            || p.summary.get("image_download_time").is_some()
    });
    let cols: Vec<_> = columns(points)
        .into_iter()
        .filter(|(t, s)| !(*t == "request_latency" && *s == "avg"))
        .filter(|(t, _)| apart || *t != "time_to_first_image")
        .collect();
    let label = |t: &str, s: &str| -> String {
        match (t, s) {
            ("request_count", _) => "ok".into(),
            ("error_request_count", _) => "errors".into(),
            ("error_rate", _) => "error %".into(),
            ("request_throughput", _) => "req/s".into(),
            ("image_throughput", _) => "img/s".into(),
            ("megapixel_throughput", _) => "MP/s".into(),
            ("request_latency", s) => format!("latency {s} (ms)"),
            ("http_req_waiting", s) => format!("TTFB {s} (ms)"),
            ("time_to_first_image", s) => format!("first image {s} (ms)"),
            ("goodput", _) => "goodput (req/s)".into(),
            ("slo_attainment", _) => "SLO %".into(),
            ("energy_per_image", _) => "J/image".into(),
            ("energy_per_megapixel", _) => "J/MP".into(),
            ("images_per_kwh", _) => "images/kWh".into(),
            (t, s) => format!("{t} {s}"),
        }
    };
    let mut header: Vec<String> = axes.iter().map(|a| a.key.clone()).collect();
    header.extend(cols.iter().map(|(t, s)| label(t, s)));
    let rows = points
        .iter()
        .map(|p| {
            let mut r: Vec<String> = p.point.iter().map(|(_, v)| v.clone()).collect();
            r.extend(cols.iter().map(|(t, s)| {
                value(p.summary, t, s).map_or("-".into(), |v| {
                    if t.ends_with("count") {
                        format!("{v}")
                    } else {
                        format_number(v)
                    }
                })
            }));
            r
        })
        .collect();
    (header, rows)
}

#[cfg(test)]
mod tests;

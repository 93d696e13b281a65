//! A summary JSON's `per_size` (written when requests asked for several
//! sizes) read back into core's [`SizeSummary`], so the viewer's per-size
//! plot shows the CLI's own figures.

use crate::metrics::SizeSummary;
use crate::stats::Stats;
use serde_json::Value;

fn stats(v: &Value) -> Option<Stats> {
    let f = |k: &str| v.get(k).and_then(Value::as_f64);
    let or_nan = |k: &str| f(k).unwrap_or(f64::NAN);
    Some(Stats {
        count: 0,
        avg: f("avg")?,
        min: f("min")?,
        max: f("max")?,
        sum: or_nan("sum"),
        p1: or_nan("p1"),
        p5: or_nan("p5"),
        p10: or_nan("p10"),
        p25: or_nan("p25"),
        p50: f("p50")?,
        p75: or_nan("p75"),
        p90: f("p90")?,
        p95: or_nan("p95"),
        p99: f("p99")?,
        std: or_nan("std"),
    })
}

/// The `per_size` entries of a summary JSON (none when absent).
pub fn per_size(summary: &Value) -> Vec<SizeSummary> {
    let num = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    summary["per_size"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            Some(SizeSummary {
                size: s.get("size")?.as_str()?.to_owned(),
                request_count: num(s, "request_count") as u64,
                error_request_count: num(s, "error_request_count") as u64,
                request_latency: s.get("request_latency").and_then(stats),
                http_req_waiting: s.get("http_req_waiting").and_then(stats),
                request_throughput: num(s, "request_throughput"),
                image_throughput: num(s, "image_throughput"),
                megapixel_throughput: num(s, "megapixel_throughput"),
            })
        })
        .collect()
}

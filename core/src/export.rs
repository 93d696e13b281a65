//! AIPerf-compatible export formats, as strings and JSON values (writing the
//! files is the caller's job): per-request record lines
//! (`profile_export.jsonl`), raw lines with payload and response bodies
//! (`profile_export_raw.jsonl`), the summary JSON and CSV, and `inputs.json`.
//!
//! Records carry monotonic times; every `*_ns` exported here is Unix-epoch
//! nanoseconds: `wall_origin_ns + monotonic`.
//!
//! Beyond AIPerf's shapes: a record line carries an `images` object (how the
//! images arrived, what was asked and returned, each image's format,
//! dimensions and bytes, and any issue), list-valued metrics (one value per
//! streamed event) are JSON arrays, a streamed response's raw line has one
//! `responses[]` entry per event, a video job's record line has a `video`
//! object and its raw line one `responses[]` entry per answer (submit,
//! every poll, the content's facts), an edit's record line carries its
//! `input_images` (format, width, height, bytes, sha256 prefix each), and
//! the summary JSON adds the [`ImageReport`] ([`add_image_report`]).

mod escape;
mod images;
mod raw;
mod video;

pub use images::add_image_report;
pub use raw::{raw_line, raw_line_responses, RawLine, RawResponse, RawText};

use serde::Serialize;
use serde::Serializer;
use serde_json::{json, Map, Value};
use time::macros::format_description;
use time::OffsetDateTime;

#[cfg(doc)]
use crate::metrics::ImageReport;
use crate::metrics::{record_metrics, MetricDef, MetricValue, Summary};
use crate::record::{ErrorDetails, Phase, RequestRecord};
use crate::reference::InputImageMeta;
use crate::stats::Stats;

/// Run-level facts the summary JSON needs beyond the [`Summary`].
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    /// The command line as typed, stored as `input_config.cli_command`.
    pub cli_command: String,
    /// The effective configuration, exported as `input_config` (a JSON
    /// object; anything else is replaced by an empty object).
    pub input_config: Value,
    /// The run was stopped before completing.
    pub was_cancelled: bool,
    /// Epoch ns of the monotonic clock's origin.
    pub wall_origin_ns: u64,
}

#[derive(Serialize)]
struct Metadata<'a> {
    session_num: u64,
    x_request_id: &'a str,
    x_correlation_id: &'a str,
    conversation_id: &'a str,
    turn_index: u32,
    credit_issued_ns: u64,
    slot_acquired_ns: u64,
    request_start_ns: u64,
    request_ack_ns: Option<u64>,
    request_end_ns: u64,
    worker_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard_index: Option<u32>,
    benchmark_phase: Phase,
    was_cancelled: bool,
    cancellation_time_ns: Option<u64>,
    url: &'a str,
    status: Option<u16>,
    connection_retries: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    stale_attempt_start_ns: Option<u64>,
}

impl<'a> Metadata<'a> {
    fn new(rec: &'a RequestRecord, origin: u64) -> Self {
        let wall = |mono: u64| origin.saturating_add(mono);
        let end = wall(rec.request_end_ns);
        Metadata {
            session_num: rec.session_num,
            x_request_id: &rec.x_request_id,
            x_correlation_id: &rec.x_correlation_id,
            conversation_id: &rec.conversation_id,
            turn_index: rec.turn_index,
            credit_issued_ns: wall(rec.credit_issued_ns),
            slot_acquired_ns: wall(rec.slot_acquired_ns),
            request_start_ns: wall(rec.request_start_ns),
            request_ack_ns: rec.first_byte_ns.map(wall),
            request_end_ns: end,
            worker_id: &rec.worker_id,
            shard_index: rec.shard_index,
            benchmark_phase: rec.phase,
            was_cancelled: rec.was_cancelled,
            cancellation_time_ns: rec.was_cancelled.then_some(end),
            url: &rec.url,
            status: rec.status,
            connection_retries: rec.connection_retries(),
            stale_attempt_start_ns: rec.stale_attempt_ns.map(wall),
        }
    }
}

/// Pairs serialized as a JSON object, in their order (a repeated key
/// appears twice).
struct Entries<'a, K, V>(&'a [(K, V)]);

impl<K: Serialize, V: Serialize> Serialize for Entries<'_, K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// A record-line metric: `{"value", "unit"}`.
#[derive(Serialize)]
struct MetricEntry {
    value: Value,
    unit: &'static str,
}

impl MetricEntry {
    /// The value is a JSON integer when the metric counts whole things.
    fn new(def: &MetricDef, v: f64) -> Self {
        let whole = def.is_integer() && v >= 0.0 && v.fract() == 0.0 && v <= u64::MAX as f64;
        let value = if whole {
            Value::from(v as u64)
        } else {
            Value::from(v)
        };
        MetricEntry {
            value,
            unit: def.unit,
        }
    }
}

#[derive(Serialize)]
struct RecordLine<'a> {
    metadata: Metadata<'a>,
    metrics: Entries<'a, &'static str, MetricEntry>,
    error: Option<&'a ErrorDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    images: Option<images::ImagesEntry<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    video: Option<video::VideoEntry<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    input_images: &'a [InputImageMeta],
}

/// A record's metrics as `(tag, entry)` pairs; a list metric's values
/// (one per event) become one JSON array.
fn metric_entries(rec: &RequestRecord) -> Vec<(&'static str, MetricEntry)> {
    let mut out: Vec<(&'static str, MetricEntry)> = Vec::new();
    for (def, v) in record_metrics(rec) {
        if def.is_list() {
            let item = MetricEntry::new(&def, v).value;
            match out.iter_mut().find(|(t, _)| *t == def.tag) {
                Some((
                    _,
                    MetricEntry {
                        value: Value::Array(a),
                        ..
                    },
                )) => a.push(item),
                _ => out.push((
                    def.tag,
                    MetricEntry {
                        value: Value::Array(vec![item]),
                        unit: def.unit,
                    },
                )),
            }
        } else {
            out.push((def.tag, MetricEntry::new(&def, v)));
        }
    }
    out
}

/// One `profile_export.jsonl` line (no trailing newline).
pub fn record_line(rec: &RequestRecord, wall_origin_ns: u64) -> String {
    let metrics = metric_entries(rec);
    let line = RecordLine {
        metadata: Metadata::new(rec, wall_origin_ns),
        metrics: Entries(&metrics),
        error: rec.error.as_ref(),
        images: images::ImagesEntry::of(rec),
        video: video::VideoEntry::of(rec),
        input_images: &rec.input_images,
    };
    serde_json::to_string(&line).expect("record line serializes")
}

/// Serialising one field value into the line's buffer.
mod erased {
    use serde::Serialize;

    /// Any serialisable value, behind `dyn`.
    pub(super) trait Json {
        fn write(&self, buf: &mut Vec<u8>);
    }

    impl<T: Serialize + ?Sized> Json for T {
        fn write(&self, buf: &mut Vec<u8>) {
            serde_json::to_writer(buf, self).expect("export values serialise");
        }
    }
}

/// `{"unit", "avg", "min", ..., "std"}` of a distribution.
pub(crate) fn stats_json(unit: &str, s: &Stats) -> Value {
    json!({
        "unit": unit, "avg": s.avg, "min": s.min, "max": s.max, "sum": s.sum,
        "p1": s.p1, "p5": s.p5, "p10": s.p10, "p25": s.p25, "p50": s.p50,
        "p75": s.p75, "p90": s.p90, "p95": s.p95, "p99": s.p99, "std": s.std,
    })
}

/// The summary JSON (`profile_export_aiperf.json`): one key per metric tag,
/// plus `input_config` (with `cli_command`), `was_cancelled`,
/// `error_summary`, `start_time`, `end_time` and `cancelled_request_count`.
pub fn summary_json(summary: &Summary, info: &RunInfo) -> Value {
    let mut out = summary_metrics_json(summary);
    let mut config = match &info.input_config {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    config.insert("cli_command".into(), Value::from(info.cli_command.as_str()));
    out.insert("input_config".into(), Value::Object(config));
    out.insert("was_cancelled".into(), Value::from(info.was_cancelled));
    let errors: Vec<Value> = summary
        .error_summary
        .iter()
        .map(|(details, count)| json!({"error_details": details, "count": count}))
        .collect();
    out.insert("error_summary".into(), Value::Array(errors));
    let time = |mono: Option<u64>| {
        mono.map_or(Value::Null, |t| {
            Value::from(format_wall_time(info.wall_origin_ns.saturating_add(t)))
        })
    };
    out.insert("start_time".into(), time(summary.start_ns));
    out.insert("end_time".into(), time(summary.end_ns));
    out.insert(
        "cancelled_request_count".into(),
        Value::from(summary.cancelled_count),
    );
    Value::Object(out)
}

/// The metric keys of the summary JSON: one per metric tag,
/// `{"unit", "avg", "min", ...}` for distributions, `{"unit", "avg"}` for
/// scalars (what a sweep summary repeats per point).
pub fn summary_metrics_json(summary: &Summary) -> Map<String, Value> {
    let mut out = Map::new();
    for m in &summary.metrics {
        let v = match &m.value {
            MetricValue::Distribution(s) => stats_json(m.def.unit, s),
            MetricValue::Scalar(v) => json!({"unit": m.def.unit, "avg": v}),
        };
        out.insert(m.def.tag.to_string(), v);
    }
    out
}

/// A CSV field, quoted when it holds a comma, quote or line break.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The summary CSV (`profile_export_aiperf.csv`): distributions, a blank
/// line, then `Metric,Value` rows for the scalars; numbers as `%.2f`.
pub fn summary_csv(summary: &Summary) -> String {
    let mut out = String::from("Metric,avg,min,max,sum,p1,p5,p10,p25,p50,p75,p90,p95,p99,std\n");
    let mut scalars = String::from("Metric,Value\n");
    for m in &summary.metrics {
        let label = csv_field(&m.def.label());
        match &m.value {
            MetricValue::Distribution(s) => {
                let cols = [
                    s.avg, s.min, s.max, s.sum, s.p1, s.p5, s.p10, s.p25, s.p50, s.p75, s.p90,
                    s.p95, s.p99, s.std,
                ];
                out.push_str(&label);
                for c in cols {
                    out.push_str(&format!(",{c:.2}"));
                }
                out.push('\n');
            }
            MetricValue::Scalar(v) => scalars.push_str(&format!("{label},{v:.2}\n")),
        }
    }
    out.push('\n');
    out.push_str(&scalars);
    out
}

/// `inputs.json`: `{"data":[{"session_id", "payloads":[payload]}]}` from
/// `(session_id, payload)` pairs.
pub fn inputs_json(entries: &[(String, Value)]) -> Value {
    let data: Vec<Value> = entries
        .iter()
        .map(|(id, payload)| json!({"session_id": id, "payloads": [payload]}))
        .collect();
    json!({ "data": data })
}

/// Epoch ns as ISO 8601 UTC without offset, to the (rounded) microsecond:
/// `2025-10-17T20:22:08.939332`.
pub fn format_wall_time(epoch_ns: u64) -> String {
    let micros = epoch_ns / 1000 + u64::from(epoch_ns % 1000 >= 500);
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .expect("u64 epoch ns is in range");
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]"
    ))
    .expect("fixed format")
}

/// The epoch ns of a time written by [`format_wall_time`]
/// (`2025-10-17T20:22:08.939332`, any number of fraction digits).
pub fn parse_wall_time(text: &str) -> Option<u64> {
    let (date, clock) = text.trim().trim_end_matches('Z').split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut c = hms.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (h, min, sec) = (c.next()??, c.next()??, c.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || sec > 60 {
        return None;
    }
    if !frac.chars().all(|ch| ch.is_ascii_digit()) || frac.len() > 9 {
        return None;
    }
    let nanos: i64 = format!("{frac:0<9}").parse().ok()?;
    // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + min * 60 + sec;
    u64::try_from(secs.checked_mul(1_000_000_000)?.checked_add(nanos)?).ok()
}

#[cfg(test)]
mod tests;

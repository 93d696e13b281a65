//! Reading exports back: a `profile_export.jsonl` or
//! `profile_export_raw.jsonl` line into a [`RequestRecord`] (plus, for raw
//! lines, the prompt and response bodies), and a summary JSON into a
//! [`Summary`]. The web viewer uses this to show CLI runs; feeding the
//! records to [`crate::metrics::SummaryBuilder`] gives the CLI's numbers:
//! a record line's image facts and output metrics come back whole
//! (the same code as `imgperf merge`'s [`exact_record`]), a raw line's
//! response is measured again.
//!
//! Times in imported records are the exported Unix-epoch nanoseconds (so the
//! run's wall origin is 0). Lines written by AIPerf itself (no
//! `slot_acquired_ns`, `url` or `status` in the metadata) are accepted too.

use crate::measure::{self, Expect, ValidateImages};
use crate::metrics::{self, MetricSummary, MetricValue, Summary};
use crate::output::Output;
use crate::record::{ErrorDetails, Phase, RequestRecord};
use crate::reference::InputImageMeta;
use crate::stats::Stats;
use crate::transport::{HttpResponse, Timing};
use serde::Deserialize;
use serde_json::Value;

mod exact;
mod video;
pub use exact::{exact_record, Requested};

/// Which export a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// `profile_export.jsonl`: metadata, metrics, error.
    Records,
    /// `profile_export_raw.jsonl`: metadata, payload, headers, responses, error.
    Raw,
}

/// One response of a raw line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedResponse {
    /// The body (or SSE event data) as text.
    pub text: String,
    /// Its `Content-Type`, if recorded.
    pub content_type: Option<String>,
}

/// A parsed export line.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedLine {
    /// Which export it came from.
    pub kind: LineKind,
    /// The record, times in epoch ns. From a raw line the input sequence
    /// length is unknown (`None`): count the prompt's tokens to fill it in.
    pub record: RequestRecord,
    /// `payload.prompt` (raw lines).
    pub prompt: Option<String>,
    /// `payload` as sent (raw lines).
    pub payload: Option<Value>,
    /// Response bodies (raw lines).
    pub responses: Vec<ImportedResponse>,
}

/// Why a line or file could not be read as an export.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// Not JSON, or not an object with `metadata`.
    #[error("not an imgperf/AIPerf export line: {0}")]
    NotAnExport(String),
}

#[derive(Deserialize)]
struct MetadataIn {
    #[serde(default)]
    session_num: u64,
    #[serde(default)]
    x_request_id: String,
    #[serde(default)]
    x_correlation_id: String,
    #[serde(default)]
    conversation_id: String,
    #[serde(default)]
    turn_index: u32,
    #[serde(default)]
    credit_issued_ns: Option<u64>,
    #[serde(default)]
    slot_acquired_ns: Option<u64>,
    request_start_ns: u64,
    #[serde(default)]
    request_ack_ns: Option<u64>,
    request_end_ns: u64,
    #[serde(default)]
    worker_id: String,
    #[serde(default)]
    shard_index: Option<u32>,
    #[serde(default = "profiling")]
    benchmark_phase: Phase,
    #[serde(default)]
    was_cancelled: bool,
    #[serde(default)]
    url: String,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    stale_attempt_start_ns: Option<u64>,
}

pub(crate) fn profiling() -> Phase {
    Phase::Profiling
}

#[derive(Deserialize)]
struct ResponseIn {
    #[serde(default)]
    perf_ns: Option<u64>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    content_type: Option<String>,
}

#[derive(Deserialize)]
struct LineIn {
    metadata: MetadataIn,
    #[serde(default)]
    metrics: Option<exact::Metrics>,
    #[serde(default)]
    images: Option<exact::ImagesIn>,
    #[serde(default)]
    start_perf_ns: Option<u64>,
    #[serde(default)]
    payload: Option<Value>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    responses: Option<Vec<ResponseIn>>,
    #[serde(default)]
    error: Option<ErrorDetails>,
    #[serde(default)]
    video: Option<Value>,
    #[serde(default)]
    input_images: Vec<InputImageMeta>,
}

/// Parse one line of `profile_export.jsonl` or `profile_export_raw.jsonl`.
///
/// For raw lines, `response_bytes` is the length of the recorded body text,
/// and the image count and the record's output (image formats, sizes,
/// issues, server figures) are measured again from the recorded body the
/// way the run measured it; for the JSON bodies image servers send, they
/// equal the CLI's.
pub fn parse_line(line: &str) -> Result<ImportedLine, ImportError> {
    let input: LineIn =
        serde_json::from_str(line).map_err(|e| ImportError::NotAnExport(e.to_string()))?;
    let mut record = base_record(input.metadata, input.status, input.error);
    record.input_images = input.input_images.into();
    let (kind, prompt, responses) = match (input.metrics, input.responses) {
        (Some(metrics), _) => {
            exact::fill(
                &mut record,
                &metrics,
                input.images,
                input.video.as_ref(),
                None,
            );
            (LineKind::Records, None, Vec::new())
        }
        (None, Some(responses)) => {
            // Event times are monotonic; the metadata's are epoch.
            let shift = |perf: Option<u64>| {
                let start = input.start_perf_ns.unwrap_or(0);
                perf.map_or(record.request_end_ns, |p| {
                    record
                        .request_start_ns
                        .saturating_add(p.saturating_sub(start))
                })
            };
            let arrivals: Vec<u64> = responses.iter().map(|r| shift(r.perf_ns)).collect();
            let responses: Vec<ImportedResponse> = responses
                .into_iter()
                .map(|r| ImportedResponse {
                    text: r.text,
                    content_type: r.content_type,
                })
                .collect();
            record.response_bytes = responses.iter().map(|r| r.text.len() as u64).sum();
            if let Some(p) = &input.payload {
                record.input_images = crate::edit::input_images_of(p).into();
            }
            if video::is_video(input.payload.as_ref(), &responses) {
                record.output = video::from_raw(input.payload.as_ref(), &responses, &arrivals);
            } else if let Some(status) = record.status {
                let payload = input.payload.as_ref().unwrap_or(&Value::Null);
                let (image_count, output) =
                    remeasure(&record, status, payload, &responses, &arrivals);
                record.image_count = image_count;
                record.output = output;
            }
            let prompt = input
                .payload
                .as_ref()
                .and_then(|p| p.get("prompt"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            (LineKind::Raw, prompt, responses)
        }
        (None, None) => {
            return Err(ImportError::NotAnExport(
                "a line with metadata but neither metrics nor responses".into(),
            ))
        }
    };
    let payload = if kind == LineKind::Raw {
        input.payload
    } else {
        None
    };
    Ok(ImportedLine {
        kind,
        record,
        prompt,
        payload,
        responses,
    })
}

/// The record a line's metadata describes (times as exported: epoch ns).
fn base_record(m: MetadataIn, status: Option<u16>, error: Option<ErrorDetails>) -> RequestRecord {
    let credit = m.credit_issued_ns.unwrap_or(m.request_start_ns);
    RequestRecord {
        session_num: m.session_num,
        x_request_id: m.x_request_id,
        x_correlation_id: m.x_correlation_id,
        conversation_id: m.conversation_id,
        turn_index: m.turn_index,
        url: m.url,
        phase: m.benchmark_phase,
        credit_issued_ns: credit,
        slot_acquired_ns: m.slot_acquired_ns.unwrap_or(credit),
        request_start_ns: m.request_start_ns,
        stale_attempt_ns: m.stale_attempt_start_ns,
        upload_end_ns: None,
        first_byte_ns: m.request_ack_ns,
        request_end_ns: m.request_end_ns,
        worker_id: m.worker_id,
        shard_index: m.shard_index,
        was_cancelled: m.was_cancelled,
        status: m.status.or(status),
        input_sequence_length: None,
        response_bytes: 0,
        image_count: 0,
        error,
        input_images: std::sync::Arc::from([]),
        output: Default::default(),
    }
}

/// Measure a recorded response again, as the run did: the image count and
/// the record's [`Output`] (images, sizes, issues, server figures). A
/// stream's events are put back together as an SSE body, each event timed
/// at its recorded arrival. Images behind URLs were fetched during the run
/// and are not in the export: they stay unknown.
fn remeasure(
    record: &RequestRecord,
    status: u16,
    payload: &Value,
    responses: &[ImportedResponse],
    arrivals: &[u64],
) -> (u32, Output) {
    let is_stream = responses.len() > 1
        || responses.iter().any(|r| {
            r.content_type
                .as_deref()
                .is_some_and(|c| c.contains("text/event-stream"))
        });
    let (body, chunks, content_type) = if is_stream {
        let mut body = String::new();
        let mut chunks = Vec::new();
        for (r, at) in responses.iter().zip(arrivals) {
            body.push_str("data: ");
            body.push_str(&r.text);
            body.push_str("\n\n");
            chunks.push((*at, body.len()));
        }
        (body, chunks, "text/event-stream".to_owned())
    } else {
        let last = responses.last();
        let text = last.map(|r| r.text.clone()).unwrap_or_default();
        let ct = last
            .and_then(|r| r.content_type.clone())
            .unwrap_or_default();
        (text, Vec::new(), ct)
    };
    let resp = HttpResponse {
        status,
        headers: vec![("content-type".to_owned(), content_type)],
        body: body.into(),
        timing: Timing {
            start_ns: record.request_start_ns,
            upload_end_ns: record.upload_end_ns,
            first_byte_ns: record.first_byte_ns,
            end_ns: record.request_end_ns,
            stale_attempt_ns: record.stale_attempt_ns,
        },
        chunks,
    };
    let expect = Expect::from_payload(payload);
    let mode = ValidateImages::default();
    let mut m = measure::measure(&resp, &expect, mode);
    measure::conclude(&mut m.verdict, &mut m.output, &expect, mode, status);
    (m.verdict.image_count, m.output)
}

/// A summary JSON read back: the table's numbers and the run's facts.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedSummary {
    /// Metrics known to imgperf (others are skipped), errors and counters.
    /// `start_ns`/`end_ns` are `None`; `count` of each distribution is 0.
    pub summary: Summary,
    /// `start_time` as written (`2025-10-17T20:22:08.939332`).
    pub start_time: Option<String>,
    /// `input_config` (with `cli_command`).
    pub input_config: Value,
    /// `was_cancelled`.
    pub was_cancelled: bool,
    /// `per_size` (when requests asked for several sizes).
    pub per_size: Vec<crate::metrics::SizeSummary>,
}

/// Read a summary JSON (`profile_export_imgperf.json` or AIPerf's
/// `profile_export_aiperf.json`).
pub fn parse_summary(json: &Value) -> Result<ImportedSummary, ImportError> {
    let obj = json
        .as_object()
        .ok_or_else(|| ImportError::NotAnExport("a summary is a JSON object".into()))?;
    let f = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64);
    let stats = |v: &Value| -> Option<Stats> {
        Some(Stats {
            count: 0,
            avg: f(v, "avg")?,
            min: f(v, "min")?,
            max: f(v, "max")?,
            sum: f(v, "sum").unwrap_or(f64::NAN),
            p1: f(v, "p1").unwrap_or(f64::NAN),
            p5: f(v, "p5").unwrap_or(f64::NAN),
            p10: f(v, "p10").unwrap_or(f64::NAN),
            p25: f(v, "p25").unwrap_or(f64::NAN),
            p50: f(v, "p50")?,
            p75: f(v, "p75").unwrap_or(f64::NAN),
            p90: f(v, "p90")?,
            p95: f(v, "p95").unwrap_or(f64::NAN),
            p99: f(v, "p99")?,
            std: f(v, "std")?,
        })
    };
    let mut dists = Vec::new();
    let mut scalars = Vec::new();
    for def in metrics::DISTRIBUTION_METRICS
        .iter()
        .chain(metrics::SCALAR_METRICS.iter())
        .chain(metrics::GOODPUT_METRICS.iter())
        .chain(crate::telemetry::report::METRICS.iter())
    {
        let Some(v) = obj.get(def.tag) else { continue };
        if let Some(s) = stats(v) {
            dists.push(MetricSummary {
                def: *def,
                value: MetricValue::Distribution(s),
            });
        } else if let Some(avg) = f(v, "avg") {
            scalars.push(MetricSummary {
                def: *def,
                value: MetricValue::Scalar(avg),
            });
        }
    }
    if dists.is_empty() && scalars.is_empty() {
        return Err(ImportError::NotAnExport(
            "no known metric (request_latency, request_count, ...) in this JSON".into(),
        ));
    }
    let scalar = |tag: &str| obj.get(tag).and_then(|v| f(v, "avg"));
    let error_summary = obj
        .get("error_summary")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| {
                    let details = serde_json::from_value(i.get("error_details")?.clone()).ok()?;
                    Some((details, i.get("count")?.as_u64()?))
                })
                .collect()
        })
        .unwrap_or_default();
    dists.extend(scalars);
    let summary = Summary {
        metrics: dists,
        error_summary,
        request_count: scalar("request_count").unwrap_or(0.0) as u64,
        error_count: scalar("error_request_count").unwrap_or(0.0) as u64,
        cancelled_count: obj
            .get("cancelled_request_count")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        benchmark_duration_s: scalar("benchmark_duration").unwrap_or(0.0),
        start_ns: None,
        end_ns: None,
    };
    Ok(ImportedSummary {
        summary,
        start_time: obj
            .get("start_time")
            .and_then(Value::as_str)
            .map(str::to_owned),
        input_config: obj.get("input_config").cloned().unwrap_or(Value::Null),
        was_cancelled: obj
            .get("was_cancelled")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        per_size: per_size::per_size(json),
    })
}

mod per_size;
mod sweep;

pub use sweep::{is_sweep_summary, parse_sweep_summary, SweepPointSummary};
#[cfg(test)]
mod tests;

//! A `profile_export.jsonl` line back into a record that gives exactly the
//! statistics of the one written: what `imgperf merge` feeds the summary,
//! and what the viewer reads ([`super::parse_line`]), so a table rebuilt
//! from records equals the CLI's.
//!
//! The line holds the metadata (epoch-ns times), every per-request metric
//! and the `images` object (a video job's: its `video` object; an edit's
//! `input_images` too), which also
//! tells what the payload asked for (`n`, `size`, `stream`); for lines
//! written before it did, that comes from the run's `inputs.json` by
//! dataset entry ([`Requested`]), as the runner set it before sending. Times are rebuilt
//! in whole nanoseconds from the exported milliseconds (`ns / 1e6` rounds
//! back to the same `ns` far beyond any request's length), so each metric
//! is recomputed bit for bit: `line → record → line` is the identity.

use super::{base_record, ImportError, MetadataIn};
use crate::measure::Expect;
use crate::metrics::{self, MetricDef};
use crate::output::{Delivery, ImageIssue, ImageMeta, Output};
use crate::record::{ErrorDetails, RequestRecord};
use crate::reference::InputImageMeta;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

/// What each dataset entry's payload asked for, from `inputs.json`.
#[derive(Debug, Clone, Default)]
pub struct Requested(HashMap<String, Output>);

impl Requested {
    /// Read `inputs.json` (`{"data":[{"session_id", "payloads":[payload]}]}`).
    pub fn from_inputs(inputs: &Value) -> Result<Requested, ImportError> {
        let data = inputs
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| ImportError::NotAnExport("inputs.json has no \"data\" array".into()))?;
        let mut map = HashMap::new();
        for entry in data {
            let id = entry.get("session_id").and_then(Value::as_str);
            let payload = entry.get("payloads").and_then(|p| p.get(0));
            if let (Some(id), Some(payload)) = (id, payload) {
                map.insert(id.to_owned(), Expect::from_payload(payload).output());
            }
        }
        Ok(Requested(map))
    }
}

/// `{"value", "unit"}` of a record line's metric.
#[derive(Deserialize)]
pub(super) struct MetricIn {
    value: Value,
}

/// A record line's metrics by tag.
pub(super) type Metrics = HashMap<String, MetricIn>;

/// A record line's `images` object.
#[derive(Deserialize)]
pub(super) struct ImagesIn {
    #[serde(default)]
    delivery: Option<Delivery>,
    #[serde(default)]
    requested: Option<u32>,
    #[serde(default)]
    returned: u32,
    #[serde(default)]
    requested_size: Option<String>,
    #[serde(default)]
    stream_requested: bool,
    #[serde(default)]
    stream_ignored: bool,
    #[serde(default)]
    items: Vec<ImageMeta>,
    #[serde(default)]
    issues: Vec<ImageIssue>,
}

#[derive(Deserialize)]
struct RecordLineIn {
    metadata: MetadataIn,
    metrics: Metrics,
    #[serde(default)]
    error: Option<ErrorDetails>,
    #[serde(default)]
    images: Option<ImagesIn>,
    #[serde(default)]
    video: Option<Value>,
    #[serde(default)]
    input_images: Vec<InputImageMeta>,
}

/// Milliseconds as exported back to whole nanoseconds.
fn ns(ms: f64) -> u64 {
    (ms * 1e6).round().max(0.0) as u64
}

/// A `profile_export.jsonl` line (written by imgperf) as the record whose
/// statistics are the written one's; `requested` tells what each dataset
/// entry asked for. Times are epoch ns, as exported.
pub fn exact_record(line: &str, requested: &Requested) -> Result<RequestRecord, ImportError> {
    let input: RecordLineIn =
        serde_json::from_str(line).map_err(|e| ImportError::NotAnExport(e.to_string()))?;
    let mut rec = base_record(input.metadata, None, input.error);
    rec.input_images = input.input_images.into();
    let asked = requested.0.get(&rec.conversation_id).cloned();
    fill(
        &mut rec,
        &input.metrics,
        input.images,
        input.video.as_ref(),
        asked,
    );
    Ok(rec)
}

/// Fill `rec` (metadata in place) from a record line's metrics, `images`
/// or `video` object; `asked` is what its payload asked for, when known
/// from elsewhere than the line.
pub(super) fn fill(
    rec: &mut RequestRecord,
    metrics: &Metrics,
    images: Option<ImagesIn>,
    video: Option<&Value>,
    asked: Option<Output>,
) {
    let num = |def: MetricDef| metrics.get(def.tag).and_then(|m| m.value.as_f64());
    let list = |def: MetricDef| -> Vec<f64> {
        match metrics.get(def.tag).map(|m| &m.value) {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_f64).collect(),
            Some(v) => v.as_f64().into_iter().collect(),
            None => Vec::new(),
        }
    };
    rec.input_sequence_length = num(metrics::INPUT_SEQUENCE_LENGTH)
        .or_else(|| num(metrics::ERROR_ISL))
        .map(|v| v as u64);
    rec.response_bytes = num(metrics::RESPONSE_BYTES).map_or(0, |v| v as u64);
    rec.image_count = num(metrics::OUTPUT_IMAGE_COUNT).map_or(0, |v| v as u32);
    rec.upload_end_ns = num(metrics::HTTP_REQ_SENDING).map(|ms| rec.request_start_ns + ns(ms));
    if let Some(video) = video {
        // A video job: its `video` object and metrics (see `import::video`).
        let by_tag = |tag: &str| metrics.get(tag).and_then(|m| m.value.as_f64());
        let mut o = super::video::from_record(rec, video, by_tag);
        o.server.inference_time_s = num(metrics::SERVER_INFERENCE_TIME).map(seconds_of_ms);
        rec.output = o;
        return;
    }
    let mut o = asked.unwrap_or_default();
    if let Some(images) = images {
        o.delivery = images.delivery;
        o.requested_images = images.requested.or(o.requested_images);
        o.requested_size = images.requested_size.or(o.requested_size);
        // Lines written before `stream_requested` was: a delivered or
        // ignored stream was asked for.
        o.stream_requested |= images.stream_requested
            || images.stream_ignored
            || images.delivery == Some(Delivery::Stream);
        o.images = images.items;
        o.issues = images.issues;
        rec.image_count = images.returned;
    }
    let start = rec.request_start_ns;
    let at = |def| num(def).map(|ms| start + ns(ms));
    o.first_image_ns = at(metrics::TIME_TO_FIRST_IMAGE);
    o.final_image_ns = at(metrics::TIME_TO_FINAL_IMAGE);
    if let Some(first) = at(metrics::TIME_TO_FIRST_PARTIAL_IMAGE) {
        let mut t = first;
        o.partial_image_ns = vec![first];
        for gap in list(metrics::INTER_PARTIAL_IMAGE_LATENCY) {
            t += ns(gap);
            o.partial_image_ns.push(t);
        }
    }
    o.download = num(metrics::IMAGE_DOWNLOAD_TIME).map(|ms| (start, start + ns(ms)));
    o.image_bytes = num(metrics::IMAGE_BYTES).map(|v| v as u64);
    let s = &mut o.server;
    s.inference_time_s = num(metrics::SERVER_INFERENCE_TIME).map(seconds_of_ms);
    s.peak_memory_mb = num(metrics::SERVER_PEAK_MEMORY);
    s.input_tokens = num(metrics::USAGE_INPUT_TOKENS).map(|v| v as u64);
    s.output_tokens = num(metrics::USAGE_OUTPUT_TOKENS).map(|v| v as u64);
    s.total_tokens = num(metrics::USAGE_TOTAL_TOKENS).map(|v| v as u64);
    rec.output = o;
}

/// The seconds `s` whose `s * 1e3` is the exported `ms` exactly (the
/// record keeps seconds; the metric is their product with 1000): `ms / 1e3`
/// or one of its nearest neighbours.
fn seconds_of_ms(ms: f64) -> f64 {
    let guess = ms / 1e3;
    if !guess.is_finite() || guess * 1e3 == ms {
        return guess;
    }
    let bits = guess.to_bits();
    (1..=4u64)
        .flat_map(|d| [bits.wrapping_add(d), bits.wrapping_sub(d)])
        .map(f64::from_bits)
        .find(|s| s * 1e3 == ms)
        .unwrap_or(guess)
}

#[cfg(test)]
mod tests;

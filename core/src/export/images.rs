//! The image parts of the exports: a record line's `images` object, and the
//! summary JSON's `output_images`, `image_issue_summary`, `per_size` and
//! `streaming` keys.

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::stats_json;
use crate::metrics::ImageReport;
use crate::output::{Delivery, ImageIssue, ImageMeta};
use crate::record::RequestRecord;

/// A record line's `images`: present once a response was analysed, or
/// when the payload asked for a size or a stream.
#[derive(Serialize)]
pub(super) struct ImagesEntry<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    delivery: Option<Delivery>,
    /// `n` of the payload.
    requested: Option<u32>,
    /// Entries in the response's `data` (or final stream events).
    returned: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    requested_size: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream_requested: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream_ignored: bool,
    items: &'a [ImageMeta],
    issues: &'a [ImageIssue],
}

impl<'a> ImagesEntry<'a> {
    pub fn of(rec: &'a RequestRecord) -> Option<Self> {
        let o = &rec.output;
        // A request that got no answer still tells what it asked for (its
        // size counts in the per-size figures, read back by `import`).
        if o.is_empty() && o.requested_size.is_none() && !o.stream_requested {
            return None;
        }
        Some(ImagesEntry {
            delivery: o.delivery,
            requested: o.requested_images,
            returned: rec.image_count,
            requested_size: o.requested_size.as_deref(),
            stream_requested: o.stream_requested,
            stream_ignored: o.stream_ignored(),
            items: &o.images,
            issues: &o.issues,
        })
    }
}

/// Add the [`ImageReport`] to a summary JSON object (from
/// [`super::summary_json`]): `output_images` (count per format and
/// dimensions), `image_issue_summary` (like `error_summary`), `per_size`
/// (only when requests asked for several sizes) and `streaming` (only when
/// a stream was asked for).
pub fn add_image_report(summary: &mut Value, report: &ImageReport) {
    let Value::Object(out) = summary else { return };
    let shapes: Vec<Value> = report
        .shapes
        .iter()
        .map(|(f, w, h, n)| json!({"format": f, "width": w, "height": h, "count": n}))
        .collect();
    out.insert("output_images".into(), Value::Array(shapes));
    let issues: Vec<Value> = report
        .issues
        .iter()
        .map(|(kind, message, n)| json!({"kind": kind, "message": message, "count": n}))
        .collect();
    out.insert("image_issue_summary".into(), Value::Array(issues));
    if !report.per_size.is_empty() {
        let sizes: Vec<Value> = report
            .per_size
            .iter()
            .map(|s| {
                let mut m = Map::new();
                m.insert("size".into(), json!(s.size));
                m.insert("request_count".into(), json!(s.request_count));
                m.insert("error_request_count".into(), json!(s.error_request_count));
                if let Some(st) = &s.request_latency {
                    m.insert("request_latency".into(), stats_json("ms", st));
                }
                if let Some(st) = &s.http_req_waiting {
                    m.insert("http_req_waiting".into(), stats_json("ms", st));
                }
                m.insert("request_throughput".into(), json!(s.request_throughput));
                m.insert("image_throughput".into(), json!(s.image_throughput));
                m.insert("megapixel_throughput".into(), json!(s.megapixel_throughput));
                Value::Object(m)
            })
            .collect();
        out.insert("per_size".into(), Value::Array(sizes));
    }
    if !report.videos.is_empty() {
        let videos: Vec<Value> = report
            .videos
            .iter()
            .map(|(v, n)| {
                json!({"codec": v.codec, "width": v.width, "height": v.height,
                    "frames": v.frames, "fps": v.fps_milli as f64 / 1000.0, "count": n})
            })
            .collect();
        out.insert("output_videos".into(), Value::Array(videos));
    }
    if report.stream_requested > 0 {
        out.insert(
            "streaming".into(),
            json!({
                "requested": report.stream_requested,
                "server_ignored_stream": report.stream_ignored,
            }),
        );
    }
}

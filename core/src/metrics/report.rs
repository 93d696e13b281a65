//! The [`ImageReport`]: what the image checks found (issues grouped by kind
//! and message, images by format and dimensions), how often a server
//! ignored `stream`, and, when requests asked for different sizes (per-row
//! `extra`), one line of figures per requested size.

use std::collections::BTreeMap;

use serde::Serialize;

use super::column::Columns;
use super::{
    MetricDef, DISTRIBUTION_METRICS, HTTP_REQ_WAITING, REQUEST_LATENCY, VIDEO_DISTRIBUTION_METRICS,
};
use crate::images::ImageFormat;
use crate::output::IssueKind;
use crate::record::RequestRecord;
use crate::stats::Stats;

/// Figures of the requests that asked for one size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizeSummary {
    /// The size as requested (`512x512`), or `default` when none was named.
    pub size: String,
    /// Successful requests.
    pub request_count: u64,
    /// Failed requests.
    pub error_request_count: u64,
    /// Request latency of the successful ones (ms).
    pub request_latency: Option<Stats>,
    /// Time to first byte of the successful ones (ms).
    pub http_req_waiting: Option<Stats>,
    /// Their share of request throughput (requests/sec over the whole run).
    pub request_throughput: f64,
    /// Their share of image throughput (images/sec over the whole run).
    pub image_throughput: f64,
    /// Their share of megapixel throughput (MP/sec over the whole run).
    pub megapixel_throughput: f64,
}

/// What the image checks found, and the per-size breakdown.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ImageReport {
    /// Issues grouped by kind and message, most frequent first.
    pub issues: Vec<(IssueKind, String, u64)>,
    /// Successful requests' images by format and dimensions, most frequent first.
    pub shapes: Vec<(ImageFormat, u32, u32, u64)>,
    /// One entry per requested size, only when requests asked for several.
    pub per_size: Vec<SizeSummary>,
    /// Requests that asked for a stream.
    pub stream_requested: u64,
    /// Of those, answered with plain JSON (the server ignored `stream`).
    pub stream_ignored: u64,
    /// Successful video jobs' MP4s by codec, size, frames and frame rate,
    /// most frequent first.
    pub videos: Vec<(VideoShape, u64)>,
    /// Requests that were video jobs (the issues are about videos).
    pub video_jobs: u64,
}

/// What an MP4 is, for grouping.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct VideoShape {
    /// ffprobe's codec name (`h264`).
    pub codec: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames.
    pub frames: u64,
    /// Frames per second, in thousandths (exact grouping).
    pub fps_milli: u64,
}

#[derive(Debug, Clone, Default)]
struct SizeAcc {
    valid: u64,
    failed: u64,
    images: u64,
    megapixels: f64,
    /// Column numbers of this size's latencies and waiting times.
    latency: usize,
    waiting: usize,
}

/// Accumulates an [`ImageReport`].
#[derive(Debug, Clone, Default)]
pub(super) struct ReportBuilder {
    issues: BTreeMap<(IssueKind, String), u64>,
    shapes: BTreeMap<(ImageFormat, u32, u32), u64>,
    sizes: BTreeMap<String, SizeAcc>,
    stream_requested: u64,
    stream_ignored: u64,
    videos: BTreeMap<VideoShape, u64>,
    video_jobs: u64,
}

fn sorted<K: Ord + Clone>(map: &BTreeMap<K, u64>) -> Vec<(K, u64)> {
    let mut v: Vec<(K, u64)> = map.iter().map(|(k, n)| (k.clone(), *n)).collect();
    v.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    v
}

impl ReportBuilder {
    pub fn add(
        &mut self,
        rec: &RequestRecord,
        metrics: &[(MetricDef, f64)],
        columns: &mut Columns,
    ) {
        let o = &rec.output;
        self.video_jobs += u64::from(o.video.is_some());
        for i in &o.issues {
            *self.issues.entry((i.kind, i.message.clone())).or_insert(0) += 1;
        }
        if o.stream_requested {
            self.stream_requested += 1;
            self.stream_ignored += u64::from(o.stream_ignored());
        }
        let size = o.requested_size.clone().unwrap_or_else(|| "default".into());
        // Two columns per size, after the distribution metrics' columns.
        let first =
            DISTRIBUTION_METRICS.len() + VIDEO_DISTRIBUTION_METRICS.len() + 2 * self.sizes.len();
        let acc = self.sizes.entry(size).or_insert_with(|| SizeAcc {
            latency: first,
            waiting: first + 1,
            ..SizeAcc::default()
        });
        if !rec.is_valid() {
            acc.failed += 1;
            return;
        }
        if let Some(m) = o.video.as_ref().and_then(|v| v.mp4.as_ref()) {
            let shape = VideoShape {
                codec: m.codec.clone(),
                width: m.width,
                height: m.height,
                frames: m.frames,
                fps_milli: (m.fps * 1000.0).round() as u64,
            };
            *self.videos.entry(shape).or_insert(0) += 1;
        }
        for img in &o.images {
            *self
                .shapes
                .entry((img.format, img.width, img.height))
                .or_insert(0) += 1;
        }
        acc.valid += 1;
        acc.images += u64::from(rec.image_count);
        acc.megapixels += o.megapixels().unwrap_or(0.0);
        for (def, v) in metrics {
            if *def == REQUEST_LATENCY {
                columns.push(acc.latency, *v);
            } else if *def == HTTP_REQ_WAITING {
                columns.push(acc.waiting, *v);
            }
        }
    }

    pub fn finish(&self, duration_s: f64, columns: &Columns) -> ImageReport {
        let per_sec = |n: f64| {
            if duration_s > 0.0 {
                n / duration_s
            } else {
                0.0
            }
        };
        let per_size = if self.sizes.len() < 2 {
            Vec::new()
        } else {
            self.sizes
                .iter()
                .map(|(size, a)| SizeSummary {
                    size: size.clone(),
                    request_count: a.valid,
                    error_request_count: a.failed,
                    request_latency: Stats::from_values(&columns.values(a.latency)),
                    http_req_waiting: Stats::from_values(&columns.values(a.waiting)),
                    request_throughput: per_sec(a.valid as f64),
                    image_throughput: per_sec(a.images as f64),
                    megapixel_throughput: per_sec(a.megapixels),
                })
                .collect()
        };
        ImageReport {
            issues: sorted(&self.issues)
                .into_iter()
                .map(|((k, m), n)| (k, m, n))
                .collect(),
            shapes: sorted(&self.shapes)
                .into_iter()
                .map(|((f, w, h), n)| (f, w, h, n))
                .collect(),
            per_size,
            stream_requested: self.stream_requested,
            stream_ignored: self.stream_ignored,
            videos: sorted(&self.videos),
            video_jobs: self.video_jobs,
        }
    }
}

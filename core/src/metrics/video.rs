//! The video part of the metrics: a video job's per-request values (submit,
//! queue, generation and download times, polls, the MP4's size, frames and
//! duration) and the run totals behind videos/s, seconds of video per
//! second, frames/s and megapixel-frames/s.

use super::*;
use crate::video::VideoOutput;

/// Per-request values of a successful video job.
pub(super) fn record_metrics(
    rec: &RequestRecord,
    v: &VideoOutput,
    out: &mut Vec<(MetricDef, f64)>,
) {
    out.push((RESPONSE_BYTES, rec.response_bytes as f64));
    out.push((SCHEDULE_LAG, rec.schedule_lag_ms()));
    out.push((CLIENT_QUEUE_TIME, rec.queue_ms()));
    out.push((LATENCY_FROM_SCHEDULED, rec.latency_from_scheduled_ms()));
    if let Some(ms) = rec.stale_connection_ms() {
        out.push((STALE_CONNECTION_TIME, ms));
    }
    if let Some(t) = v.submit_end_ns {
        out.push((VIDEO_SUBMIT_LATENCY, rec.since_start_ms(t)));
    }
    if let Some(t) = v.started_ns {
        out.push((VIDEO_QUEUE_TIME, rec.since_start_ms(t)));
    }
    if let (Some(s), Some(c)) = (v.started_ns, v.completed_ns) {
        out.push((VIDEO_GENERATION_TIME, ns_ms(c.saturating_sub(s))));
    }
    out.push((VIDEO_POLL_COUNT, f64::from(v.polls)));
    out.push((VIDEO_POLL_ERRORS, f64::from(v.poll_errors)));
    if let Some((s, e)) = v.download {
        out.push((VIDEO_DOWNLOAD_TIME, ns_ms(e.saturating_sub(s))));
    }
    if let Some(b) = v.bytes {
        out.push((VIDEO_BYTES, b as f64));
    }
    if let Some(m) = &v.mp4 {
        out.push((VIDEO_FRAMES, m.frames as f64));
        out.push((VIDEO_DURATION, m.duration_s));
    }
    let s = &rec.output.server;
    if let Some(t) = s.inference_time_s {
        out.push((SERVER_INFERENCE_TIME, t * 1e3));
    }
    if let Some(m) = s.peak_memory_mb {
        out.push((SERVER_PEAK_MEMORY, m));
    }
}

/// Run totals of video jobs.
#[derive(Debug, Clone, Default)]
pub(super) struct VideoTotals {
    /// Some record was a video job (the run is a video run).
    pub any: bool,
    videos: u64,
    seconds: f64,
    frames: u64,
    megapixel_frames: f64,
    /// Successful jobs whose MP4 was read.
    with_facts: u64,
    issue_requests: u64,
}

impl VideoTotals {
    pub fn add(&mut self, rec: &RequestRecord) {
        let Some(v) = &rec.output.video else { return };
        self.any = true;
        if !rec.output.issues.is_empty() {
            self.issue_requests += 1;
        }
        if !rec.is_valid() {
            return;
        }
        self.videos += 1;
        if let Some(m) = &v.mp4 {
            self.with_facts += 1;
            self.seconds += m.duration_s;
            self.frames += m.frames;
            self.megapixel_frames += v.megapixel_frames();
        }
    }

    /// The run-level rows, `per_sec` dividing by the benchmark duration.
    /// The MP4-based rates only when some MP4 was read.
    pub fn scalars(&self, per_sec: impl Fn(f64) -> f64) -> Vec<(MetricDef, f64)> {
        let mut out = vec![(VIDEO_THROUGHPUT, per_sec(self.videos as f64))];
        if self.with_facts > 0 {
            out.push((VIDEO_SECONDS_THROUGHPUT, per_sec(self.seconds)));
            out.push((FRAME_THROUGHPUT, per_sec(self.frames as f64)));
            out.push((MEGAPIXEL_FRAME_THROUGHPUT, per_sec(self.megapixel_frames)));
        }
        out.push((VIDEO_ISSUE_REQUEST_COUNT, self.issue_requests as f64));
        out
    }
}

//! Video generation (`--endpoint-type video_generation`): a request is a job
//! on the OpenAI Videos API: submitted (`POST /v1/videos`), polled
//! (`GET /v1/videos/{id}`, one poll in flight, every poll interval) until it
//! says `completed` or `failed`, then its MP4 fetched
//! (`GET /v1/videos/{id}/content`) and checked from its boxes ([`mp4`])
//! against what the payload asked (`size`, `seconds`, `fps`, `num_frames`).
//!
//! What it learns goes in [`VideoOutput`] on the record: the time split into
//! submit, queue, generation and download, the poll count, the server's own
//! figures and the MP4's facts. [`job`] runs the job inside the runner's one
//! job model; [`status`] reads the job objects the server answers.

pub(crate) mod job;
pub mod mp4;
pub mod status;

use crate::images::parse_size;
use crate::output::{ImageIssue, IssueKind};
pub use mp4::{Mp4Error, Mp4Facts};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// AIPerf's default poll interval (`AIPERF_HTTP_VIDEO_POLL_INTERVAL`), in seconds.
pub const DEFAULT_POLL_INTERVAL_S: f64 = 0.1;

/// How video jobs are driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoSettings {
    /// Time between two poll starts (`--video-poll-interval`).
    pub poll_interval_ns: u64,
    /// `--download-video-content`: fetch the MP4 as part of the request, its
    /// download counted in the latency (AIPerf). Without it the MP4 is still
    /// fetched to check it (unless `--validate-images off`), after the
    /// latency is closed.
    pub download_content: bool,
    /// A job still unfinished this long after its submit is a timeout
    /// (`--request-timeout-seconds`).
    pub timeout_ns: u64,
}

impl Default for VideoSettings {
    fn default() -> Self {
        VideoSettings {
            poll_interval_ns: (DEFAULT_POLL_INTERVAL_S * 1e9) as u64,
            download_content: false,
            timeout_ns: 21_600_000_000_000,
        }
    }
}

/// What a video payload asks for.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VideoAsk {
    /// `size` as written (`1280x720`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// `seconds` (a number or a numeric string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// `fps`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
    /// `num_frames`, or else `seconds × fps` when both are given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames: Option<u64>,
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|x: &f64| x.is_finite() && *x > 0.0)
}

impl VideoAsk {
    /// Read `size`, `seconds`, `fps` and `num_frames` from a payload.
    pub fn from_payload(payload: &Value) -> VideoAsk {
        let get = |k: &str| payload.get(k).and_then(number);
        let seconds = get("seconds");
        let fps = get("fps");
        let frames = get("num_frames")
            .map(|f| f.round() as u64)
            .or(match (seconds, fps) {
                (Some(s), Some(f)) => Some((s * f).round() as u64),
                _ => None,
            });
        VideoAsk {
            size: payload
                .get("size")
                .and_then(Value::as_str)
                .map(str::to_owned),
            seconds,
            fps,
            frames,
        }
    }
}

/// Everything a video job told: times, polls, the server's figures and the MP4.
///
/// Times are monotonic ns on the run's clock, like the rest of the record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VideoOutput {
    /// What the payload asked.
    pub ask: VideoAsk,
    /// The job's `id`, once submitted.
    pub job_id: Option<String>,
    /// The submit's answer arrived (its round trip is the Submit Latency).
    pub submit_end_ns: Option<u64>,
    /// Arrival of the first answer no longer saying `queued`.
    pub started_ns: Option<u64>,
    /// Arrival of the first answer saying `completed`.
    pub completed_ns: Option<u64>,
    /// Status polls sent.
    pub polls: u32,
    /// Polls that failed (transport error or an error status), retried.
    pub poll_errors: u32,
    /// The last status seen (`queued`, `in_progress`, `completed`, `failed`, ...).
    pub status: Option<String>,
    /// The last `progress` seen (0 to 100).
    pub progress: Option<f64>,
    /// The content GET: start and end.
    pub download: Option<(u64, u64)>,
    /// The download counts in the request latency (`--download-video-content`).
    pub download_counted: bool,
    /// The content's URL (absolute).
    pub content_url: Option<String>,
    /// Bytes of the MP4.
    pub bytes: Option<u64>,
    /// What the MP4's boxes say.
    pub mp4: Option<Mp4Facts>,
}

impl VideoOutput {
    /// Megapixels × frames of the MP4 (0 when unknown).
    pub fn megapixel_frames(&self) -> f64 {
        self.mp4.as_ref().map_or(0.0, |m| {
            f64::from(m.width) * f64::from(m.height) * m.frames as f64 / 1e6
        })
    }
}

/// Compare an MP4's facts with what was asked: size, frame count, frame
/// rate and duration (within one frame). Each difference is one issue.
pub fn check(ask: &VideoAsk, facts: &Mp4Facts) -> Vec<ImageIssue> {
    let mut out = Vec::new();
    let mut issue = |kind, message: String| {
        out.push(ImageIssue {
            index: None,
            kind,
            message,
        })
    };
    if let Some((w, h)) = ask.size.as_deref().and_then(parse_size) {
        if (w, h) != (facts.width, facts.height) {
            let mut msg = format!(
                "{}x{} returned, {w}x{h} requested",
                facts.width, facts.height
            );
            if facts.width == w.div_ceil(16) * 16 && facts.height == h.div_ceil(16) * 16 {
                msg.push_str(" (rounded up to multiples of 16)");
            }
            issue(IssueKind::SizeMismatch, msg);
        }
    }
    if let Some(n) = ask.frames {
        if facts.frames != n {
            let mut msg = format!("{} frames returned, {n} requested", facts.frames);
            if facts.frames % 4 == 1 && facts.frames < n && n - facts.frames < 4 {
                msg.push_str(" (4k+1 frames, as Wan's VAE makes)");
            }
            issue(IssueKind::FrameCountMismatch, msg);
        }
    }
    if let Some(fps) = ask.fps {
        if (facts.fps - fps).abs() > 0.01 {
            issue(
                IssueKind::FrameRateMismatch,
                format!("{:.3} fps returned, {fps} requested", facts.fps),
            );
        }
    }
    if let Some(s) = ask.seconds {
        let frame = if facts.fps > 0.0 {
            1.0 / facts.fps
        } else {
            0.0
        };
        if (facts.duration_s - s).abs() > frame + 1e-3 {
            issue(
                IssueKind::DurationMismatch,
                format!("{:.3} s returned, {s} s requested", facts.duration_s),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests;

//! What one request produced beyond its status: how the images arrived
//! (JSON `b64_json`, URLs fetched afterwards, or an SSE stream), what each
//! image is (format, dimensions, bytes, read from its header), what did not
//! match the request (`n`, `size`, `output_format`, undecodable or truncated
//! data), when the first and final images were in hand, and the figures the
//! server reported about itself (SGLang's `inference_time_s` and
//! `peak_memory_mb`, OpenAI's `usage`).
//!
//! Times are monotonic ns on the run's clock, like the rest of the record.

use crate::images::ImageFormat;
use serde::{Deserialize, Serialize};

/// How a response delivered its images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Inline base64 in a JSON body (`data[].b64_json`).
    B64Json,
    /// URLs in a JSON body, each fetched with a GET afterwards.
    Url,
    /// A server-sent event stream (`--streaming`).
    Stream,
}

/// One output image, as its header describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageMeta {
    /// Position of the image in the response (`data[index]`).
    pub index: u32,
    /// Container format, from the magic bytes.
    pub format: ImageFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Size of the image file in bytes (decoded, not base64).
    pub bytes: u64,
}

/// What kind of problem an [`ImageIssue`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    /// Fewer or more images than `n` asked for.
    CountMismatch,
    /// Dimensions differ from the requested `size` (or `width`/`height`).
    SizeMismatch,
    /// Format differs from the requested `output_format`.
    FormatMismatch,
    /// Not valid base64, or not a PNG, JPEG or WebP image.
    Undecodable,
    /// The image ends early (base64 or download cut short).
    Truncated,
    /// A `data[]` item with neither `b64_json` nor `url`.
    Missing,
    /// Fetching an image URL (or a video's content) failed.
    DownloadFailed,
    /// A video's frame count differs from `num_frames` (or `seconds × fps`).
    FrameCountMismatch,
    /// A video's frame rate differs from `fps`.
    FrameRateMismatch,
    /// A video's duration differs from `seconds` by more than a frame.
    DurationMismatch,
}

impl IssueKind {
    /// Stable snake_case name, as exported.
    pub fn name(self) -> &'static str {
        match self {
            IssueKind::CountMismatch => "count_mismatch",
            IssueKind::SizeMismatch => "size_mismatch",
            IssueKind::FormatMismatch => "format_mismatch",
            IssueKind::Undecodable => "undecodable",
            IssueKind::Truncated => "truncated",
            IssueKind::Missing => "missing",
            IssueKind::DownloadFailed => "download_failed",
            IssueKind::FrameCountMismatch => "frame_count_mismatch",
            IssueKind::FrameRateMismatch => "frame_rate_mismatch",
            IssueKind::DurationMismatch => "duration_mismatch",
        }
    }
}

/// One mismatch or defect found in a response's images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageIssue {
    /// Which image (`data[index]`), or `None` for the response as a whole.
    pub index: Option<u32>,
    /// Class of problem.
    pub kind: IssueKind,
    /// What was found, without the index, so equal problems group together
    /// (`1x1 returned, 512x512 requested`).
    pub message: String,
}

/// Figures the server reported about the request, when it did.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct ServerFigures {
    /// SGLang `inference_time_s`, in seconds.
    pub inference_time_s: Option<f64>,
    /// SGLang `peak_memory_mb`.
    pub peak_memory_mb: Option<f64>,
    /// OpenAI `usage.input_tokens` (or `prompt_tokens`).
    pub input_tokens: Option<u64>,
    /// OpenAI `usage.output_tokens` (or `completion_tokens`).
    pub output_tokens: Option<u64>,
    /// OpenAI `usage.total_tokens`.
    pub total_tokens: Option<u64>,
}

impl ServerFigures {
    /// Fill every field still unknown from `other`.
    pub fn or(self, other: ServerFigures) -> ServerFigures {
        ServerFigures {
            inference_time_s: self.inference_time_s.or(other.inference_time_s),
            peak_memory_mb: self.peak_memory_mb.or(other.peak_memory_mb),
            input_tokens: self.input_tokens.or(other.input_tokens),
            output_tokens: self.output_tokens.or(other.output_tokens),
            total_tokens: self.total_tokens.or(other.total_tokens),
        }
    }
}

/// Everything a request produced beyond its status (empty until a response
/// is analysed).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Output {
    /// How the images arrived; `None` when no response was analysed.
    pub delivery: Option<Delivery>,
    /// `--streaming` was asked for.
    pub stream_requested: bool,
    /// `n` of the payload (1 when absent).
    pub requested_images: Option<u32>,
    /// The requested size as written (`512x512`, `auto`), or `WxH` from
    /// `width`/`height`; `None` when the payload names none.
    pub requested_size: Option<String>,
    /// Images whose header could be read, in response order.
    pub images: Vec<ImageMeta>,
    /// Bytes of every output image (decoded), when known.
    pub image_bytes: Option<u64>,
    /// Mismatches and defects.
    pub issues: Vec<ImageIssue>,
    /// When the first final image was in hand (partials are counted apart).
    pub first_image_ns: Option<u64>,
    /// When every final image was in hand.
    pub final_image_ns: Option<u64>,
    /// Arrival time of each partial image event (streaming).
    pub partial_image_ns: Vec<u64>,
    /// First GET start and last GET end of the image downloads (URL format).
    pub download: Option<(u64, u64)>,
    /// What the server reported.
    pub server: ServerFigures,
    /// A video job's polls, times and MP4 (`video_generation` only).
    pub video: Option<Box<crate::video::VideoOutput>>,
}

impl Output {
    /// Output pixels in millions (every probed image).
    pub fn megapixels(&self) -> Option<f64> {
        if self.images.is_empty() {
            return None;
        }
        let px: u64 = self
            .images
            .iter()
            .map(|i| u64::from(i.width) * u64::from(i.height))
            .sum();
        Some(px as f64 / 1e6)
    }

    /// A stream was asked for, and plain JSON came back.
    pub fn stream_ignored(&self) -> bool {
        self.stream_requested && matches!(self.delivery, Some(d) if d != Delivery::Stream)
    }

    /// Nothing was learnt about images (no response analysed; a video
    /// job's findings are in [`Output::video`]).
    pub fn is_empty(&self) -> bool {
        self.video.is_some() || (self.delivery.is_none() && self.issues.is_empty())
    }
}

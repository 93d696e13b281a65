//! What the pages show about one run, whatever it came from (a run in this
//! page, or CLI exports opened in the viewer): its summary, one point per
//! request for the plots, and its gallery images. [`RunBuilder`] folds
//! records into one, the same way for both sources.

use imgperf_core::images::{b64_images_in_body, decode_base64, probe};
use imgperf_core::metrics::{SizeSummary, Summary, SummaryBuilder};
use imgperf_core::record::{Phase, RequestRecord};
use imgperf_core::video::mp4;
use serde_json::Value;

/// One profiling request, for the plots.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Request start, seconds since the run's first start.
    pub start_s: f64,
    /// Request end, seconds since the run's first start.
    pub end_s: f64,
    /// Request latency in ms.
    pub latency_ms: f64,
    /// Succeeded.
    pub ok: bool,
}

/// Where a gallery image's bytes are.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ImageSource {
    /// A URL to show (an object URL of a thumbnail made by the run
    /// worker, or a published site's thumbnail), and the full image's.
    Url { src: String, full: Option<String> },
    /// Inside a raw export line of an opened file, read again when shown.
    File {
        /// Kept file id (`keep_file` of the app's file module).
        file: u32,
        /// The line's byte offset and length.
        offset: u64,
        /// Length of the line in bytes.
        len: u64,
        /// Position of the image in the response's `data` array.
        index: usize,
    },
}

/// One image with what the gallery says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct GalleryImage {
    /// Where to get it.
    pub source: ImageSource,
    /// The request's prompt.
    pub prompt: String,
    /// The request's latency in ms.
    pub latency_ms: f64,
    /// Pixels, from the image header.
    pub width: u32,
    /// Pixels, from the image header.
    pub height: u32,
    /// `png`, `jpeg` or `webp` (from the magic bytes); `?` when unknown.
    pub format: String,
    /// Size of the decoded image in bytes.
    pub bytes: u64,
    /// An edit's (first) input image, shown beside the output.
    pub input: Option<InputPreview>,
}

/// Where an edit's input image is, for the gallery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSource {
    /// An object URL (runs in this page).
    Url(String),
    /// `payload.files[0].b64` of the same raw export line as the output
    /// (runs exported with `--export-input-images`), read when shown.
    InLine,
    /// The export describes the input but holds no bytes.
    NotExported,
}

/// An edit's input image: where it is and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputPreview {
    /// Where its bytes are.
    pub source: InputSource,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Input images of the request (the preview shows the first).
    pub count: usize,
}

impl InputPreview {
    /// The preview of a raw export line's payload (an edit's `files`), if any.
    pub fn of_payload(payload: Option<&Value>) -> Option<InputPreview> {
        let files = payload?.get(imgperf_core::edit::FILES_KEY)?.as_array()?;
        let images: Vec<&Value> = files.iter().filter(|f| f["name"] != "mask").collect();
        let first = images.first()?;
        let dim = |k: &str| first[k].as_u64().unwrap_or(0) as u32;
        Some(InputPreview {
            source: if first.get("b64").is_some_and(Value::is_string) {
                InputSource::InLine
            } else {
                InputSource::NotExported
            },
            width: dim("width"),
            height: dim("height"),
            count: images.len(),
        })
    }
}

impl GalleryImage {
    /// MIME type for the image's format.
    pub fn mime(&self) -> &'static str {
        match self.format.as_str() {
            "jpeg" => "image/jpeg",
            "mp4" => "video/mp4",
            "webp" => "image/webp",
            _ => "image/png",
        }
    }
}

/// A run as the pages show it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunView {
    /// Unique in the page.
    pub id: u32,
    /// Name shown (files, or "browser run" and time).
    pub label: String,
    /// Files it was read from.
    pub files: Vec<String>,
    /// `start_time` as in the summary JSON; files of one run share it.
    pub start_key: Option<String>,
    /// The table's numbers.
    pub summary: Option<Summary>,
    /// Where the summary came from (`records`, `raw export`, `summary JSON`, `this page`).
    pub summary_from: String,
    /// One point per profiling request (empty when only a summary was opened).
    pub points: Vec<Point>,
    /// Images (raw exports, runs in this page).
    pub images: Vec<GalleryImage>,
    /// `input_config` of the summary JSON, when known.
    pub config: Option<Value>,
    /// Things the reader should know (counted ISL with gpt2, lines skipped...).
    pub notes: Vec<String>,
    /// Figures per requested size (when requests asked for several).
    pub per_size: Vec<SizeSummary>,
    /// First request start and last end (or first and last scrape), epoch
    /// ns: the origin of the plots' time axis, and how telemetry exports
    /// find their run.
    pub span_ns: Option<(u64, u64)>,
    /// GPU telemetry and server metrics, when exported.
    pub telemetry: Option<crate::telemetry::TelemetryView>,
}

impl RunView {
    /// Images the run's successful requests brought back (from the table's
    /// Output Images, not the gallery, which holds what could be shown).
    pub fn images_made(&self) -> u64 {
        self.summary
            .as_ref()
            .map_or(0, imgperf_core::site::images_made)
    }
}

/// A sweep as the viewer shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepView {
    /// Name shown.
    pub label: String,
    /// Its points, in grid order.
    pub points: Vec<imgperf_core::import::SweepPointSummary>,
    /// The published run of each point (`#/run/<name>`), when known.
    pub runs: Vec<Option<String>>,
}

/// Folds records into a summary and plot points.
#[derive(Debug, Default)]
pub struct RunBuilder {
    /// The statistics.
    pub summary: SummaryBuilder,
    spans: Vec<(u64, u64, f64, bool)>,
}

impl RunBuilder {
    /// Empty.
    pub fn new() -> Self {
        Self::default()
    }

    /// Account for one record (warm-up records are ignored).
    pub fn add(&mut self, rec: &RequestRecord) {
        if rec.phase == Phase::Warmup {
            return;
        }
        self.summary.add(rec);
        self.spans.push((
            rec.request_start_ns,
            rec.request_end_ns,
            rec.latency_ms(),
            rec.is_valid(),
        ));
    }

    /// Profiling records added.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Nothing added.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Earliest request start (ns), if any.
    pub fn first_start_ns(&self) -> Option<u64> {
        self.spans.iter().map(|s| s.0).min()
    }

    /// Earliest request start and latest end (ns), if any.
    pub fn span_ns(&self) -> Option<(u64, u64)> {
        Some((
            self.first_start_ns()?,
            self.spans.iter().map(|s| s.1).max()?,
        ))
    }

    /// The summary so far.
    pub fn finish(&self) -> Summary {
        self.summary.finish()
    }

    /// Figures per requested size (empty unless several were asked for).
    pub fn per_size(&self) -> Vec<SizeSummary> {
        self.summary.report().per_size
    }

    /// Plot points, times relative to the first start.
    pub fn points(&self) -> Vec<Point> {
        let t0 = self.first_start_ns().unwrap_or(0);
        let s = |ns: u64| ns.saturating_sub(t0) as f64 / 1e9;
        self.spans
            .iter()
            .map(|&(a, b, latency_ms, ok)| Point {
                start_s: s(a),
                end_s: s(b),
                latency_ms,
                ok,
            })
            .collect()
    }
}

/// One image found in a response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyImage {
    /// Position in the body's `data` array.
    pub index: usize,
    /// Decoded size in bytes.
    pub len: u64,
    /// The decoded bytes, when asked for.
    pub bytes: Option<Vec<u8>>,
    /// `png`, `jpeg`, `webp`, or `?`.
    pub format: String,
    /// Pixels (0 when the header is unreadable).
    pub width: u32,
    /// Pixels (0 when the header is unreadable).
    pub height: u32,
}

/// The MP4 a video job's content entry holds (`--download-video-content`).
fn body_video(text: &str, keep_bytes: bool) -> Option<BodyImage> {
    let v: Value = serde_json::from_str(text).ok()?;
    let b64 = v["b64_mp4"].as_str()?;
    let bytes = decode_base64(b64).ok()?;
    let facts = mp4::facts(&bytes).ok();
    Some(BodyImage {
        index: 0,
        len: bytes.len() as u64,
        format: "mp4".to_owned(),
        width: facts.as_ref().map_or(0, |f| f.width),
        height: facts.as_ref().map_or(0, |f| f.height),
        bytes: keep_bytes.then_some(bytes),
    })
}

/// The base64 images of a response body (or the MP4 of a video job's
/// content entry, format `mp4`); `keep_bytes` keeps the decoded bytes (to
/// show them now), else only their facts are kept.
pub fn body_images(text: &str, keep_bytes: bool) -> Vec<BodyImage> {
    if text.contains("\"video.content\"") {
        return body_video(text, keep_bytes).into_iter().collect();
    }
    let Ok(items) = b64_images_in_body(text) else {
        return Vec::new();
    };
    items
        .into_iter()
        .flatten()
        .map(|img| {
            let (format, width, height) = match probe(&img.bytes) {
                Ok(info) => (info.format.name().to_owned(), info.width, info.height),
                Err(_) => ("?".to_owned(), 0, 0),
            };
            BodyImage {
                index: img.index,
                len: img.bytes.len() as u64,
                bytes: keep_bytes.then_some(img.bytes),
                format,
                width,
                height,
            }
        })
        .collect()
}

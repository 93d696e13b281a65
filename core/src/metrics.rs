//! The metric registry (tag, display header, unit of every metric imgperf
//! reports), the per-request metric values, and the run [`Summary`] built from
//! records by [`SummaryBuilder`], following AIPerf 0.13's conventions:
//! distributions over successful profiling requests only, warmup excluded,
//! errors counted and grouped. Beyond AIPerf: output images (bytes,
//! megapixels), time to first/final image, streaming partial images, image
//! downloads, server-reported figures, a latency view that keeps failed
//! requests, the error rate, goodput ([`crate::goodput`]), the
//! [`ImageReport`] (image checks, per-size breakdown), and an edit's input
//! images and upload time (`input`).

mod column;
mod input;
mod report;
mod summary;
mod video;

pub use column::{Spill, BLOCK as SPILL_BLOCK};
use input::input_metrics;
pub use input::{
    HTTP_REQ_SENDING, IMAGE_LATENCY, INPUT_IMAGE_BYTES, INPUT_IMAGE_COUNT, INPUT_MEGAPIXELS,
};
pub use report::{ImageReport, SizeSummary, VideoShape};
pub use summary::SummaryBuilder;

use serde::Serialize;

use crate::output::Delivery;
use crate::record::{ErrorDetails, RequestRecord};
use crate::stats::Stats;

/// Identity of a metric: machine tag, human header and unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricDef {
    /// Machine name, the key in JSON exports (`request_latency`).
    pub tag: &'static str,
    /// Human name (`Request Latency`).
    pub header: &'static str,
    /// Unit (`ms`).
    pub unit: &'static str,
}

impl MetricDef {
    /// Header with unit, as in tables and CSV: `Request Latency (ms)`.
    pub fn label(&self) -> String {
        format!("{} ({})", self.header, self.unit)
    }

    /// Whether values count whole things (tokens, bytes, images), so that
    /// per-request values export as JSON integers.
    pub fn is_integer(&self) -> bool {
        matches!(
            self.unit,
            "tokens" | "bytes" | "images" | "polls" | "frames"
        )
    }

    /// Whether a record exports a list of values (one per event) for it.
    pub fn is_list(&self) -> bool {
        *self == INTER_PARTIAL_IMAGE_LATENCY
    }
}

const fn def(tag: &'static str, header: &'static str, unit: &'static str) -> MetricDef {
    MetricDef { tag, header, unit }
}

/// Request start → response body fully read.
pub const REQUEST_LATENCY: MetricDef = def("request_latency", "Request Latency", "ms");
/// Prompt tokens of a request.
pub const INPUT_SEQUENCE_LENGTH: MetricDef =
    def("input_sequence_length", "Input Sequence Length", "tokens");
/// Request start → first response byte.
/// Without streaming the server sends nothing before the image is made, so
/// this is ≈ generation time (plus queueing on the server).
pub const HTTP_REQ_WAITING: MetricDef =
    def("http_req_waiting", "Time to First Byte ≈ Generation", "ms");
/// First response byte → response body fully read: the transfer of the
/// (base64) body.
pub const HTTP_REQ_RECEIVING: MetricDef = def("http_req_receiving", "Body Transfer Time", "ms");
/// Bytes of response body.
pub const RESPONSE_BYTES: MetricDef = def("response_bytes", "Response Size", "bytes");
/// Images in one response.
pub const OUTPUT_IMAGE_COUNT: MetricDef = def("output_image_count", "Output Images", "images");
/// Request start − scheduled time: client-side delay, including queue time.
pub const SCHEDULE_LAG: MetricDef = def("schedule_lag", "Schedule Lag", "ms");
/// Time an arrival waited for a free concurrency slot.
pub const CLIENT_QUEUE_TIME: MetricDef = def("client_queue_time", "Client Queue Time", "ms");
/// Body fully read − scheduled time (coordinated-omission-aware latency).
pub const LATENCY_FROM_SCHEDULED: MetricDef = def(
    "request_latency_from_scheduled",
    "Latency from Scheduled Time",
    "ms",
);
/// Prompt tokens of a failed request.
pub const ERROR_ISL: MetricDef = def("error_isl", "Error Input Sequence Length", "tokens");
/// Decoded bytes of a request's output images.
pub const IMAGE_BYTES: MetricDef = def("image_bytes", "Output Image Size", "bytes");
/// Output pixels of a request, in millions.
pub const OUTPUT_MEGAPIXELS: MetricDef = def("output_megapixels", "Output Megapixels", "MP");
/// Request start → first final image in hand (after download for URLs;
/// partial images count in Time to First Partial Image instead).
pub const TIME_TO_FIRST_IMAGE: MetricDef = def("time_to_first_image", "Time to First Image", "ms");
/// Request start → every final image in hand.
pub const TIME_TO_FINAL_IMAGE: MetricDef = def("time_to_final_image", "Time to Final Image", "ms");
/// Request start → first `partial_image` event (streaming).
pub const TIME_TO_FIRST_PARTIAL_IMAGE: MetricDef = def(
    "time_to_first_partial_image",
    "Time to First Partial Image",
    "ms",
);
/// Time between consecutive partial images (streaming; one value per gap).
pub const INTER_PARTIAL_IMAGE_LATENCY: MetricDef = def(
    "inter_partial_image_latency",
    "Gap Between Partial Images",
    "ms",
);
/// Partial images streamed before the final one.
pub const PARTIAL_IMAGE_COUNT: MetricDef = def("partial_image_count", "Partial Images", "images");
/// First image GET start → last image GET end (`response_format: url`).
pub const IMAGE_DOWNLOAD_TIME: MetricDef = def("image_download_time", "Image Download Time", "ms");
/// SGLang's `inference_time_s`, in ms.
pub const SERVER_INFERENCE_TIME: MetricDef =
    def("server_inference_time", "Server Inference Time", "ms");
/// Time to first byte − the server's own inference time: the time the
/// request spent in the server's queue and around the model (SGLang).
pub const SERVER_QUEUE_OVERHEAD: MetricDef =
    def("server_queue_overhead", "Server Queue + Overhead", "ms");
/// Time lost to a stale pooled connection before the request was sent again
/// on a fresh one (retried requests only).
pub const STALE_CONNECTION_TIME: MetricDef =
    def("stale_connection_time", "Stale Connection Time", "ms");
/// SGLang's `peak_memory_mb`.
pub const SERVER_PEAK_MEMORY: MetricDef = def("server_peak_memory", "Server Peak Memory", "MB");
/// OpenAI `usage.input_tokens`.
pub const USAGE_INPUT_TOKENS: MetricDef =
    def("usage_input_tokens", "Server Input Tokens", "tokens");
/// OpenAI `usage.output_tokens`.
pub const USAGE_OUTPUT_TOKENS: MetricDef =
    def("usage_output_tokens", "Server Output Tokens", "tokens");
/// OpenAI `usage.total_tokens`.
pub const USAGE_TOTAL_TOKENS: MetricDef =
    def("usage_total_tokens", "Server Total Tokens", "tokens");
/// Latency of every request that got an answer or failed on its own (not
/// cancelled on purpose), successful or not; present when some failed.
pub const REQUEST_LATENCY_WITH_ERRORS: MetricDef = def(
    "request_latency_with_errors",
    "Request Latency incl. Errors",
    "ms",
);

/// Successful requests per second of benchmark duration.
pub const REQUEST_THROUGHPUT: MetricDef =
    def("request_throughput", "Request Throughput", "requests/sec");
/// Images of successful requests per second of benchmark duration.
pub const IMAGE_THROUGHPUT: MetricDef = def("image_throughput", "Image Throughput", "images/sec");
/// Number of successful profiling requests.
pub const REQUEST_COUNT: MetricDef = def("request_count", "Request Count", "requests");
/// Number of failed profiling requests.
pub const ERROR_REQUEST_COUNT: MetricDef =
    def("error_request_count", "Error Request Count", "requests");
/// Requests actually sent per second (first send → last send).
pub const ACHIEVED_REQUEST_RATE: MetricDef = def(
    "achieved_request_rate",
    "Achieved Send Rate",
    "requests/sec",
);
/// Requests cancelled on purpose or cut at the end of the run.
pub const CANCELLED_COUNT: MetricDef =
    def("cancelled_count", "Cancelled Request Count", "requests");
/// Requests that hit `--request-timeout-seconds`.
pub const TIMEOUT_COUNT: MetricDef = def("timeout_count", "Timed Out Request Count", "requests");
/// Requests sent again, once, because their pooled keep-alive connection had
/// been closed by the server (reset or EOF before any response byte).
pub const STALE_CONNECTION_RETRIES: MetricDef = def(
    "stale_connection_retries",
    "Stale Connection Retries",
    "requests",
);
/// Last end − first start of successful requests.
pub const BENCHMARK_DURATION: MetricDef = def("benchmark_duration", "Benchmark Duration", "sec");
/// Prompt tokens summed over successful requests.
pub const TOTAL_ISL: MetricDef = def("total_isl", "Total Input Sequence Length", "tokens");
/// Output megapixels of successful requests per second of benchmark duration.
pub const MEGAPIXEL_THROUGHPUT: MetricDef =
    def("megapixel_throughput", "Megapixel Throughput", "MP/sec");
/// Failed requests, percent of all profiling requests.
pub const ERROR_RATE: MetricDef = def("error_rate", "Error Rate", "%");
/// Requests whose images did not match the request or were defective.
pub const IMAGE_ISSUE_REQUEST_COUNT: MetricDef = def(
    "image_issue_request_count",
    "Requests with Image Issues",
    "requests",
);
/// Successful requests meeting every `--goodput` SLO.
pub const GOOD_REQUEST_COUNT: MetricDef =
    def("good_request_count", "Good Request Count", "requests");
/// Good requests per second of benchmark duration.
pub const GOODPUT: MetricDef = def("goodput", "Goodput", "requests/sec");
/// Good requests, percent of all profiling requests.
pub const SLO_ATTAINMENT: MetricDef = def("slo_attainment", "SLO Attainment", "%");

// ---- Video generation (`--endpoint-type video_generation`) ----

/// Submit start → the submit's answer (the job's id) in hand.
pub const VIDEO_SUBMIT_LATENCY: MetricDef = def("video_submit_latency", "Submit Latency", "ms");
/// Submit start → the first answer no longer saying `queued` (resolution:
/// the poll interval).
pub const VIDEO_QUEUE_TIME: MetricDef = def("video_queue_time", "Queue Time", "ms");
/// First answer no longer `queued` → first answer saying `completed`
/// (resolution: the poll interval).
pub const VIDEO_GENERATION_TIME: MetricDef = def("video_generation_time", "Generation Time", "ms");
/// Status polls of a job.
pub const VIDEO_POLL_COUNT: MetricDef = def("video_poll_count", "Poll Count", "polls");
/// Polls that failed and were retried.
pub const VIDEO_POLL_ERRORS: MetricDef = def("video_poll_errors", "Failed Polls", "polls");
/// The MP4's GET (`/v1/videos/{id}/content`).
pub const VIDEO_DOWNLOAD_TIME: MetricDef = def("video_download_time", "Download Time", "ms");
/// Bytes of the MP4.
pub const VIDEO_BYTES: MetricDef = def("video_bytes", "Video Size", "bytes");
/// Frames in the MP4.
pub const VIDEO_FRAMES: MetricDef = def("video_frames", "Video Frames", "frames");
/// Duration of the MP4.
pub const VIDEO_DURATION: MetricDef = def("video_duration", "Video Duration", "sec");
/// Completed videos per second of benchmark duration.
pub const VIDEO_THROUGHPUT: MetricDef = def("video_throughput", "Video Throughput", "videos/sec");
/// Seconds of video made per second of benchmark duration.
pub const VIDEO_SECONDS_THROUGHPUT: MetricDef = def(
    "video_seconds_throughput",
    "Video Seconds Throughput",
    "video sec/sec",
);
/// Frames made per second of benchmark duration.
pub const FRAME_THROUGHPUT: MetricDef = def("frame_throughput", "Frame Throughput", "frames/sec");
/// Megapixels × frames made per second of benchmark duration.
pub const MEGAPIXEL_FRAME_THROUGHPUT: MetricDef = def(
    "megapixel_frame_throughput",
    "Megapixel-Frame Throughput",
    "MP·frames/sec",
);
/// Requests whose MP4 did not match the request or could not be read.
pub const VIDEO_ISSUE_REQUEST_COUNT: MetricDef = def(
    "video_issue_request_count",
    "Requests with Video Issues",
    "requests",
);

/// Per-request metrics of video jobs, in summary order.
pub const VIDEO_DISTRIBUTION_METRICS: [MetricDef; 9] = [
    VIDEO_SUBMIT_LATENCY,
    VIDEO_QUEUE_TIME,
    VIDEO_GENERATION_TIME,
    VIDEO_POLL_COUNT,
    VIDEO_POLL_ERRORS,
    VIDEO_DOWNLOAD_TIME,
    VIDEO_BYTES,
    VIDEO_FRAMES,
    VIDEO_DURATION,
];

/// Run-level metrics of a video run, in summary order (present when the
/// run's requests were video jobs; the image throughputs are left out).
pub const VIDEO_SCALAR_METRICS: [MetricDef; 5] = [
    VIDEO_THROUGHPUT,
    VIDEO_SECONDS_THROUGHPUT,
    FRAME_THROUGHPUT,
    MEGAPIXEL_FRAME_THROUGHPUT,
    VIDEO_ISSUE_REQUEST_COUNT,
];

/// Per-request metrics, in summary order.
pub const DISTRIBUTION_METRICS: [MetricDef; 31] = [
    REQUEST_LATENCY,
    INPUT_SEQUENCE_LENGTH,
    HTTP_REQ_SENDING,
    HTTP_REQ_WAITING,
    HTTP_REQ_RECEIVING,
    RESPONSE_BYTES,
    OUTPUT_IMAGE_COUNT,
    SCHEDULE_LAG,
    CLIENT_QUEUE_TIME,
    LATENCY_FROM_SCHEDULED,
    STALE_CONNECTION_TIME,
    ERROR_ISL,
    REQUEST_LATENCY_WITH_ERRORS,
    TIME_TO_FIRST_IMAGE,
    TIME_TO_FINAL_IMAGE,
    TIME_TO_FIRST_PARTIAL_IMAGE,
    INTER_PARTIAL_IMAGE_LATENCY,
    PARTIAL_IMAGE_COUNT,
    IMAGE_DOWNLOAD_TIME,
    IMAGE_BYTES,
    OUTPUT_MEGAPIXELS,
    IMAGE_LATENCY,
    INPUT_IMAGE_COUNT,
    INPUT_IMAGE_BYTES,
    INPUT_MEGAPIXELS,
    SERVER_INFERENCE_TIME,
    SERVER_QUEUE_OVERHEAD,
    SERVER_PEAK_MEMORY,
    USAGE_INPUT_TOKENS,
    USAGE_OUTPUT_TOKENS,
    USAGE_TOTAL_TOKENS,
];

/// Run-level metrics, in summary order (always present, but for a video
/// run the image throughputs and image issue count give way to
/// [`VIDEO_SCALAR_METRICS`]).
pub const SCALAR_METRICS: [MetricDef; 13] = [
    REQUEST_THROUGHPUT,
    IMAGE_THROUGHPUT,
    ACHIEVED_REQUEST_RATE,
    REQUEST_COUNT,
    ERROR_REQUEST_COUNT,
    CANCELLED_COUNT,
    TIMEOUT_COUNT,
    STALE_CONNECTION_RETRIES,
    BENCHMARK_DURATION,
    TOTAL_ISL,
    MEGAPIXEL_THROUGHPUT,
    ERROR_RATE,
    IMAGE_ISSUE_REQUEST_COUNT,
];

/// Run-level metrics present with `--goodput`, in summary order.
pub const GOODPUT_METRICS: [MetricDef; 3] = [GOOD_REQUEST_COUNT, GOODPUT, SLO_ATTAINMENT];

/// The registered metric with this tag.
pub fn find(tag: &str) -> Option<MetricDef> {
    DISTRIBUTION_METRICS
        .iter()
        .chain(SCALAR_METRICS.iter())
        .chain(GOODPUT_METRICS.iter())
        .chain(VIDEO_DISTRIBUTION_METRICS.iter())
        .chain(VIDEO_SCALAR_METRICS.iter())
        .chain(crate::telemetry::report::METRICS.iter())
        .find(|d| d.tag == tag)
        .copied()
}

/// Metric values of one record, as exported per request.
///
/// A valid record gives `request_latency`, `input_sequence_length` (when
/// known), `http_req_waiting`/`http_req_receiving` (when the first byte
/// arrived), `response_bytes` and `output_image_count`, then what its output
/// tells (image times, partial images, downloads, bytes, megapixels, image
/// latency, server figures; `inter_partial_image_latency` once per gap),
/// and for a request that uploaded images (an edit, an image-to-video job) their count, bytes and
/// megapixels and, where known, the upload time; a failed one only
/// `error_isl` (when known).
pub fn record_metrics(rec: &RequestRecord) -> Vec<(MetricDef, f64)> {
    let isl = rec.input_sequence_length.map(|t| t as f64);
    if !rec.is_valid() {
        return isl.map(|v| vec![(ERROR_ISL, v)]).unwrap_or_default();
    }
    let mut out = Vec::with_capacity(12);
    out.push((REQUEST_LATENCY, rec.latency_ms()));
    if let Some(v) = isl {
        out.push((INPUT_SEQUENCE_LENGTH, v));
    }
    if let Some(v) = &rec.output.video {
        video::record_metrics(rec, v, &mut out);
        // An image-to-video job's reference, as an edit's.
        input_metrics(rec, &mut out);
        return out;
    }
    if let (Some(w), Some(r)) = (rec.waiting_ms(), rec.receiving_ms()) {
        out.push((HTTP_REQ_WAITING, w));
        out.push((HTTP_REQ_RECEIVING, r));
    }
    out.push((RESPONSE_BYTES, rec.response_bytes as f64));
    out.push((OUTPUT_IMAGE_COUNT, f64::from(rec.image_count)));
    out.push((SCHEDULE_LAG, rec.schedule_lag_ms()));
    out.push((CLIENT_QUEUE_TIME, rec.queue_ms()));
    out.push((LATENCY_FROM_SCHEDULED, rec.latency_from_scheduled_ms()));
    if let Some(v) = rec.stale_connection_ms() {
        out.push((STALE_CONNECTION_TIME, v));
    }
    output_metrics(rec, &mut out);
    if rec.image_count > 0 {
        out.push((IMAGE_LATENCY, rec.latency_ms() / f64::from(rec.image_count)));
    }
    input_metrics(rec, &mut out);
    out
}

fn output_metrics(rec: &RequestRecord, out: &mut Vec<(MetricDef, f64)>) {
    let o = &rec.output;
    let mut at = |def, t: Option<u64>| {
        if let Some(t) = t {
            out.push((def, rec.since_start_ms(t)));
        }
    };
    at(TIME_TO_FIRST_IMAGE, o.first_image_ns);
    at(TIME_TO_FINAL_IMAGE, o.final_image_ns);
    if o.delivery == Some(Delivery::Stream) {
        at(
            TIME_TO_FIRST_PARTIAL_IMAGE,
            o.partial_image_ns.first().copied(),
        );
        for w in o.partial_image_ns.windows(2) {
            out.push((
                INTER_PARTIAL_IMAGE_LATENCY,
                ns_ms(w[1].saturating_sub(w[0])),
            ));
        }
        out.push((PARTIAL_IMAGE_COUNT, o.partial_image_ns.len() as f64));
    }
    if let Some((start, end)) = o.download {
        out.push((IMAGE_DOWNLOAD_TIME, ns_ms(end.saturating_sub(start))));
    }
    if let Some(b) = o.image_bytes {
        out.push((IMAGE_BYTES, b as f64));
    }
    if let Some(mp) = o.megapixels() {
        out.push((OUTPUT_MEGAPIXELS, mp));
    }
    let s = &o.server;
    let figures = [
        (SERVER_INFERENCE_TIME, s.inference_time_s.map(|v| v * 1e3)),
        (SERVER_PEAK_MEMORY, s.peak_memory_mb),
        (USAGE_INPUT_TOKENS, s.input_tokens.map(|v| v as f64)),
        (USAGE_OUTPUT_TOKENS, s.output_tokens.map(|v| v as f64)),
        (USAGE_TOTAL_TOKENS, s.total_tokens.map(|v| v as f64)),
    ];
    out.extend(figures.into_iter().filter_map(|(d, v)| v.map(|v| (d, v))));
    if let Some(v) = rec.server_queue_overhead_ms() {
        out.push((SERVER_QUEUE_OVERHEAD, v));
    }
}

fn ns_ms(ns: u64) -> f64 {
    crate::record::ns_to_ms(ns)
}

/// Value of one summarised metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum MetricValue {
    /// Statistics over per-request values.
    Distribution(Stats),
    /// One number for the whole run.
    Scalar(f64),
}

/// One row of the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSummary {
    /// Which metric.
    pub def: MetricDef,
    /// Its value.
    pub value: MetricValue,
}

/// Results of a run: metric rows, grouped errors and counters.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Distributions first (in [`DISTRIBUTION_METRICS`] order, only those with
    /// values; `request_latency_with_errors` only when some request failed),
    /// then scalars (in [`SCALAR_METRICS`] order; `total_isl` only when some
    /// successful request had a known ISL), then [`GOODPUT_METRICS`] when
    /// SLOs were given.
    pub metrics: Vec<MetricSummary>,
    /// Errors grouped by details, most frequent first, ties by details.
    pub error_summary: Vec<(ErrorDetails, u64)>,
    /// Successful profiling requests.
    pub request_count: u64,
    /// Failed profiling requests.
    pub error_count: u64,
    /// Profiling requests cancelled on purpose.
    pub cancelled_count: u64,
    /// Last end − first start of successful requests, in seconds (0 if none).
    pub benchmark_duration_s: f64,
    /// Earliest request start of all profiling records (monotonic ns).
    pub start_ns: Option<u64>,
    /// Latest request end of all profiling records (monotonic ns).
    pub end_ns: Option<u64>,
}

impl Summary {
    /// The row of the metric with this tag, if present.
    pub fn get(&self, tag: &str) -> Option<&MetricSummary> {
        self.metrics.iter().find(|m| m.def.tag == tag)
    }
}

#[cfg(test)]
pub(crate) mod tests;

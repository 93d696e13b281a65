//! `RequestRecord`: everything measured about one request, as the runner
//! produces it and the exports and statistics consume it.

use crate::output::Output;
use crate::reference::InputImageMeta;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Which phase a request belongs to. Warmup records never enter the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Warm-up requests, kept apart from the results.
    Warmup,
    /// The measured phase.
    Profiling,
}

/// Error of one request, in AIPerf's `{"code","type","message"}` shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ErrorDetails {
    /// HTTP status, or a pseudo-code (499 cancelled, 408 timeout) when no status arrived.
    pub code: Option<u16>,
    /// Classification, e.g. `HTTPError`, `ConnectionError`, `InvalidResponse`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Human-readable message (from the server's error body when it sent one).
    pub message: String,
}

/// Everything measured about one request.
///
/// Times are monotonic nanoseconds since the run's clock origin
/// (see [`crate::platform::Runtime`]); exports convert them to epoch ns.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
    /// 0-based index of the request in the run (AIPerf `session_num`).
    pub session_num: u64,
    /// Sent as `X-Request-ID`.
    pub x_request_id: String,
    /// Sent as `X-Correlation-ID`.
    pub x_correlation_id: String,
    /// Dataset entry this request came from (`session_id` in `inputs.json`).
    pub conversation_id: String,
    /// Turn within the conversation (always 0 for single-turn).
    pub turn_index: u32,
    /// The URL the request went to (several `--url`: round-robin).
    pub url: String,
    /// Warmup or profiling.
    pub phase: Phase,
    /// When the request was due to be sent (its credit was issued).
    pub credit_issued_ns: u64,
    /// When a concurrency slot was free for it (equals `credit_issued_ns`
    /// unless it waited in the client-side queue).
    pub slot_acquired_ns: u64,
    /// Request start (handed to the transport). After a stale-connection
    /// retry, the start of the attempt that counted.
    pub request_start_ns: u64,
    /// Start of an attempt lost to a stale pooled connection (see
    /// [`crate::transport::Timing::stale_attempt_ns`]); the request was then
    /// sent again on a fresh connection at `request_start_ns`.
    pub stale_attempt_ns: Option<u64>,
    /// When the last byte of the request body was handed to the connection,
    /// where the platform can tell (natively; a browser's fetch cannot).
    pub upload_end_ns: Option<u64>,
    /// First byte of the response, if any arrived.
    pub first_byte_ns: Option<u64>,
    /// Body fully read, or the failure.
    pub request_end_ns: u64,
    /// Which worker slot executed it.
    pub worker_id: String,
    /// Which shard of a scaled-out run sent it (`None` for a single process).
    pub shard_index: Option<u32>,
    /// Cancelled on purpose (run stopped, cancellation rate, grace period over).
    pub was_cancelled: bool,
    /// HTTP status, if a response arrived.
    pub status: Option<u16>,
    /// Prompt tokens (input sequence length).
    pub input_sequence_length: Option<u64>,
    /// Bytes of response body received.
    pub response_bytes: u64,
    /// Images present in the response's `data` array.
    pub image_count: u32,
    /// `None` for a successful request.
    pub error: Option<ErrorDetails>,
    /// The images the request uploaded (an edit's references; empty for a
    /// generation), shared with its dataset entry.
    pub input_images: Arc<[InputImageMeta]>,
    /// What the response delivered: images checked, stream and download
    /// times, server figures (empty until a response is analysed, except
    /// for what the payload asked for).
    pub output: Output,
}

impl RequestRecord {
    /// A request is valid (counts in throughput and latency statistics) when it has no error.
    pub fn is_valid(&self) -> bool {
        self.error.is_none()
    }

    /// Request latency in ms: body fully read − request start.
    pub fn latency_ms(&self) -> f64 {
        ns_to_ms(self.request_end_ns.saturating_sub(self.request_start_ns))
    }

    /// Time to first byte in ms (request start → first response byte).
    pub fn waiting_ms(&self) -> Option<f64> {
        self.first_byte_ns
            .map(|t| ns_to_ms(t.saturating_sub(self.request_start_ns)))
    }

    /// Schedule lag in ms: request start − scheduled time (includes client queue time).
    pub fn schedule_lag_ms(&self) -> f64 {
        ns_to_ms(self.request_start_ns.saturating_sub(self.credit_issued_ns))
    }

    /// Time spent waiting for a free concurrency slot, in ms.
    pub fn queue_ms(&self) -> f64 {
        ns_to_ms(self.slot_acquired_ns.saturating_sub(self.credit_issued_ns))
    }

    /// Latency measured from the scheduled time (coordinated-omission aware), in ms.
    pub fn latency_from_scheduled_ms(&self) -> f64 {
        ns_to_ms(self.request_end_ns.saturating_sub(self.credit_issued_ns))
    }

    /// Upload time in ms (request start → last body byte handed over), where known.
    pub fn upload_ms(&self) -> Option<f64> {
        self.upload_end_ns
            .map(|t| ns_to_ms(t.saturating_sub(self.request_start_ns)))
    }

    /// Body receive time in ms (first byte → body fully read).
    pub fn receiving_ms(&self) -> Option<f64> {
        self.first_byte_ns
            .map(|t| ns_to_ms(self.request_end_ns.saturating_sub(t)))
    }

    /// Times the request was sent again because its pooled connection was
    /// stale (0 or 1).
    pub fn connection_retries(&self) -> u32 {
        u32::from(self.stale_attempt_ns.is_some())
    }

    /// Time lost to a stale pooled connection, in ms (retried requests only).
    pub fn stale_connection_ms(&self) -> Option<f64> {
        self.stale_attempt_ns
            .map(|t| ns_to_ms(self.request_start_ns.saturating_sub(t)))
    }

    /// Time to first byte minus the server's own inference time (SGLang's
    /// `inference_time_s`), in ms: where the server's queue and overhead show.
    pub fn server_queue_overhead_ms(&self) -> Option<f64> {
        let inference_ms = self.output.server.inference_time_s? * 1e3;
        Some(self.waiting_ms()? - inference_ms)
    }

    /// Milliseconds from request start to a monotonic time.
    pub fn since_start_ms(&self, t: u64) -> f64 {
        ns_to_ms(t.saturating_sub(self.request_start_ns))
    }
}

/// Nanoseconds to milliseconds.
pub fn ns_to_ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

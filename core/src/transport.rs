//! The `Transport` trait: send one HTTP request and report status, headers,
//! body and the three timestamps every metric derives from, plus (where the
//! platform can tell) when each piece of the body arrived, which is what
//! times the events of a streamed (SSE) response. Native code implements it
//! with reqwest, the web app with `fetch`, tests over an in-process server.

use crate::platform::{MaybeSend, MaybeSync};
use bytes::Bytes;
use std::future::Future;

/// HTTP method of a request (the Images API needs only these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
}

/// One HTTP request, fully built (URL joined, headers set, body serialized).
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// Method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Header names and values, in sending order.
    pub headers: Vec<(String, String)>,
    /// Request body (JSON for generations).
    pub body: Bytes,
}

/// Monotonic timestamps (ns, on the `Runtime` clock) of one exchange.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timing {
    /// Just before the request was handed to the network stack.
    pub start_ns: u64,
    /// When the last byte of the request body was handed to the connection
    /// (`None` where the platform cannot tell, as with a browser's fetch).
    pub upload_end_ns: Option<u64>,
    /// When the response head (status line) or first body byte arrived.
    pub first_byte_ns: Option<u64>,
    /// When the body was fully read, or the exchange failed.
    pub end_ns: u64,
    /// Start of an earlier attempt lost to a stale pooled connection: it was
    /// sent on a reused keep-alive connection that the server had already
    /// closed (reset or EOF before any response byte), so the request went
    /// again, once, on a fresh connection starting at `start_ns`. The time
    /// in between is the client's, not the server's.
    pub stale_attempt_ns: Option<u64>,
}

impl Timing {
    /// An exchange that starts (and, so far, ends) at `start_ns`.
    pub fn starting_at(start_ns: u64) -> Timing {
        Timing {
            start_ns,
            upload_end_ns: None,
            first_byte_ns: None,
            end_ns: start_ns,
            stale_attempt_ns: None,
        }
    }
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers (names lower-case).
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Bytes,
    /// When it happened.
    pub timing: Timing,
    /// Arrival of the body in pieces: `(ns on the Runtime clock, end offset
    /// in body)` for each chunk as read, in order (reqwest's `chunk()` loop,
    /// or a fetch `ReadableStream` reader's `read()` loop). May be left empty
    /// when the platform reads the body in one go: every byte then counts as
    /// arrived at `timing.end_ns`, which only coarsens streaming metrics.
    pub chunks: Vec<(u64, usize)>,
}

impl HttpResponse {
    /// First header value with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// When the body byte just before `offset` had arrived: the time of the
    /// first chunk ending at or after `offset` (`timing.end_ns` without chunks).
    pub fn arrival_ns(&self, offset: usize) -> u64 {
        let i = self.chunks.partition_point(|&(_, end)| end < offset);
        self.chunks.get(i).map_or(self.timing.end_ns, |&(t, _)| t)
    }
}

/// Why an exchange produced no complete response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Could not connect (refused, DNS, TLS) or, in a browser, the opaque
    /// network error that also hides missing CORS headers.
    Connect,
    /// `--request-timeout-seconds` elapsed.
    Timeout,
    /// The body exceeded `--max-response-bytes`.
    BodyTooLarge,
    /// The connection broke mid-exchange, or another I/O error.
    Io,
    /// The request was cancelled on purpose (run stopped, cancellation rate).
    Cancelled,
}

/// An exchange that failed, with what was known when it did.
#[derive(Debug, Clone)]
pub struct TransportFailure {
    /// Class of failure.
    pub kind: FailureKind,
    /// Human-readable cause (never contains request headers).
    pub message: String,
    /// Status, if a response head had arrived.
    pub status: Option<u16>,
    /// Timestamps up to the failure.
    pub timing: Timing,
}

/// Sends HTTP requests. Implemented per platform; generic, not `dyn`, so the
/// returned future can be `Send` natively and not on wasm.
pub trait Transport: MaybeSend + MaybeSync + 'static {
    /// Send one request and read the whole response.
    fn send(
        &self,
        request: HttpRequest,
    ) -> impl Future<Output = Result<HttpResponse, TransportFailure>> + MaybeSend;
}

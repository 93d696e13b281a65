//! The `Transport` trait: send one HTTP request and report status, headers,
//! body and the three timestamps every metric derives from. Native code
//! implements it with reqwest, the web app with `fetch`, tests over an
//! in-process server.

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
    /// When the response head (status line) or first body byte arrived.
    pub first_byte_ns: Option<u64>,
    /// When the body was fully read, or the exchange failed.
    pub end_ns: u64,
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
}

impl HttpResponse {
    /// First header value with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
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

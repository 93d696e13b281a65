//! Timing a request body's upload: the body of a request that uploads
//! files (multipart: an edit) is handed to hyper as a [`TimedBody`] of
//! 64 KiB slices of the same shared bytes (no copy, exact length, so
//! `Content-Length` is sent as for a plain body), and the time the last
//! slice is taken is the upload's end. hyper takes a slice once its write
//! buffer has room, so this is when the last byte went to the connection
//! (the kernel may still hold up to a socket buffer of it). Other bodies
//! (a generation's few hundred bytes of JSON) go as they are.

use crate::runtime::TokioRuntime;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use imgperf_core::platform::Runtime;
use imgperf_core::transport::HttpRequest;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// Whether `request` uploads files (a `multipart/form-data` body), whose
/// upload is timed.
pub(crate) fn uploads_files(request: &HttpRequest) -> bool {
    !request.body.is_empty()
        && request.headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("content-type")
                && v.trim_start()
                    .get(..10)
                    .is_some_and(|p| p.eq_ignore_ascii_case("multipart/"))
        })
}

/// Bytes handed over per frame.
const SLICE: usize = 64 * 1024;

/// When the last byte was taken (0: not yet), shared with the transport.
#[derive(Debug, Clone, Default)]
pub(crate) struct Mark(Arc<AtomicU64>);

impl Mark {
    /// The time, once the whole body was taken.
    pub(crate) fn get(&self) -> Option<u64> {
        match self.0.load(Ordering::Acquire) {
            0 => None,
            t => Some(t),
        }
    }
}

/// A request body that notes when its last byte was taken.
pub(crate) struct TimedBody {
    rest: Bytes,
    clock: TokioRuntime,
    mark: Mark,
}

impl TimedBody {
    pub(crate) fn new(body: Bytes, clock: TokioRuntime, mark: Mark) -> TimedBody {
        TimedBody {
            rest: body,
            clock,
            mark,
        }
    }

    pub(crate) fn into_body(self) -> reqwest::Body {
        reqwest::Body::wrap(self)
    }
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.rest.is_empty() {
            return Poll::Ready(None);
        }
        let n = self.rest.len().min(SLICE);
        let piece = self.rest.split_to(n);
        if self.rest.is_empty() {
            self.mark
                .0
                .store(self.clock.now_ns().max(1), Ordering::Release);
        }
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.rest.len() as u64)
    }
}

//! Timing a request body's upload: the body is handed to hyper as a
//! [`TimedBody`] of 64 KiB slices of the same shared bytes (no copy, exact
//! length, so `Content-Length` is sent as for a plain body), and the time
//! the last slice is taken is the upload's end. hyper takes a slice once
//! its write buffer has room, so this is when the last byte went to the
//! connection (the kernel may still hold up to a socket buffer of it).

use crate::runtime::TokioRuntime;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use imgperf_core::platform::Runtime;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

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

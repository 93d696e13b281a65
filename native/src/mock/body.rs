//! Response bodies of the mock: [`Chunks`] sends a list of shared buffers
//! without copying them (the cached base64 goes out as is), optionally
//! failing halfway to drop the connection; [`Tracked`] counts the bytes of
//! any body and tells the truth log when it was fully handed to the connection.

use std::collections::VecDeque;
use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};

use super::truth::TruthRecord;

/// Largest frame handed to hyper at once, so that its write buffer applies
/// back-pressure and the end of the body is close to the end of the writing.
const FRAME: usize = 64 * 1024;

/// How long a dropped body pauses before failing, so that hyper flushes the
/// half already given to it (a real server's bytes were on the wire).
const DROP_PAUSE: Duration = Duration::from_millis(20);

/// A body made of shared chunks.
pub(crate) struct Chunks {
    chunks: VecDeque<Bytes>,
    total: u64,
    sent: u64,
    /// Fail (closing the connection) once this many bytes are out.
    fail_after: Option<u64>,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Chunks {
    pub(crate) fn new(chunks: Vec<Bytes>) -> Chunks {
        let total = chunks.iter().map(|c| c.len() as u64).sum();
        Chunks {
            chunks: chunks.into_iter().filter(|c| !c.is_empty()).collect(),
            total,
            sent: 0,
            fail_after: None,
            pause: None,
        }
    }

    /// Sends half the body (the `content-length` announces all of it), then
    /// closes the connection.
    pub(crate) fn drop_halfway(mut self) -> Chunks {
        self.fail_after = Some(self.total / 2);
        self
    }

    pub(crate) fn into_body(self) -> Body {
        Body::new(self)
    }
}

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = &mut *self;
        let limit = this.fail_after.unwrap_or(u64::MAX);
        if this.sent >= limit {
            let pause = this
                .pause
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(DROP_PAUSE)));
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let e = std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "mock drop fault");
            return Poll::Ready(Some(Err(e)));
        }
        let Some(front) = this.chunks.front_mut() else {
            return Poll::Ready(None);
        };
        let room = usize::try_from(limit - this.sent).unwrap_or(usize::MAX);
        let take = front.len().min(FRAME).min(room);
        let frame = if take == front.len() {
            this.chunks.pop_front().expect("front exists")
        } else {
            front.split_to(take)
        };
        this.sent += frame.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(frame))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty() && self.fail_after.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.total - self.sent)
    }
}

/// Any body, with its bytes counted for the truth log.
pub(crate) struct Tracked {
    inner: Body,
    record: Arc<TruthRecord>,
    failed: bool,
    finished: bool,
}

impl Tracked {
    pub(crate) fn new(inner: Body, record: Arc<TruthRecord>) -> Tracked {
        Tracked {
            inner,
            record,
            failed: false,
            finished: false,
        }
    }

    fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            let complete = !self.failed && http_body::Body::is_end_stream(&self.inner);
            self.record.body_finished(complete);
        }
    }
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.record.add_bytes(data.len() as u64);
                }
            }
            Poll::Ready(Some(Err(_))) => {
                self.failed = true;
                self.finish();
            }
            Poll::Ready(None) => self.finish(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        http_body::Body::is_end_stream(&self.inner)
    }

    fn size_hint(&self) -> SizeHint {
        http_body::Body::size_hint(&self.inner)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        // hyper drops a body with a known length right after its last byte
        // without asking for the end: that is completion too.
        self.finish();
    }
}

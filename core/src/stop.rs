//! `StopSignal`: how Ctrl-C (or a test) tells a running benchmark to stop.
//! Level 1: stop issuing and let in-flight requests finish (within the grace
//! period). Level 2: abandon in-flight requests now; they are recorded as
//! cancelled, never dropped.

use futures_util::task::AtomicWaker;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// A shared, escalating stop request.
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<StopInner>);

#[derive(Debug, Default)]
struct StopInner {
    level: AtomicU8,
    waker: AtomicWaker,
}

impl StopSignal {
    /// A signal that has not fired.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raise the stop level by one (max 2); returns the new level.
    pub fn escalate(&self) -> u8 {
        let old = self
            .0
            .level
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |l| Some((l + 1).min(2)))
            .unwrap_or(2);
        self.0.waker.wake();
        (old + 1).min(2)
    }

    /// Current level (0 = running).
    pub fn level(&self) -> u8 {
        self.0.level.load(Ordering::SeqCst)
    }

    /// Resolves with the new level once it rises above `seen` (one waiter at a time).
    pub fn above(&self, seen: u8) -> StopWait<'_> {
        StopWait { signal: self, seen }
    }
}

/// Future of [`StopSignal::above`].
#[derive(Debug)]
pub struct StopWait<'a> {
    signal: &'a StopSignal,
    seen: u8,
}

impl Future for StopWait<'_> {
    type Output = u8;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u8> {
        self.signal.0.waker.register(cx.waker());
        let level = self.signal.level();
        if level > self.seen {
            Poll::Ready(level)
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escalates_to_two_and_stays() {
        let s = StopSignal::new();
        assert_eq!(s.level(), 0);
        assert_eq!(s.escalate(), 1);
        assert_eq!(s.escalate(), 2);
        assert_eq!(s.escalate(), 2);
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut w = s.above(1);
        assert_eq!(Pin::new(&mut w).poll(&mut cx), Poll::Ready(2));
        let mut w = s.above(2);
        assert_eq!(Pin::new(&mut w).poll(&mut cx), Poll::Pending);
    }
}

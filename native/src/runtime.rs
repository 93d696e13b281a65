//! The tokio implementation of core's `Runtime`: a monotonic clock anchored at
//! creation (with the matching wall-clock origin), timers and task spawning
//! on the multi-threaded runtime.

use imgperf_core::platform::{MaybeSend, Runtime};
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// How long before a deadline the timer hands over to yielding.
const SPIN_WINDOW: Duration = Duration::from_micros(1500);

/// Clock and executor backed by tokio.
#[derive(Debug, Clone, Copy)]
pub struct TokioRuntime {
    origin: Instant,
    wall_origin_ns: u64,
}

impl TokioRuntime {
    /// A runtime whose clock starts now.
    pub fn new() -> Self {
        let wall_origin_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        TokioRuntime {
            origin: Instant::now(),
            wall_origin_ns,
        }
    }

    /// A runtime whose clock started `ago` before now, at wall time
    /// `wall_origin_ns` (a shard that starts after `--start-at`);
    /// `None` when the machine's monotonic clock does not reach that far back.
    pub fn anchored(ago: Duration, wall_origin_ns: u64) -> Option<Self> {
        Some(TokioRuntime {
            origin: Instant::now().checked_sub(ago)?,
            wall_origin_ns,
        })
    }

    /// The tokio instant of a clock reading.
    pub fn instant_at(&self, ns: u64) -> Instant {
        self.origin + Duration::from_nanos(ns)
    }
}

impl Default for TokioRuntime {
    fn default() -> Self {
        Self::new()
    }
}

impl Runtime for TokioRuntime {
    fn now_ns(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }

    fn wall_origin_ns(&self) -> u64 {
        self.wall_origin_ns
    }

    fn sleep_until(&self, deadline_ns: u64) -> impl Future<Output = ()> + MaybeSend {
        let deadline = self.instant_at(deadline_ns);
        async move {
            // tokio's timer wheel ticks in whole milliseconds: sleep to just
            // before the deadline, then yield until it passes, so schedule lag
            // stays far below a millisecond.
            if let Some(early) = deadline.checked_sub(SPIN_WINDOW) {
                tokio::time::sleep_until(early).await;
            }
            while Instant::now() < deadline {
                tokio::task::yield_now().await;
            }
        }
    }

    fn spawn<F>(&self, fut: F) -> impl Future<Output = F::Output> + MaybeSend
    where
        F: Future + MaybeSend + 'static,
        F::Output: MaybeSend + 'static,
    {
        let handle = tokio::spawn(fut);
        async move {
            match handle.await {
                Ok(v) => v,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("request task was cancelled: {e}"),
            }
        }
    }
}

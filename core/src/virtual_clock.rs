//! A virtual-time [`Runtime`] for tests: timers never sleep for real.
//!
//! [`VirtualRuntime::block_on`] is a tiny single-threaded executor. It polls
//! the main future and every spawned task until none can make progress, then
//! jumps the clock to the earliest pending `sleep_until` deadline and wakes
//! that timer (like tokio's `start_paused`). Time moves only when the
//! executor is idle, so a test sees exact virtual times: a request that
//! "takes" 100 ms ends at exactly 100 ms. [`DelayTransport`] is a fake server
//! with fixed service time and FIFO slots on that clock.
//!
//! Plain Rust (no threads, no real clock): it compiles for wasm32 too.

use crate::platform::{BoxFuture, MaybeSend, Runtime};
use crate::transport::{HttpRequest, HttpResponse, Timing, Transport, TransportFailure};
use bytes::Bytes;
use futures_channel::oneshot;
use futures_util::task::{waker, ArcWake};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// Wall-clock origin of every virtual runtime (2023-11-14T22:13:20Z), so
/// exported timestamps look plausible and are identical run to run.
pub const VIRTUAL_WALL_ORIGIN_NS: u64 = 1_700_000_000_000_000_000;

/// Task id of the future passed to `block_on`; spawned tasks count from 1.
const MAIN: u64 = 0;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Ids of woken tasks, in wake order.
type ReadyQueue = Arc<Mutex<VecDeque<u64>>>;

struct TaskWaker {
    id: u64,
    ready: ReadyQueue,
}

impl ArcWake for TaskWaker {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        lock(&arc_self.ready).push_back(arc_self.id);
    }
}

#[derive(Default)]
struct Inner {
    now: AtomicU64,
    /// Source of task ids and timer tie-breakers.
    next_seq: AtomicU64,
    ready: ReadyQueue,
    /// Pending timers by (deadline, registration order).
    timers: Mutex<BTreeMap<(u64, u64), Waker>>,
    /// Spawned tasks (except the one being polled).
    tasks: Mutex<HashMap<u64, BoxFuture<'static, ()>>>,
}

/// A [`Runtime`] on virtual time with its own single-threaded executor.
/// Clones share the clock, timers and tasks.
#[derive(Clone, Default)]
pub struct VirtualRuntime {
    inner: Arc<Inner>,
}

impl VirtualRuntime {
    /// A runtime at virtual time 0 with no tasks or timers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Current virtual time (ns).
    pub fn now_ns(&self) -> u64 {
        self.inner.now.load(Ordering::SeqCst)
    }

    /// Deadline of the earliest pending timer.
    pub fn next_timer_ns(&self) -> Option<u64> {
        lock(&self.inner.timers).keys().next().map(|k| k.0)
    }

    /// Move the clock forward to `ns` (never backwards) and wake every timer
    /// due by then. Woken tasks run at the next `run_until_idle`/`block_on`.
    pub fn advance_to(&self, ns: u64) {
        let now = self.inner.now.fetch_max(ns, Ordering::SeqCst).max(ns);
        let mut due = Vec::new();
        {
            let mut timers = lock(&self.inner.timers);
            while let Some(timer) = timers.first_entry() {
                if timer.key().0 > now {
                    break;
                }
                due.push(timer.remove());
            }
        }
        due.into_iter().for_each(Waker::wake);
    }

    fn pop_ready(&self) -> Option<u64> {
        lock(&self.inner.ready).pop_front()
    }

    fn waker_for(&self, id: u64) -> Waker {
        let ready = self.inner.ready.clone();
        waker(Arc::new(TaskWaker { id, ready }))
    }

    fn poll_task(&self, id: u64) {
        let Some(mut task) = lock(&self.inner.tasks).remove(&id) else {
            return; // finished already, or a stale wake
        };
        let waker = self.waker_for(id);
        if task
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
        {
            lock(&self.inner.tasks).insert(id, task);
        }
    }

    /// Run every task that can make progress at the current virtual time,
    /// without moving the clock.
    pub fn run_until_idle(&self) {
        let mut main_woken = false;
        while let Some(id) = self.pop_ready() {
            match id {
                MAIN => main_woken = true,
                _ => self.poll_task(id),
            }
        }
        if main_woken {
            lock(&self.inner.ready).push_back(MAIN);
        }
    }

    /// Run tasks and fire timers in deadline order up to `ns`, then leave
    /// the clock at `ns` (or later, if it already was).
    pub fn run_until(&self, ns: u64) {
        self.run_until_idle();
        while let Some(deadline) = self.next_timer_ns().filter(|&d| d <= ns) {
            self.advance_to(deadline);
            self.run_until_idle();
        }
        self.advance_to(ns);
        self.run_until_idle();
    }

    /// Drive `fut` (and all spawned tasks) to completion on virtual time.
    /// Tasks still pending when `fut` finishes stay queued for later runs.
    ///
    /// # Panics
    /// When `fut` is pending with no task ready and no timer pending: it
    /// could never finish. Not re-entrant: never call it from a task.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        let mut fut = pin!(fut);
        let main_waker = self.waker_for(MAIN);
        let mut cx = Context::from_waker(&main_waker);
        lock(&self.inner.ready).push_back(MAIN);
        loop {
            while let Some(id) = self.pop_ready() {
                if id != MAIN {
                    self.poll_task(id);
                } else if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                    return out;
                }
            }
            let Some(deadline) = self.next_timer_ns() else {
                let now = self.now_ns();
                panic!("VirtualRuntime: deadlock at {now} ns: nothing ready, no timer set");
            };
            self.advance_to(deadline);
        }
    }
}

/// A virtual `sleep_until`; deregisters its timer when dropped.
struct Sleep {
    rt: VirtualRuntime,
    deadline: u64,
    key: Option<(u64, u64)>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.rt.now_ns() >= this.deadline {
            return Poll::Ready(());
        }
        let inner = &this.rt.inner;
        let seq = || inner.next_seq.fetch_add(1, Ordering::SeqCst);
        let key = *this.key.get_or_insert_with(|| (this.deadline, seq()));
        lock(&inner.timers).insert(key, cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            lock(&self.rt.inner.timers).remove(&key);
        }
    }
}

impl Runtime for VirtualRuntime {
    fn now_ns(&self) -> u64 {
        VirtualRuntime::now_ns(self)
    }

    fn wall_origin_ns(&self) -> u64 {
        VIRTUAL_WALL_ORIGIN_NS
    }

    fn sleep_until(&self, deadline: u64) -> impl Future<Output = ()> + MaybeSend {
        let rt = self.clone();
        Sleep {
            rt,
            deadline,
            key: None,
        }
    }

    fn spawn<F>(&self, fut: F) -> impl Future<Output = F::Output> + MaybeSend
    where
        F: Future + MaybeSend + 'static,
        F::Output: MaybeSend + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let task: BoxFuture<'static, ()> = Box::pin(async move {
            let _ = tx.send(fut.await);
        });
        let id = self.inner.next_seq.fetch_add(1, Ordering::SeqCst) + 1;
        lock(&self.inner.tasks).insert(id, task);
        lock(&self.inner.ready).push_back(id);
        async move { rx.await.expect("VirtualRuntime: spawned task was dropped") }
    }
}

/// The body of every [`DelayTransport`] response: one tiny "image".
pub const DELAY_BODY: &str = r#"{"created":0,"data":[{"b64_json":"iVBORw0KGgo="}]}"#;

/// One request as a [`DelayTransport`] saw it (virtual ns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// Request URL.
    pub url: String,
    /// When the request reached the server.
    pub arrival_ns: u64,
    /// When a slot took it (after waiting in the server's FIFO queue).
    pub service_start_ns: u64,
    /// When the response was complete.
    pub end_ns: u64,
}

/// A fake image server on a [`VirtualRuntime`]: `slots` requests in service
/// at once, the rest wait in FIFO order; each takes `service_ns` and gets a
/// 200 with [`DELAY_BODY`]. Timings are exact virtual times (`start` =
/// arrival, first byte = end = completion).
pub struct DelayTransport {
    rt: VirtualRuntime,
    service_ns: u64,
    /// When each slot is next free.
    free_at: Mutex<Vec<u64>>,
    log: Mutex<Vec<Served>>,
}

impl DelayTransport {
    /// A server with `slots` (at least 1) and a fixed service time.
    pub fn new(rt: &VirtualRuntime, service_ns: u64, slots: usize) -> Self {
        DelayTransport {
            rt: rt.clone(),
            service_ns,
            free_at: Mutex::new(vec![0; slots.max(1)]),
            log: Mutex::new(Vec::new()),
        }
    }

    /// Virtual arrival time of each request, in arrival order.
    pub fn arrivals(&self) -> Vec<u64> {
        lock(&self.log).iter().map(|s| s.arrival_ns).collect()
    }

    /// Every request seen so far, in arrival order.
    pub fn served(&self) -> Vec<Served> {
        lock(&self.log).clone()
    }
}

impl Transport for DelayTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportFailure> {
        let arrival_ns = self.rt.now_ns();
        let end_ns = {
            let mut free_at = lock(&self.free_at);
            let slot = (0..free_at.len()).min_by_key(|&i| free_at[i]).unwrap_or(0);
            let service_start_ns = arrival_ns.max(free_at[slot]);
            let end_ns = service_start_ns + self.service_ns;
            free_at[slot] = end_ns;
            lock(&self.log).push(Served {
                url: request.url,
                arrival_ns,
                service_start_ns,
                end_ns,
            });
            end_ns
        };
        self.rt.sleep_until(end_ns).await;
        Ok(HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Bytes::from_static(DELAY_BODY.as_bytes()),
            timing: Timing {
                start_ns: arrival_ns,
                upload_end_ns: Some(arrival_ns),
                first_byte_ns: Some(end_ns),
                end_ns,
                stale_attempt_ns: None,
            },
            chunks: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests;

//! The one place where native and browser differ for core: `MaybeSend`,
//! boxed futures, and the `Runtime` abstraction (clock, sleep, spawn) that lets
//! the same runner drive tokio natively and the browser's event loop.
//!
//! Every `cfg(target_arch)` of the core crate lives in this file.

use std::future::Future;
use std::pin::Pin;

/// `Send` natively; nothing on wasm32, where futures hold browser objects.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSend: Send {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + ?Sized> MaybeSend for T {}

/// `Send` natively; nothing on wasm32, where futures hold browser objects.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSend {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSend for T {}

/// `Sync` natively; nothing on wasm32.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSync: Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Sync + ?Sized> MaybeSync for T {}

/// `Sync` natively; nothing on wasm32.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSync for T {}

/// A boxed future that is `Send` where the platform allows it.
#[cfg(not(target_arch = "wasm32"))]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// A boxed future that is `Send` where the platform allows it.
#[cfg(target_arch = "wasm32")]
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Clock, timers and task spawning, as provided by the host platform.
///
/// Times are nanoseconds on a monotonic clock whose origin is the creation of
/// the runtime (so a run starts near 0). `wall_origin_ns` maps them to the
/// Unix epoch for exports: `wall = wall_origin_ns + mono`.
pub trait Runtime: Clone + MaybeSend + MaybeSync + 'static {
    /// Monotonic nanoseconds since this runtime's origin.
    fn now_ns(&self) -> u64;
    /// Wall-clock nanoseconds since the Unix epoch at this runtime's origin.
    fn wall_origin_ns(&self) -> u64;
    /// Resolve at (or as soon as possible after) the absolute monotonic time `deadline_ns`.
    fn sleep_until(&self, deadline_ns: u64) -> impl Future<Output = ()> + MaybeSend;
    /// Run `fut` as its own task (on a worker thread natively) and await its output.
    fn spawn<F>(&self, fut: F) -> impl Future<Output = F::Output> + MaybeSend
    where
        F: Future + MaybeSend + 'static,
        F::Output: MaybeSend + 'static;
}

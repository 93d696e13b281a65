//! `WebRuntime`: core's `Runtime` on the browser's event loop. The clock is
//! `performance.now()` (coarsened by browsers to about 100 µs), timers are
//! `setTimeout`, and tasks are `spawn_local` futures. Background tabs
//! throttle timers, so keep the tab in front during a run.

use futures_channel::oneshot;
use imgperf_core::platform::{MaybeSend, Runtime};
use std::future::Future;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

fn performance() -> web_sys::Performance {
    let global = js_sys::global();
    js_sys::Reflect::get(&global, &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .expect("the browser has performance.now()")
}

/// Clock, timers and tasks of the page.
#[derive(Debug, Clone, Copy)]
pub struct WebRuntime {
    origin_ms: f64,
    wall_origin_ns: u64,
}

impl WebRuntime {
    /// A runtime whose clock starts now.
    pub fn new() -> Self {
        let p = performance();
        let now = p.now();
        WebRuntime {
            origin_ms: now,
            wall_origin_ns: ((p.time_origin() + now) * 1e6) as u64,
        }
    }
}

impl Default for WebRuntime {
    fn default() -> Self {
        Self::new()
    }
}

/// Resolve after `ms` milliseconds (a `setTimeout` promise).
pub async fn sleep_ms(ms: f64) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set_timeout = js_sys::Reflect::get(&global, &"setTimeout".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .expect("setTimeout exists");
        let _ = set_timeout.call2(&global, &resolve, &ms.max(0.0).into());
    });
    let _ = JsFuture::from(promise).await;
}

impl Runtime for WebRuntime {
    fn now_ns(&self) -> u64 {
        ((performance().now() - self.origin_ms) * 1e6).max(0.0) as u64
    }

    fn wall_origin_ns(&self) -> u64 {
        self.wall_origin_ns
    }

    fn sleep_until(&self, deadline_ns: u64) -> impl Future<Output = ()> + MaybeSend {
        let rt = *self;
        async move {
            loop {
                let now = rt.now_ns();
                if now >= deadline_ns {
                    return;
                }
                sleep_ms(((deadline_ns - now) as f64 / 1e6).ceil()).await;
            }
        }
    }

    fn spawn<F>(&self, fut: F) -> impl Future<Output = F::Output> + MaybeSend
    where
        F: Future + MaybeSend + 'static,
        F::Output: MaybeSend + 'static,
    {
        let (tx, rx) = oneshot::channel();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = tx.send(fut.await);
        });
        async move { rx.await.expect("a spawned request task runs to completion") }
    }
}

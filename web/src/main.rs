//! Entry point of the browser app: mount [`imgperf_web::App`] on the body
//! (in the page; the run worker starts through `worker_main`).
//! (Natively there is nothing to run: the app is built for wasm32 by trunk.)

#[cfg(target_arch = "wasm32")]
fn main() {
    // The run worker loads this same module: there `worker.js` calls
    // `worker_main` instead, and nothing is mounted.
    if imgperf_web::worker::in_worker() {
        return;
    }
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(imgperf_web::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "imgperf-web is a browser app: build it with `trunk build --release` (see the README)"
    );
}

//! Entry point of the browser app: mount [`imgperf_web::App`] on the body.
//! (Natively there is nothing to run: the app is built for wasm32 by trunk.)

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(imgperf_web::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "imgperf-web is a browser app: build it with `trunk build --release` (see the README)"
    );
}

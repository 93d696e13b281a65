//! imgperf in the browser (Leptos, client-side rendered): the run page runs
//! core's runner over `fetch` against a CORS-enabled server; the viewer
//! opens the CLI's exports (streamed, never whole in memory) with table,
//! plots, gallery and comparison. Everything is static files: `trunk build
//! --release` writes `dist/`, which any static host can serve.
//!
//! The browser-bound modules (they implement core's traits with `!Send`
//! futures) exist only on wasm32; the plain-Rust ones (data model, plots,
//! line splitting, run store) build everywhere, so their unit tests also
//! run natively. This is the crate's one `cfg(target_arch)`.

pub mod lines;
pub mod model;
pub mod plots;
pub mod protocol;
pub mod route;
pub mod store;
pub mod telemetry;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
pub use app::*;

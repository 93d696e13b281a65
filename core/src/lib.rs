//! imgperf core: the platform-agnostic half of imgperf.
//!
//! Datasets (input files, synthetic prompts), request building, the runner,
//! statistics and export formats, all behind the [`transport::Transport`] and
//! [`platform::Runtime`] traits so that the native CLI (tokio + reqwest) and
//! the browser app (fetch) share every line of logic. No tokio, no reqwest,
//! no web-sys here: this crate compiles for `wasm32-unknown-unknown`.
#![deny(missing_docs)]

pub mod corpus;
pub mod dataset;
pub mod edit;
pub mod endpoint;
pub mod export;
pub mod goodput;
pub mod images;
pub mod import;
pub mod job;
pub mod measure;
pub mod metrics;
pub mod output;
pub mod picture;
pub mod plan;
pub mod platform;
pub mod presets;
pub mod record;
pub mod reference;
pub mod request;
pub mod response;
pub mod runner;
pub mod schedule;
pub mod shard;
pub mod site;
pub mod sse;
pub mod stats;
pub mod stop;
pub mod sweep;
pub mod synthetic;
pub mod table;
pub mod telemetry;
pub mod tokenizer;
pub mod transport;
pub mod video;
pub mod virtual_clock;

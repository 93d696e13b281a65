//! The embedded mock image server (`imgperf serve-mock`, `imgperf profile --mock`).
//!
//! Behaves like a diffusion server so that benchmarks against it mean
//! something: a latency model (resolution, steps, `n`, seeded jitter) served
//! through FIFO generation slots with optional dynamic batching and a warm-up
//! gate; real images, deterministic from prompt and seed, cached so the mock
//! is never the bottleneck; the wire dialects of OpenAI, SGLang and vLLM-Omni
//! (generations, multipart edits, `/v1/images/{id}/content`, video jobs on
//! `/v1/videos` with real H.264 MP4s, `/v1/models`, `/health`); CORS modes;
//! injected faults by rate or schedule; and a truth log of what the server
//! saw, for checking clients against.
//!
//! Submodules: [`args`] (options), `latency` (model and slots), `picture`
//! (images and cache), `request` (parsing per dialect), `edit` (edit forms
//! and outputs made from the reference), `dialect` (wire shapes),
//! `handlers` (image routes), `video` (video jobs and MP4s), `stream`
//! (OpenAI SSE), `faults`, `cors`, `truth` (ground truth), `body`
//! (zero-copy bodies), `bounded` (stores and caches of bounded size), `serve` (the accept loop, which can close a
//! connection the way uvicorn does) and `gpus` (`/metrics`: queue gauges
//! and simulated DCGM GPUs).

mod args;
mod body;
mod bounded;
mod cors;
mod dialect;
mod edit;
mod faults;
mod gpus;
mod handlers;
mod latency;
mod picture;
mod request;
mod serve;
mod stream;
mod truth;
mod video;

pub use args::{CorsMode, Dialect, MockArgs, Task};
pub use faults::{FaultAt, FaultKind, FaultRate};

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use imgperf_core::images::ImageFormat;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Largest `edits` upload accepted.
const EDIT_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// State shared by the handlers.
pub(crate) struct Shared {
    args: MockArgs,
    dialect: Dialect,
    limits: request::Limits,
    cache: picture::ImageCache,
    model: latency::Model,
    slots: latency::Slots,
    /// Queue, slots' busy time and simulated GPUs, for `/metrics`.
    load: Arc<gpus::Load>,
    faults: faults::Faults,
    store: handlers::Store,
    /// Video jobs by id, and their MP4s.
    videos: video::Jobs,
    video_cache: video::Cache,
    /// Image requests wait until then (`--warmup-s`).
    gate: tokio::time::Instant,
    started_unix: u64,
    truth: Option<Arc<truth::TruthLog>>,
    /// Image requests and video submits received (valid or not); also their numbering.
    requests: AtomicU64,
    /// Image requests answered with images.
    served: AtomicU64,
}

/// A running mock server. Dropping it (or [`MockServer::shutdown`]) stops it.
pub struct MockServer {
    /// The address actually bound (the real port when 0 was asked for).
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl MockServer {
    /// Binds `host:port` and serves in the background on the current runtime.
    pub async fn start(args: &MockArgs) -> anyhow::Result<MockServer> {
        args.validate()?;
        let dialect = args.dialect;
        let default_format = match &args.image_format {
            Some(name) => ImageFormat::from_name(name)
                .with_context(|| format!("unknown --image-format {name:?}"))?,
            None if dialect == Dialect::Sglang => ImageFormat::Jpeg,
            None => ImageFormat::Png,
        };
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
        let addr = listener.local_addr()?;
        let clock = truth::Clock::now();
        let truth = match &args.truth_log {
            Some(path) => Some(Arc::new(truth::TruthLog::create(path, clock)?)),
            None => None,
        };
        let load = gpus::Load::new(args);
        let shared = Arc::new(Shared {
            args: args.clone(),
            dialect,
            limits: request::Limits {
                dialect,
                default_format,
                max_dimension: args.max_dimension,
            },
            cache: picture::ImageCache::default(),
            model: latency::Model::new(args),
            slots: latency::Slots::new(args, load.clone()),
            load,
            faults: faults::Faults::new(&args.faults, &args.fault_at, args.seed),
            store: handlers::Store::default(),
            videos: video::Jobs::default(),
            video_cache: video::Cache::default(),
            gate: tokio::time::Instant::now() + Duration::from_secs_f64(args.warmup_s),
            started_unix: handlers::unix_now(),
            truth,
            requests: AtomicU64::new(0),
            served: AtomicU64::new(0),
        });
        let app = router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve::serve(listener, app, stopped));
        Ok(MockServer {
            addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://IP:PORT`, with a wildcard bind address replaced by loopback.
    pub fn base_url(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        format!("http://{addr}")
    }

    /// Image requests (generations and edits) received so far, valid or not.
    pub fn requests_seen(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Image requests answered with images so far.
    pub fn requests_served(&self) -> u64 {
        self.shared.served.load(Ordering::Relaxed)
    }

    /// One line saying what this server imitates.
    pub fn describe(&self) -> String {
        let a = &self.shared.args;
        let slots = match a.slots {
            0 => "unlimited slots".to_owned(),
            1 => "1 slot, FIFO".to_owned(),
            n => format!("{n} slots, FIFO"),
        };
        let mut s = format!(
            "dialect {}, {}, {slots}",
            a.dialect.name(),
            self.shared.model.describe()
        );
        if a.gpus > 0 {
            s += &format!(
                ", on {} simulated GPU{} ({} slot{} each, {} W idle + {} W per busy slot; DCGM series on /metrics)",
                a.gpus,
                if a.gpus == 1 { "" } else { "s" },
                a.slots,
                if a.slots == 1 { "" } else { "s" },
                a.gpu_idle_watts,
                a.gpu_watts_per_slot
            );
        }
        if a.max_batch > 1 {
            s += &format!(", batches of up to {}", a.max_batch);
        }
        if a.warmup_s > 0.0 {
            s += &format!(", warm-up {} s", a.warmup_s);
        }
        for f in &a.faults {
            s += &format!(", fault {} at {}", f.kind, f.rate);
        }
        for f in &a.fault_at {
            match f.from == f.to {
                true => s += &format!(", fault {} on request {}", f.kind, f.from),
                false => s += &format!(", fault {} on requests {}-{}", f.kind, f.from, f.to),
            }
        }
        s
    }

    /// Stops accepting, lets in-flight requests finish (for up to 5 s) and
    /// waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Runs the mock server until Ctrl-C (or SIGTERM), for `imgperf serve-mock`.
pub async fn serve_forever(args: MockArgs) -> anyhow::Result<()> {
    let server = MockServer::start(&args).await?;
    println!(
        "imgperf mock image server listening on http://{} ({})",
        server.addr,
        server.describe()
    );
    wait_for_signal().await?;
    eprintln!(
        "imgperf mock image server: stopping after {} image requests",
        server.requests_seen()
    );
    server.shutdown().await;
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("cannot watch Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("cannot watch Ctrl-C")?;
    Ok(())
}

fn router(shared: Arc<Shared>) -> Router {
    let mut app = Router::new()
        .route("/v1/images/generations", post(handlers::generations))
        .route(
            "/v1/images/edits",
            post(handlers::edits).layer(DefaultBodyLimit::max(EDIT_BODY_LIMIT)),
        )
        .route("/v1/images/{id}/content", get(handlers::content))
        .route(
            "/v1/videos",
            post(video::submit).layer(DefaultBodyLimit::max(EDIT_BODY_LIMIT)),
        )
        .route("/v1/videos/{id}", get(video::status))
        .route("/v1/videos/{id}/content", get(video::content))
        .route("/v1/models", get(models))
        .route("/health", get(health))
        .route("/metrics", get(gpus::metrics))
        .fallback(not_found)
        .with_state(shared.clone());
    if shared.args.cors != CorsMode::Off {
        app = app.layer(from_fn_with_state(shared.clone(), cors::layer));
    }
    if shared.truth.is_some() {
        app = app.layer(from_fn_with_state(shared, truth::layer));
    }
    app
}

async fn models(State(shared): State<Arc<Shared>>) -> Response {
    dialect::models(shared.dialect, &shared.args.model, shared.started_unix)
}

async fn health(State(shared): State<Arc<Shared>>) -> Response {
    dialect::health(shared.dialect)
}

async fn not_found(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let message = match shared.dialect {
        Dialect::Sglang => "Not Found".to_owned(),
        _ => format!(
            "No route for {} {} on the imgperf mock server.",
            req.method(),
            req.uri().path()
        ),
    };
    dialect::not_found(shared.dialect, &message)
}

//! The embedded mock image server (`imgperf serve-mock`, `imgperf profile --mock`).
//!
//! Speaks enough of the OpenAI Images API to benchmark against without a GPU:
//! `POST /v1/images/generations` answers after a fixed latency with real,
//! decodable images of the requested size and format (encoded once, then
//! cached), `GET /v1/models` lists one model and `GET /health` says 200.
//! With `--cors` it also answers browsers (allow-origin `*` and preflights).

mod generate;
mod picture;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use imgperf_core::images::ImageFormat;
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Options of the mock image server.
#[derive(Debug, Clone, clap::Args)]
pub struct MockArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 = any free port).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Fixed service latency per request, in milliseconds, before answering
    /// (one latency per request, whatever `n` is).
    #[arg(long, default_value_t = 50.0)]
    pub latency_ms: f64,
    /// Image format when a request has no `output_format`.
    #[arg(long, default_value = "png", value_parser = ["png", "jpeg", "webp"])]
    pub image_format: String,
    /// Largest width or height served; bigger sizes get a 400.
    #[arg(long, default_value_t = 4096)]
    pub max_dimension: u32,
    /// Answer browsers: `access-control-allow-origin: *` on every response and
    /// OPTIONS preflights.
    #[arg(long)]
    pub cors: bool,
}

impl Default for MockArgs {
    fn default() -> Self {
        MockArgs {
            host: "127.0.0.1".to_string(),
            port: 8000,
            latency_ms: 50.0,
            image_format: "png".to_string(),
            max_dimension: 4096,
            cors: false,
        }
    }
}

/// State shared by the handlers.
struct Shared {
    args: MockArgs,
    default_format: ImageFormat,
    cache: picture::ImageCache,
    /// Generation requests received (valid or not).
    requests: AtomicU64,
    /// Generation requests answered with images.
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
        let default_format = ImageFormat::from_name(&args.image_format)
            .with_context(|| format!("unknown --image-format {:?}", args.image_format))?;
        anyhow::ensure!(
            args.latency_ms.is_finite() && args.latency_ms >= 0.0,
            "--latency-ms must be a finite number >= 0, got {}",
            args.latency_ms
        );
        anyhow::ensure!(args.max_dimension > 0, "--max-dimension must be positive");
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            args: args.clone(),
            default_format,
            cache: picture::ImageCache::default(),
            requests: AtomicU64::new(0),
            served: AtomicU64::new(0),
        });
        let app = router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
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

    /// Generation requests received so far, valid or not.
    pub fn requests_seen(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Generation requests answered with images so far.
    pub fn requests_served(&self) -> u64 {
        self.shared.served.load(Ordering::Relaxed)
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
        "imgperf mock image server listening on http://{}",
        server.addr
    );
    wait_for_signal().await?;
    eprintln!(
        "imgperf mock image server: stopping after {} requests",
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
    let cors = shared.args.cors;
    let app = Router::new()
        .route("/v1/images/generations", post(generate::generations))
        .route("/v1/models", get(models))
        .route("/health", get(health))
        .fallback(not_found)
        .with_state(shared);
    if cors {
        app.layer(axum::middleware::from_fn(cors_layer))
    } else {
        app
    }
}

async fn models() -> Response {
    axum::Json(json!({"object": "list", "data": [
        {"id": "mock-image-model", "object": "model", "owned_by": "imgperf"}
    ]}))
    .into_response()
}

async fn health() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

async fn not_found(req: Request) -> Response {
    let message = format!(
        "No route for {} {} on the imgperf mock server.",
        req.method(),
        req.uri().path()
    );
    let body = json!({"error": {"message": message, "type": "invalid_request_error",
        "param": null, "code": "not_found"}});
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

/// Minimal CORS: allow any origin; answer preflights for any path.
async fn cors_layer(req: Request, next: Next) -> Response {
    const ANY: HeaderValue = HeaderValue::from_static("*");
    if req.method() == Method::OPTIONS {
        let allow_headers = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned()
            .unwrap_or(ANY);
        return (
            StatusCode::NO_CONTENT,
            [
                (header::ACCESS_CONTROL_ALLOW_ORIGIN, ANY),
                (
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET, POST, OPTIONS"),
                ),
                (header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers),
                (
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static("600"),
                ),
            ],
        )
            .into_response();
    }
    let mut resp = next.run(req).await;
    resp.headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, ANY);
    resp
}

//! Ground truth (`--truth-log FILE`): one JSON line per request (preflights
//! and `/metrics` scrapes aside), written when the request is over, with what the server saw: arrival, service start and
//! end, response fully handed to the connection (epoch nanoseconds, like
//! imgperf's own records), status, body bytes, fault and outcome, keyed by
//! the client's `X-Request-ID`; and the files it uploaded (`uploads`: an
//! image-to-video job's `input_reference`, by size and sha256).

use std::fs::File;
use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;
use tokio::time::Instant;

use super::body::Tracked;
use super::faults::FaultKind;
use super::latency::Served;
use super::Shared;

/// Converts monotonic instants to epoch nanoseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    base: Instant,
    base_ns: u128,
}

impl Clock {
    pub(crate) fn now() -> Clock {
        let base_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Clock {
            base: Instant::now(),
            base_ns,
        }
    }

    pub(crate) fn ns(&self, t: Instant) -> u128 {
        if t >= self.base {
            self.base_ns + (t - self.base).as_nanos()
        } else {
            self.base_ns - (self.base - t).as_nanos()
        }
    }
}

/// The log file; each line is written whole with one call.
pub(crate) struct TruthLog {
    file: Mutex<File>,
    clock: Clock,
}

impl TruthLog {
    pub(crate) fn create(path: &Path, clock: Clock) -> anyhow::Result<TruthLog> {
        let file = File::create(path)
            .with_context(|| format!("cannot create --truth-log {}", path.display()))?;
        Ok(TruthLog {
            file: Mutex::new(file),
            clock,
        })
    }
}

#[derive(Default)]
struct Progress {
    seq: Option<u64>,
    fault: Option<FaultKind>,
    served: Option<Served>,
    status: Option<u16>,
    bytes: u64,
    written: Option<Instant>,
    complete: bool,
    /// Files the request uploaded: part name, filename, content type, size, sha256.
    uploads: Vec<serde_json::Value>,
}

/// One request's truth; the line is written when the last holder drops it.
pub(crate) struct TruthRecord {
    log: Arc<TruthLog>,
    arrival: Instant,
    method: String,
    path: String,
    request_id: Option<String>,
    correlation_id: Option<String>,
    state: Mutex<Progress>,
}

impl TruthRecord {
    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The request's number among image requests, and its fault.
    pub(crate) fn image_request(&self, seq: u64, fault: Option<FaultKind>) {
        let mut s = self.lock();
        s.seq = Some(seq);
        s.fault = fault;
    }

    /// When the request held its generation slot.
    pub(crate) fn served(&self, served: Served) {
        self.lock().served = Some(served);
    }

    /// A file part the request uploaded (an image-to-video reference).
    pub(crate) fn upload(
        &self,
        name: &str,
        filename: Option<&str>,
        content_type: Option<&str>,
        bytes: &[u8],
    ) {
        use sha2::Digest as _;
        let sha: String = sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.lock().uploads.push(json!({
            "name": name, "filename": filename, "content_type": content_type,
            "bytes": bytes.len(), "sha256": sha,
        }));
    }

    pub(crate) fn add_bytes(&self, n: u64) {
        self.lock().bytes += n;
    }

    pub(crate) fn body_finished(&self, complete: bool) {
        let mut s = self.lock();
        s.written = Some(Instant::now());
        s.complete = complete;
    }
}

impl Drop for TruthRecord {
    fn drop(&mut self) {
        let s = self.lock();
        let clock = &self.log.clock;
        let ns = |t: Option<Instant>| t.map(|t| clock.ns(t));
        let outcome = match (s.status, s.written, s.complete) {
            (None, _, _) => "client-gone",
            (Some(_), Some(_), true) => "complete",
            _ => "aborted",
        };
        let line = json!({
            "request_id": self.request_id,
            "correlation_id": self.correlation_id,
            "method": self.method,
            "path": self.path,
            "seq": s.seq,
            "arrival_ns": clock.ns(self.arrival),
            "service_start_ns": ns(s.served.map(|v| v.start)),
            "service_end_ns": ns(s.served.map(|v| v.end)),
            "written_ns": ns(s.written),
            "status": s.status,
            "bytes": s.bytes,
            "batch": s.served.map(|v| v.batch),
            "fault": s.fault.map(FaultKind::name),
            "outcome": outcome,
        });
        let mut line = line;
        if !s.uploads.is_empty() {
            line["uploads"] = json!(s.uploads);
        }
        let mut text = line.to_string();
        text.push('\n');
        let mut file = self.log.file.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = file.write_all(text.as_bytes()) {
            eprintln!("imgperf mock: cannot write the truth log: {e}");
        }
    }
}

/// Middleware: a record per request (preflights excepted), handed to the
/// handler through the request's extensions, and the body wrapped to time
/// its end.
pub(crate) async fn layer(
    State(shared): State<Arc<Shared>>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(log) = shared.truth.clone() else {
        return next.run(req).await;
    };
    // Preflights and monitoring scrapes (`/metrics`) are not traffic under test.
    if req.method() == Method::OPTIONS || req.uri().path() == "/metrics" {
        return next.run(req).await;
    }
    let header = |req: &Request, name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let record = Arc::new(TruthRecord {
        log,
        arrival: Instant::now(),
        method: req.method().to_string(),
        path: req.uri().path().to_owned(),
        request_id: header(&req, "x-request-id"),
        correlation_id: header(&req, "x-correlation-id"),
        state: Mutex::new(Progress::default()),
    });
    req.extensions_mut().insert(record.clone());
    let resp = next.run(req).await;
    record.lock().status = Some(resp.status().as_u16());
    let (parts, body) = resp.into_parts();
    Response::from_parts(parts, Body::new(Tracked::new(body, record)))
}

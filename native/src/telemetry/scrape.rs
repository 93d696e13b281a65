//! The scraper: its own reqwest client (no connection shared with the
//! load), one task per endpoint ticking every `--telemetry-interval` through
//! the profiling phase, and one scrape of every endpoint just before and
//! just after it ([`PhaseHooks`]). Each scrape is bounded in time and size;
//! a failure (down, slow, not 200, not an exposition) is a warning and a
//! gap, never a failed run. Each scrape becomes one epoch-ns stamped line of
//! `gpu_telemetry_export.jsonl` or `server_metrics_export.jsonl`, written as
//! it comes, and is folded into core's accumulators (constant memory).

use super::{Kind, Target, TelemetryPlan};
use crate::runtime::TokioRuntime;
use imgperf_core::platform::Runtime;
use imgperf_core::record::Phase;
use imgperf_core::runner::{Completed, PhaseHooks, RecordSink};
use imgperf_core::telemetry::dcgm::{self, GpuScrape};
use imgperf_core::telemetry::gpu::{GpuAccumulator, GpuTelemetrySummary};
use imgperf_core::telemetry::prometheus;
use imgperf_core::telemetry::server::{
    self, ServerAccumulator, ServerMetricsSummary, ServerScrape,
};
use imgperf_core::telemetry::{Edge, ScrapeHead};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Largest exposition read from one scrape.
pub const MAX_SCRAPE_BYTES: usize = 16 * 1024 * 1024;
/// Warnings kept for the run log.
const MAX_WARNINGS: usize = 200;

/// Counts the client's requests in flight for the scraper, passing every
/// call on to the real sink.
pub struct InFlightSink<'a, S> {
    /// The sink that writes and summarises.
    pub inner: &'a mut S,
    /// Requests handed to the transport and not yet finished.
    pub count: Arc<AtomicU32>,
}

impl<S: RecordSink> RecordSink for InFlightSink<'_, S> {
    fn issued(&mut self, phase: Phase) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.inner.issued(phase);
    }

    fn accept(&mut self, done: Completed) {
        if done.record.worker_id != "queue" {
            let _ = self
                .count
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        }
        self.inner.accept(done);
    }
}

/// What the scraping produced.
#[derive(Debug, Default)]
pub struct TelemetryResults {
    /// GPU figures, when a DCGM exporter was scraped.
    pub gpu: Option<GpuTelemetrySummary>,
    /// Server series, when a `/metrics` was scraped.
    pub server: Option<ServerMetricsSummary>,
    /// Warnings for the run log (already printed once each).
    pub warnings: Vec<String>,
    /// Notes for the console under the telemetry tables.
    pub notes: Vec<String>,
}

struct State {
    gpu: GpuAccumulator,
    server: ServerAccumulator,
    gpu_file: Option<BufWriter<File>>,
    server_file: Option<BufWriter<File>>,
    dir: PathBuf,
    warned: Vec<(Kind, String)>,
    warnings: Vec<String>,
}

/// Scrapes the plan's endpoints around and through the profiling phase.
pub struct Telemetry {
    plan: TelemetryPlan,
    client: Option<reqwest::Client>,
    rt: TokioRuntime,
    in_flight: Arc<AtomicU32>,
    state: Arc<Mutex<State>>,
    stop: Option<watch::Sender<bool>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Telemetry {
    /// A scraper writing its exports into `dir`, stamping on `rt`'s clock.
    pub fn new(plan: TelemetryPlan, rt: TokioRuntime, dir: &Path) -> Telemetry {
        let client = match reqwest::Client::builder()
            .timeout(plan.timeout)
            .connect_timeout(plan.timeout)
            .pool_max_idle_per_host(1)
            .no_proxy()
            .build()
        {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!(
                    "imgperf: warning: no telemetry this run: cannot build an HTTP client ({e})"
                );
                None
            }
        };
        Telemetry {
            plan,
            client,
            rt,
            in_flight: Arc::new(AtomicU32::new(0)),
            state: Arc::new(Mutex::new(State {
                gpu: GpuAccumulator::new(),
                server: ServerAccumulator::new(),
                gpu_file: None,
                server_file: None,
                dir: dir.to_path_buf(),
                warned: Vec::new(),
                warnings: Vec::new(),
            })),
            stop: None,
            tasks: Vec::new(),
        }
    }

    /// The in-flight counter to give an [`InFlightSink`].
    pub fn in_flight(&self) -> Arc<AtomicU32> {
        self.in_flight.clone()
    }

    fn scraper(&self) -> Option<Scraper> {
        Some(Scraper {
            client: self.client.clone()?,
            rt: self.rt,
            in_flight: self.in_flight.clone(),
            state: self.state.clone(),
        })
    }

    /// Scrape every endpoint at once, marking the scrapes with `edge`;
    /// returns which answered.
    async fn scrape_all(&self, edge: Edge) -> Vec<bool> {
        let Some(s) = self.scraper() else {
            return vec![false; self.plan.targets.len()];
        };
        let all = self.plan.targets.iter().map(|t| s.scrape(t, Some(edge)));
        futures_util::future::join_all(all).await
    }

    /// Flush the exports and return the figures.
    pub fn finish(self) -> TelemetryResults {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for (file, name) in [
            (st.gpu_file.take(), "gpu_telemetry_export.jsonl"),
            (st.server_file.take(), "server_metrics_export.jsonl"),
        ] {
            if let Some(Err(e)) = file.map(|mut f| f.flush()) {
                let w = format!("cannot write {name}: {e}");
                eprintln!("imgperf: warning: {w}");
                st.warnings.push(w);
            }
        }
        let has = |kind| self.plan.targets.iter().any(|t| t.kind == kind);
        TelemetryResults {
            gpu: has(Kind::Gpu).then(|| st.gpu.finish()),
            server: has(Kind::Server).then(|| st.server.finish()),
            warnings: std::mem::take(&mut st.warnings),
            notes: Vec::new(),
        }
    }
}

impl PhaseHooks for Telemetry {
    fn lead_ns(&self) -> u64 {
        self.plan.timeout.as_nanos() as u64
    }

    async fn before_profiling(&mut self) {
        let answered = self.scrape_all(Edge::Start).await;
        // A default endpoint that does not answer is not there: drop it quietly.
        let mut keep = answered.into_iter();
        self.plan
            .targets
            .retain(|t| keep.next().unwrap_or(false) || t.explicit);
        let Some(scraper) = self.scraper() else {
            return;
        };
        let (stop, stopped) = watch::channel(false);
        for t in &self.plan.targets {
            let (s, t, mut stopped) = (scraper.clone(), t.clone(), stopped.clone());
            let every = self.plan.interval;
            self.tasks.push(tokio::spawn(async move {
                let mut ticker =
                    tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                loop {
                    tokio::select! {
                        _ = ticker.tick() => { s.scrape(&t, None).await; }
                        _ = stopped.changed() => break,
                    }
                }
            }));
        }
        self.stop = Some(stop);
    }

    async fn after_profiling(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
        self.scrape_all(Edge::End).await;
    }
}

/// What one scrape task needs.
#[derive(Clone)]
struct Scraper {
    client: reqwest::Client,
    rt: TokioRuntime,
    in_flight: Arc<AtomicU32>,
    state: Arc<Mutex<State>>,
}

impl Scraper {
    /// One scrape of `t`, recorded; whether it gave a usable exposition.
    async fn scrape(&self, t: &Target, edge: Option<Edge>) -> bool {
        let sent = self.rt.now_ns();
        let result = tokio::time::timeout(SCRAPE_LIMIT, fetch(&self.client, &t.url)).await;
        let done = self.rt.now_ns();
        let timestamp_ns = self.rt.wall_origin_ns() + sent + (done - sent) / 2;
        let in_flight = self.in_flight.load(Ordering::Relaxed);
        let parsed = match result {
            Ok(Ok(text)) => {
                prometheus::parse(&text).map_err(|e| format!("not a Prometheus exposition: {e}"))
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(timed_out()),
        };
        let gpus = match (&parsed, t.kind) {
            (Ok(e), Kind::Gpu) => dcgm::readings(e),
            _ => Vec::new(),
        };
        let mut error = parsed.as_ref().err().cloned();
        if t.kind == Kind::Gpu && error.is_none() && gpus.is_empty() {
            error = Some("no DCGM_FI_* series with a gpu label (is this a DCGM exporter?)".into());
        }
        // A default endpoint that does not answer its first scrape is not
        // there: no line, no warning (it is then dropped).
        if error.is_some() && !t.explicit && edge == Some(Edge::Start) {
            return false;
        }
        let head = ScrapeHead {
            timestamp_ns,
            endpoint: t.url.clone(),
            in_flight,
            edge,
            error: error.clone(),
        };
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match t.kind {
            Kind::Gpu => {
                let line = GpuScrape { head, gpus };
                st.gpu.add(&line);
                st.write(Kind::Gpu, &line);
            }
            Kind::Server => {
                let samples = parsed.as_ref().map(server::samples).unwrap_or_default();
                let line = ServerScrape { head, samples };
                st.server.add(&line);
                st.write(Kind::Server, &line);
            }
        }
        match error {
            Some(e) => {
                st.warn(&t.url, t.kind, &e);
                false
            }
            None => true,
        }
    }
}

/// Time one scrape may take, connection and body included.
const SCRAPE_LIMIT: Duration = super::SCRAPE_TIMEOUT;

fn timed_out() -> String {
    format!("no complete answer within {} s", SCRAPE_LIMIT.as_secs_f64())
}

/// GET `url`: its body as text, at most [`MAX_SCRAPE_BYTES`].
async fn fetch(client: &reqwest::Client, url: &str) -> Result<String, String> {
    let mut resp = client
        .get(url)
        .header("accept", "text/plain")
        .send()
        .await
        .map_err(|e| describe(&e))?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e))? {
        if body.len() + chunk.len() > MAX_SCRAPE_BYTES {
            return Err(format!(
                "exposition larger than {} MiB",
                MAX_SCRAPE_BYTES >> 20
            ));
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| "the body is not UTF-8 text".to_owned())
}

fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        timed_out()
    } else {
        crate::transport::describe(err)
    }
}

impl State {
    fn write<T: serde::Serialize>(&mut self, kind: Kind, line: &T) {
        let (slot, name) = match kind {
            Kind::Gpu => (&mut self.gpu_file, "gpu_telemetry_export.jsonl"),
            Kind::Server => (&mut self.server_file, "server_metrics_export.jsonl"),
        };
        if slot.is_none() {
            match File::create(self.dir.join(name)) {
                Ok(f) => *slot = Some(BufWriter::new(f)),
                Err(e) => {
                    let w = format!("cannot create {name}: {e}; its scrapes are only summarised");
                    self.warn(name, kind, &w);
                    return;
                }
            }
        }
        if let Some(f) = slot.as_mut() {
            let written = serde_json::to_writer(&mut *f, line)
                .map_err(std::io::Error::from)
                .and_then(|_| f.write_all(b"\n"));
            if let Err(e) = written {
                *slot = None;
                self.warn(name, kind, &format!("cannot write {name}: {e}"));
            }
        }
    }

    /// Print the first failure of each endpoint; keep every one (bounded) for the log.
    fn warn(&mut self, url: &str, kind: Kind, message: &str) {
        let what = match kind {
            Kind::Gpu => "GPU telemetry",
            Kind::Server => "server metrics",
        };
        let line = format!("{what} {url}: {message}");
        if !self.warned.iter().any(|w| *w == (kind, url.to_owned())) {
            self.warned.push((kind, url.to_owned()));
            eprintln!("imgperf: warning: {line} (a gap in its series; the run goes on)");
        }
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(line);
        }
    }
}

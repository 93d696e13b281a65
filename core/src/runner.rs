//! The runner: drives a closed loop of `--concurrency` workers over a
//! [`Workload`] through any [`Transport`], on any [`Runtime`]. Each request
//! runs as its own task (natively on a worker thread), where its response is
//! judged and its export lines are serialised, so multi-MB bodies never queue
//! behind one thread; the runner hands finished requests to a
//! [`RecordSink`] as they complete, so nothing accumulates in memory.

use crate::export::{self, RawResponse};
use crate::plan::{uuid_from, Sampler, Workload};
use crate::platform::Runtime;
use crate::record::{ErrorDetails, Phase, RequestRecord};
use crate::request::{redact_headers, EndpointConfig};
use crate::response;
use crate::transport::{FailureKind, HttpRequest, Method, Transport, TransportFailure};
use futures_util::future::{select, Either};
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::task::AtomicWaker;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// How a run is driven.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Requests in flight at once (closed loop).
    pub concurrency: usize,
    /// Profiling requests to send.
    pub request_count: u64,
    /// Warm-up requests sent first, recorded apart.
    pub warmup_request_count: u64,
    /// Serialise a `profile_export.jsonl` line per request.
    pub export_records: bool,
    /// Serialise a `profile_export_raw.jsonl` line per request (keeps the body until then).
    pub export_raw: bool,
    /// Seed for request ids (not the dataset seed: ids differ run to run).
    pub id_seed: u64,
}

/// A finished request: its record and its export lines, ready to write.
#[derive(Debug, Clone)]
pub struct Completed {
    /// What was measured.
    pub record: RequestRecord,
    /// `profile_export.jsonl` line (no newline), if records are exported.
    pub record_line: Option<String>,
    /// `profile_export_raw.jsonl` line (no newline), if raw is exported.
    pub raw_line: Option<String>,
}

/// Receives progress and finished requests, in completion order.
pub trait RecordSink {
    /// A request was handed to the transport.
    fn issued(&mut self, _phase: Phase) {}
    /// A request finished (successfully or not).
    fn accept(&mut self, done: Completed);
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOutcome {
    /// Stopped early by a [`StopSignal`].
    pub was_cancelled: bool,
    /// Profiling requests issued.
    pub issued: u64,
}

/// Stop requests, e.g. from Ctrl-C. Level 1: stop issuing and let in-flight
/// requests finish. Level 2: abandon in-flight requests now (they are
/// recorded as cancelled).
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<StopInner>);

#[derive(Debug, Default)]
struct StopInner {
    level: AtomicU8,
    waker: AtomicWaker,
}

impl StopSignal {
    /// A signal that has not fired.
    pub fn new() -> Self {
        Self::default()
    }
    /// Raise the stop level by one (max 2); returns the new level.
    pub fn escalate(&self) -> u8 {
        let level = self
            .0
            .level
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |l| Some((l + 1).min(2)))
            .map(|old| (old + 1).min(2))
            .unwrap_or(2);
        self.0.waker.wake();
        level
    }
    /// Current level (0 = running).
    pub fn level(&self) -> u8 {
        self.0.level.load(Ordering::SeqCst)
    }
    fn above(&self, seen: u8) -> StopWait<'_> {
        StopWait { signal: self, seen }
    }
}

struct StopWait<'a> {
    signal: &'a StopSignal,
    seen: u8,
}

impl Future for StopWait<'_> {
    type Output = u8;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u8> {
        self.signal.0.waker.register(cx.waker());
        let level = self.signal.level();
        if level > self.seen {
            Poll::Ready(level)
        } else {
            Poll::Pending
        }
    }
}

/// What one request task needs; small and cheap to move to a worker thread.
struct Job {
    session_num: u64,
    phase: Phase,
    conversation_id: String,
    x_request_id: String,
    isl: Option<u64>,
    worker: usize,
    credit_issued_ns: u64,
    request: HttpRequest,
    payload: Arc<serde_json::Value>,
    export_records: bool,
    export_raw: bool,
}

impl Job {
    fn record(&self, start_ns: u64) -> RequestRecord {
        RequestRecord {
            session_num: self.session_num,
            x_request_id: self.x_request_id.clone(),
            x_correlation_id: self.x_request_id.clone(),
            conversation_id: self.conversation_id.clone(),
            turn_index: 0,
            url: self.request.url.clone(),
            phase: self.phase,
            credit_issued_ns: self.credit_issued_ns,
            request_start_ns: start_ns,
            first_byte_ns: None,
            request_end_ns: start_ns,
            worker_id: format!("worker_{}", self.worker),
            was_cancelled: false,
            status: None,
            input_sequence_length: self.isl,
            response_bytes: 0,
            image_count: 0,
            error: None,
        }
    }

    fn finish(
        &self,
        rec: RequestRecord,
        wall_origin_ns: u64,
        body: Option<(&[u8], Option<&str>)>,
    ) -> Completed {
        let record_line = self
            .export_records
            .then(|| export::record_line(&rec, wall_origin_ns));
        let raw_line = self.export_raw.then(|| {
            let headers = redact_headers(&self.request.headers);
            let text = body.map(|(b, ct)| (String::from_utf8_lossy(b), ct));
            let response = text.as_ref().map(|(t, ct)| RawResponse {
                perf_ns: rec.request_end_ns,
                text: t,
                content_type: *ct,
            });
            export::raw_line(
                &rec,
                wall_origin_ns,
                &self.payload,
                &headers,
                response.as_ref(),
            )
        });
        Completed {
            record: rec,
            record_line,
            raw_line,
        }
    }
}

fn failure_error(f: &TransportFailure) -> ErrorDetails {
    let (code, kind) = match f.kind {
        FailureKind::Connect => (None, "ConnectionError"),
        FailureKind::Timeout => (Some(408), "RequestTimeout"),
        FailureKind::BodyTooLarge => (f.status, "ResponseTooLarge"),
        FailureKind::Io => (f.status, "IOError"),
        FailureKind::Cancelled => (Some(499), "RequestCancelled"),
    };
    ErrorDetails {
        code,
        kind: kind.into(),
        message: f.message.clone(),
    }
}

async fn execute<T: Transport>(transport: Arc<T>, job: Job, wall_origin_ns: u64) -> Completed {
    match transport.send(job.request.clone()).await {
        Ok(resp) => {
            let verdict = response::analyze(resp.status, &resp.body);
            let mut rec = job.record(resp.timing.start_ns);
            rec.first_byte_ns = resp.timing.first_byte_ns;
            rec.request_end_ns = resp.timing.end_ns;
            rec.status = Some(resp.status);
            rec.response_bytes = resp.body.len() as u64;
            rec.image_count = verdict.image_count;
            rec.error = verdict.error;
            job.finish(
                rec,
                wall_origin_ns,
                Some((&resp.body, resp.header("content-type"))),
            )
        }
        Err(failure) => {
            let mut rec = job.record(failure.timing.start_ns);
            rec.first_byte_ns = failure.timing.first_byte_ns;
            rec.request_end_ns = failure.timing.end_ns;
            rec.status = failure.status;
            rec.was_cancelled = failure.kind == FailureKind::Cancelled;
            rec.error = Some(failure_error(&failure));
            job.finish(rec, wall_origin_ns, None)
        }
    }
}

/// Meta of an in-flight request, to record it if it is abandoned.
struct InFlight {
    job_record: RequestRecord,
    job_payload: Arc<serde_json::Value>,
    headers: Vec<(String, String)>,
}

/// Run the warm-up phase, then the profiling phase, feeding `sink`.
pub async fn run<T, R, S>(
    endpoint: &EndpointConfig,
    workload: &Workload,
    sampler: &mut Sampler,
    settings: &RunSettings,
    transport: Arc<T>,
    rt: R,
    sink: &mut S,
    stop: &StopSignal,
) -> RunOutcome
where
    T: Transport,
    R: Runtime,
    S: RecordSink,
{
    let mut ids = ChaCha8Rng::seed_from_u64(settings.id_seed);
    let mut outcome = RunOutcome {
        was_cancelled: false,
        issued: 0,
    };
    for (phase, count) in [
        (Phase::Warmup, settings.warmup_request_count),
        (Phase::Profiling, settings.request_count),
    ] {
        if count == 0 {
            continue;
        }
        let issued = run_phase(
            endpoint, workload, sampler, settings, &transport, &rt, sink, stop, phase, count,
            &mut ids,
        )
        .await;
        if phase == Phase::Profiling {
            outcome.issued = issued;
        }
        if stop.level() > 0 {
            outcome.was_cancelled = true;
            break;
        }
    }
    outcome
}

#[allow(clippy::too_many_arguments)]
async fn run_phase<T: Transport, R: Runtime, S: RecordSink>(
    endpoint: &EndpointConfig,
    workload: &Workload,
    sampler: &mut Sampler,
    settings: &RunSettings,
    transport: &Arc<T>,
    rt: &R,
    sink: &mut S,
    stop: &StopSignal,
    phase: Phase,
    count: u64,
    ids: &mut ChaCha8Rng,
) -> u64 {
    let concurrency = settings.concurrency.max(1);
    let wall = rt.wall_origin_ns();
    let mut tasks = FuturesUnordered::new();
    let mut slots: Vec<Option<InFlight>> = (0..concurrency).map(|_| None).collect();
    let mut issued = 0u64;
    let mut seen_stop = stop.level();
    loop {
        while seen_stop == 0 && issued < count {
            let Some(worker) = slots.iter().position(Option::is_none) else {
                break;
            };
            let item = &workload.items[sampler.next_index()];
            let request_id = uuid_from(ids);
            let headers = endpoint.headers_for(&request_id, &request_id);
            let now = rt.now_ns();
            let job = Job {
                session_num: issued,
                phase,
                conversation_id: item.conversation_id.clone(),
                x_request_id: request_id,
                isl: item.isl,
                worker,
                credit_issued_ns: now,
                request: HttpRequest {
                    method: Method::Post,
                    url: endpoint.url_for(issued),
                    headers,
                    body: item.body.clone(),
                },
                payload: item.payload.clone(),
                export_records: settings.export_records,
                export_raw: settings.export_raw,
            };
            slots[worker] = Some(InFlight {
                job_record: job.record(now),
                job_payload: job.payload.clone(),
                headers: redact_headers(&job.request.headers),
            });
            sink.issued(phase);
            tasks.push(rt.spawn(execute(transport.clone(), job, wall)));
            issued += 1;
        }
        if tasks.is_empty() {
            break;
        }
        let next = tasks.next();
        let stopped = pin!(stop.above(seen_stop));
        match select(next, stopped).await {
            Either::Left((Some(done), _)) => {
                let worker = worker_index(&done.record.worker_id);
                if let Some(slot) = slots.get_mut(worker) {
                    *slot = None;
                }
                sink.accept(done);
            }
            Either::Left((None, _)) => break,
            Either::Right((level, _)) => {
                seen_stop = level;
                if level >= 2 {
                    abandon(&mut slots, rt, wall, settings, sink);
                    break;
                }
            }
        }
    }
    issued
}

fn worker_index(worker_id: &str) -> usize {
    worker_id
        .rsplit('_')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX)
}

/// Record every in-flight request as cancelled (hard stop).
fn abandon<R: Runtime, S: RecordSink>(
    slots: &mut [Option<InFlight>],
    rt: &R,
    wall: u64,
    settings: &RunSettings,
    sink: &mut S,
) {
    let now = rt.now_ns();
    for slot in slots.iter_mut() {
        let Some(f) = slot.take() else { continue };
        let mut rec = f.job_record;
        rec.request_end_ns = now;
        rec.was_cancelled = true;
        rec.error = Some(ErrorDetails {
            code: Some(499),
            kind: "RequestCancelled".into(),
            message: "run stopped (Ctrl-C) before the response arrived".into(),
        });
        let record_line = settings
            .export_records
            .then(|| export::record_line(&rec, wall));
        let raw_line = settings
            .export_raw
            .then(|| export::raw_line(&rec, wall, &f.job_payload, &f.headers, None));
        sink.accept(Completed {
            record: rec,
            record_line,
            raw_line,
        });
    }
}

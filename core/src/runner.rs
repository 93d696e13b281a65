//! The runner: releases requests on a [`Schedule`] (or a closed loop, or a
//! fixed trace), queues them client-side when every concurrency slot is
//! busy (never skipping one, recording the wait), and stops on a request
//! count, a benchmark duration plus grace period, or a [`StopSignal`].
//! Deadlines are absolute (phase start + offset), so nothing drifts. Each
//! request runs as its own task ([`crate::job`]); finished requests go to a
//! [`RecordSink`] in completion order, so nothing accumulates in memory.
//!
//! Requests are numbered globally within their phase, and every seeded
//! choice is made by that number ([`sequence`]), so that a shard of a
//! scaled-out run ([`Scope`], [`crate::shard`]) sends exactly its part of
//! the single-process run; a single process is shard 0 of 1.

mod sequence;

use crate::job::{self, new_record, ExportLines, Job};
use crate::measure::{Expect, ValidateImages};
use crate::plan::{uuid_from, SamplingStrategy, Workload};
use crate::platform::{MaybeSend, Runtime};
use crate::record::Phase;
use crate::request::EndpointConfig;
use crate::schedule::Schedule;
use crate::shard::Shard;
use crate::stop::StopSignal;
use crate::transport::{HttpRequest, Method, Transport};
use crate::video::{VideoAsk, VideoOutput, VideoSettings};
use futures_channel::oneshot;
use futures_util::future::{select, Either};
use futures_util::stream::{FuturesUnordered, StreamExt};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sequence::{Draws, Source};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;

pub use crate::job::Completed;

/// When profiling requests are released.
#[derive(Debug, Clone)]
pub enum Arrivals {
    /// Closed loop: a request as soon as a concurrency slot is free.
    Closed,
    /// Open loop: at the schedule's offsets (ns from phase start).
    Open(Box<Schedule>),
    /// Trace replay: `(dataset row, offset ns)`, sorted by offset.
    Fixed(Vec<(usize, u64)>),
}

/// `--request-cancellation-rate` / `--request-cancellation-delay`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cancellation {
    /// Fraction of requests to cancel, 0..=1.
    pub fraction: f64,
    /// How long after its start a picked request is cancelled.
    pub delay_ns: u64,
}

/// How a run is driven.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Cap on requests in flight; `None` = no cap (open loop only).
    pub concurrency: Option<usize>,
    /// `(offset ns, allowed concurrency)` steps of `--concurrency-ramp-duration`.
    pub concurrency_ramp: Vec<(u64, usize)>,
    /// Profiling requests to release (`None`: until the duration ends).
    pub request_count: Option<u64>,
    /// `--benchmark-duration`: stop releasing after this long.
    pub duration_ns: Option<u64>,
    /// `--benchmark-grace-period`: then wait this long for in-flight requests.
    pub grace_period_ns: u64,
    /// Warm-up requests sent first (closed loop), recorded apart.
    pub warmup_request_count: u64,
    /// Warm-up phase length limit.
    pub warmup_duration_ns: Option<u64>,
    /// Cancel a fraction of requests on purpose.
    pub cancellation: Option<Cancellation>,
    /// How requests pick dataset entries.
    pub sampling: SamplingStrategy,
    /// Seed of sampling and cancellation choices.
    pub seed: u64,
    /// Seed for request ids (differs run to run).
    pub id_seed: u64,
    /// Export lines to serialise per request.
    pub export: ExportLines,
    /// `--validate-images`: how strictly output images are checked.
    pub validate_images: ValidateImages,
    /// How video jobs are polled (`video_generation` endpoints only).
    pub video: VideoSettings,
}

/// What to run: endpoint, entries, settings.
#[derive(Debug, Clone, Copy)]
pub struct RunPlan<'a> {
    /// Where and how requests are sent.
    pub endpoint: &'a EndpointConfig,
    /// The dataset entries.
    pub workload: &'a Workload,
    /// How the run is driven.
    pub settings: &'a RunSettings,
}

/// Where this process's run sits in a scaled-out benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scope {
    /// Which requests are this process's (the whole run by default).
    /// `RunSettings::request_count` and `warmup_request_count` stay the
    /// global totals; `concurrency` is this shard's own cap.
    pub shard: Shard,
    /// When the profiling phase starts (runtime clock ns): the schedule's
    /// offsets count from it. The run waits for it; if it has passed, the
    /// overdue arrivals go at once (their lag shows in Schedule Lag).
    /// `None`: as soon as the warm-up is over.
    pub start_ns: Option<u64>,
}

/// Receives progress and finished requests, in completion order.
pub trait RecordSink {
    /// A request was handed to the transport.
    fn issued(&mut self, _phase: Phase) {}
    /// A request finished (successfully or not, or was cancelled).
    fn accept(&mut self, done: Completed);
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOutcome {
    /// Stopped early by a [`StopSignal`].
    pub was_cancelled: bool,
    /// Profiling requests released by the schedule.
    pub released: u64,
    /// Profiling requests cut by the end of the grace period.
    pub cut_by_grace: u64,
}

/// Work done just before the profiling phase's first request and just
/// after its last one ended (telemetry's boundary scrapes); awaited, so the
/// phase waits for `before_profiling`.
pub trait PhaseHooks {
    /// The longest `before_profiling` may take: with an agreed start time
    /// (`Scope::start_ns`) it is called that long before it.
    fn lead_ns(&self) -> u64 {
        0
    }
    /// Called once the warm-up is over, before the first profiling request.
    fn before_profiling(&mut self) -> impl Future<Output = ()> + MaybeSend;
    /// Called once every profiling request has ended (or was cut).
    fn after_profiling(&mut self) -> impl Future<Output = ()> + MaybeSend;
}

/// No work around the profiling phase.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

impl PhaseHooks for NoHooks {
    fn before_profiling(&mut self) -> impl Future<Output = ()> + MaybeSend {
        std::future::ready(())
    }
    fn after_profiling(&mut self) -> impl Future<Output = ()> + MaybeSend {
        std::future::ready(())
    }
}

/// Run the warm-up phase, then the profiling phase, feeding `sink`.
pub async fn run<T: Transport, R: Runtime, S: RecordSink>(
    plan: RunPlan<'_>,
    arrivals: Arrivals,
    transport: Arc<T>,
    rt: R,
    sink: &mut S,
    stop: &StopSignal,
) -> RunOutcome {
    run_scoped(plan, arrivals, Scope::default(), transport, rt, sink, stop).await
}

/// [`run`] as one shard of a scaled-out benchmark, its profiling phase
/// starting at `scope.start_ns` when given.
pub async fn run_scoped<T: Transport, R: Runtime, S: RecordSink>(
    plan: RunPlan<'_>,
    arrivals: Arrivals,
    scope: Scope,
    transport: Arc<T>,
    rt: R,
    sink: &mut S,
    stop: &StopSignal,
) -> RunOutcome {
    let hooks = &mut NoHooks;
    run_with_hooks(plan, arrivals, scope, transport, rt, sink, stop, hooks).await
}

/// [`run_scoped`], with `hooks` called around the profiling phase.
#[allow(clippy::too_many_arguments)]
pub async fn run_with_hooks<T: Transport, R: Runtime, S: RecordSink, H: PhaseHooks>(
    plan: RunPlan<'_>,
    arrivals: Arrivals,
    scope: Scope,
    transport: Arc<T>,
    rt: R,
    sink: &mut S,
    stop: &StopSignal,
    hooks: &mut H,
) -> RunOutcome {
    let s = plan.settings;
    let entries = plan.workload.items.len();
    let mut phase = PhaseRun {
        plan,
        transport,
        rt,
        ids: ChaCha8Rng::seed_from_u64(s.id_seed),
        draws: Draws::new(s.sampling, entries, s.seed, s.cancellation),
        shard: scope.shard,
    };
    let mut outcome = RunOutcome {
        was_cancelled: false,
        released: 0,
        cut_by_grace: 0,
    };
    if s.warmup_request_count > 0 || s.warmup_duration_ns.is_some() {
        let limit = Limits {
            count: (s.warmup_request_count > 0).then_some(s.warmup_request_count),
            duration_ns: s.warmup_duration_ns,
            grace_ns: s.grace_period_ns,
        };
        let ran = phase
            .run(Phase::Warmup, Arrivals::Closed, limit, None, sink, stop)
            .await;
        phase.draws.next_phase(ran.positions);
    }
    let wait_until = |at: u64| {
        let rt = phase.rt.clone();
        async move {
            if stop.level() == 0 && at > rt.now_ns() {
                select(pin!(rt.sleep_until(at)), stop.above(0)).await;
            }
        }
    };
    if let Some(start) = scope.start_ns {
        wait_until(start.saturating_sub(hooks.lead_ns())).await;
    }
    let began = stop.level() == 0;
    if began {
        hooks.before_profiling().await;
    }
    if let Some(start) = scope.start_ns {
        wait_until(start).await;
    }
    if stop.level() == 0 {
        let limit = Limits {
            count: s.request_count,
            duration_ns: s.duration_ns,
            grace_ns: s.grace_period_ns,
        };
        let ran = phase
            .run(
                Phase::Profiling,
                arrivals,
                limit,
                scope.start_ns,
                sink,
                stop,
            )
            .await;
        let (released, cut) = (ran.released, ran.cut_by_grace);
        outcome.released = released;
        outcome.cut_by_grace = cut;
    }
    if began {
        hooks.after_profiling().await;
    }
    outcome.was_cancelled = stop.level() > 0;
    outcome
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    count: Option<u64>,
    duration_ns: Option<u64>,
    grace_ns: u64,
}

/// What one phase did.
struct PhaseDone {
    /// This shard's requests released.
    released: u64,
    /// Of those, cut by the end of the grace period.
    cut_by_grace: u64,
    /// Global positions the phase took (its count when complete).
    positions: u64,
}

struct PhaseRun<'a, T, R> {
    plan: RunPlan<'a>,
    transport: Arc<T>,
    rt: R,
    ids: ChaCha8Rng,
    draws: Draws,
    shard: Shard,
}

/// A released request waiting for a slot.
struct Queued {
    scheduled_ns: u64,
    item: usize,
    /// Global number within the phase.
    session_num: u64,
    cancel_after_ns: Option<u64>,
}

enum Event<C> {
    Done(C),
    Timer,
    Stop(u8),
}

impl<T: Transport, R: Runtime> PhaseRun<'_, T, R> {
    fn cap_at(&self, elapsed_ns: u64) -> usize {
        let s = self.plan.settings;
        let base = s.concurrency.unwrap_or(usize::MAX);
        match s
            .concurrency_ramp
            .iter()
            .rev()
            .find(|(t, _)| *t <= elapsed_ns)
        {
            Some((_, c)) => (*c).min(base),
            None => s.concurrency_ramp.first().map(|(_, c)| *c).unwrap_or(base),
        }
    }

    fn job(&mut self, q: &Queued, phase: Phase, worker: usize, now: u64) -> Job {
        let p = self.plan;
        let item = &p.workload.items[q.item];
        let request_id = uuid_from(&mut self.ids);
        let url = p.endpoint.url_for(q.session_num);
        let headers = p
            .endpoint
            .headers_with_type(&request_id, &request_id, &item.content_type);
        let mut record = new_record(
            q.session_num,
            phase,
            &item.conversation_id,
            &request_id,
            &url,
            item.isl,
            worker,
            q.scheduled_ns,
            now,
        );
        record.output = Expect::from_payload(&item.payload).output();
        record.shard_index = self.shard.is_split().then(|| self.shard.index());
        let video = p.endpoint.kind.is_video().then_some(p.settings.video);
        if video.is_some() {
            record.output = Default::default();
            record.output.video = Some(Box::new(VideoOutput {
                ask: VideoAsk::from_payload(&item.payload),
                ..VideoOutput::default()
            }));
        }
        record.input_images = item.inputs.clone();
        let base_url =
            p.endpoint.urls[(q.session_num % p.endpoint.urls.len() as u64) as usize].clone();
        let cancel_after_ns = q.cancel_after_ns;
        Job {
            record,
            request: HttpRequest {
                method: Method::Post,
                url,
                headers,
                body: item.body.clone(),
            },
            payload: item.payload.clone(),
            export: p.settings.export,
            wall_origin_ns: self.rt.wall_origin_ns(),
            cancel_after_ns,
            base_url,
            validate: p.settings.validate_images,
            video,
        }
    }

    /// Record a request that will never complete (queued at the end, or abandoned).
    fn cut(&self, job: &Job, now: u64, message: &str) -> Completed {
        let mut rec = job.record.clone();
        rec.request_end_ns = now.max(rec.request_start_ns);
        rec.was_cancelled = true;
        rec.error = Some(job::cancelled(message));
        job::finish(
            rec,
            &job.request.headers,
            &job.payload,
            job.export,
            job.wall_origin_ns,
            None,
        )
    }

    /// Release the phase's next request, global number `i`.
    fn release(&mut self, i: u64, row: Option<usize>, scheduled_ns: u64) -> Queued {
        let item = row.unwrap_or_else(|| self.draws.row(i));
        Queued {
            scheduled_ns,
            item,
            session_num: i,
            cancel_after_ns: self.draws.cancel_after(i),
        }
    }

    async fn run<S: RecordSink>(
        &mut self,
        phase: Phase,
        arrivals: Arrivals,
        limits: Limits,
        start_at: Option<u64>,
        sink: &mut S,
        stop: &StopSignal,
    ) -> PhaseDone {
        let spawner = self.rt.clone();
        let start = start_at.unwrap_or_else(|| self.rt.now_ns());
        let issue_end = limits.duration_ns.map(|d| start + d);
        // Grace ends after the duration, or after a stop request (level 1).
        let mut grace_end = issue_end.map(|e| e + limits.grace_ns);
        // The count is global: this shard releases its requests below it.
        let count = limits.count.unwrap_or(u64::MAX);
        let mut source = Source::of(arrivals, self.shard);
        let mut next_global = 0;
        let mut tasks = FuturesUnordered::new();
        // A slot holds its job and the sender whose drop halts the job's task.
        let mut slots: Vec<Option<(Job, oneshot::Sender<()>)>> = Vec::new();
        let mut queue: VecDeque<Queued> = VecDeque::new();
        let (mut released, mut cut_by_grace, mut seen_stop) = (0u64, 0u64, stop.level());
        loop {
            let now = self.rt.now_ns();
            let issuing = seen_stop == 0 && issue_end.is_none_or(|e| now < e);
            let in_flight = slots.iter().filter(|s| s.is_some()).count();
            let cap = self.cap_at(now - start);
            if issuing {
                match &mut source {
                    Source::Closed => {
                        while self.shard.global(released) < count && in_flight + queue.len() < cap {
                            let i = self.shard.global(released);
                            queue.push_back(self.release(i, None, now));
                            released += 1;
                            next_global = i + 1;
                        }
                    }
                    Source::Timed(it) => {
                        while let Some(&(i, row, offset)) = it.peek() {
                            if i >= count || start + offset > now {
                                break;
                            }
                            it.next();
                            queue.push_back(self.release(i, row, start + offset));
                            released += 1;
                            next_global = i + 1;
                        }
                    }
                }
            } else {
                let message = if seen_stop > 0 {
                    "run stopped before a slot was free"
                } else {
                    "benchmark duration ended before a slot was free"
                };
                while let Some(q) = queue.pop_front() {
                    let job = self.job(&q, phase, usize::MAX, now);
                    sink.accept(self.cut(&job, now, message));
                }
            }
            // Launch queued requests while slots are free.
            let mut busy = in_flight;
            while busy < cap {
                let Some(q) = queue.pop_front() else { break };
                let worker = slots.iter().position(Option::is_none).unwrap_or_else(|| {
                    slots.push(None);
                    slots.len() - 1
                });
                let job = self.job(&q, phase, worker, self.rt.now_ns());
                let (halt_tx, halt) = oneshot::channel();
                slots[worker] = Some((job.clone(), halt_tx));
                sink.issued(phase);
                tasks.push(spawner.spawn(job::execute_until_halted(
                    self.transport.clone(),
                    self.rt.clone(),
                    job,
                    halt,
                )));
                busy += 1;
            }
            let next_due = match &mut source {
                Source::Timed(it) if issuing => it
                    .peek()
                    .filter(|(i, _, _)| *i < count)
                    .map(|(_, _, o)| start + o),
                _ => None,
            };
            let more = issuing
                && match source {
                    Source::Closed => self.shard.global(released) < count,
                    Source::Timed(_) => next_due.is_some(),
                };
            if tasks.is_empty() && queue.is_empty() && !more {
                break;
            }
            if !issuing && grace_end.is_some_and(|g| now >= g) {
                let message = if seen_stop > 0 {
                    "in flight when the grace period after the stop request ended"
                } else {
                    "in flight when the grace period ended"
                };
                cut_by_grace += self.abandon(&mut slots, sink, message);
                break;
            }
            let mut wake = next_due;
            let mut consider = |t: Option<u64>| {
                if let Some(t) = t {
                    wake = Some(wake.map_or(t, |w: u64| w.min(t)));
                }
            };
            consider(if issuing { issue_end } else { grace_end });
            if !queue.is_empty() || matches!(source, Source::Closed) {
                consider(
                    self.plan
                        .settings
                        .concurrency_ramp
                        .iter()
                        .map(|(t, _)| start + t)
                        .find(|t| *t > now),
                );
            }
            let rt = self.rt.clone();
            let timer = async move {
                match wake {
                    Some(t) => rt.sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            let next_done = async {
                if tasks.is_empty() {
                    std::future::pending().await
                } else {
                    tasks.next().await
                }
            };
            let event = match select(
                pin!(next_done),
                pin!(select(pin!(timer), stop.above(seen_stop))),
            )
            .await
            {
                Either::Left((Some(done), _)) => Event::Done(done),
                Either::Left((None, _)) => Event::Timer,
                Either::Right((Either::Left(_), _)) => Event::Timer,
                Either::Right((Either::Right((level, _)), _)) => Event::Stop(level),
            };
            match event {
                Event::Done(done) => {
                    if let Some(slot) =
                        worker_index(&done.record.worker_id).and_then(|w| slots.get_mut(w))
                    {
                        *slot = None;
                    }
                    sink.accept(done);
                }
                Event::Timer => {}
                Event::Stop(level) => {
                    seen_stop = level;
                    let stop_grace = self.rt.now_ns() + limits.grace_ns;
                    grace_end = Some(grace_end.map_or(stop_grace, |g| g.min(stop_grace)));
                    if level >= 2 {
                        self.abandon(
                            &mut slots,
                            sink,
                            "run stopped (Ctrl-C) before the response arrived",
                        );
                        let now = self.rt.now_ns();
                        while let Some(q) = queue.pop_front() {
                            let job = self.job(&q, phase, usize::MAX, now);
                            sink.accept(self.cut(&job, now, "run stopped before a slot was free"));
                        }
                        break;
                    }
                }
            }
        }
        let complete = limits
            .count
            .is_some_and(|c| released == self.shard.share(c));
        PhaseDone {
            released,
            cut_by_grace,
            positions: if complete { count } else { next_global },
        }
    }

    /// Record every in-flight request as cancelled; returns how many.
    fn abandon<S: RecordSink>(
        &self,
        slots: &mut [Option<(Job, oneshot::Sender<()>)>],
        sink: &mut S,
        message: &str,
    ) -> u64 {
        let now = self.rt.now_ns();
        let mut n = 0;
        for slot in slots.iter_mut() {
            // Dropping the sender halts the job's task (no more polls).
            if let Some((job, _halt)) = slot.take() {
                sink.accept(self.cut(&job, now, message));
                n += 1;
            }
        }
        n
    }
}

fn worker_index(worker_id: &str) -> Option<usize> {
    worker_id.rsplit('_').next().and_then(|n| n.parse().ok())
}

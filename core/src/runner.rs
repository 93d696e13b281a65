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

mod phase;
mod sequence;

use phase::{Limits, PhaseRun};

use crate::job::ExportLines;
use crate::measure::ValidateImages;
use crate::plan::{SamplingStrategy, Workload};
use crate::platform::{MaybeSend, Runtime};
use crate::record::Phase;
use crate::request::EndpointConfig;
use crate::schedule::Schedule;
use crate::shard::Shard;
use crate::stop::StopSignal;
use crate::transport::Transport;
use crate::video::VideoSettings;
use futures_util::future::select;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sequence::Draws;
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

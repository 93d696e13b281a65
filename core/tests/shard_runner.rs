//! Sharded runs on virtual time: for every arrival mode, the union of N
//! shards' requests (global number, scheduled offset, dataset entry,
//! cancellation) is exactly the single-process run with the same seed.

use imgperf_core::job::ExportLines;
use imgperf_core::plan::{PromptSpec, SamplingStrategy, Workload};
use imgperf_core::request::EndpointConfig;
use imgperf_core::runner::{
    self, Arrivals, Cancellation, Completed, RecordSink, RunPlan, RunSettings, Scope,
};
use imgperf_core::schedule::{fixed_schedule, ArrivalPattern, RateSpec, Schedule};
use imgperf_core::shard::Shard;
use imgperf_core::stop::StopSignal;
use imgperf_core::virtual_clock::{DelayTransport, VirtualRuntime};
use std::sync::Arc;

const MS: u64 = 1_000_000;

struct Sink(Vec<Completed>);

impl RecordSink for Sink {
    fn accept(&mut self, done: Completed) {
        self.0.push(done)
    }
}

fn endpoint() -> EndpointConfig {
    EndpointConfig {
        urls: vec!["http://127.0.0.1:1".into()],
        endpoint_path: "/v1/images/generations".into(),
        model: "m".into(),
        api_key: None,
        headers: vec![],
        extra_inputs: Default::default(),
        streaming: false,
        kind: Default::default(),
    }
}

fn settings(concurrency: Option<usize>, count: u64) -> RunSettings {
    RunSettings {
        concurrency,
        concurrency_ramp: vec![],
        request_count: Some(count),
        duration_ns: None,
        grace_period_ns: 0,
        warmup_request_count: 3,
        warmup_duration_ns: None,
        cancellation: Some(Cancellation {
            fraction: 0.3,
            delay_ns: 5 * MS,
        }),
        sampling: SamplingStrategy::Shuffle,
        seed: 11,
        id_seed: 2,
        export: ExportLines::default(),
        validate_images: Default::default(),
        video: Default::default(),
    }
}

/// (phase, global number, offset from the profiling start, entry, cancelled)
type Seen = (bool, u64, Option<u64>, String, bool);

fn run(arrivals: &dyn Fn() -> Arrivals, settings: &RunSettings, shard: Shard) -> Vec<Seen> {
    let rt = VirtualRuntime::new();
    let server = Arc::new(DelayTransport::new(&rt, 20 * MS, 1000));
    let endpoint = endpoint();
    let prompts: Vec<PromptSpec> = (0..30)
        .map(|i| PromptSpec {
            prompt: format!("prompt {i}"),
            extra: None,
        })
        .collect();
    let workload = Workload::build(&prompts, &endpoint, None, settings.seed);
    let plan = RunPlan {
        endpoint: &endpoint,
        workload: &workload,
        settings,
    };
    // Profiling starts at 1 s on every shard's clock.
    let scope = Scope {
        shard,
        start_ns: Some(1000 * MS),
    };
    let mut sink = Sink(vec![]);
    let stop = StopSignal::new();
    let out = rt.block_on(runner::run_scoped(
        plan,
        arrivals(),
        scope,
        server,
        rt.clone(),
        &mut sink,
        &stop,
    ));
    assert!(!out.was_cancelled);
    sink.0
        .iter()
        .map(|c| {
            let r = &c.record;
            let profiling = r.phase == imgperf_core::record::Phase::Profiling;
            let offset = profiling.then(|| r.credit_issued_ns - 1000 * MS);
            (
                profiling,
                r.session_num,
                offset,
                r.conversation_id.clone(),
                r.was_cancelled,
            )
        })
        .collect()
}

fn union_equals_single(name: &str, arrivals: &dyn Fn() -> Arrivals, closed: bool) {
    let count = 23;
    // Closed loop: the cap splits too (5 over 3: 2, 2, 1).
    let whole = closed.then_some(5);
    let part = |i: u32| closed.then_some(if i < 2 { 2 } else { 1 });
    let mut single = run(arrivals, &settings(whole, count), Shard::WHOLE);
    let mut union = Vec::new();
    for i in 0..3 {
        let shard = Shard::new(i, 3).unwrap();
        let mine = run(arrivals, &settings(part(i), count), shard);
        let profiling = mine.iter().filter(|s| s.0).count() as u64;
        assert_eq!(profiling, shard.share(count), "{name}: shard {i}'s share");
        assert!(
            mine.iter().all(|s| shard.keeps(s.1)),
            "{name}: only its own"
        );
        union.extend(mine);
    }
    if closed {
        // No schedule in a closed loop: compare what was sent, not when.
        for s in single.iter_mut().chain(union.iter_mut()) {
            s.2 = None;
        }
    }
    single.sort_by_key(|s| (s.0, s.1));
    union.sort_by_key(|s| (s.0, s.1));
    assert_eq!(single.len() as u64, count + 3, "{name}");
    assert_eq!(union, single, "{name}");
    assert!(single.iter().any(|s| s.4), "{name}: some cancelled");
    let entries: std::collections::HashSet<&String> = single.iter().map(|s| &s.3).collect();
    assert!(entries.len() > 1, "{name}: several entries sampled");
}

fn open(pattern: ArrivalPattern, ramp: Option<f64>) -> impl Fn() -> Arrivals {
    move || {
        let spec = RateSpec {
            rate: 200.0,
            pattern,
            ramp_duration_s: ramp,
        };
        let s = Schedule::new(&spec, 11).unwrap().conditioned_on_count(23);
        Arrivals::Open(Box::new(s))
    }
}

#[test]
fn every_arrival_mode_splits_exactly() {
    let gamma = ArrivalPattern::Gamma { shape: 0.5 };
    union_equals_single("constant", &open(ArrivalPattern::Constant, None), false);
    union_equals_single("poisson", &open(ArrivalPattern::Poisson, None), false);
    union_equals_single("gamma", &open(gamma, None), false);
    union_equals_single(
        "burst",
        &open(ArrivalPattern::ConcurrencyBurst, None),
        false,
    );
    union_equals_single("ramp", &open(ArrivalPattern::Poisson, Some(0.05)), false);
    let stamps: Vec<f64> = (0..30).map(|i| ((i * 37) % 30) as f64 * 3.0).collect();
    let fixed = move || Arrivals::Fixed(fixed_schedule(&stamps, false, None, None).unwrap());
    union_equals_single("fixed", &fixed, false);
    union_equals_single("closed", &|| Arrivals::Closed, true);
}

#[test]
fn a_late_shard_sends_overdue_arrivals_at_once() {
    let rt = VirtualRuntime::new();
    let server = Arc::new(DelayTransport::new(&rt, 10 * MS, 100));
    let endpoint = endpoint();
    let prompts = vec![PromptSpec {
        prompt: "a cat".into(),
        extra: None,
    }];
    let workload = Workload::build(&prompts, &endpoint, None, 1);
    let mut s = settings(None, 40);
    (s.warmup_request_count, s.cancellation) = (0, None);
    let plan = RunPlan {
        endpoint: &endpoint,
        workload: &workload,
        settings: &s,
    };
    let spec = RateSpec {
        rate: 100.0,
        pattern: ArrivalPattern::Constant,
        ramp_duration_s: None,
    };
    // The shard's clock is at 500 ms when it starts; the run began at 200 ms.
    rt.advance_to(500 * MS);
    let scope = Scope {
        shard: Shard::new(1, 2).unwrap(),
        start_ns: Some(200 * MS),
    };
    let mut sink = Sink(vec![]);
    rt.block_on(runner::run_scoped(
        plan,
        Arrivals::Open(Box::new(Schedule::new(&spec, 1).unwrap())),
        scope,
        server,
        rt.clone(),
        &mut sink,
        &StopSignal::new(),
    ));
    let mut recs: Vec<_> = sink.0.into_iter().map(|c| c.record).collect();
    recs.sort_by_key(|r| r.session_num);
    let nums: Vec<u64> = recs.iter().map(|r| r.session_num).collect();
    assert_eq!(nums, (0..20).map(|k| 2 * k + 1).collect::<Vec<u64>>());
    for r in &recs {
        // Scheduled on the common timeline, never shifted.
        assert_eq!(r.credit_issued_ns, 200 * MS + r.session_num * 10 * MS);
    }
    // Arrivals due before 500 ms went at once, their lag in Schedule Lag.
    assert_eq!(recs[0].request_start_ns, 500 * MS);
    assert_eq!(recs[0].schedule_lag_ms(), 290.0);
    assert_eq!(recs[14].schedule_lag_ms(), 10.0);
    assert_eq!(recs[15].session_num, 31);
    assert_eq!(recs[15].schedule_lag_ms(), 0.0);
}

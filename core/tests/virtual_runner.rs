//! The runner on virtual time: an open-loop rate R with a concurrency cap C
//! against a server slower than R/C queues arrivals client-side (growing
//! queue time) and never skips one; deadlines stay exact. Phase hooks run
//! between the warm-up and the profiling phase, and after it.

use imgperf_core::job::ExportLines;
use imgperf_core::plan::{PromptSpec, SamplingStrategy, Workload};
use imgperf_core::platform::Runtime;
use imgperf_core::record::Phase;
use imgperf_core::request::EndpointConfig;
use imgperf_core::runner::{
    self, Arrivals, Completed, PhaseHooks, RecordSink, RunPlan, RunSettings, Scope,
};
use imgperf_core::schedule::{ArrivalPattern, RateSpec, Schedule};
use imgperf_core::stop::StopSignal;
use imgperf_core::virtual_clock::{DelayTransport, VirtualRuntime};
use std::sync::{Arc, Mutex};

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

fn settings(concurrency: usize, count: u64, warmup: u64) -> RunSettings {
    RunSettings {
        concurrency: Some(concurrency),
        concurrency_ramp: vec![],
        request_count: Some(count),
        duration_ns: None,
        grace_period_ns: 0,
        warmup_request_count: warmup,
        warmup_duration_ns: None,
        cancellation: None,
        sampling: SamplingStrategy::Sequential,
        seed: 1,
        id_seed: 2,
        export: ExportLines::default(),
        validate_images: Default::default(),
        video: Default::default(),
    }
}

fn workload(endpoint: &EndpointConfig) -> Workload {
    let prompts = vec![PromptSpec {
        prompt: "a cat".into(),
        extra: None,
    }];
    Workload::build(&prompts, endpoint, None, 1)
}

#[test]
fn rate_with_cap_against_a_slow_server_queues_and_never_skips() {
    let rt = VirtualRuntime::new();
    // 200 ms per request, plenty of server slots: the client cap (2) is the bottleneck.
    let server = Arc::new(DelayTransport::new(&rt, 200 * MS, 100));
    let endpoint = endpoint();
    let workload = workload(&endpoint);
    let settings = settings(2, 40, 0);
    // 20 req/s with cap 2 against 200 ms service = 10 req/s capacity.
    let spec = RateSpec {
        rate: 20.0,
        pattern: ArrivalPattern::Constant,
        ramp_duration_s: None,
    };
    let arrivals = Arrivals::Open(Box::new(Schedule::new(&spec, 0).unwrap()));
    let mut sink = Sink(vec![]);
    let stop = StopSignal::new();
    let plan = RunPlan {
        endpoint: &endpoint,
        workload: &workload,
        settings: &settings,
    };
    let out = rt.block_on(runner::run(
        plan,
        arrivals,
        server.clone(),
        rt.clone(),
        &mut sink,
        &stop,
    ));
    assert_eq!(out.released, 40);
    assert!(!out.was_cancelled);
    let mut recs: Vec<_> = sink.0.iter().map(|c| c.record.clone()).collect();
    recs.sort_by_key(|r| r.session_num);
    assert_eq!(recs.len(), 40, "no arrival skipped");
    assert_eq!(server.arrivals().len(), 40);
    for (i, r) in recs.iter().enumerate() {
        assert!(r.error.is_none(), "{r:?}");
        assert_eq!(
            r.credit_issued_ns,
            i as u64 * 50 * MS,
            "exact deadline of arrival {i}"
        );
    }
    let queue: Vec<f64> = recs.iter().map(|r| r.queue_ms()).collect();
    assert_eq!(&queue[..4], &[0.0, 0.0, 100.0, 100.0]);
    assert!(
        queue.windows(2).all(|w| w[1] >= w[0]),
        "queue time grows: {queue:?}"
    );
    assert_eq!(queue[39], 1900.0);
    // Latency from the scheduled time includes the queue; ordinary latency does not.
    assert_eq!(recs[39].latency_ms(), 200.0);
    assert_eq!(recs[39].latency_from_scheduled_ms(), 2100.0);
}

/// Records the virtual time of each hook call, and sleeps in the first.
struct Hooks {
    rt: VirtualRuntime,
    calls: Arc<Mutex<Vec<(&'static str, u64)>>>,
}

impl PhaseHooks for Hooks {
    fn lead_ns(&self) -> u64 {
        300 * MS
    }
    async fn before_profiling(&mut self) {
        let now = self.rt.now_ns();
        self.calls.lock().unwrap().push(("before", now));
        self.rt.sleep_until(now + 100 * MS).await;
    }
    async fn after_profiling(&mut self) {
        let now = self.rt.now_ns();
        self.calls.lock().unwrap().push(("after", now));
    }
}

#[test]
fn hooks_bracket_the_profiling_phase_and_are_awaited() {
    // As soon as the warm-up ends; then with an agreed start at 1 s, the
    // hook's lead (300 ms) before it.
    for start_ns in [None, Some(1000 * MS)] {
        let rt = VirtualRuntime::new();
        let server = Arc::new(DelayTransport::new(&rt, 200 * MS, 100));
        let endpoint = endpoint();
        let workload = workload(&endpoint);
        let settings = settings(2, 4, 2);
        let mut sink = Sink(vec![]);
        let calls = Arc::new(Mutex::new(Vec::new()));
        let mut hooks = Hooks {
            rt: rt.clone(),
            calls: calls.clone(),
        };
        let plan = RunPlan {
            endpoint: &endpoint,
            workload: &workload,
            settings: &settings,
        };
        let scope = Scope {
            start_ns,
            ..Scope::default()
        };
        rt.block_on(runner::run_with_hooks(
            plan,
            Arrivals::Closed,
            scope,
            server,
            rt.clone(),
            &mut sink,
            &StopSignal::new(),
            &mut hooks,
        ));
        let calls = calls.lock().unwrap().clone();
        let phase = |p: Phase| sink.0.iter().filter(move |c| c.record.phase == p);
        let warmup_end = phase(Phase::Warmup).map(|c| c.record.request_end_ns).max();
        let first_start = phase(Phase::Profiling)
            .map(|c| c.record.request_start_ns)
            .min();
        let last_end = phase(Phase::Profiling)
            .map(|c| c.record.request_end_ns)
            .max();
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert_eq!(calls[1], ("after", last_end.unwrap()));
        match start_ns {
            None => {
                assert_eq!(calls[0], ("before", warmup_end.unwrap()));
                assert_eq!(first_start, Some(calls[0].1 + 100 * MS), "the phase waited");
            }
            Some(start) => {
                assert!(warmup_end.unwrap() < start - 300 * MS);
                assert_eq!(calls[0], ("before", start - 300 * MS));
                assert_eq!(first_start, Some(start), "the agreed start kept");
            }
        }
    }
}

//! The runner on virtual time: an open-loop rate R with a concurrency cap C
//! against a server slower than R/C queues arrivals client-side (growing
//! queue time) and never skips one; deadlines stay exact.

use imgperf_core::job::ExportLines;
use imgperf_core::plan::{PromptSpec, SamplingStrategy, Workload};
use imgperf_core::request::EndpointConfig;
use imgperf_core::runner::{self, Arrivals, Completed, RecordSink, RunPlan, RunSettings};
use imgperf_core::schedule::{ArrivalPattern, RateSpec, Schedule};
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

#[test]
fn rate_with_cap_against_a_slow_server_queues_and_never_skips() {
    let rt = VirtualRuntime::new();
    // 200 ms per request, plenty of server slots: the client cap (2) is the bottleneck.
    let server = Arc::new(DelayTransport::new(&rt, 200 * MS, 100));
    let endpoint = EndpointConfig {
        urls: vec!["http://127.0.0.1:1".into()],
        endpoint_path: "/v1/images/generations".into(),
        model: "m".into(),
        api_key: None,
        headers: vec![],
        extra_inputs: Default::default(),
        streaming: false,
        kind: Default::default(),
    };
    let prompts = vec![PromptSpec {
        prompt: "a cat".into(),
        extra: None,
    }];
    let workload = Workload::build(&prompts, &endpoint, None, 1);
    let settings = RunSettings {
        concurrency: Some(2),
        concurrency_ramp: vec![],
        request_count: Some(40),
        duration_ns: None,
        grace_period_ns: 0,
        warmup_request_count: 0,
        warmup_duration_ns: None,
        cancellation: None,
        sampling: SamplingStrategy::Sequential,
        seed: 1,
        id_seed: 2,
        export: ExportLines::default(),
        validate_images: Default::default(),
        video: Default::default(),
    };
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

//! Unit tests of the metric registry, per-request values and the summary.

use super::*;
use crate::record::Phase;

/// A successful profiling record: start, latency in ms, ISL.
pub(crate) fn rec(n: u64, start_ns: u64, latency_ms: f64, isl: Option<u64>) -> RequestRecord {
    let end = start_ns + (latency_ms * 1e6).round() as u64;
    RequestRecord {
        session_num: n,
        x_request_id: format!("req-{n}"),
        x_correlation_id: format!("corr-{n}"),
        conversation_id: format!("conv-{n}"),
        turn_index: 0,
        url: "http://localhost:30000/v1/images/generations".into(),
        phase: Phase::Profiling,
        credit_issued_ns: start_ns,
        slot_acquired_ns: start_ns,
        request_start_ns: start_ns,
        stale_attempt_ns: None,
        upload_end_ns: None,
        first_byte_ns: Some(end - 1_000_000),
        request_end_ns: end,
        worker_id: "worker_0".into(),
        shard_index: None,
        was_cancelled: false,
        status: Some(200),
        input_sequence_length: isl,
        response_bytes: 1000,
        image_count: 1,
        error: None,
        input_images: std::sync::Arc::from([]),
        output: Default::default(),
    }
}

/// Error details with a message derived from the type.
pub(crate) fn err(code: u16, kind: &str) -> ErrorDetails {
    ErrorDetails {
        code: Some(code),
        kind: kind.into(),
        message: format!("{kind} happened"),
    }
}

/// The tutorial's three requests, back to back from t = 1 s.
pub(crate) fn tutorial() -> Vec<RequestRecord> {
    let lat = [12251.41, 12647.29, 12954.04];
    let isl = [7, 6, 7];
    let mut start = 1_000_000_000;
    (0..3)
        .map(|i| {
            let r = rec(i as u64, start, lat[i], Some(isl[i]));
            start = r.request_end_ns + 1000;
            r
        })
        .collect()
}

fn dist(s: &Summary, tag: &str) -> Stats {
    match s.get(tag).map(|m| &m.value) {
        Some(MetricValue::Distribution(st)) => *st,
        other => panic!("{tag}: {other:?}"),
    }
}

fn scalar(s: &Summary, tag: &str) -> f64 {
    match s.get(tag).map(|m| &m.value) {
        Some(MetricValue::Scalar(v)) => *v,
        other => panic!("{tag}: {other:?}"),
    }
}

/// avg min max p99 p90 p50 std, as the console table shows them.
fn row(s: &Stats) -> String {
    let cols = [s.avg, s.min, s.max, s.p99, s.p90, s.p50, s.std];
    cols.map(|v| format!("{v:.2}")).join(" ")
}

fn build(recs: &[RequestRecord]) -> Summary {
    let mut b = SummaryBuilder::new();
    recs.iter().for_each(|r| b.add(r));
    b.finish()
}

#[test]
fn labels_and_registry() {
    assert_eq!(REQUEST_LATENCY.label(), "Request Latency (ms)");
    let label = REQUEST_THROUGHPUT.label();
    assert_eq!(label, "Request Throughput (requests/sec)");
    assert_eq!(find("total_isl"), Some(TOTAL_ISL));
    assert_eq!(find("nope"), None);
    assert!(RESPONSE_BYTES.is_integer() && !REQUEST_LATENCY.is_integer());
}

#[test]
fn tutorial_table() {
    let s = build(&tutorial());
    let latency = row(&dist(&s, "request_latency"));
    assert_eq!(
        latency,
        "12617.58 12251.41 12954.04 12947.91 12892.69 12647.29 287.62"
    );
    let isl = row(&dist(&s, "input_sequence_length"));
    assert_eq!(isl, "6.67 6.00 7.00 7.00 7.00 7.00 0.47");
    assert_eq!(scalar(&s, "request_count"), 3.0);
    assert_eq!(scalar(&s, "error_request_count"), 0.0);
    assert_eq!(scalar(&s, "total_isl"), 20.0);
    assert_eq!(format!("{:.2}", scalar(&s, "request_throughput")), "0.08");
    assert_eq!(s.request_count, 3);
    // Distributions (no error_isl here), then every scalar, in order.
    let distributions = [
        REQUEST_LATENCY,
        INPUT_SEQUENCE_LENGTH,
        HTTP_REQ_WAITING,
        HTTP_REQ_RECEIVING,
        RESPONSE_BYTES,
        OUTPUT_IMAGE_COUNT,
        SCHEDULE_LAG,
        CLIENT_QUEUE_TIME,
        LATENCY_FROM_SCHEDULED,
        IMAGE_LATENCY,
    ];
    let all = distributions.iter().chain(&SCALAR_METRICS);
    let defs: Vec<MetricDef> = s.metrics.iter().map(|m| m.def).collect();
    assert_eq!(defs, all.copied().collect::<Vec<_>>());
}

#[test]
fn duration_and_throughput() {
    let mut a = rec(0, 1_000_000_000, 2000.0, None);
    a.image_count = 4;
    let b = rec(1, 2_000_000_000, 3000.0, None); // ends at 5 s
    let s = build(&[a, b]);
    assert_eq!(s.benchmark_duration_s, 4.0);
    assert_eq!(scalar(&s, "benchmark_duration"), 4.0);
    assert_eq!(scalar(&s, "request_throughput"), 0.5);
    assert_eq!(scalar(&s, "image_throughput"), 1.25);
    assert_eq!(s.start_ns, Some(1_000_000_000));
    assert_eq!(s.end_ns, Some(5_000_000_000));
    assert!(s.get("total_isl").is_none(), "no ISL known");
    assert_eq!(dist(&s, "http_req_waiting").min, 1999.0);
    assert_eq!(dist(&s, "http_req_receiving").max, 1.0);
}

#[test]
fn warmup_excluded() {
    let mut w = rec(0, 0, 99_999.0, Some(500));
    w.phase = Phase::Warmup;
    let mut recs = vec![w];
    recs.extend(tutorial());
    let s = build(&recs);
    assert_eq!(s, build(&tutorial()));
    assert_eq!(s.start_ns, Some(1_000_000_000));
}

#[test]
fn errors_counted_grouped_not_in_distributions() {
    let mut recs = tutorial();
    let boom = |n, e: ErrorDetails, start| {
        let mut r = rec(n, start, 50_000.0, Some(9));
        r.error = Some(e);
        r.first_byte_ns = None;
        r
    };
    recs.push(boom(3, err(500, "HTTPError"), 0));
    recs.push(boom(4, err(500, "HTTPError"), 10));
    let mut c = boom(5, err(499, "RequestCancellationError"), 20);
    c.was_cancelled = true;
    c.input_sequence_length = None;
    recs.push(c);
    let s = build(&recs);
    assert_eq!(s.request_count, 3);
    assert_eq!(s.error_count, 3);
    assert_eq!(s.cancelled_count, 1);
    assert_eq!(dist(&s, "request_latency").count, 3);
    assert_eq!(
        dist(&s, "request_latency"),
        dist(&build(&tutorial()), "request_latency")
    );
    assert_eq!(dist(&s, "input_sequence_length").count, 3);
    assert_eq!(scalar(&s, "total_isl"), 20.0);
    let e = dist(&s, "error_isl");
    assert_eq!((e.count, e.avg), (2, 9.0));
    assert_eq!(scalar(&s, "error_request_count"), 3.0);
    assert_eq!(scalar(&s, "request_count"), 3.0);
    let cancel = err(499, "RequestCancellationError");
    assert_eq!(s.error_summary, [(err(500, "HTTPError"), 2), (cancel, 1)]);
    // Duration over valid requests only; start/end over all.
    let duration = build(&tutorial()).benchmark_duration_s;
    assert_eq!(s.benchmark_duration_s, duration);
    assert_eq!(s.start_ns, Some(0));
}

#[test]
fn record_metrics_shapes() {
    let r = rec(0, 0, 10.0, Some(7));
    let tags: Vec<_> = record_metrics(&r).iter().map(|(d, _)| d.tag).collect();
    assert_eq!(tags.len(), 10);
    let mut no_fb = r.clone();
    no_fb.first_byte_ns = None;
    no_fb.input_sequence_length = None;
    let tags: Vec<_> = record_metrics(&no_fb).iter().map(|(d, _)| d.tag).collect();
    let want = [
        REQUEST_LATENCY,
        RESPONSE_BYTES,
        OUTPUT_IMAGE_COUNT,
        SCHEDULE_LAG,
        CLIENT_QUEUE_TIME,
        LATENCY_FROM_SCHEDULED,
        IMAGE_LATENCY,
    ];
    assert_eq!(tags, want.map(|d| d.tag));
    let mut e = r.clone();
    e.error = Some(err(500, "HTTPError"));
    assert_eq!(record_metrics(&e), vec![(ERROR_ISL, 7.0)]);
    e.input_sequence_length = None;
    assert!(record_metrics(&e).is_empty());
}

#[test]
fn empty_run() {
    let s = SummaryBuilder::new().finish();
    assert!(s.get("request_latency").is_none());
    assert_eq!(scalar(&s, "request_throughput"), 0.0);
    assert_eq!(scalar(&s, "error_request_count"), 0.0);
    assert_eq!(s.benchmark_duration_s, 0.0);
    assert_eq!((s.start_ns, s.end_ns), (None, None));
}

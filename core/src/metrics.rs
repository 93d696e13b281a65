//! The metric registry (tag, display header, unit of every metric imgperf
//! reports), the per-request metric values, and the run [`Summary`] built from
//! records by [`SummaryBuilder`], following AIPerf 0.13's conventions:
//! distributions over successful profiling requests only, warmup excluded,
//! errors counted and grouped.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::record::{ErrorDetails, Phase, RequestRecord};
use crate::stats::Stats;

/// Identity of a metric: machine tag, human header and unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricDef {
    /// Machine name, the key in JSON exports (`request_latency`).
    pub tag: &'static str,
    /// Human name (`Request Latency`).
    pub header: &'static str,
    /// Unit (`ms`).
    pub unit: &'static str,
}

impl MetricDef {
    /// Header with unit, as in tables and CSV: `Request Latency (ms)`.
    pub fn label(&self) -> String {
        format!("{} ({})", self.header, self.unit)
    }

    /// Whether values count whole things (tokens, bytes, images), so that
    /// per-request values export as JSON integers.
    pub fn is_integer(&self) -> bool {
        matches!(self.unit, "tokens" | "bytes" | "images")
    }
}

const fn def(tag: &'static str, header: &'static str, unit: &'static str) -> MetricDef {
    MetricDef { tag, header, unit }
}

/// Request start → response body fully read.
pub const REQUEST_LATENCY: MetricDef = def("request_latency", "Request Latency", "ms");
/// Prompt tokens of a request.
pub const INPUT_SEQUENCE_LENGTH: MetricDef =
    def("input_sequence_length", "Input Sequence Length", "tokens");
/// Request start → first response byte.
pub const HTTP_REQ_WAITING: MetricDef = def("http_req_waiting", "Time to First Byte", "ms");
/// First response byte → response body fully read.
pub const HTTP_REQ_RECEIVING: MetricDef = def("http_req_receiving", "Response Receive Time", "ms");
/// Bytes of response body.
pub const RESPONSE_BYTES: MetricDef = def("response_bytes", "Response Size", "bytes");
/// Images in one response.
pub const OUTPUT_IMAGE_COUNT: MetricDef = def("output_image_count", "Output Images", "images");
/// Request start − scheduled time: client-side delay, including queue time.
pub const SCHEDULE_LAG: MetricDef = def("schedule_lag", "Schedule Lag", "ms");
/// Time an arrival waited for a free concurrency slot.
pub const CLIENT_QUEUE_TIME: MetricDef = def("client_queue_time", "Client Queue Time", "ms");
/// Body fully read − scheduled time (coordinated-omission-aware latency).
pub const LATENCY_FROM_SCHEDULED: MetricDef = def(
    "request_latency_from_scheduled",
    "Latency from Scheduled Time",
    "ms",
);
/// Prompt tokens of a failed request.
pub const ERROR_ISL: MetricDef = def("error_isl", "Error Input Sequence Length", "tokens");
/// Successful requests per second of benchmark duration.
pub const REQUEST_THROUGHPUT: MetricDef =
    def("request_throughput", "Request Throughput", "requests/sec");
/// Images of successful requests per second of benchmark duration.
pub const IMAGE_THROUGHPUT: MetricDef = def("image_throughput", "Image Throughput", "images/sec");
/// Number of successful profiling requests.
pub const REQUEST_COUNT: MetricDef = def("request_count", "Request Count", "requests");
/// Number of failed profiling requests.
pub const ERROR_REQUEST_COUNT: MetricDef =
    def("error_request_count", "Error Request Count", "requests");
/// Requests actually sent per second (first send → last send).
pub const ACHIEVED_REQUEST_RATE: MetricDef = def(
    "achieved_request_rate",
    "Achieved Send Rate",
    "requests/sec",
);
/// Requests cancelled on purpose or cut at the end of the run.
pub const CANCELLED_COUNT: MetricDef =
    def("cancelled_count", "Cancelled Request Count", "requests");
/// Requests that hit `--request-timeout-seconds`.
pub const TIMEOUT_COUNT: MetricDef = def("timeout_count", "Timed Out Request Count", "requests");
/// Last end − first start of successful requests.
pub const BENCHMARK_DURATION: MetricDef = def("benchmark_duration", "Benchmark Duration", "sec");
/// Prompt tokens summed over successful requests.
pub const TOTAL_ISL: MetricDef = def("total_isl", "Total Input Sequence Length", "tokens");

/// Per-request metrics, in summary order.
pub const DISTRIBUTION_METRICS: [MetricDef; 10] = [
    REQUEST_LATENCY,
    INPUT_SEQUENCE_LENGTH,
    HTTP_REQ_WAITING,
    HTTP_REQ_RECEIVING,
    RESPONSE_BYTES,
    OUTPUT_IMAGE_COUNT,
    SCHEDULE_LAG,
    CLIENT_QUEUE_TIME,
    LATENCY_FROM_SCHEDULED,
    ERROR_ISL,
];

/// Run-level metrics, in summary order.
pub const SCALAR_METRICS: [MetricDef; 9] = [
    REQUEST_THROUGHPUT,
    IMAGE_THROUGHPUT,
    ACHIEVED_REQUEST_RATE,
    REQUEST_COUNT,
    ERROR_REQUEST_COUNT,
    CANCELLED_COUNT,
    TIMEOUT_COUNT,
    BENCHMARK_DURATION,
    TOTAL_ISL,
];

/// The registered metric with this tag.
pub fn find(tag: &str) -> Option<MetricDef> {
    DISTRIBUTION_METRICS
        .iter()
        .chain(SCALAR_METRICS.iter())
        .find(|d| d.tag == tag)
        .copied()
}

/// Metric values of one record, as exported per request.
///
/// A valid record gives `request_latency`, `input_sequence_length` (when
/// known), `http_req_waiting`/`http_req_receiving` (when the first byte
/// arrived), `response_bytes` and `output_image_count`; a failed one only
/// `error_isl` (when known).
pub fn record_metrics(rec: &RequestRecord) -> Vec<(MetricDef, f64)> {
    let isl = rec.input_sequence_length.map(|t| t as f64);
    if !rec.is_valid() {
        return isl.map(|v| vec![(ERROR_ISL, v)]).unwrap_or_default();
    }
    let mut out = Vec::with_capacity(6);
    out.push((REQUEST_LATENCY, rec.latency_ms()));
    if let Some(v) = isl {
        out.push((INPUT_SEQUENCE_LENGTH, v));
    }
    if let (Some(w), Some(r)) = (rec.waiting_ms(), rec.receiving_ms()) {
        out.push((HTTP_REQ_WAITING, w));
        out.push((HTTP_REQ_RECEIVING, r));
    }
    out.push((RESPONSE_BYTES, rec.response_bytes as f64));
    out.push((OUTPUT_IMAGE_COUNT, f64::from(rec.image_count)));
    out.push((SCHEDULE_LAG, rec.schedule_lag_ms()));
    out.push((CLIENT_QUEUE_TIME, rec.queue_ms()));
    out.push((LATENCY_FROM_SCHEDULED, rec.latency_from_scheduled_ms()));
    out
}

/// Value of one summarised metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum MetricValue {
    /// Statistics over per-request values.
    Distribution(Stats),
    /// One number for the whole run.
    Scalar(f64),
}

/// One row of the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSummary {
    /// Which metric.
    pub def: MetricDef,
    /// Its value.
    pub value: MetricValue,
}

/// Accumulates the numbers a [`Summary`] needs, record by record.
///
/// Only numbers are kept (one `f64` per request per metric), never the
/// records themselves.
#[derive(Debug, Clone, Default)]
pub struct SummaryBuilder {
    /// Per-request values, indexed like [`DISTRIBUTION_METRICS`].
    values: [Vec<f64>; DISTRIBUTION_METRICS.len()],
    timeouts: u64,
    /// Sends (requests that reached the transport) and their first/last start.
    sends: u64,
    send_span: Option<(u64, u64)>,
    errors: BTreeMap<ErrorDetails, u64>,
    valid: u64,
    failed: u64,
    cancelled: u64,
    images: u64,
    total_isl: u64,
    /// Min start / max end of valid records.
    valid_span: Option<(u64, u64)>,
    /// Min start / max end of all profiling records.
    all_span: Option<(u64, u64)>,
}

/// Extend a (min start, max end) span to cover `rec`.
fn widen(span: &mut Option<(u64, u64)>, rec: &RequestRecord) {
    let (start, end) = (rec.request_start_ns, rec.request_end_ns);
    *span = Some(span.map_or((start, end), |(s, e)| (s.min(start), e.max(end))));
}

impl SummaryBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Account for one record; warmup records are ignored.
    pub fn add(&mut self, rec: &RequestRecord) {
        if rec.phase == Phase::Warmup {
            return;
        }
        widen(&mut self.all_span, rec);
        if rec.was_cancelled {
            self.cancelled += 1;
        }
        if rec
            .error
            .as_ref()
            .is_some_and(|e| e.kind == "RequestTimeout")
        {
            self.timeouts += 1;
        }
        if rec.worker_id != "queue" {
            self.sends += 1;
            let t = rec.request_start_ns;
            self.send_span = Some(self.send_span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
        }
        match &rec.error {
            None => {
                self.valid += 1;
                self.images += u64::from(rec.image_count);
                self.total_isl += rec.input_sequence_length.unwrap_or(0);
                widen(&mut self.valid_span, rec);
            }
            Some(err) => {
                self.failed += 1;
                *self.errors.entry(err.clone()).or_insert(0) += 1;
            }
        }
        for (def, v) in record_metrics(rec) {
            if let Some(i) = DISTRIBUTION_METRICS.iter().position(|d| *d == def) {
                self.values[i].push(v);
            }
        }
    }

    /// The summary of everything added so far.
    pub fn finish(&self) -> Summary {
        let mut metrics: Vec<MetricSummary> = DISTRIBUTION_METRICS
            .iter()
            .zip(&self.values)
            .filter_map(|(def, values)| {
                Stats::from_values(values).map(|s| MetricSummary {
                    def: *def,
                    value: MetricValue::Distribution(s),
                })
            })
            .collect();
        let duration_s = self
            .valid_span
            .map_or(0.0, |(s, e)| e.saturating_sub(s) as f64 / 1e9);
        let per_sec = |n: u64| {
            if duration_s > 0.0 {
                n as f64 / duration_s
            } else {
                0.0
            }
        };
        let mut scalar = |def, v| {
            let value = MetricValue::Scalar(v);
            metrics.push(MetricSummary { def, value });
        };
        scalar(REQUEST_THROUGHPUT, per_sec(self.valid));
        scalar(IMAGE_THROUGHPUT, per_sec(self.images));
        let send_rate = match self.send_span {
            Some((a, b)) if b > a && self.sends > 1 => {
                (self.sends - 1) as f64 / ((b - a) as f64 / 1e9)
            }
            _ => 0.0,
        };
        scalar(ACHIEVED_REQUEST_RATE, send_rate);
        scalar(REQUEST_COUNT, self.valid as f64);
        scalar(ERROR_REQUEST_COUNT, self.failed as f64);
        scalar(CANCELLED_COUNT, self.cancelled as f64);
        scalar(TIMEOUT_COUNT, self.timeouts as f64);
        scalar(BENCHMARK_DURATION, duration_s);
        // Index 1 holds the ISL of valid records: only report a known total.
        if !self.values[1].is_empty() {
            scalar(TOTAL_ISL, self.total_isl as f64);
        }
        let mut error_summary: Vec<(ErrorDetails, u64)> =
            self.errors.iter().map(|(e, n)| (e.clone(), *n)).collect();
        // Stable sort: equal counts stay in the BTreeMap's (details) order.
        error_summary.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        Summary {
            metrics,
            error_summary,
            request_count: self.valid,
            error_count: self.failed,
            cancelled_count: self.cancelled,
            benchmark_duration_s: duration_s,
            start_ns: self.all_span.map(|(s, _)| s),
            end_ns: self.all_span.map(|(_, e)| e),
        }
    }
}

/// Results of a run: metric rows, grouped errors and counters.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Distributions first (in [`DISTRIBUTION_METRICS`] order, only those with
    /// values), then scalars (in [`SCALAR_METRICS`] order; `total_isl` only
    /// when some successful request had a known ISL).
    pub metrics: Vec<MetricSummary>,
    /// Errors grouped by details, most frequent first, ties by details.
    pub error_summary: Vec<(ErrorDetails, u64)>,
    /// Successful profiling requests.
    pub request_count: u64,
    /// Failed profiling requests.
    pub error_count: u64,
    /// Profiling requests cancelled on purpose.
    pub cancelled_count: u64,
    /// Last end − first start of successful requests, in seconds (0 if none).
    pub benchmark_duration_s: f64,
    /// Earliest request start of all profiling records (monotonic ns).
    pub start_ns: Option<u64>,
    /// Latest request end of all profiling records (monotonic ns).
    pub end_ns: Option<u64>,
}

impl Summary {
    /// The row of the metric with this tag, if present.
    pub fn get(&self, tag: &str) -> Option<&MetricSummary> {
        self.metrics.iter().find(|m| m.def.tag == tag)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

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
            first_byte_ns: Some(end - 1_000_000),
            request_end_ns: end,
            worker_id: "worker_0".into(),
            was_cancelled: false,
            status: Some(200),
            input_sequence_length: isl,
            response_bytes: 1000,
            image_count: 1,
            error: None,
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
        let all = DISTRIBUTION_METRICS[..9].iter().chain(&SCALAR_METRICS);
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
        assert_eq!(tags.len(), 9);
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
}

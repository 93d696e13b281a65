//! [`SummaryBuilder`]: folds records, one at a time, into the numbers a
//! [`Summary`] and an [`ImageReport`] need (one `f64` per request per
//! metric, counters, spans), never keeping the records themselves.

use std::collections::BTreeMap;

use super::column::{Columns, Spill};
use super::report::ReportBuilder;
use super::*;
use crate::goodput::Goodput;
use crate::record::Phase;

/// Accumulates the numbers a [`Summary`] needs, record by record.
///
/// Only numbers are kept (one `f64` per request per metric), never the
/// records themselves; with [`SummaryBuilder::spill_to`] most of them live
/// in storage instead of memory.
#[derive(Debug, Default)]
pub struct SummaryBuilder {
    /// Per-request values: column `i` is `DISTRIBUTION_METRICS[i]`, the
    /// image report's per-size columns follow.
    columns: Columns,
    timeouts: u64,
    /// Requests sent again after a stale pooled connection.
    stale_retries: u64,
    /// Sends (requests that reached the transport) and their first/last start.
    sends: u64,
    send_span: Option<(u64, u64)>,
    errors: BTreeMap<ErrorDetails, u64>,
    valid: u64,
    failed: u64,
    /// Failed requests in the latency view that keeps errors.
    failed_answered: u64,
    cancelled: u64,
    images: u64,
    megapixels: f64,
    issue_requests: u64,
    total_isl: u64,
    /// Min start / max end of valid records.
    valid_span: Option<(u64, u64)>,
    /// Min start / max end of all profiling records.
    all_span: Option<(u64, u64)>,
    goodput: Option<Goodput>,
    good: u64,
    report: ReportBuilder,
    video: super::video::VideoTotals,
}

/// Extend a (min start, max end) span to cover `rec`.
fn widen(span: &mut Option<(u64, u64)>, rec: &RequestRecord) {
    let (start, end) = (rec.request_start_ns, rec.request_end_ns);
    *span = Some(span.map_or((start, end), |(s, e)| (s.min(start), e.max(end))));
}

/// Column of a per-request metric: image metrics first, video metrics after.
fn index_of(def: MetricDef) -> Option<usize> {
    DISTRIBUTION_METRICS
        .iter()
        .position(|d| *d == def)
        .or_else(|| {
            VIDEO_DISTRIBUTION_METRICS
                .iter()
                .position(|d| *d == def)
                .map(|i| DISTRIBUTION_METRICS.len() + i)
        })
}

impl SummaryBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keep at most a block of each metric's values in memory and spill the
    /// rest to `spill` (values come back when [`SummaryBuilder::finish`]
    /// runs), so a long run's memory stays flat.
    pub fn spill_to(&mut self, spill: Box<dyn Spill>) {
        self.columns.spill_to(spill);
    }

    /// The first error of the spill, if it failed: the statistics then
    /// cover the values still in memory only.
    pub fn spill_error(&self) -> Option<&str> {
        self.columns.error()
    }

    /// Values held in memory (for tests of the spill).
    #[cfg(test)]
    pub(crate) fn columns_in_memory(&self) -> usize {
        self.columns.in_memory()
    }

    /// An empty builder that also counts requests meeting `goodput`'s SLOs.
    pub fn with_goodput(goodput: Goodput) -> Self {
        SummaryBuilder {
            goodput: Some(goodput),
            ..Self::default()
        }
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
        self.stale_retries += u64::from(rec.connection_retries());
        let sent = rec.worker_id != "queue";
        if sent {
            self.sends += 1;
            let t = rec.request_start_ns;
            self.send_span = Some(self.send_span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
        }
        let metrics = record_metrics(rec);
        match &rec.error {
            None => {
                self.valid += 1;
                self.images += u64::from(rec.image_count);
                self.megapixels += rec.output.megapixels().unwrap_or(0.0);
                self.total_isl += rec.input_sequence_length.unwrap_or(0);
                widen(&mut self.valid_span, rec);
                if self.goodput.as_ref().is_some_and(|g| g.is_good(&metrics)) {
                    self.good += 1;
                }
            }
            Some(err) => {
                self.failed += 1;
                *self.errors.entry(err.clone()).or_insert(0) += 1;
            }
        }
        if !rec.output.issues.is_empty() {
            self.issue_requests += 1;
        }
        self.video.add(rec);
        // The latency view that keeps failures: everything sent that ended
        // on its own (deliberate cancellations say nothing about the server).
        if sent && !rec.was_cancelled {
            if !rec.is_valid() {
                self.failed_answered += 1;
            }
            if let Some(i) = index_of(REQUEST_LATENCY_WITH_ERRORS) {
                self.columns.push(i, rec.latency_ms());
            }
        }
        for (def, v) in &metrics {
            if let Some(i) = index_of(*def) {
                self.columns.push(i, *v);
            }
        }
        self.report.add(rec, &metrics, &mut self.columns);
    }

    fn duration_s(&self) -> f64 {
        self.valid_span
            .map_or(0.0, |(s, e)| e.saturating_sub(s) as f64 / 1e9)
    }

    /// The summary of everything added so far.
    pub fn finish(&self) -> Summary {
        let mut metrics: Vec<MetricSummary> = DISTRIBUTION_METRICS
            .iter()
            .enumerate()
            .filter(|(_, def)| **def != REQUEST_LATENCY_WITH_ERRORS || self.failed_answered > 0)
            .filter_map(|(i, def)| {
                Stats::from_values(&self.columns.values(i)).map(|s| MetricSummary {
                    def: *def,
                    value: MetricValue::Distribution(s),
                })
            })
            .collect();
        for (i, def) in VIDEO_DISTRIBUTION_METRICS.iter().enumerate() {
            let values = self.columns.values(DISTRIBUTION_METRICS.len() + i);
            if let Some(s) = Stats::from_values(&values) {
                let value = MetricValue::Distribution(s);
                metrics.push(MetricSummary { def: *def, value });
            }
        }
        let duration_s = self.duration_s();
        let video = self.video.any;
        let per_sec = |n: f64| {
            if duration_s > 0.0 {
                n / duration_s
            } else {
                0.0
            }
        };
        let total = self.valid + self.failed;
        let percent = |n: u64| {
            if total > 0 {
                n as f64 * 100.0 / total as f64
            } else {
                0.0
            }
        };
        let mut scalar = |def, v| {
            let value = MetricValue::Scalar(v);
            metrics.push(MetricSummary { def, value });
        };
        scalar(REQUEST_THROUGHPUT, per_sec(self.valid as f64));
        if !video {
            scalar(IMAGE_THROUGHPUT, per_sec(self.images as f64));
        }
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
        scalar(STALE_CONNECTION_RETRIES, self.stale_retries as f64);
        scalar(BENCHMARK_DURATION, duration_s);
        // Only report a known total ISL.
        if index_of(INPUT_SEQUENCE_LENGTH).is_some_and(|i| self.columns.len(i) > 0) {
            scalar(TOTAL_ISL, self.total_isl as f64);
        }
        if !video {
            scalar(MEGAPIXEL_THROUGHPUT, per_sec(self.megapixels));
        }
        scalar(ERROR_RATE, percent(self.failed));
        if video {
            for (def, v) in self.video.scalars(per_sec) {
                scalar(def, v);
            }
        } else {
            scalar(IMAGE_ISSUE_REQUEST_COUNT, self.issue_requests as f64);
        }
        if self.goodput.is_some() {
            scalar(GOOD_REQUEST_COUNT, self.good as f64);
            scalar(GOODPUT, per_sec(self.good as f64));
            scalar(SLO_ATTAINMENT, percent(self.good));
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

    /// What the checks found and, when requests asked for different sizes,
    /// the per-size breakdown (throughputs over the whole run's duration).
    pub fn report(&self) -> ImageReport {
        self.report.finish(self.duration_s(), &self.columns)
    }
}

//! The "Image Generation Metrics" table as data: which rows, in which order,
//! and how numbers are written (`12,617.58`). The CLI draws it with
//! comfy-table, the web app as an HTML table; both take the cells from here,
//! so the two front ends always show the same rows and the same digits.

use crate::endpoint::EndpointKind;
use crate::metrics::{self, MetricDef, MetricValue, Summary};

/// Title above the table of an image run.
pub const TITLE: &str = "imgperf | Image Generation Metrics";

/// Title above the table: AIPerf's name for the run's endpoint type
/// ("Video Generation Metrics" when the summary is of video jobs, "Image
/// Edit Metrics" when its requests uploaded images).
pub fn title(summary: &Summary) -> String {
    let kind = if summary.get(metrics::VIDEO_THROUGHPUT.tag).is_some() {
        EndpointKind::VideoGeneration
    } else if summary.get(metrics::INPUT_IMAGE_COUNT.tag).is_some() {
        EndpointKind::ImageEdit
    } else {
        EndpointKind::ImageGeneration
    };
    format!("imgperf | {}", kind.table_name())
}

/// Column headers: AIPerf's avg min max p99 p90 p50 std.
pub const HEADER: [&str; 8] = ["Metric", "avg", "min", "max", "p99", "p90", "p50", "std"];

/// Rows of the table, in order: the tutorial's four first, then ours.
pub const ROWS: &[MetricDef] = &[
    metrics::REQUEST_LATENCY,
    metrics::INPUT_SEQUENCE_LENGTH,
    metrics::REQUEST_THROUGHPUT,
    metrics::REQUEST_COUNT,
    metrics::ERROR_REQUEST_COUNT,
    metrics::ERROR_RATE,
    metrics::REQUEST_LATENCY_WITH_ERRORS,
    metrics::HTTP_REQ_SENDING,
    metrics::HTTP_REQ_WAITING,
    metrics::HTTP_REQ_RECEIVING,
    // Video jobs: the time split, polls, throughputs and the MP4.
    metrics::VIDEO_SUBMIT_LATENCY,
    metrics::VIDEO_QUEUE_TIME,
    metrics::VIDEO_GENERATION_TIME,
    metrics::VIDEO_DOWNLOAD_TIME,
    metrics::VIDEO_POLL_COUNT,
    metrics::VIDEO_POLL_ERRORS,
    metrics::VIDEO_THROUGHPUT,
    metrics::VIDEO_SECONDS_THROUGHPUT,
    metrics::FRAME_THROUGHPUT,
    metrics::MEGAPIXEL_FRAME_THROUGHPUT,
    metrics::VIDEO_BYTES,
    metrics::VIDEO_FRAMES,
    metrics::VIDEO_DURATION,
    metrics::VIDEO_ISSUE_REQUEST_COUNT,
    metrics::TIME_TO_FIRST_PARTIAL_IMAGE,
    metrics::INTER_PARTIAL_IMAGE_LATENCY,
    metrics::PARTIAL_IMAGE_COUNT,
    metrics::IMAGE_DOWNLOAD_TIME,
    metrics::TIME_TO_FIRST_IMAGE,
    metrics::TIME_TO_FINAL_IMAGE,
    metrics::IMAGE_THROUGHPUT,
    metrics::IMAGE_LATENCY,
    metrics::MEGAPIXEL_THROUGHPUT,
    metrics::IMAGE_BYTES,
    metrics::INPUT_IMAGE_COUNT,
    metrics::INPUT_IMAGE_BYTES,
    metrics::INPUT_MEGAPIXELS,
    metrics::IMAGE_ISSUE_REQUEST_COUNT,
    metrics::SERVER_INFERENCE_TIME,
    metrics::SERVER_QUEUE_OVERHEAD,
    metrics::SERVER_PEAK_MEMORY,
    metrics::USAGE_INPUT_TOKENS,
    metrics::USAGE_OUTPUT_TOKENS,
    metrics::USAGE_TOTAL_TOKENS,
    metrics::GOOD_REQUEST_COUNT,
    metrics::GOODPUT,
    metrics::SLO_ATTAINMENT,
    metrics::LATENCY_FROM_SCHEDULED,
    metrics::SCHEDULE_LAG,
    metrics::CLIENT_QUEUE_TIME,
    metrics::ACHIEVED_REQUEST_RATE,
    metrics::CANCELLED_COUNT,
    metrics::TIMEOUT_COUNT,
    metrics::STALE_CONNECTION_RETRIES,
    metrics::STALE_CONNECTION_TIME,
];

/// One row: the metric and its numbers (`None` where a scalar has no column).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Which metric.
    pub def: MetricDef,
    /// avg, min, max, p99, p90, p50, std.
    pub values: [Option<f64>; 7],
}

impl Row {
    /// Header with unit: `Request Latency (ms)`.
    pub fn label(&self) -> String {
        self.def.label()
    }

    /// The seven cells as printed: numbers formatted, `-` where empty.
    pub fn cells(&self) -> [String; 7] {
        self.values
            .map(|v| v.map_or_else(|| "-".to_owned(), format_number))
    }
}

/// Whether a row only repeats another: time to first/final image equal
/// the request latency unless images were streamed or downloaded.
fn repeats_latency(summary: &Summary, def: &MetricDef) -> bool {
    (*def == metrics::TIME_TO_FIRST_IMAGE || *def == metrics::TIME_TO_FINAL_IMAGE)
        && summary
            .get(metrics::TIME_TO_FIRST_PARTIAL_IMAGE.tag)
            .is_none()
        && summary.get(metrics::IMAGE_DOWNLOAD_TIME.tag).is_none()
}

/// Whether a row says nothing worth a line: no stale-connection retry.
fn is_quiet_zero(summary: &Summary, def: &MetricDef) -> bool {
    *def == metrics::STALE_CONNECTION_RETRIES
        && matches!(summary.get(def.tag), Some(m) if m.value == MetricValue::Scalar(0.0))
}

/// The rows present in `summary`, in table order (a zero count of stale
/// connection retries is left out; the summary JSON keeps it).
pub fn rows(summary: &Summary) -> Vec<Row> {
    ROWS.iter()
        .filter(|def| !repeats_latency(summary, def) && !is_quiet_zero(summary, def))
        .filter_map(|def| {
            let m = summary.get(def.tag)?;
            let values = match &m.value {
                MetricValue::Distribution(s) => {
                    [s.avg, s.min, s.max, s.p99, s.p90, s.p50, s.std].map(Some)
                }
                MetricValue::Scalar(v) => [Some(*v), None, None, None, None, None, None],
            };
            Some(Row { def: *def, values })
        })
        .collect()
}

/// `12617.5833` → `12,617.58`.
pub fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let s = format!("{:.2}", v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if v < 0.0 && s != "0.00" { "-" } else { "" };
    format!("{sign}{grouped}.{frac}")
}

/// Errors grouped by code and message, one line each: `  2 × [500] HTTPError: boom`.
pub fn error_lines(summary: &Summary) -> Vec<String> {
    summary
        .error_summary
        .iter()
        .map(|(e, n)| {
            let code = e.code.map(|c| c.to_string()).unwrap_or_else(|| "-".into());
            format!("  {n} × [{code}] {}: {}", e.kind, e.message)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::tests::tutorial;
    use crate::metrics::SummaryBuilder;

    #[test]
    fn numbers_group_thousands() {
        assert_eq!(format_number(12617.5833), "12,617.58");
        assert_eq!(format_number(287.615), "287.62");
        assert_eq!(format_number(6.666), "6.67");
        assert_eq!(format_number(1234567.0), "1,234,567.00");
        assert_eq!(format_number(0.0), "0.00");
        assert_eq!(format_number(-1500.0), "-1,500.00");
    }

    #[test]
    fn rows_in_order_with_dashes_for_scalars() {
        let mut b = SummaryBuilder::new();
        tutorial().iter().for_each(|r| b.add(r));
        let rows = rows(&b.finish());
        let labels: Vec<String> = rows.iter().take(4).map(Row::label).collect();
        assert_eq!(
            labels,
            [
                "Request Latency (ms)",
                "Input Sequence Length (tokens)",
                "Request Throughput (requests/sec)",
                "Request Count (requests)"
            ]
        );
        assert_eq!(rows[0].cells()[0], "12,617.58");
        let count = rows[3].cells();
        assert_eq!(count[0], "3.00");
        assert!(count[1..].iter().all(|c| c == "-"));
    }
}

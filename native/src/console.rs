//! Console output: the "Image Generation Metrics" table (AIPerf's columns
//! avg min max p99 p90 p50 std, numbers with thousands separators) and the
//! error summary below it.

use comfy_table::{presets, CellAlignment, ContentArrangement, Table};
use imgperf_core::metrics::{self, MetricDef, MetricValue, Summary};

/// Rows of the table, in order: the tutorial's four first, then ours.
const ROWS: &[MetricDef] = &[
    metrics::REQUEST_LATENCY,
    metrics::INPUT_SEQUENCE_LENGTH,
    metrics::REQUEST_THROUGHPUT,
    metrics::REQUEST_COUNT,
    metrics::ERROR_REQUEST_COUNT,
    metrics::HTTP_REQ_WAITING,
    metrics::HTTP_REQ_RECEIVING,
    metrics::IMAGE_THROUGHPUT,
    metrics::LATENCY_FROM_SCHEDULED,
    metrics::SCHEDULE_LAG,
    metrics::CLIENT_QUEUE_TIME,
    metrics::ACHIEVED_REQUEST_RATE,
    metrics::CANCELLED_COUNT,
    metrics::TIMEOUT_COUNT,
];

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

/// The metrics table as text.
pub fn metrics_table(summary: &Summary) -> String {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(["Metric", "avg", "min", "max", "p99", "p90", "p50", "std"]);
    for def in ROWS {
        let Some(m) = summary.get(def.tag) else {
            continue;
        };
        let cells: Vec<String> = match &m.value {
            MetricValue::Distribution(s) => [s.avg, s.min, s.max, s.p99, s.p90, s.p50, s.std]
                .iter()
                .map(|v| format_number(*v))
                .collect(),
            MetricValue::Scalar(v) => {
                let mut c = vec![format_number(*v)];
                c.extend(std::iter::repeat_n("-".to_owned(), 6));
                c
            }
        };
        let mut row = vec![def.label()];
        row.extend(cells);
        table.add_row(row);
    }
    for col in table.column_iter_mut() {
        col.set_cell_alignment(CellAlignment::Right);
    }
    let width = table
        .to_string()
        .lines()
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(80);
    let title = "imgperf | Image Generation Metrics";
    format!("{:^width$}\n{table}", title, width = width)
}

/// Errors grouped by code and message, one line each.
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

    #[test]
    fn numbers_group_thousands() {
        assert_eq!(format_number(12617.5833), "12,617.58");
        assert_eq!(format_number(287.615), "287.62");
        assert_eq!(format_number(6.666), "6.67");
        assert_eq!(format_number(1234567.0), "1,234,567.00");
        assert_eq!(format_number(0.0), "0.00");
        assert_eq!(format_number(-1500.0), "-1,500.00");
    }
}

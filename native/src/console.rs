//! Console output: the "Image Generation Metrics" table (AIPerf's columns
//! avg min max p99 p90 p50 std, numbers with thousands separators) and the
//! error summary below it. Rows and number format come from core's
//! [`imgperf_core::table`], shared with the web app. Then what only imgperf
//! prints: the per-size table, the image checks, the streaming note, and a
//! sweep's table.

use comfy_table::{presets, CellAlignment, ContentArrangement, Table};
use imgperf_core::metrics::{ImageReport, Summary};
use imgperf_core::table;

pub use imgperf_core::table::{error_lines, format_number};

/// The metrics table as text.
pub fn metrics_table(summary: &Summary) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(table::HEADER);
    for row in table::rows(summary) {
        let mut cells = vec![row.label()];
        cells.extend(row.cells());
        t.add_row(cells);
    }
    for col in t.column_iter_mut() {
        col.set_cell_alignment(CellAlignment::Right);
    }
    let width = t
        .to_string()
        .lines()
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(80);
    format!("{:^width$}\n{t}", table::title(summary), width = width)
}

/// A table with the metrics table's look, numbers right-aligned.
pub(crate) fn plain_table(header: Vec<String>, rows: Vec<Vec<String>>) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header);
    for r in rows {
        t.add_row(r);
    }
    for col in t.column_iter_mut() {
        col.set_cell_alignment(CellAlignment::Right);
    }
    t
}

/// Per requested size (only when requests asked for several sizes).
pub fn size_table(report: &ImageReport) -> Option<String> {
    if report.per_size.is_empty() {
        return None;
    }
    let header = [
        "Size",
        "ok",
        "errors",
        "latency avg (ms)",
        "latency p50 (ms)",
        "latency p99 (ms)",
        "TTFB p50 (ms)",
        "req/s",
        "img/s",
        "MP/s",
    ]
    .map(String::from)
    .to_vec();
    let stat = |s: &Option<imgperf_core::stats::Stats>,
                f: fn(&imgperf_core::stats::Stats) -> f64| {
        s.as_ref().map_or("-".to_owned(), |s| format_number(f(s)))
    };
    let rows = report
        .per_size
        .iter()
        .map(|s| {
            vec![
                s.size.clone(),
                s.request_count.to_string(),
                s.error_request_count.to_string(),
                stat(&s.request_latency, |s| s.avg),
                stat(&s.request_latency, |s| s.p50),
                stat(&s.request_latency, |s| s.p99),
                stat(&s.http_req_waiting, |s| s.p50),
                format_number(s.request_throughput),
                format_number(s.image_throughput),
                format_number(s.megapixel_throughput),
            ]
        })
        .collect();
    Some(format!("Per requested size\n{}", plain_table(header, rows)))
}

/// What the image (or video) checks saw: images by format and dimensions,
/// videos by codec, size, frames and rate, then issues grouped by kind and message.
pub fn image_lines(report: &ImageReport) -> Vec<String> {
    let mut out = Vec::new();
    if !report.videos.is_empty() {
        let shapes: Vec<String> = report
            .videos
            .iter()
            .map(|(v, n)| {
                let fps = v.fps_milli as f64 / 1000.0;
                format!(
                    "{n} × {} {}x{}, {} frames at {fps} fps ({:.2} s)",
                    v.codec,
                    v.width,
                    v.height,
                    v.frames,
                    if fps > 0.0 {
                        v.frames as f64 / fps
                    } else {
                        0.0
                    }
                )
            })
            .collect();
        out.push(format!("Output videos: {}", shapes.join(", ")));
    }
    if !report.shapes.is_empty() {
        let shapes: Vec<String> = report
            .shapes
            .iter()
            .map(|(f, w, h, n)| format!("{n} × {f} {w}x{h}"))
            .collect();
        out.push(format!("Output images: {}", shapes.join(", ")));
    }
    if !report.issues.is_empty() {
        let total: u64 = report.issues.iter().map(|(_, _, n)| n).sum();
        let what = if report.video_jobs > 0 {
            "Video"
        } else {
            "Image"
        };
        out.push(format!("{what} issues ({total}):"));
        for (kind, message, n) in &report.issues {
            out.push(format!("  {n} × {}: {message}", kind.name()));
        }
    }
    out
}

/// The one-time note when `--streaming` got plain JSON back.
pub fn stream_note(report: &ImageReport) -> Option<String> {
    (report.stream_ignored > 0).then(|| {
        format!(
            "Note: --streaming asked for a stream, but the server answered {} of {} requests with plain JSON \
             (it ignores \"stream\", as SGLang does): no partial-image metrics for those.",
            report.stream_ignored, report.stream_requested
        )
    })
}

/// The sweep's table: one row per point.
pub fn sweep_table(header: Vec<String>, rows: Vec<Vec<String>>) -> String {
    format!(
        "imgperf | Sweep: throughput vs latency\n{}",
        plain_table(header, rows)
    )
}

//! The telemetry tables on the console: "GPU Telemetry" (one row per GPU,
//! energy per image and power in flight against idle below) and the server's
//! queue gauges. Rows and notes come from core's
//! [`imgperf_core::telemetry::table`], shared with the web app.

use comfy_table::CellAlignment;
use imgperf_core::metrics::Summary;
use imgperf_core::telemetry::gpu::GpuTelemetrySummary;
use imgperf_core::telemetry::server::ServerMetricsSummary;
use imgperf_core::telemetry::table;

fn draw(title: &str, header: Vec<String>, rows: Vec<Vec<String>>) -> String {
    let mut t = crate::console::plain_table(header, rows);
    if let Some(first) = t.column_mut(0) {
        first.set_cell_alignment(CellAlignment::Left);
    }
    format!("{title}\n{t}")
}

/// The GPU table and the lines under it (nothing when no GPU reported).
pub fn gpu_lines(gpu: &GpuTelemetrySummary, summary: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    if !gpu.gpus.is_empty() {
        let header = table::GPU_HEADER.map(String::from).to_vec();
        out.push(draw(table::GPU_TITLE, header, table::gpu_rows(gpu)));
    }
    out.extend(table::gpu_notes(gpu, summary));
    out
}

/// The server queue table (when a known gauge was exported) and a summary line.
pub fn server_lines(server: &ServerMetricsSummary) -> Vec<String> {
    let mut out = Vec::new();
    if server.endpoints.iter().all(|e| e.ok == 0 && e.failed == 0) {
        return out;
    }
    if let Some((header, rows)) = table::queue_table(server) {
        out.push(draw(table::SERVER_TITLE, header, rows));
    }
    out.extend(table::server_notes(server));
    out
}

/// Everything the console shows about a run's telemetry.
pub fn lines(tel: &super::TelemetryResults, summary: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(g) = &tel.gpu {
        out.extend(gpu_lines(g, summary));
    }
    out.extend(tel.notes.iter().cloned());
    if let Some(s) = &tel.server {
        out.extend(server_lines(s));
    }
    out
}

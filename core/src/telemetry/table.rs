//! The "GPU Telemetry" table and the server's queue gauges as data (header,
//! rows of cells, notes below), drawn by the CLI with comfy-table and by
//! the web app as HTML, so both show the same rows and digits.

use super::gpu::GpuTelemetrySummary;
use super::report::{ENERGY_PER_IMAGE, ENERGY_PER_MEGAPIXEL, IMAGES_PER_KWH};
use super::server::{GaugeSeries, ServerMetricsSummary};
use super::{EndpointStatus, Spread};
use crate::metrics::{MetricDef, MetricValue, Summary};
use crate::table::format_number;

/// Title above the GPU table.
pub const GPU_TITLE: &str = "imgperf | GPU Telemetry";

/// Title above the server queue table.
pub const SERVER_TITLE: &str = "imgperf | Server Queue (server's /metrics)";

/// Queue and running-request gauges of known servers: `(name, meaning)`.
pub const QUEUE_GAUGES: &[(&str, &str)] = &[
    ("sglang:num_queue_reqs", "queued"),
    ("sglang:num_running_reqs", "running"),
    ("vllm:num_requests_waiting", "queued"),
    ("vllm:num_requests_running", "running"),
    ("tgi_queue_size", "queued"),
    ("tgi_batch_current_size", "running"),
    ("dynamo_frontend_queued_requests", "queued"),
    ("dynamo_frontend_inflight_requests", "running"),
    ("nv_inference_pending_request_count", "queued"),
    ("imgperf_mock:num_requests_waiting", "queued"),
    ("imgperf_mock:num_requests_running", "running"),
];

fn cell(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite())
        .map_or_else(|| "-".to_owned(), format_number)
}

fn pick(s: Option<Spread>, f: fn(Spread) -> f64) -> Option<f64> {
    s.map(f)
}

/// Column headers of the GPU table.
pub const GPU_HEADER: [&str; 11] = [
    "GPU",
    "Model",
    "Power avg (W)",
    "Power max (W)",
    "Energy (J)",
    "Util avg (%)",
    "Util max (%)",
    "Memory max (MiB)",
    "SM clock avg (MHz)",
    "Temp max (°C)",
    "XID",
];

/// One row per GPU.
pub fn gpu_rows(gpu: &GpuTelemetrySummary) -> Vec<Vec<String>> {
    gpu.gpus
        .iter()
        .map(|g| {
            // Utilization: DCGM's GPU_UTIL, else the profiling counter as %.
            let util = g.gpu_util_pct.or(g.gr_engine_active.map(|s| Spread {
                avg: s.avg * 100.0,
                min: s.min * 100.0,
                max: s.max * 100.0,
            }));
            vec![
                g.display_name(),
                g.model_name.clone().unwrap_or_else(|| "-".into()),
                cell(pick(g.power_w, |s| s.avg)),
                cell(pick(g.power_w, |s| s.max)),
                cell(g.energy_j),
                cell(pick(util, |s| s.avg)),
                cell(pick(util, |s| s.max)),
                cell(pick(g.fb_used_mib, |s| s.max)),
                cell(pick(g.sm_clock_mhz, |s| s.avg)),
                cell(pick(g.gpu_temp_c, |s| s.max)),
                if g.xid_codes.is_empty() {
                    "0".into()
                } else {
                    g.xid_codes
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(" ")
                },
            ]
        })
        .collect()
}

/// What a GPU buyer reads under the table: energy and where it came from,
/// energy per image and per megapixel, images per kWh, power with requests
/// in flight against idle; then every endpoint that failed scrapes.
pub fn gpu_notes(gpu: &GpuTelemetrySummary, summary: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    if let (Some(e), Some(src)) = (gpu.energy_j, gpu.energy_source) {
        out.push(format!(
            "GPU energy: {} J over {} s of scrapes, from the {} ({} GPU{}).",
            format_number(e),
            format_number(gpu.span_s),
            src.describe(),
            gpu.gpus.len(),
            if gpu.gpus.len() == 1 { "" } else { "s" }
        ));
    }
    // The run's own energy metrics (absent for one shard of a scaled-out run).
    let metric = |def: MetricDef| match summary.get(def.tag).map(|m| &m.value) {
        Some(MetricValue::Scalar(v)) => Some(*v),
        _ => None,
    };
    if let Some(per_image) = metric(ENERGY_PER_IMAGE) {
        out.push(format!(
            "Energy per image: {} J · per megapixel: {} J/MP · {} images per kWh.",
            format_number(per_image),
            cell(metric(ENERGY_PER_MEGAPIXEL)),
            cell(metric(IMAGES_PER_KWH))
        ));
    }
    if gpu.power_in_flight_w.is_some() || gpu.power_idle_w.is_some() {
        out.push(format!(
            "GPU power (all GPUs): {} W with requests in flight, {} W idle.",
            cell(gpu.power_in_flight_w),
            cell(gpu.power_idle_w)
        ));
    }
    for g in gpu.gpus.iter().filter(|g| g.duplicate_of.is_some()) {
        out.push(format!(
            "GPU {} of {} is also reported by {}: counted once.",
            g.display_name(),
            g.endpoint,
            g.duplicate_of.as_deref().unwrap_or("-")
        ));
    }
    out.extend(failures(&gpu.endpoints));
    out
}

/// The queue and running-request gauges present, known servers' names first.
pub fn queue_gauges(server: &ServerMetricsSummary) -> Vec<&GaugeSeries> {
    QUEUE_GAUGES
        .iter()
        .flat_map(|(name, _)| server.gauges.iter().filter(move |g| g.name == *name))
        .collect()
}

/// Header and rows of the server queue table (`None` when no known gauge
/// was exported).
pub fn queue_table(server: &ServerMetricsSummary) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let gauges = queue_gauges(server);
    if gauges.is_empty() {
        return None;
    }
    let header = ["Gauge", "Meaning", "avg", "min", "max", "samples"]
        .map(String::from)
        .to_vec();
    let rows = gauges
        .iter()
        .map(|g| {
            let labels: Vec<String> = g
                .labels
                .iter()
                .filter(|(k, _)| k.as_str() != "model_name" && k.as_str() != "engine")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let name = if labels.is_empty() {
                g.name.clone()
            } else {
                format!("{}{{{}}}", g.name, labels.join(","))
            };
            let meaning = QUEUE_GAUGES
                .iter()
                .find(|(n, _)| *n == g.name)
                .map_or("", |(_, m)| m);
            vec![
                name,
                meaning.to_owned(),
                format_number(g.avg),
                format_number(g.min),
                format_number(g.max),
                g.samples.to_string(),
            ]
        })
        .collect();
    Some((header, rows))
}

/// One line about the server metrics: series kept, endpoints and failures.
pub fn server_notes(server: &ServerMetricsSummary) -> Vec<String> {
    let mut out = vec![format!(
        "Server metrics: {} series from {} endpoint{} ({} gauges, {} counters, {} histograms summarised).",
        server.series,
        server.endpoints.len(),
        if server.endpoints.len() == 1 { "" } else { "s" },
        server.gauges.len(),
        server.counters.len(),
        server.histograms.len()
    )];
    if server.samples_dropped > 0 {
        out.push(format!(
            "{} samples of series beyond the first {} were not summarised (they are in the export).",
            server.samples_dropped,
            super::server::MAX_SERIES
        ));
    }
    out.extend(failures(&server.endpoints));
    out
}

/// One line per endpoint whose scrapes failed.
fn failures(endpoints: &[EndpointStatus]) -> impl Iterator<Item = String> + '_ {
    endpoints.iter().filter(|e| e.failed > 0).map(|e| {
        format!(
            "Scrapes of {} failed {} of {} times (gaps in its series); first: {}",
            e.url,
            e.failed,
            e.ok + e.failed,
            e.first_error.as_deref().unwrap_or("-")
        )
    })
}

//! Telemetry in a run's results: the energy metrics added to its
//! [`Summary`] (so summary JSON and CSV, sweeps and the viewer carry them
//! like any other metric), the `gpu_telemetry` and `server_metrics` keys of
//! the summary JSON, and the CSV's telemetry sections.

use serde_json::{json, Value};

use super::gpu::GpuTelemetrySummary;
use super::server::ServerMetricsSummary;
use crate::export::csv_field;
use crate::metrics::{MetricDef, MetricSummary, MetricValue, Summary};

const fn def(tag: &'static str, header: &'static str, unit: &'static str) -> MetricDef {
    MetricDef { tag, header, unit }
}

/// Energy of every GPU over the profiling phase.
pub const GPU_ENERGY: MetricDef = def("gpu_energy", "GPU Energy", "J");
/// GPU energy per image of the successful requests.
pub const ENERGY_PER_IMAGE: MetricDef = def("energy_per_image", "Energy per Image", "J");
/// GPU energy per output megapixel of the successful requests.
pub const ENERGY_PER_MEGAPIXEL: MetricDef =
    def("energy_per_megapixel", "Energy per Megapixel", "J/MP");
/// Images made per kilowatt-hour of GPU energy.
pub const IMAGES_PER_KWH: MetricDef = def("images_per_kwh", "Images per kWh", "images/kWh");
/// Summed mean GPU power while the client had requests in flight.
pub const GPU_POWER_IN_FLIGHT: MetricDef = def(
    "gpu_power_in_flight",
    "GPU Power with Requests in Flight",
    "W",
);
/// Summed mean GPU power while the client had none in flight.
pub const GPU_POWER_IDLE: MetricDef = def("gpu_power_idle", "GPU Power Idle", "W");

/// The telemetry metrics, in summary order.
pub const METRICS: [MetricDef; 6] = [
    GPU_ENERGY,
    ENERGY_PER_IMAGE,
    ENERGY_PER_MEGAPIXEL,
    IMAGES_PER_KWH,
    GPU_POWER_IN_FLIGHT,
    GPU_POWER_IDLE,
];

/// Images and megapixels of the successful requests of a summary.
pub fn images_and_megapixels(summary: &Summary) -> (f64, f64) {
    let total = |dist: &str, rate: &str| match summary.get(dist).map(|m| &m.value) {
        Some(MetricValue::Distribution(s)) if s.sum.is_finite() => s.sum,
        _ => match summary.get(rate).map(|m| &m.value) {
            Some(MetricValue::Scalar(r)) => r * summary.benchmark_duration_s,
            _ => 0.0,
        },
    };
    (
        total("output_image_count", "image_throughput"),
        total("output_megapixels", "megapixel_throughput"),
    )
}

/// The energy metrics of a run: present when the GPUs gave an energy figure
/// (per image, per megapixel and per kWh only when images were made) and
/// power figures.
pub fn energy_metrics(summary: &Summary, gpu: &GpuTelemetrySummary) -> Vec<MetricSummary> {
    let (images, megapixels) = images_and_megapixels(summary);
    let mut out = Vec::new();
    let mut push = |def: MetricDef, v: Option<f64>| {
        if let Some(v) = v.filter(|v| v.is_finite()) {
            out.push(MetricSummary {
                def,
                value: MetricValue::Scalar(v),
            });
        }
    };
    let energy = gpu.energy_j;
    push(GPU_ENERGY, energy);
    push(
        ENERGY_PER_IMAGE,
        energy.filter(|_| images > 0.0).map(|e| e / images),
    );
    push(
        ENERGY_PER_MEGAPIXEL,
        energy.filter(|_| megapixels > 0.0).map(|e| e / megapixels),
    );
    push(
        IMAGES_PER_KWH,
        energy
            .filter(|e| *e > 0.0 && images > 0.0)
            .map(|e| images / (e / 3.6e6)),
    );
    push(GPU_POWER_IN_FLIGHT, gpu.power_in_flight_w);
    push(GPU_POWER_IDLE, gpu.power_idle_w);
    out
}

/// Add the energy metrics to a run's summary (after its own metrics).
pub fn add_energy_metrics(summary: &mut Summary, gpu: &GpuTelemetrySummary) {
    let extra = energy_metrics(summary, gpu);
    summary
        .metrics
        .retain(|m| !METRICS.iter().any(|d| d.tag == m.def.tag));
    summary.metrics.extend(extra);
}

/// Add `gpu_telemetry` and `server_metrics` to a summary JSON object.
pub fn add_to_summary_json(
    summary: &mut Value,
    gpu: Option<&GpuTelemetrySummary>,
    server: Option<&ServerMetricsSummary>,
) {
    let Value::Object(out) = summary else { return };
    if let Some(g) = gpu {
        out.insert("gpu_telemetry".into(), json!(g));
    }
    if let Some(s) = server {
        out.insert("server_metrics".into(), json!(s));
    }
}

fn num(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite())
        .map_or(String::new(), |v| format!("{v:.2}"))
}

/// The CSV's telemetry sections (each after a blank line): one row per GPU,
/// then the server's gauges, counters and histograms.
pub fn csv(gpu: Option<&GpuTelemetrySummary>, server: Option<&ServerMetricsSummary>) -> String {
    let mut out = String::new();
    if let Some(g) = gpu.filter(|g| !g.gpus.is_empty()) {
        out.push_str(
            "\nGPU,Endpoint,UUID,Model,Samples,Power avg (W),Power max (W),Power in flight (W),\
             Power idle (W),Energy (J),Energy source,GPU util avg (%),GR engine active avg,\
             Memory used max (MiB),SM clock avg (MHz),Temperature max (C),XID error samples\n",
        );
        for x in &g.gpus {
            let row = [
                csv_field(&x.display_name()),
                csv_field(&x.endpoint),
                csv_field(x.uuid.as_deref().unwrap_or("")),
                csv_field(x.model_name.as_deref().unwrap_or("")),
                x.samples.to_string(),
                num(x.power_w.map(|s| s.avg)),
                num(x.power_w.map(|s| s.max)),
                num(x.power_in_flight_w),
                num(x.power_idle_w),
                num(x.energy_j),
                x.energy_source.map_or("", |s| s.describe()).to_owned(),
                num(x.gpu_util_pct.map(|s| s.avg)),
                num(x.gr_engine_active.map(|s| s.avg)),
                num(x.fb_used_mib.map(|s| s.max)),
                num(x.sm_clock_mhz.map(|s| s.avg)),
                num(x.gpu_temp_c.map(|s| s.max)),
                x.xid_error_samples.to_string(),
            ];
            out.push_str(&row.join(","));
            out.push('\n');
        }
    }
    if let Some(s) = server.filter(|s| s.series > 0) {
        let labels = |l: &std::collections::BTreeMap<String, String>| {
            let v: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v}")).collect();
            csv_field(&v.join(";"))
        };
        out.push_str("\nServer gauge,Endpoint,Labels,avg,min,max,last\n");
        for g in &s.gauges {
            let row = [
                csv_field(&g.name),
                csv_field(&g.endpoint),
                labels(&g.labels),
                num(Some(g.avg)),
                num(Some(g.min)),
                num(Some(g.max)),
                num(Some(g.last)),
            ];
            out.push_str(&(row.join(",") + "\n"));
        }
        out.push_str("\nServer counter,Endpoint,Labels,delta,rate (/s)\n");
        for c in &s.counters {
            let row = [
                csv_field(&c.name),
                csv_field(&c.endpoint),
                labels(&c.labels),
                num(Some(c.delta)),
                num(Some(c.rate_per_s)),
            ];
            out.push_str(&(row.join(",") + "\n"));
        }
        if !s.histograms.is_empty() {
            out.push_str("\nServer histogram,Endpoint,Labels,count,mean,p50,p90,p99\n");
            for h in &s.histograms {
                let row = [
                    csv_field(&h.name),
                    csv_field(&h.endpoint),
                    labels(&h.labels),
                    num(Some(h.count)),
                    num(h.mean),
                    num(h.p50),
                    num(h.p90),
                    num(h.p99),
                ];
                out.push_str(&(row.join(",") + "\n"));
            }
        }
    }
    out
}

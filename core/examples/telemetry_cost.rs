//! What one scrape costs the client: parse a DCGM exporter's exposition for
//! 8 GPUs (its default fields) and a large server `/metrics` (histograms),
//! pick the GPU readings / server samples, and fold them into the run's
//! accumulators. Prints microseconds per scrape (median of 200).
//!
//! `cargo run --release -p imgperf-core --example telemetry_cost`

use imgperf_core::telemetry::dcgm::{readings, GpuScrape};
use imgperf_core::telemetry::gpu::GpuAccumulator;
use imgperf_core::telemetry::prometheus::parse;
use imgperf_core::telemetry::server::{samples, ServerAccumulator, ServerScrape};
use imgperf_core::telemetry::ScrapeHead;
use std::fmt::Write;
use std::time::Instant;

const DCGM_FIELDS: [&str; 24] = [
    "DCGM_FI_DEV_SM_CLOCK",
    "DCGM_FI_DEV_MEM_CLOCK",
    "DCGM_FI_DEV_MEMORY_TEMP",
    "DCGM_FI_DEV_GPU_TEMP",
    "DCGM_FI_DEV_POWER_USAGE",
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
    "DCGM_FI_DEV_PCIE_REPLAY_COUNTER",
    "DCGM_FI_DEV_GPU_UTIL",
    "DCGM_FI_DEV_MEM_COPY_UTIL",
    "DCGM_FI_DEV_ENC_UTIL",
    "DCGM_FI_DEV_DEC_UTIL",
    "DCGM_FI_DEV_XID_ERRORS",
    "DCGM_FI_DEV_FB_FREE",
    "DCGM_FI_DEV_FB_USED",
    "DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL",
    "DCGM_FI_DEV_VGPU_LICENSE_STATUS",
    "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS",
    "DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS",
    "DCGM_FI_DEV_ROW_REMAP_FAILURE",
    "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
    "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
    "DCGM_FI_PROF_DRAM_ACTIVE",
    "DCGM_FI_PROF_PCIE_TX_BYTES",
    "DCGM_FI_PROF_PCIE_RX_BYTES",
];

fn dcgm_text(gpus: usize, t: usize) -> String {
    let mut s = String::new();
    for f in DCGM_FIELDS {
        let _ = writeln!(s, "# HELP {f} Field {f}.\n# TYPE {f} gauge");
        for g in 0..gpus {
            let _ = writeln!(
                s,
                "{f}{{gpu=\"{g}\",UUID=\"GPU-{g:08x}-1111-2222-3333-444455556666\",pci_bus_id=\"00000000:{g:02X}:00.0\",device=\"nvidia{g}\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"node-1\",DCGM_FI_DRIVER_VERSION=\"550.54.15\"}} {}",
                (t * 7 + g * 13) % 1000
            );
        }
    }
    s
}

fn server_text(models: usize, t: usize) -> String {
    let mut s = String::new();
    for name in [
        "vllm:num_requests_running",
        "vllm:num_requests_waiting",
        "vllm:kv_cache_usage_perc",
    ] {
        let _ = writeln!(s, "# TYPE {name} gauge");
        for m in 0..models {
            let _ = writeln!(
                s,
                "{name}{{engine=\"0\",model_name=\"model-{m}\"}} {}",
                t % 9
            );
        }
    }
    let buckets = [
        0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0,
    ];
    for name in [
        "vllm:e2e_request_latency_seconds",
        "vllm:time_to_first_token_seconds",
        "vllm:request_queue_time_seconds",
    ] {
        let _ = writeln!(s, "# TYPE {name} histogram");
        for m in 0..models {
            for (i, le) in buckets.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "{name}_bucket{{le=\"{le}\",model_name=\"model-{m}\"}} {}",
                    t * (i + 1)
                );
            }
            let _ = writeln!(
                s,
                "{name}_bucket{{le=\"+Inf\",model_name=\"model-{m}\"}} {}",
                t * 14
            );
            let _ = writeln!(s, "{name}_sum{{model_name=\"model-{m}\"}} {}.5\n{name}_count{{model_name=\"model-{m}\"}} {}", t * 3, t * 14);
        }
    }
    s
}

fn head(t: usize) -> ScrapeHead {
    ScrapeHead {
        timestamp_ns: t as u64 * 333_000_000,
        endpoint: "http://node-1:9400/metrics".into(),
        in_flight: 1,
        edge: None,
        error: None,
    }
}

fn median_us(mut run: impl FnMut(usize)) -> f64 {
    let mut times: Vec<f64> = (1..=200)
        .map(|t| {
            let start = Instant::now();
            run(t);
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let dcgm: Vec<String> = (0..=200).map(|t| dcgm_text(8, t)).collect();
    let mut gpu = GpuAccumulator::new();
    let us = median_us(|t| {
        let e = parse(&dcgm[t]).expect("valid");
        gpu.add(&GpuScrape {
            head: head(t),
            gpus: readings(&e),
        });
    });
    println!(
        "DCGM exporter, 8 GPUs x {} fields ({} bytes): {us:.0} us per scrape",
        DCGM_FIELDS.len(),
        dcgm[1].len()
    );
    let server: Vec<String> = (0..=200).map(|t| server_text(4, t)).collect();
    let mut acc = ServerAccumulator::new();
    let us = median_us(|t| {
        let e = parse(&server[t]).expect("valid");
        acc.add(&ServerScrape {
            head: head(t),
            samples: samples(&e),
        });
    });
    let n = parse(&server[1]).map(|e| e.samples().count()).unwrap_or(0);
    println!(
        "server /metrics, {n} samples with histograms ({} bytes): {us:.0} us per scrape",
        server[1].len()
    );
}

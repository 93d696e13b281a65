//! The mock's own load, as a server and its GPUs would report it on
//! `GET /metrics` (Prometheus text): a queue-length and a running-requests
//! gauge (named as the dialect's server names them), request counters and a
//! service-time histogram; with `--gpus N`, DCGM-shaped series per GPU
//! driven by the slots' busy time, so tests know the truth:
//!
//! - power = `--gpu-idle-watts` + `--gpu-watts-per-slot` × busy slots of that GPU;
//! - energy counter (mJ) = the exact integral of that power since start;
//! - utilization = busy share of the GPU's slots (`GPU_UTIL` %, `GR_ENGINE_ACTIVE` ratio);
//! - memory used, SM clock and temperature follow the busy share.
//!
//! With `--gpus N` each GPU has `--slots` slots (slot `i` is on GPU `i / slots`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use imgperf_core::telemetry::prometheus::{self, Exposition, Family, MetricType, Sample};
use tokio::time::Instant;

use super::args::{Dialect, MockArgs};
use super::faults::mix64;
use super::Shared;

/// Upper bounds of the service-time histogram, seconds.
const SERVICE_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
const FB_TOTAL_MIB: f64 = 81_559.0;
const FB_BASE_MIB: f64 = 24_576.0;
const FB_PER_SLOT_MIB: f64 = 8_192.0;

#[derive(Debug, Clone, Copy, Default)]
struct SlotState {
    /// Busy time of finished services.
    done: Duration,
    /// The service in progress (or last one), with its batch size.
    current: Option<(Instant, Instant, usize)>,
}

impl SlotState {
    fn busy_until(&self, t: Instant) -> Duration {
        let running = self.current.map_or(Duration::ZERO, |(start, end, _)| {
            t.min(end).saturating_duration_since(start)
        });
        self.done + running
    }

    fn busy_at(&self, t: Instant) -> Option<usize> {
        self.current
            .filter(|(start, end, _)| *start <= t && t < *end)
            .map(|(_, _, batch)| batch)
    }
}

/// What the mock is doing, for `/metrics`.
pub(crate) struct Load {
    gpus: usize,
    slots_per_gpu: usize,
    idle_w: f64,
    slot_w: f64,
    energy_counter: bool,
    seed: u64,
    started: Instant,
    slots: Mutex<Vec<SlotState>>,
    /// End times of services that needed no slot (`--slots 0`).
    unslotted: Mutex<Vec<Instant>>,
    waiting: AtomicU64,
    service_count: AtomicU64,
    service_sum_us: AtomicU64,
    service_buckets: [AtomicU64; SERVICE_BUCKETS.len()],
}

/// Counts a request as queued until dropped.
pub(crate) struct Queued(Arc<Load>);

impl Drop for Queued {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Load {
    pub(crate) fn new(args: &MockArgs) -> Arc<Load> {
        Arc::new(Load {
            gpus: args.gpus,
            slots_per_gpu: args.slots,
            idle_w: args.gpu_idle_watts,
            slot_w: args.gpu_watts_per_slot,
            energy_counter: !args.gpu_no_energy_counter,
            seed: args.seed,
            started: Instant::now(),
            slots: Mutex::new(vec![SlotState::default(); Self::slot_count(args)]),
            unslotted: Mutex::new(Vec::new()),
            waiting: AtomicU64::new(0),
            service_count: AtomicU64::new(0),
            service_sum_us: AtomicU64::new(0),
            service_buckets: Default::default(),
        })
    }

    /// Generation slots in all: `--slots` per GPU with `--gpus`.
    pub(crate) fn slot_count(args: &MockArgs) -> usize {
        args.slots * args.gpus.max(1)
    }

    /// A request starts waiting for a slot.
    pub(crate) fn queued(self: &Arc<Self>) -> Queued {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        Queued(self.clone())
    }

    /// Slot `slot` serves `batch` requests from `start` to `end`.
    pub(crate) fn busy(&self, slot: usize, start: Instant, end: Instant, batch: usize) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = slots.get_mut(slot) {
            if let Some((a, b, _)) = s.current.take() {
                s.done += b.saturating_duration_since(a);
            }
            s.current = Some((start, end, batch));
        }
        drop(slots);
        self.observe(end.saturating_duration_since(start), batch);
    }

    /// A request served without a slot (`--slots 0`) until `end`.
    pub(crate) fn unslotted(&self, start: Instant, end: Instant) {
        let mut ends = self.unslotted.lock().unwrap_or_else(|e| e.into_inner());
        ends.retain(|e| *e > start);
        ends.push(end);
        drop(ends);
        self.observe(end.saturating_duration_since(start), 1);
    }

    fn observe(&self, service: Duration, batch: usize) {
        let s = service.as_secs_f64();
        let n = batch as u64;
        self.service_count.fetch_add(n, Ordering::Relaxed);
        self.service_sum_us
            .fetch_add(service.as_micros() as u64 * n, Ordering::Relaxed);
        for (b, le) in self.service_buckets.iter().zip(SERVICE_BUCKETS) {
            if s <= le {
                b.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    /// The exposition at `now`: server series, then DCGM series per GPU.
    pub(crate) fn exposition(&self, dialect: Dialect, received: u64, served: u64) -> Exposition {
        let now = Instant::now();
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let unslotted = {
            let ends = self.unslotted.lock().unwrap_or_else(|e| e.into_inner());
            ends.iter().filter(|e| **e > now).count()
        };
        let running: usize = slots.iter().filter_map(|s| s.busy_at(now)).sum::<usize>() + unslotted;
        let (waiting, running_name) = match dialect {
            Dialect::Sglang => ("sglang:num_queue_reqs", "sglang:num_running_reqs"),
            Dialect::VllmOmni => ("vllm:num_requests_waiting", "vllm:num_requests_running"),
            Dialect::Openai => (
                "imgperf_mock:num_requests_waiting",
                "imgperf_mock:num_requests_running",
            ),
        };
        let mut f = vec![
            family(
                waiting,
                MetricType::Gauge,
                "Requests waiting for a generation slot.",
                vec![sample(
                    waiting,
                    vec![],
                    self.waiting.load(Ordering::Relaxed) as f64,
                )],
            ),
            family(
                running_name,
                MetricType::Gauge,
                "Requests being generated.",
                vec![sample(running_name, vec![], running as f64)],
            ),
            family(
                "imgperf_mock:requests",
                MetricType::Counter,
                "Image requests received.",
                vec![sample(
                    "imgperf_mock:requests_total",
                    vec![],
                    received as f64,
                )],
            ),
            family(
                "imgperf_mock:images_served",
                MetricType::Counter,
                "Image requests answered with images.",
                vec![sample(
                    "imgperf_mock:images_served_total",
                    vec![],
                    served as f64,
                )],
            ),
            self.service_histogram(),
        ];
        if self.gpus > 0 {
            f.extend(self.dcgm(&slots, now));
        }
        Exposition { families: f }
    }

    fn service_histogram(&self) -> Family {
        let name = "imgperf_mock:service_seconds";
        let count = self.service_count.load(Ordering::Relaxed) as f64;
        let mut samples: Vec<Sample> = SERVICE_BUCKETS
            .iter()
            .zip(&self.service_buckets)
            .map(|(le, b)| {
                let le = format!("{le:?}");
                sample(
                    &format!("{name}_bucket"),
                    vec![("le", &le)],
                    b.load(Ordering::Relaxed) as f64,
                )
            })
            .collect();
        samples.push(sample(
            &format!("{name}_bucket"),
            vec![("le", "+Inf")],
            count,
        ));
        let sum = self.service_sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        samples.push(sample(&format!("{name}_sum"), vec![], sum));
        samples.push(sample(&format!("{name}_count"), vec![], count));
        family(
            name,
            MetricType::Histogram,
            "Service time of generations, seconds.",
            samples,
        )
    }

    fn dcgm(&self, slots: &[SlotState], now: Instant) -> Vec<Family> {
        let elapsed = now.saturating_duration_since(self.started).as_secs_f64();
        let per = self.slots_per_gpu.max(1);
        let gpus: Vec<(usize, f64, f64)> = (0..self.gpus)
            .map(|g| {
                let mine = slots.iter().skip(g * per).take(per);
                let busy_now = mine.clone().filter(|s| s.busy_at(now).is_some()).count();
                let busy_s: f64 = mine.map(|s| s.busy_until(now).as_secs_f64()).sum();
                (busy_now, busy_s, busy_now as f64 / per as f64)
            })
            .collect();
        let ids: Vec<(String, String, String)> = (0..self.gpus)
            .map(|g| {
                let h = mix64(self.seed ^ (g as u64 + 1).wrapping_mul(0x9E37_79B9));
                let uuid = format!(
                    "GPU-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                    h >> 32,
                    (h >> 16) & 0xffff,
                    h & 0xffff,
                    (h >> 48) & 0xffff,
                    mix64(h) & 0xffff_ffff_ffff
                );
                (g.to_string(), uuid, format!("nvidia{g}"))
            })
            .collect();
        let field = |name: &str, kind: MetricType, help: &str, value: &dyn Fn(usize) -> f64| {
            let samples = ids
                .iter()
                .enumerate()
                .map(|(g, (gpu, uuid, device))| {
                    let labels = vec![
                        ("gpu", gpu.as_str()),
                        ("UUID", uuid.as_str()),
                        ("device", device.as_str()),
                        ("modelName", "imgperf mock GPU"),
                        ("Hostname", "imgperf-mock"),
                    ];
                    sample(name, labels, value(g))
                })
                .collect();
            family(name, kind, help, samples)
        };
        let gauge = MetricType::Gauge;
        let mut out = vec![
            field(
                "DCGM_FI_DEV_POWER_USAGE",
                gauge,
                "Power draw (in W).",
                &|g| self.idle_w + self.slot_w * gpus[g].0 as f64,
            ),
            field(
                "DCGM_FI_DEV_POWER_MGMT_LIMIT",
                gauge,
                "Power management limit (in W).",
                &|_| 700.0,
            ),
            field(
                "DCGM_FI_DEV_GPU_UTIL",
                gauge,
                "GPU utilization (in %).",
                &|g| (gpus[g].2 * 100.0).round(),
            ),
            field(
                "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
                gauge,
                "Ratio of time the graphics engine is active.",
                &|g| gpus[g].2,
            ),
            field(
                "DCGM_FI_DEV_FB_USED",
                gauge,
                "Framebuffer memory used (in MiB).",
                &|g| FB_BASE_MIB + FB_PER_SLOT_MIB * gpus[g].0 as f64,
            ),
            field(
                "DCGM_FI_DEV_FB_FREE",
                gauge,
                "Framebuffer memory free (in MiB).",
                &|g| FB_TOTAL_MIB - FB_BASE_MIB - FB_PER_SLOT_MIB * gpus[g].0 as f64,
            ),
            field(
                "DCGM_FI_DEV_SM_CLOCK",
                gauge,
                "SM clock frequency (in MHz).",
                &|g| {
                    if gpus[g].0 > 0 {
                        1980.0
                    } else {
                        345.0
                    }
                },
            ),
            field(
                "DCGM_FI_DEV_MEM_CLOCK",
                gauge,
                "Memory clock frequency (in MHz).",
                &|_| 2619.0,
            ),
            field(
                "DCGM_FI_DEV_GPU_TEMP",
                gauge,
                "GPU temperature (in C).",
                &|g| (32.0 + 40.0 * gpus[g].2).round(),
            ),
            field(
                "DCGM_FI_DEV_XID_ERRORS",
                gauge,
                "Value of the last XID error encountered.",
                &|_| 0.0,
            ),
        ];
        if self.energy_counter {
            out.push(field(
                "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
                MetricType::Counter,
                "Total energy consumption since boot (in mJ).",
                &|g| {
                    let boot_mj = 1.0e9 * (g as f64 + 1.0);
                    boot_mj + 1000.0 * (self.idle_w * elapsed + self.slot_w * gpus[g].1)
                },
            ));
        }
        out
    }
}

fn sample(name: &str, labels: Vec<(&str, &str)>, value: f64) -> Sample {
    Sample {
        name: name.to_owned(),
        labels: labels
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        value,
        timestamp_ms: None,
    }
}

fn family(name: &str, kind: MetricType, help: &str, samples: Vec<Sample>) -> Family {
    Family {
        name: name.to_owned(),
        kind,
        help: Some(help.to_owned()),
        samples,
    }
}

/// `GET /metrics`.
pub(crate) async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let e = shared.load.exposition(
        shared.dialect,
        shared.requests.load(Ordering::Relaxed),
        shared.served.load(Ordering::Relaxed),
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        prometheus::write(&e),
    )
        .into_response()
}

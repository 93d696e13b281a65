//! Per-GPU figures of a run from its DCGM scrapes, folded one scrape at a
//! time ([`GpuAccumulator`], constant memory per GPU): power avg/min/max
//! and split by whether the client had requests in flight, energy over the
//! scraped span (the delta of `DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION`,
//! counter resets included, or else the trapezoid integral of power, and
//! which one was used), utilization, memory, clocks, temperature and XID
//! errors. The same code reads a `gpu_telemetry_export.jsonl` back.

use serde::{Deserialize, Serialize};

use super::dcgm::{GpuReading, GpuScrape};
use super::{EndpointStatus, Spread, SpreadAcc};

/// Where a GPU's energy figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnergySource {
    /// The delta of DCGM's total energy counter.
    Counter,
    /// Power samples integrated over time (no energy counter exported).
    IntegratedPower,
    /// Some GPUs one way, some the other.
    Mixed,
}

impl EnergySource {
    /// As shown to people.
    pub fn describe(self) -> &'static str {
        match self {
            EnergySource::Counter => "energy counter delta",
            EnergySource::IntegratedPower => "integrated power samples",
            EnergySource::Mixed => "counter delta where exported, else integrated power",
        }
    }
}

/// One GPU over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuSummary {
    /// The exporter that reported it.
    pub endpoint: String,
    /// Index, UUID, host and model (the readings' labels).
    pub gpu: String,
    /// `UUID` label.
    pub uuid: Option<String>,
    /// `Hostname` label.
    pub hostname: Option<String>,
    /// `modelName` label.
    pub model_name: Option<String>,
    /// Scrapes that reported this GPU.
    pub samples: u64,
    /// First to last of those scrapes, seconds.
    pub span_s: f64,
    /// Power, W.
    pub power_w: Option<Spread>,
    /// Mean power of the samples taken while requests were in flight, W.
    pub power_in_flight_w: Option<f64>,
    /// Mean power of the samples taken while no request was in flight, W.
    pub power_idle_w: Option<f64>,
    /// Power limit, W (last value).
    pub power_limit_w: Option<f64>,
    /// Energy over the span, J.
    pub energy_j: Option<f64>,
    /// How `energy_j` was obtained.
    pub energy_source: Option<EnergySource>,
    /// Energy counter resets seen (a GPU reset or exporter restart).
    pub energy_counter_resets: u32,
    /// `DCGM_FI_DEV_GPU_UTIL`, %.
    pub gpu_util_pct: Option<Spread>,
    /// `DCGM_FI_PROF_GR_ENGINE_ACTIVE`, ratio.
    pub gr_engine_active: Option<Spread>,
    /// `DCGM_FI_PROF_SM_ACTIVE`, ratio.
    pub sm_active: Option<Spread>,
    /// `DCGM_FI_PROF_PIPE_TENSOR_ACTIVE`, ratio.
    pub tensor_active: Option<Spread>,
    /// Framebuffer memory used, MiB.
    pub fb_used_mib: Option<Spread>,
    /// SM clock, MHz.
    pub sm_clock_mhz: Option<Spread>,
    /// Memory clock, MHz.
    pub mem_clock_mhz: Option<Spread>,
    /// Temperature, °C.
    pub gpu_temp_c: Option<Spread>,
    /// Scrapes whose XID field was non-zero.
    pub xid_error_samples: u64,
    /// The XID codes seen (non-zero, distinct, in order).
    pub xid_codes: Vec<u64>,
    /// Set when an earlier endpoint reported the same GPU (same UUID): this
    /// row is left out of the sums.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
}

/// Every GPU of a run, and their sums.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct GpuTelemetrySummary {
    /// Each exporter scraped, with its successes and failures.
    pub endpoints: Vec<EndpointStatus>,
    /// First to last successful scrape over all GPUs, seconds.
    pub span_s: f64,
    /// Per GPU, in order of first appearance.
    pub gpus: Vec<GpuSummary>,
    /// Energy of all GPUs with a figure, J (a GPU reported by two
    /// exporters counted once).
    pub energy_j: Option<f64>,
    /// How the energy was obtained.
    pub energy_source: Option<EnergySource>,
    /// Sum of the GPUs' mean power, W.
    pub power_w: Option<f64>,
    /// Sum of the GPUs' mean power while requests were in flight, W.
    pub power_in_flight_w: Option<f64>,
    /// Sum of the GPUs' mean power while idle, W.
    pub power_idle_w: Option<f64>,
}

#[derive(Debug, Clone, Default)]
struct GpuAcc {
    endpoint: String,
    id: GpuReading,
    samples: u64,
    first_ns: u64,
    last_ns: u64,
    power: SpreadAcc,
    in_flight: SpreadAcc,
    idle: SpreadAcc,
    power_limit: Option<f64>,
    /// Last power sample, for the trapezoids.
    last_power: Option<(u64, f64)>,
    integral_j: f64,
    integrated: bool,
    /// Last counter value and the summed deltas.
    last_energy: Option<f64>,
    energy_samples: u64,
    energy_mj: f64,
    resets: u32,
    util: SpreadAcc,
    gr: SpreadAcc,
    sm: SpreadAcc,
    tensor: SpreadAcc,
    fb_used: SpreadAcc,
    sm_clock: SpreadAcc,
    mem_clock: SpreadAcc,
    temp: SpreadAcc,
    xid_samples: u64,
    xid_codes: Vec<u64>,
}

/// Folds DCGM scrapes (in time order per endpoint) into a [`GpuTelemetrySummary`].
#[derive(Debug, Clone, Default)]
pub struct GpuAccumulator {
    endpoints: Vec<EndpointStatus>,
    gpus: Vec<GpuAcc>,
}

/// Most GPUs tracked (a larger exposition is cut, with a note).
pub const MAX_GPUS: usize = 4096;

impl GpuAccumulator {
    /// Nothing seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fold one scrape.
    pub fn add(&mut self, scrape: &GpuScrape) {
        let h = &scrape.head;
        if !EndpointStatus::tally(&mut self.endpoints, h) {
            return;
        }
        let t = h.timestamp_ns;
        for r in &scrape.gpus {
            let pos = self
                .gpus
                .iter()
                .position(|g| g.endpoint == h.endpoint && g.id.same_gpu(r));
            let pos = match pos {
                Some(p) => p,
                None if self.gpus.len() < MAX_GPUS => {
                    self.gpus.push(GpuAcc {
                        endpoint: h.endpoint.clone(),
                        id: GpuReading {
                            gpu: r.gpu.clone(),
                            uuid: r.uuid.clone(),
                            hostname: r.hostname.clone(),
                            model_name: r.model_name.clone(),
                            ..GpuReading::default()
                        },
                        first_ns: t,
                        ..GpuAcc::default()
                    });
                    self.gpus.len() - 1
                }
                None => continue,
            };
            self.gpus[pos].add(t, h.in_flight, r);
        }
    }

    /// The figures so far.
    pub fn finish(&self) -> GpuTelemetrySummary {
        let mut gpus: Vec<GpuSummary> = self.gpus.iter().map(GpuAcc::finish).collect();
        // A GPU two exporters report (same UUID) counts once in the sums.
        for i in 1..gpus.len() {
            let (seen, rest) = gpus.split_at_mut(i);
            let g = &mut rest[0];
            if let Some(first) = seen
                .iter()
                .find(|o| o.uuid.is_some() && o.uuid == g.uuid && o.duplicate_of.is_none())
            {
                g.duplicate_of = Some(first.endpoint.clone());
            }
        }
        let first = self.gpus.iter().map(|g| g.first_ns).min();
        let last = self.gpus.iter().map(|g| g.last_ns).max();
        let span_s = match (first, last) {
            (Some(a), Some(b)) => b.saturating_sub(a) as f64 / 1e9,
            _ => 0.0,
        };
        let counted = || gpus.iter().filter(|g| g.duplicate_of.is_none());
        let sum = |f: fn(&GpuSummary) -> Option<f64>| {
            let v: Vec<f64> = counted().filter_map(f).collect();
            (!v.is_empty()).then(|| v.iter().sum())
        };
        let sources: Vec<EnergySource> = counted().filter_map(|g| g.energy_source).collect();
        let energy_source = match sources.first() {
            None => None,
            Some(s) if sources.iter().all(|x| x == s) => Some(*s),
            Some(_) => Some(EnergySource::Mixed),
        };
        GpuTelemetrySummary {
            endpoints: self.endpoints.clone(),
            span_s,
            energy_j: sum(|g| g.energy_j),
            energy_source,
            power_w: sum(|g| g.power_w.map(|p| p.avg)),
            power_in_flight_w: sum(|g| g.power_in_flight_w),
            power_idle_w: sum(|g| g.power_idle_w),
            gpus,
        }
    }
}

impl GpuAcc {
    fn add(&mut self, t: u64, in_flight: u32, r: &GpuReading) {
        self.samples += 1;
        self.last_ns = self.last_ns.max(t);
        if let Some(p) = r.power_w {
            self.power.add(p);
            if in_flight > 0 {
                self.in_flight.add(p);
            } else {
                self.idle.add(p);
            }
            if let Some((t0, p0)) = self.last_power {
                if t > t0 {
                    self.integral_j += (p0 + p) / 2.0 * (t - t0) as f64 / 1e9;
                    self.integrated = true;
                }
            }
            self.last_power = Some((t, p));
        }
        if r.power_limit_w.is_some() {
            self.power_limit = r.power_limit_w;
        }
        if let Some(e) = r.energy_mj {
            match self.last_energy {
                Some(prev) if e >= prev => self.energy_mj += e - prev,
                Some(_) => {
                    // The counter went back: it restarted from zero.
                    self.resets += 1;
                    self.energy_mj += e;
                }
                None => {}
            }
            self.last_energy = Some(e);
            self.energy_samples += 1;
        }
        for (acc, v) in [
            (&mut self.util, r.gpu_util_pct),
            (&mut self.gr, r.gr_engine_active),
            (&mut self.sm, r.sm_active),
            (&mut self.tensor, r.tensor_active),
            (&mut self.fb_used, r.fb_used_mib),
            (&mut self.sm_clock, r.sm_clock_mhz),
            (&mut self.mem_clock, r.mem_clock_mhz),
            (&mut self.temp, r.gpu_temp_c),
        ] {
            if let Some(v) = v {
                acc.add(v);
            }
        }
        if let Some(x) = r.xid_errors.filter(|x| *x != 0.0) {
            self.xid_samples += 1;
            let code = x as u64;
            if !self.xid_codes.contains(&code) && self.xid_codes.len() < 64 {
                self.xid_codes.push(code);
            }
        }
    }

    fn finish(&self) -> GpuSummary {
        let (energy_j, energy_source) = if self.energy_samples >= 2 {
            (Some(self.energy_mj / 1000.0), Some(EnergySource::Counter))
        } else if self.integrated {
            (Some(self.integral_j), Some(EnergySource::IntegratedPower))
        } else {
            (None, None)
        };
        GpuSummary {
            endpoint: self.endpoint.clone(),
            gpu: self.id.gpu.clone(),
            uuid: self.id.uuid.clone(),
            hostname: self.id.hostname.clone(),
            model_name: self.id.model_name.clone(),
            samples: self.samples,
            span_s: self.last_ns.saturating_sub(self.first_ns) as f64 / 1e9,
            power_w: self.power.finish(),
            power_in_flight_w: self.in_flight.finish().map(|s| s.avg),
            power_idle_w: self.idle.finish().map(|s| s.avg),
            power_limit_w: self.power_limit,
            energy_j,
            energy_source,
            energy_counter_resets: self.resets,
            gpu_util_pct: self.util.finish(),
            gr_engine_active: self.gr.finish(),
            sm_active: self.sm.finish(),
            tensor_active: self.tensor.finish(),
            fb_used_mib: self.fb_used.finish(),
            sm_clock_mhz: self.sm_clock.finish(),
            mem_clock_mhz: self.mem_clock.finish(),
            gpu_temp_c: self.temp.finish(),
            xid_error_samples: self.xid_samples,
            xid_codes: self.xid_codes.clone(),
            duplicate_of: None,
        }
    }
}

impl GpuSummary {
    /// Host and index, as shown in tables: `node1:0` (or `0`).
    pub fn display_name(&self) -> String {
        match &self.hostname {
            Some(h) if !h.is_empty() => format!("{h}:{}", self.gpu),
            _ => self.gpu.clone(),
        }
    }
}

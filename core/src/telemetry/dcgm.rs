//! DCGM exporter scrapes: the per-GPU readings imgperf keeps from an
//! [`Exposition`] (power, energy counter, utilization, memory, clocks,
//! temperature, XID errors), keyed by the exporter's `gpu`, `UUID`,
//! `Hostname` and `modelName` labels, and the `gpu_telemetry_export.jsonl`
//! line ([`GpuScrape`]) that carries them, one per scrape.

use serde::{Deserialize, Serialize};

use super::prometheus::{Exposition, Sample};
use super::ScrapeHead;

/// One GPU's values in one scrape (absent fields were not exported).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuReading {
    /// `gpu` label: the index on its host.
    pub gpu: String,
    /// `UUID` label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// `Hostname` label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// `modelName` label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    /// `DCGM_FI_DEV_POWER_USAGE`, W.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_w: Option<f64>,
    /// `DCGM_FI_DEV_POWER_MGMT_LIMIT`, W.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_limit_w: Option<f64>,
    /// `DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION`, mJ since boot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy_mj: Option<f64>,
    /// `DCGM_FI_DEV_GPU_UTIL`, %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_util_pct: Option<f64>,
    /// `DCGM_FI_PROF_GR_ENGINE_ACTIVE`, ratio 0..1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gr_engine_active: Option<f64>,
    /// `DCGM_FI_PROF_SM_ACTIVE`, ratio 0..1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sm_active: Option<f64>,
    /// `DCGM_FI_PROF_PIPE_TENSOR_ACTIVE`, ratio 0..1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tensor_active: Option<f64>,
    /// `DCGM_FI_DEV_FB_USED`, MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fb_used_mib: Option<f64>,
    /// `DCGM_FI_DEV_FB_FREE`, MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fb_free_mib: Option<f64>,
    /// `DCGM_FI_DEV_SM_CLOCK`, MHz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sm_clock_mhz: Option<f64>,
    /// `DCGM_FI_DEV_MEM_CLOCK`, MHz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_clock_mhz: Option<f64>,
    /// `DCGM_FI_DEV_GPU_TEMP`, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_temp_c: Option<f64>,
    /// `DCGM_FI_DEV_XID_ERRORS`: the last XID error code (0 = none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xid_errors: Option<f64>,
}

impl GpuReading {
    /// Host and index, as shown in tables: `node1:0` (or `0`).
    pub fn display_name(&self) -> String {
        match &self.hostname {
            Some(h) if !h.is_empty() => format!("{h}:{}", self.gpu),
            _ => self.gpu.clone(),
        }
    }

    /// Whether `other` is the same GPU: same UUID, or without UUIDs the
    /// same host and index.
    pub fn same_gpu(&self, other: &GpuReading) -> bool {
        match (&self.uuid, &other.uuid) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.gpu == other.gpu && self.hostname == other.hostname,
            _ => false,
        }
    }

    fn field(&mut self, family: &str) -> Option<&mut Option<f64>> {
        Some(match family {
            "DCGM_FI_DEV_POWER_USAGE" => &mut self.power_w,
            "DCGM_FI_DEV_POWER_MGMT_LIMIT" => &mut self.power_limit_w,
            "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION" => &mut self.energy_mj,
            "DCGM_FI_DEV_GPU_UTIL" => &mut self.gpu_util_pct,
            "DCGM_FI_PROF_GR_ENGINE_ACTIVE" => &mut self.gr_engine_active,
            "DCGM_FI_PROF_SM_ACTIVE" => &mut self.sm_active,
            "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE" => &mut self.tensor_active,
            "DCGM_FI_DEV_FB_USED" => &mut self.fb_used_mib,
            "DCGM_FI_DEV_FB_FREE" => &mut self.fb_free_mib,
            "DCGM_FI_DEV_SM_CLOCK" => &mut self.sm_clock_mhz,
            "DCGM_FI_DEV_MEM_CLOCK" => &mut self.mem_clock_mhz,
            "DCGM_FI_DEV_GPU_TEMP" => &mut self.gpu_temp_c,
            "DCGM_FI_DEV_XID_ERRORS" => &mut self.xid_errors,
            _ => return None,
        })
    }
}

/// Whether a family is one of DCGM's (`DCGM_FI_...`): GPU telemetry, kept
/// out of the server metrics.
pub fn is_dcgm(family: &str) -> bool {
    family.starts_with("DCGM_")
}

/// The GPUs of a DCGM scrape, in order of first appearance. A sample
/// without a `gpu` label is ignored; a GPU's first value of a field wins
/// (exporters attributing a GPU to several pods repeat it); non-finite
/// values count as absent.
pub fn readings(exposition: &Exposition) -> Vec<GpuReading> {
    let mut gpus: Vec<GpuReading> = Vec::new();
    for (family, sample) in exposition.samples() {
        let Some(index) = sample.label("gpu") else {
            continue;
        };
        if GpuReading::default().field(&family.name).is_none() {
            continue; // no field of ours
        }
        let label = |k: &str| sample.label(k).filter(|v| !v.is_empty());
        let (uuid, host) = (label("UUID"), label("Hostname"));
        let pos = gpus.iter().position(|g| match (uuid, &g.uuid) {
            (Some(u), Some(v)) => u == v,
            (None, None) => g.gpu == index && g.hostname.as_deref() == host,
            _ => false,
        });
        let pos = match pos {
            Some(p) => p,
            None => {
                gpus.push(identity(index, sample));
                gpus.len() - 1
            }
        };
        if let Some(slot) = gpus[pos].field(&family.name) {
            if slot.is_none() && sample.value.is_finite() {
                *slot = Some(sample.value);
            }
        }
    }
    gpus
}

fn identity(index: &str, s: &Sample) -> GpuReading {
    let label = |k: &str| s.label(k).filter(|v| !v.is_empty()).map(str::to_owned);
    GpuReading {
        gpu: index.to_owned(),
        uuid: label("UUID"),
        hostname: label("Hostname"),
        model_name: label("modelName"),
        ..GpuReading::default()
    }
}

/// One `gpu_telemetry_export.jsonl` line: a scrape of one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuScrape {
    /// When, where, and whether it failed.
    #[serde(flatten)]
    pub head: ScrapeHead,
    /// The GPUs' readings (empty when the scrape failed).
    #[serde(default)]
    pub gpus: Vec<GpuReading>,
}

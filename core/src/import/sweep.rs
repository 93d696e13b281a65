//! A sweep's `sweep_summary.json` read back: the axes and, per point, its
//! parameters, its run directory and its summary (the same metric keys as
//! a run's summary JSON), for the viewer's sweep page.

use super::{parse_summary, ImportError};
use crate::metrics::Summary;
use serde_json::{Map, Value};

/// One point of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPointSummary {
    /// `{"concurrency": 2, "size": "512x512"}`.
    pub parameters: Map<String, Value>,
    /// Its run directory, relative to the sweep's.
    pub artifact_dir: String,
    /// Stopped early.
    pub was_cancelled: bool,
    /// Its summary.
    pub summary: Summary,
}

impl SweepPointSummary {
    /// `concurrency=2 size=512x512`.
    pub fn name(&self) -> String {
        self.parameters
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Whether a JSON document is a sweep summary.
pub fn is_sweep_summary(json: &Value) -> bool {
    json.get("points").is_some_and(Value::is_array) && json.get("axes").is_some_and(Value::is_array)
}

/// Read a `sweep_summary.json`.
pub fn parse_sweep_summary(json: &Value) -> Result<Vec<SweepPointSummary>, ImportError> {
    if !is_sweep_summary(json) {
        return Err(ImportError::NotAnExport(
            "a sweep summary has axes and points".into(),
        ));
    }
    let mut out = Vec::new();
    for p in json["points"].as_array().into_iter().flatten() {
        let summary = parse_summary(&p["metrics"])?.summary;
        out.push(SweepPointSummary {
            parameters: p["parameters"].as_object().cloned().unwrap_or_default(),
            artifact_dir: p["artifact_dir"].as_str().unwrap_or_default().to_owned(),
            was_cancelled: p["was_cancelled"].as_bool().unwrap_or(false),
            summary,
        });
    }
    Ok(out)
}

//! A run's telemetry as the viewer shows it: the GPU and server-metric
//! summaries (from the summary JSON, or recomputed by core from the
//! exports) and the time series to plot. [`TelemetryBuilder`] reads
//! `gpu_telemetry_export.jsonl` and `server_metrics_export.jsonl` lines.

use imgperf_core::telemetry::dcgm::GpuScrape;
use imgperf_core::telemetry::gpu::{GpuAccumulator, GpuTelemetrySummary};
use imgperf_core::telemetry::server::{ServerAccumulator, ServerMetricsSummary, ServerScrape};
use imgperf_core::telemetry::timeline::Timeline;
use serde_json::Value;

/// Telemetry of one run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TelemetryView {
    /// Power, utilization and queue tracks (from the JSONL exports).
    pub timeline: Timeline,
    /// Per-GPU figures.
    pub gpu: Option<GpuTelemetrySummary>,
    /// Server series.
    pub server: Option<ServerMetricsSummary>,
    /// The summaries came from the CLI's summary JSON (they win over ones
    /// recomputed from the exports).
    pub from_summary: bool,
}

impl TelemetryView {
    /// The `gpu_telemetry` and `server_metrics` keys of a summary JSON.
    pub fn from_summary_json(json: &Value) -> Option<TelemetryView> {
        let gpu = json
            .get("gpu_telemetry")
            .and_then(|v| serde_json::from_value(v.clone()).ok());
        let server = json
            .get("server_metrics")
            .and_then(|v| serde_json::from_value(v.clone()).ok());
        (gpu.is_some() || server.is_some()).then(|| TelemetryView {
            timeline: Timeline::new(),
            gpu,
            server,
            from_summary: true,
        })
    }

    /// Fold `other` (another file of the same run) into this one.
    pub fn merge(&mut self, other: TelemetryView) {
        let t = &mut self.timeline;
        let o = other.timeline;
        t.power.extend(o.power);
        t.utilization.extend(o.utilization);
        t.queue.extend(o.queue);
        t.span = match (t.span, o.span) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (s, None) | (None, s) => s,
        };
        let take_other = other.from_summary || !self.from_summary;
        if other.gpu.is_some() && (take_other || self.gpu.is_none()) {
            self.gpu = other.gpu;
        }
        if other.server.is_some() && (take_other || self.server.is_none()) {
            self.server = other.server;
        }
        self.from_summary |= other.from_summary;
    }
}

/// Which telemetry export a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TelemetryKind {
    /// `gpu_telemetry_export.jsonl`.
    Gpu,
    /// `server_metrics_export.jsonl`.
    Server,
}

/// Whether a file's first line is a telemetry export line, and which.
pub fn telemetry_kind(first_line: &str) -> Option<TelemetryKind> {
    let v: Value = serde_json::from_str(first_line.trim()).ok()?;
    v.get("timestamp_ns")?.as_u64()?;
    v.get("endpoint")?.as_str()?;
    if v.get("gpus").is_some() {
        Some(TelemetryKind::Gpu)
    } else if v.get("samples").is_some() {
        Some(TelemetryKind::Server)
    } else {
        // A failed first scrape has neither: only the line shapes tell.
        None
    }
}

/// Reads the lines of one telemetry export.
#[derive(Debug)]
pub struct TelemetryBuilder {
    kind: TelemetryKind,
    gpu: GpuAccumulator,
    server: ServerAccumulator,
    timeline: Timeline,
    lines: u64,
}

impl TelemetryBuilder {
    /// For a file of `kind`.
    pub fn new(kind: TelemetryKind) -> Self {
        TelemetryBuilder {
            kind,
            gpu: GpuAccumulator::new(),
            server: ServerAccumulator::new(),
            timeline: Timeline::new(),
            lines: 0,
        }
    }

    /// Fold one line; an unreadable one is an error (the caller counts it).
    pub fn add(&mut self, line: &str) -> Result<(), String> {
        match self.kind {
            TelemetryKind::Gpu => {
                let s: GpuScrape = serde_json::from_str(line).map_err(|e| e.to_string())?;
                self.gpu.add(&s);
                self.timeline.add_gpu(&s);
            }
            TelemetryKind::Server => {
                let s: ServerScrape = serde_json::from_str(line).map_err(|e| e.to_string())?;
                self.server.add(&s);
                self.timeline.add_server(&s);
            }
        }
        self.lines += 1;
        Ok(())
    }

    /// Lines read.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// The view of what was read.
    pub fn finish(mut self) -> TelemetryView {
        self.timeline.short_names();
        TelemetryView {
            timeline: self.timeline,
            gpu: (self.kind == TelemetryKind::Gpu).then(|| self.gpu.finish()),
            server: (self.kind == TelemetryKind::Server).then(|| self.server.finish()),
            from_summary: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_and_server_exports_are_read_back() {
        let gpu = r#"{"timestamp_ns":1000000000,"endpoint":"http://m/metrics","in_flight":0,"edge":"start","gpus":[{"gpu":"0","power_w":70.0,"energy_mj":1000.0,"gpu_util_pct":0.0}]}
{"timestamp_ns":2000000000,"endpoint":"http://m/metrics","in_flight":1,"gpus":[{"gpu":"0","power_w":630.0,"energy_mj":351000.0,"gpu_util_pct":100.0}]}
{"timestamp_ns":3000000000,"endpoint":"http://m/metrics","in_flight":0,"error":"no complete answer within 1 s"}"#;
        let first = gpu.lines().next().unwrap();
        assert_eq!(telemetry_kind(first), Some(TelemetryKind::Gpu));
        assert_eq!(telemetry_kind(r#"{"metadata":{}}"#), None);
        let mut b = TelemetryBuilder::new(TelemetryKind::Gpu);
        for l in gpu.lines() {
            b.add(l).unwrap();
        }
        assert!(b.add("{not json").is_err());
        let v = b.finish();
        let g = v.gpu.as_ref().unwrap();
        assert_eq!(g.energy_j, Some(350.0));
        assert_eq!(g.endpoints[0].failed, 1);
        assert_eq!(v.timeline.power[0].points.len(), 3, "the gap is a point");
        let server = r#"{"timestamp_ns":1500000000,"endpoint":"http://m/metrics","in_flight":2,"samples":[{"name":"sglang:num_queue_reqs","type":"gauge","value":3.0}]}"#;
        assert_eq!(telemetry_kind(server), Some(TelemetryKind::Server));
        let mut s = TelemetryBuilder::new(TelemetryKind::Server);
        s.add(server).unwrap();
        let mut all = v.clone();
        all.merge(s.finish());
        assert_eq!(all.timeline.queue[0].name, "sglang:num_queue_reqs");
        assert!(all.gpu.is_some() && all.server.is_some());
        assert_eq!(all.timeline.span, Some((1_000_000_000, 3_000_000_000)));
        // The CLI's summary JSON wins over the recomputed figures.
        let json = serde_json::json!({"gpu_telemetry": {"endpoints": [], "span_s": 9.0, "gpus": [],
            "energy_j": 1.0, "energy_source": "counter", "power_w": null,
            "power_in_flight_w": null, "power_idle_w": null}});
        all.merge(TelemetryView::from_summary_json(&json).unwrap());
        assert_eq!(all.gpu.as_ref().unwrap().span_s, 9.0);
        assert_eq!(all.timeline.power.len(), 1, "the series stay");
    }
}

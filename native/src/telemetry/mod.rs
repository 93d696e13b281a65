//! GPU telemetry (DCGM exporters) and server metrics (`/metrics`) scraped
//! during `imgperf profile`: which endpoints ([`TelemetryPlan`], from the
//! flags, checked before any I/O), and the scraper ([`scrape::Telemetry`]),
//! which runs beside the load on its own client and tasks and never fails a
//! run. The figures themselves are computed by core's
//! [`imgperf_core::telemetry`]; [`console`] draws its tables.

pub mod console;
pub mod scrape;

pub use scrape::{InFlightSink, Telemetry, TelemetryResults};

use crate::cli::ProfileArgs;
use anyhow::bail;
use imgperf_core::metrics::Summary;
use imgperf_core::shard::Shard;
use imgperf_core::telemetry::metrics_url;
use std::time::Duration;

/// Add the energy metrics (GPU energy, per image, per megapixel, images per
/// kWh, power in flight and idle) to a run's summary. Not for one shard of
/// a scaled-out run: the GPUs served every shard, so their energy over this
/// shard's images would be wrong; a note says so.
pub fn add_energy_metrics(summary: &mut Summary, tel: &mut TelemetryResults, shard: Shard) {
    let Some(gpu) = tel.gpu.as_ref().filter(|g| !g.gpus.is_empty()) else {
        return;
    };
    if shard.is_split() {
        tel.notes.push(format!(
            "Shard {shard}: the GPUs served every shard, so no energy per image here; \
             divide the GPU energy by the merged run's images."
        ));
        return;
    }
    imgperf_core::telemetry::report::add_energy_metrics(summary, gpu);
}

/// DCGM exporters tried when none is named (AIPerf's defaults).
pub const DEFAULT_DCGM: [&str; 2] = [
    "http://localhost:9400/metrics",
    "http://localhost:9401/metrics",
];

/// What a scraped endpoint reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A DCGM exporter.
    Gpu,
    /// A server's own metrics.
    Server,
}

/// One endpoint to scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Its URL (`http://host:port/metrics`).
    pub url: String,
    /// GPU telemetry or server metrics.
    pub kind: Kind,
    /// Named by the user: failures are warnings and it is never dropped.
    /// A default one that does not answer its first scrape is dropped quietly.
    pub explicit: bool,
}

/// Every endpoint and the pace.
#[derive(Debug, Clone, PartialEq)]
pub struct TelemetryPlan {
    /// Endpoints, GPU exporters first.
    pub targets: Vec<Target>,
    /// Time between scrapes.
    pub interval: Duration,
    /// Most time one scrape may take.
    pub timeout: Duration,
}

/// Most time one scrape may take.
pub const SCRAPE_TIMEOUT: Duration = Duration::from_secs(1);

fn push(targets: &mut Vec<Target>, url: String, kind: Kind, explicit: bool) {
    match targets.iter_mut().find(|t| t.url == url && t.kind == kind) {
        Some(t) => t.explicit |= explicit,
        None => targets.push(Target {
            url,
            kind,
            explicit,
        }),
    }
}

impl TelemetryPlan {
    /// From the flags; `base_urls` are the servers benchmarked (`--url`, or
    /// the embedded mock's), `mock_gpus` whether the embedded mock simulates GPUs.
    pub fn from_args(
        args: &ProfileArgs,
        base_urls: &[String],
        mock_gpus: bool,
    ) -> anyhow::Result<TelemetryPlan> {
        let interval = args.telemetry_interval;
        if !(interval.is_finite() && (0.01..=3600.0).contains(&interval)) {
            bail!("--telemetry-interval must be between 0.01 and 3600 seconds, got {interval}");
        }
        let mut targets = Vec::new();
        if !args.no_gpu_telemetry {
            let named = args.gpu_telemetry.as_deref().unwrap_or_default();
            for spec in named {
                match spec.to_ascii_lowercase().as_str() {
                    "dashboard" => continue, // AIPerf's display switch: imgperf always shows the table
                    "pynvml" | "amdsmi" => bail!(
                        "--gpu-telemetry {spec}: imgperf reads DCGM exporters over HTTP only; run \
                         NVIDIA's dcgm-exporter next to the server and pass its URL (e.g. localhost:9400)"
                    ),
                    s if s.ends_with(".csv") => bail!(
                        "--gpu-telemetry {spec}: custom DCGM field lists are not supported; imgperf \
                         reads the exporter's standard fields (pass the exporter's URL)"
                    ),
                    _ => {}
                }
                let url = metrics_url(spec).map_err(|e| anyhow::anyhow!("--gpu-telemetry: {e}"))?;
                push(&mut targets, url, Kind::Gpu, true);
            }
            if mock_gpus && named.is_empty() {
                for base in base_urls {
                    push(
                        &mut targets,
                        metrics_url(base).map_err(anyhow::Error::msg)?,
                        Kind::Gpu,
                        true,
                    );
                }
            }
            for url in DEFAULT_DCGM {
                push(&mut targets, url.to_owned(), Kind::Gpu, false);
            }
        }
        if !args.no_server_metrics {
            for spec in args.server_metrics.as_deref().unwrap_or_default() {
                let url =
                    metrics_url(spec).map_err(|e| anyhow::anyhow!("--server-metrics: {e}"))?;
                push(&mut targets, url, Kind::Server, true);
            }
            for base in base_urls {
                let url = format!("{}/metrics", base.trim_end_matches('/'));
                push(&mut targets, url, Kind::Server, false);
            }
        }
        Ok(TelemetryPlan {
            targets,
            interval: Duration::from_secs_f64(interval),
            timeout: SCRAPE_TIMEOUT,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn plan(extra: &[&str]) -> anyhow::Result<TelemetryPlan> {
        let mut v = vec!["imgperf", "profile", "-m", "x"];
        v.extend_from_slice(extra);
        let args = match Cli::parse_from(v).command {
            Command::Profile(p) => *p,
            _ => unreachable!(),
        };
        TelemetryPlan::from_args(&args, &["http://srv:8000".into()], false)
    }

    fn urls(p: &TelemetryPlan) -> Vec<(String, Kind, bool)> {
        p.targets
            .iter()
            .map(|t| (t.url.clone(), t.kind, t.explicit))
            .collect()
    }

    #[test]
    fn defaults_are_quiet_and_named_urls_explicit() {
        let p = plan(&[]).unwrap();
        assert_eq!(
            urls(&p),
            [
                (DEFAULT_DCGM[0].to_owned(), Kind::Gpu, false),
                (DEFAULT_DCGM[1].to_owned(), Kind::Gpu, false),
                ("http://srv:8000/metrics".to_owned(), Kind::Server, false),
            ]
        );
        assert_eq!(p.interval, Duration::from_millis(333));
        let p = plan(&[
            "--gpu-telemetry",
            "node1:9400",
            "localhost:9400",
            "--server-metrics",
            "srv:8001",
        ])
        .unwrap();
        let u = urls(&p);
        assert_eq!(u[0], ("http://node1:9400/metrics".into(), Kind::Gpu, true));
        assert_eq!(
            u[1],
            ("http://localhost:9400/metrics".into(), Kind::Gpu, true)
        );
        assert_eq!(u.len(), 5, "{u:?}");
        assert!(u.contains(&("http://srv:8001/metrics".into(), Kind::Server, true)));
        let p = plan(&["--no-gpu-telemetry", "--no-server-metrics"]).unwrap();
        assert!(p.targets.is_empty());
    }

    #[test]
    fn bad_telemetry_flags_are_named() {
        let err = |extra: &[&str]| plan(extra).unwrap_err().to_string();
        assert!(err(&["--gpu-telemetry", "pynvml"]).contains("DCGM exporters over HTTP"));
        assert!(err(&["--gpu-telemetry", "fields.csv"]).contains("custom DCGM field lists"));
        assert!(err(&["--gpu-telemetry", "ftp://x"]).contains("--gpu-telemetry"));
        assert!(err(&["--telemetry-interval", "0"]).contains("--telemetry-interval"));
        assert!(plan(&["--gpu-telemetry", "dashboard"]).is_ok());
    }
}

//! `imgperf profile --sweep KEY=V1,V2 [--sweep ...]`: one benchmark per
//! point of the grid ([`imgperf_core::sweep`]), each a complete run with its
//! own artifact directory under
//! `<artifact-dir>/<model>-openai-<endpoint type>-sweep/<point>/`, then
//! `sweep_summary.json`, `sweep_summary.csv` and a console table of
//! throughput against latency percentiles. Every point's flags are checked
//! before the first runs; Ctrl-C stops the sweep after the current point.

use super::{flags, run_one, ProfileReport, RunPlace, MOCK_MODEL};
use crate::artifacts::{self, ArtifactPaths};
use crate::cli::ProfileArgs;
use crate::console;
use anyhow::Context;
use imgperf_core::metrics::{MetricValue, Summary};
use imgperf_core::request::coerce_value;
use imgperf_core::sweep::{self, Axis, AxisKind, Point, PointResult};
use serde_json::{json, Value};

/// The arguments of one point: the base flags with the point's values set.
pub(crate) fn args_for(
    base: &ProfileArgs,
    axes: &[Axis],
    point: &Point,
) -> anyhow::Result<ProfileArgs> {
    let mut a = base.clone();
    a.sweep.clear();
    for (i, v) in point {
        let axis = &axes[*i];
        let bad = |e: &dyn std::fmt::Display| anyhow::anyhow!("--sweep {}: {v:?}: {e}", axis.key);
        match axis.kind {
            AxisKind::Concurrency => a.concurrency = Some(v.parse().map_err(|e| bad(&e))?),
            AxisKind::RequestRate => a.request_rate = Some(v.parse().map_err(|e| bad(&e))?),
            AxisKind::RequestCount => a.request_count = Some(v.parse().map_err(|e| bad(&e))?),
            AxisKind::BenchmarkDuration => {
                a.benchmark_duration = Some(v.parse().map_err(|e| bad(&e))?)
            }
            AxisKind::Extra => {
                let mut obj = serde_json::Map::new();
                obj.insert(axis.key.clone(), coerce_value(v));
                a.extra_inputs.push(Value::Object(obj).to_string());
            }
        }
    }
    Ok(a)
}

fn stat(summary: &Summary, tag: &str, pick: fn(&imgperf_core::stats::Stats) -> f64) -> String {
    match summary.get(tag).map(|m| &m.value) {
        Some(MetricValue::Distribution(s)) => console::format_number(pick(s)),
        Some(MetricValue::Scalar(v)) => console::format_number(*v),
        None => "-".into(),
    }
}

/// Run every point of the grid, then write and print the sweep summary.
pub(crate) async fn run_sweep(
    args: &ProfileArgs,
    command_line: &[String],
) -> anyhow::Result<ProfileReport> {
    let axes = sweep::parse_axes(&args.sweep).map_err(anyhow::Error::msg)?;
    let grid = sweep::grid(&axes);
    let mut points = Vec::with_capacity(grid.len());
    for p in &grid {
        let a = args_for(args, &axes, p)?;
        flags::validate(&a)
            .with_context(|| format!("sweep point {}", sweep::point_name(&axes, p)))?;
        points.push(a);
    }
    let model = args.model.clone().unwrap_or_else(|| MOCK_MODEL.to_owned());
    let kind = imgperf_core::endpoint::EndpointKind::parse(&args.endpoint_type)
        .map_err(anyhow::Error::msg)?;
    let root = args
        .artifact_dir
        .join(crate::artifacts::run_dir_name(&model, kind, "sweep"));
    std::fs::create_dir_all(&root)
        .with_context(|| format!("cannot create sweep directory {}", root.display()))?;
    let mut done: Vec<(usize, String, ProfileReport)> = Vec::new();
    for (i, (p, a)) in grid.iter().zip(&points).enumerate() {
        let name = sweep::point_name(&axes, p);
        let shown: Vec<String> = p
            .iter()
            .map(|(j, v)| format!("{}={v}", axes[*j].key))
            .collect();
        eprintln!(
            "imgperf: sweep point {}/{}: {}",
            i + 1,
            grid.len(),
            shown.join(" ")
        );
        let place = RunPlace {
            dir: Some(root.join(&name)),
            quiet: true,
        };
        let r = run_one(a, command_line, &place).await?;
        let s = &r.summary;
        println!(
            "[{}/{}] {}: {} ok, {} errors, {} req/s, {} img/s, latency p50 {} p99 {} ms",
            i + 1,
            grid.len(),
            shown.join(" "),
            s.request_count,
            s.error_count,
            stat(s, "request_throughput", |s| s.avg),
            stat(s, "image_throughput", |s| s.avg),
            stat(s, "request_latency", |s| s.p50),
            stat(s, "request_latency", |s| s.p99),
        );
        let stop = r.was_cancelled;
        done.push((i, name, r));
        if stop {
            eprintln!("imgperf: sweep stopped after point {}", i + 1);
            break;
        }
    }
    let was_cancelled = done.len() < grid.len() || done.iter().any(|(_, _, r)| r.was_cancelled);
    let results: Vec<PointResult> = done
        .iter()
        .map(|(i, name, r)| PointResult {
            point: &grid[*i],
            dir: name.clone(),
            summary: &r.summary,
            was_cancelled: r.was_cancelled,
        })
        .collect();
    let mut summary = sweep::sweep_json(&axes, &results);
    if let Value::Object(m) = &mut summary {
        m.insert(
            "cli_command".into(),
            json!(crate::cli::redacted_command_line(command_line)),
        );
        m.insert("was_cancelled".into(), json!(was_cancelled));
    }
    artifacts::write_json(&root.join("sweep_summary.json"), &summary)?;
    let csv_path = root.join("sweep_summary.csv");
    std::fs::write(&csv_path, sweep::sweep_csv(&axes, &results))
        .with_context(|| format!("cannot write {}", csv_path.display()))?;
    let (header, rows) = sweep::sweep_table(&axes, &results);
    println!("{}", console::sweep_table(header, rows));
    println!("Sweep artifacts: {}", root.display());
    let (_, _, last) = done.pop().context("the sweep ran no point")?;
    Ok(ProfileReport {
        paths: ArtifactPaths::new(root, args.profile_export_prefix.as_deref()),
        summary: last.summary,
        report: last.report,
        was_cancelled,
    })
}

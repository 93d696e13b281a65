//! What the directories given to `imgperf publish` hold: a run (its
//! summary JSON and exports, whatever the `--profile-export-prefix`), a
//! sweep (`sweep_summary.json` and one run directory per point), or a
//! folder of those (an `--artifact-dir`), looked into one level deep.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// One run directory's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSource {
    /// The directory.
    pub dir: PathBuf,
    /// `<prefix>_imgperf.json` (or AIPerf's `_aiperf.json`).
    pub summary: Option<PathBuf>,
    /// `<prefix>_imgperf.csv`.
    pub csv: Option<PathBuf>,
    /// `<prefix>.jsonl`.
    pub records: Option<PathBuf>,
    /// `<prefix>_raw.jsonl`.
    pub raw: Option<PathBuf>,
}

/// One sweep: its summary and its points' runs, in grid order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepSource {
    /// The sweep's directory.
    pub dir: PathBuf,
    /// `sweep_summary.json`.
    pub summary: PathBuf,
    /// `(artifact_dir of the point, parameters, its run)`.
    pub points: Vec<(
        String,
        serde_json::Map<String, serde_json::Value>,
        RunSource,
    )>,
}

/// What one argument holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A run.
    Run(RunSource),
    /// A sweep.
    Sweep(SweepSource),
}

fn existing(p: PathBuf) -> Option<PathBuf> {
    p.is_file().then_some(p)
}

/// The run in `dir`, if it is one.
pub fn run_in(dir: &Path) -> Option<RunSource> {
    let names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let summary = names
        .iter()
        .find(|n| n.ends_with("_imgperf.json"))
        .or_else(|| names.iter().find(|n| n.ends_with("_aiperf.json")));
    let prefix = match summary {
        Some(s) => s
            .trim_end_matches("_imgperf.json")
            .trim_end_matches("_aiperf.json")
            .to_owned(),
        None => names
            .iter()
            .filter(|n| {
                n.ends_with(".jsonl") && !n.ends_with("_raw.jsonl") && !n.ends_with("_warmup.jsonl")
            })
            .map(|n| n.trim_end_matches(".jsonl").to_owned())
            .next()?,
    };
    let file = |suffix: &str| existing(dir.join(format!("{prefix}{suffix}")));
    Some(RunSource {
        dir: dir.to_path_buf(),
        summary: summary.map(|s| dir.join(s)),
        csv: file("_imgperf.csv").or_else(|| file("_aiperf.csv")),
        records: file(".jsonl"),
        raw: file("_raw.jsonl"),
    })
}

fn sweep_in(dir: &Path) -> anyhow::Result<Option<SweepSource>> {
    let summary = dir.join("sweep_summary.json");
    if !summary.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&summary)
        .with_context(|| format!("cannot read {}", summary.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", summary.display()))?;
    let mut points = Vec::new();
    for p in json["points"].as_array().into_iter().flatten() {
        let Some(name) = p["artifact_dir"].as_str() else {
            continue;
        };
        let params = p["parameters"].as_object().cloned().unwrap_or_default();
        match run_in(&dir.join(name)) {
            Some(run) => points.push((name.to_owned(), params, run)),
            None => eprintln!(
                "imgperf publish: sweep point {name} has no run files in {}; skipped",
                dir.join(name).display()
            ),
        }
    }
    Ok(Some(SweepSource {
        dir: dir.to_path_buf(),
        summary,
        points,
    }))
}

/// What `path` holds: itself a run or sweep, or runs and sweeps one level below.
pub fn sources(path: &Path) -> anyhow::Result<Vec<Source>> {
    if path.is_file() {
        bail!(
            "{} is a file: pass the run's directory (the folder holding profile_export_imgperf.json \
             and profile_export.jsonl)",
            path.display()
        );
    }
    if !path.is_dir() {
        bail!("{}: no such directory", path.display());
    }
    if let Some(s) = sweep_in(path)? {
        return Ok(vec![Source::Sweep(s)]);
    }
    if let Some(r) = run_in(path) {
        return Ok(vec![Source::Run(r)]);
    }
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(path)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    let mut out = Vec::new();
    for d in subdirs {
        if let Some(s) = sweep_in(&d)? {
            out.push(Source::Sweep(s));
        } else if let Some(r) = run_in(&d) {
            out.push(Source::Run(r));
        }
    }
    if out.is_empty() {
        bail!(
            "{}: no run here: a run directory holds profile_export_imgperf.json or \
             profile_export.jsonl (written by `imgperf profile`), a sweep directory \
             sweep_summary.json; a folder of them (an --artifact-dir) works too",
            path.display()
        );
    }
    Ok(out)
}

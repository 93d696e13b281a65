//! `imgperf merge DIR... [-o OUT]`: the shards of one benchmark
//! (`imgperf profile --shard`) as one run directory, with the statistics
//! one process that saw every request would report.
//!
//! The shards are checked to be one plan, each once ([`shards`]). Their
//! records are merged in time order (request end, then shard, then file
//! order) in bounded memory ([`sort`]), read back exactly
//! ([`imgperf_core::import::exact_record`]) into the same summary builder
//! a single run uses, and written out by the same code: the merged
//! `profile_export.jsonl`, summary JSON/CSV and console table. Throughput
//! spans the union's first start to last end.

pub mod shards;
pub mod sort;

use crate::artifacts::{self, ArtifactPaths, RunLog};
use crate::profile::{print_results, write_summary};
use anyhow::{bail, Context};
use clap::Args;
use imgperf_core::export::RunInfo;
use imgperf_core::goodput::Goodput;
use imgperf_core::import::{exact_record, Requested};
use imgperf_core::metrics::{Summary, SummaryBuilder};
use serde::Deserialize;
use serde_json::{json, Value};
use shards::ShardDir;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Lines kept in memory by the sort before it spills a run to disk.
const RUN_BYTES: usize = 64 << 20;

/// `imgperf merge`.
#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// Shard run directories (`...-shard<I>of<N>`), or directories holding them (one level down).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// Run directory to write [default: beside the shards, named without `-shard<I>of<N>`]. Must be
    /// new or empty.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Merge the shards that are here when some are missing; the summary names the missing ones.
    #[arg(long)]
    pub allow_partial: bool,
    /// Also concatenate the shards' raw exports (profile_export_raw.jsonl), in shard order.
    #[arg(long)]
    pub raw: bool,
    /// Wait up to this many seconds for every shard to finish (a shard's manifest is written when
    /// its run is over): for a merge step started with the workers (Kubernetes, a batch script).
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    pub wait: f64,
}

/// What a merge produced.
#[derive(Debug)]
pub struct MergeReport {
    /// The merged run directory.
    pub paths: ArtifactPaths,
    /// Its statistics.
    pub summary: Summary,
    /// Shards merged.
    pub merged: Vec<u32>,
    /// Shards missing (`--allow-partial`).
    pub missing: Vec<u32>,
}

#[derive(Deserialize)]
struct KeyLine {
    metadata: KeyMeta,
}

#[derive(Deserialize)]
struct KeyMeta {
    request_end_ns: u64,
}

fn shard_paths(s: &ShardDir) -> ArtifactPaths {
    ArtifactPaths::new(s.dir.clone(), Some(&s.manifest.export_prefix))
}

/// Beside the first shard, its name without `-shard<I>of<N>`.
fn default_output(first: &ShardDir) -> PathBuf {
    let name = first
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let suffix =
        imgperf_core::shard::Shard::new(first.manifest.shard.index, first.manifest.shard.count)
            .map(|s| s.dir_suffix())
            .unwrap_or_default();
    let base = match name.strip_suffix(&suffix) {
        Some(base) if !base.is_empty() => base.to_owned(),
        _ => format!("{name}-merged"),
    };
    first.dir.with_file_name(base)
}

fn refuse_existing(out: &Path) -> anyhow::Result<()> {
    if let Ok(mut entries) = fs::read_dir(out) {
        if entries.next().is_some() {
            bail!(
                "{} already exists and is not empty: remove it, or choose another directory with -o",
                out.display()
            );
        }
    }
    Ok(())
}

/// The input configuration and `--goodput` of the plan, from a shard's summary JSON.
fn plan_config(shards: &[ShardDir]) -> anyhow::Result<(Value, Option<Goodput>)> {
    for s in shards {
        let Ok(text) = fs::read(shard_paths(s).summary_json()) else {
            continue;
        };
        let v: Value = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not JSON", shard_paths(s).summary_json().display()))?;
        let config = v.get("input_config").cloned().unwrap_or(json!({}));
        let goodput = config
            .get("goodput")
            .and_then(Value::as_str)
            .map(Goodput::parse)
            .transpose()
            .map_err(anyhow::Error::msg)?;
        return Ok((config, goodput));
    }
    bail!("no shard has a summary JSON (profile_export_imgperf.json): did every shard fail?")
}

/// Sort every shard's records by time; returns the sort and, per shard,
/// the lines read and the unreadable ones skipped.
fn gather(shards: &[ShardDir]) -> anyhow::Result<(sort::ExternalSort, Vec<(u64, u64)>)> {
    let mut sorter = sort::ExternalSort::new(RUN_BYTES);
    let mut counts = Vec::new();
    for s in shards {
        let path = shard_paths(s).records();
        let file = File::open(&path).with_context(|| {
            format!(
                "cannot read {} (shard {})",
                path.display(),
                s.manifest.shard.index
            )
        })?;
        let (mut lines, mut bad) = (0, 0);
        for line in BufReader::with_capacity(1 << 20, file).lines() {
            let line = line.with_context(|| format!("reading {}", path.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<KeyLine>(&line) {
                Ok(k) => {
                    sorter.push(k.metadata.request_end_ns, line)?;
                    lines += 1;
                }
                Err(_) => bad += 1,
            }
        }
        counts.push((lines, bad));
    }
    Ok((sorter, counts))
}

fn concatenate(shards: &[ShardDir], out: &Path) -> anyhow::Result<u64> {
    let mut w = BufWriter::new(
        File::create(out).with_context(|| format!("cannot create {}", out.display()))?,
    );
    let mut n = 0;
    for s in shards {
        let path = shard_paths(s).raw();
        match File::open(&path) {
            Ok(f) => n += io::copy(&mut BufReader::new(f), &mut w)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                eprintln!("imgperf merge: note: {} has no raw export", s.dir.display())
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
    w.flush()?;
    Ok(n)
}

/// The shards to merge, polling every 2 s until they are all there or
/// `--wait` runs out.
fn wait_for_shards(args: &MergeArgs) -> anyhow::Result<(Vec<ShardDir>, Vec<u32>)> {
    if !(args.wait >= 0.0 && args.wait.is_finite()) {
        bail!("--wait must be a number of seconds >= 0, got {}", args.wait);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(args.wait);
    let mut last = String::new();
    loop {
        let found = shards::discover(&args.dirs).and_then(|s| shards::check(s, false));
        let err = match found {
            Ok(ready) => return Ok(ready),
            // Duplicates and mixed plans do not mend by waiting.
            Err(e) if e.downcast_ref::<shards::Incomplete>().is_none() => return Err(e),
            Err(e) => e,
        };
        if std::time::Instant::now() >= deadline {
            if args.allow_partial {
                return shards::check(shards::discover(&args.dirs)?, true);
            }
            return Err(err);
        }
        let now = err.to_string();
        if now != last {
            eprintln!("imgperf merge: waiting: {now}");
            last = now;
        }
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
}

/// Run `imgperf merge`; `argv` is the process's command line (for the log).
pub fn run_merge(args: &MergeArgs, argv: &[String]) -> anyhow::Result<MergeReport> {
    let (shards, missing) = wait_for_shards(args)?;
    let first = &shards[0];
    let out = args.output.clone().unwrap_or_else(|| default_output(first));
    refuse_existing(&out)?;
    let paths = ArtifactPaths::new(out, Some(&first.manifest.export_prefix));
    artifacts::prepare_dir(&paths)?;
    let mut log = RunLog::open(&paths.log());
    log.line(&format!(
        "imgperf {} merge: {}",
        env!("CARGO_PKG_VERSION"),
        crate::cli::redacted_command_line(argv)
    ));
    let inputs = fs::read(shard_paths(first).inputs())
        .with_context(|| format!("cannot read {}", shard_paths(first).inputs().display()))?;
    let requested = Requested::from_inputs(&serde_json::from_slice(&inputs)?)?;
    fs::write(paths.inputs(), &inputs)?;
    let (config, goodput) = plan_config(&shards)?;

    let (sorter, counts) = gather(&shards)?;
    let total: u64 = counts.iter().map(|c| c.0).sum();
    eprintln!(
        "imgperf merge: {total} records from {} shards sorted by time ({} runs on disk); summarising",
        shards.len(),
        sorter.spilled_runs()
    );
    let mut summary = goodput.map_or_else(SummaryBuilder::new, SummaryBuilder::with_goodput);
    if let Ok(spill) = crate::spill::FileSpill::new() {
        summary.spill_to(Box::new(spill));
    }
    let mut records = BufWriter::with_capacity(
        256 << 10,
        File::create(paths.records())
            .with_context(|| format!("cannot create {}", paths.records().display()))?,
    );
    for line in sorter.finish()? {
        let line = line?;
        let rec = exact_record(&line, &requested).map_err(anyhow::Error::msg)?;
        summary.add(&rec);
        records.write_all(line.as_bytes())?;
        records.write_all(b"\n")?;
    }
    records.flush()?;
    if args.raw {
        let bytes = concatenate(&shards, &paths.raw())?;
        log.line(&format!("raw exports concatenated: {bytes} bytes"));
    }

    let merged: Vec<u32> = shards.iter().map(|s| s.manifest.shard.index).collect();
    let shard_facts: Vec<Value> = shards
        .iter()
        .zip(&counts)
        .map(|(s, (lines, bad))| {
            let m = &s.manifest;
            json!({
                "index": m.shard.index, "engine": m.shard.engine, "host": m.host,
                "dir": s.dir.display().to_string(), "records": lines, "unreadable_lines": bad,
                "server_clock": m.server_clock, "was_cancelled": m.was_cancelled,
            })
        })
        .collect();
    let mut config = config;
    if let Value::Object(map) = &mut config {
        map.insert(
            "scale_out".into(),
            json!({
                "plan_fingerprint": first.manifest.plan.fingerprint,
                "shard_count": first.manifest.shard.count,
                "start_at_ns": first.manifest.start_at_ns,
                "merged": merged, "missing": missing, "shards": shard_facts,
            }),
        );
    }
    let was_cancelled = shards.iter().any(|s| s.manifest.was_cancelled);
    let info = RunInfo {
        cli_command: format!("imgperf {}", first.manifest.plan.command),
        input_config: config,
        was_cancelled,
        // Imported records carry epoch ns.
        wall_origin_ns: 0,
    };
    let (result, report) = (summary.finish(), summary.report());
    if let Some(e) = summary.spill_error() {
        bail!("the merge's temporary values file failed: {e}");
    }
    write_summary(&paths, &result, &report, &info, &Default::default())?;
    for (s, (lines, bad)) in shards.iter().zip(&counts) {
        let note = format!(
            "shard {} ({}): {lines} records from {}",
            s.manifest.shard.index,
            s.manifest.host,
            s.dir.display()
        );
        log.line(&note);
        if *bad > 0 {
            let warn = format!(
                "{} unreadable lines skipped in {}",
                bad,
                shard_paths(s).records().display()
            );
            eprintln!("imgperf merge: warning: {warn}");
            log.line(&format!("warning: {warn}"));
        }
    }
    let note = merge_note(&merged, &missing, first.manifest.shard.count, was_cancelled);
    log.line(&note);
    print_results(&result, &report, Some(&note), &paths, &Default::default());
    Ok(MergeReport {
        paths,
        summary: result,
        merged,
        missing,
    })
}

fn merge_note(merged: &[u32], missing: &[u32], count: u32, cancelled: bool) -> String {
    let mut note = format!("Merged {} of {count} shards.", merged.len());
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(u32::to_string).collect();
        note.push_str(&format!(
            " PARTIAL: shard{} {} missing, so the figures cover part of the benchmark.",
            if missing.len() > 1 { "s" } else { "" },
            names.join(", ")
        ));
    }
    if cancelled {
        note.push_str(" Some shard was stopped early.");
    }
    note
}

//! `imgperf publish RUN_DIR... -o SITE/`: a folder any static host serves
//! as is, for sharing results by link. It holds the browser app (which
//! opens on the run list), `runs.json` (core's [`SiteIndex`]), and per run
//! its summary JSON and CSV, `profile_export.jsonl`, a gallery of
//! thumbnails from the raw export, and the raw export itself only with
//! `--raw`. A sweep's summary goes with its points. Links into the site:
//! `#/run/<name>`, `#/compare/<a>,<b>`, `#/sweep/<name>`.

mod discover;
mod gallery;
pub mod webapp;

use anyhow::{bail, Context};
use discover::{RunSource, Source};
use imgperf_core::export::format_wall_time;
use imgperf_core::import::{parse_line, parse_summary};
use imgperf_core::metrics::{Summary, SummaryBuilder};
use imgperf_core::site::{self, RunFiles, SiteIndex, SiteRun, SiteSweep, INDEX};
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// How a site carries images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImagesMode {
    /// JPEG thumbnails (small; the default).
    Thumbnails,
    /// Thumbnails, and each image as the server sent it.
    Full,
    /// No images.
    None,
}

/// Arguments of `imgperf publish`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Serve the folder with any static server, e.g. \
`python3 -m http.server -d SITE 8000`, and open http://127.0.0.1:8000/ (browsers do not \
run the app from file://). Links: #/run/<name>, #/compare/<a>,<b>, #/sweep/<name>; \
#/open?url=<URL> opens files from another host that sends CORS headers.")]
pub struct PublishArgs {
    /// Run directories written by `imgperf profile`, sweep directories, or folders of them.
    #[arg(value_name = "RUN_DIR", required = true)]
    pub runs: Vec<PathBuf>,
    /// Folder to write (created; must be new or empty, or hold a site with --force).
    #[arg(short = 'o', long = "output", value_name = "SITE")]
    pub output: PathBuf,
    /// Also publish each run's raw export (every response body: large).
    #[arg(long)]
    pub raw: bool,
    /// Images from the raw exports: thumbnails, full (thumbnails plus originals), or none.
    #[arg(long, value_enum, default_value_t = ImagesMode::Thumbnails)]
    pub images: ImagesMode,
    /// Images per run at most.
    #[arg(long, default_value_t = 100)]
    pub max_images: usize,
    /// Title shown atop the site.
    #[arg(long)]
    pub title: Option<String>,
    /// The browser app (`trunk build --release` output) instead of the one in this binary.
    #[arg(long, value_name = "DIR")]
    pub web_app: Option<PathBuf>,
    /// Replace SITE when it holds a site published before.
    #[arg(long)]
    pub force: bool,
}

fn prepare_output(out: &Path, force: bool) -> anyhow::Result<()> {
    if out.exists() {
        let empty = std::fs::read_dir(out)
            .with_context(|| format!("{} is not a folder", out.display()))?
            .next()
            .is_none();
        if !empty {
            if !out.join(INDEX).is_file() {
                bail!(
                    "{} is not empty and holds no published site: choose a new or empty folder",
                    out.display()
                );
            }
            if !force {
                bail!(
                    "{} already holds a published site: pass --force to replace it",
                    out.display()
                );
            }
            std::fs::remove_dir_all(out)
                .with_context(|| format!("cannot remove the old site {}", out.display()))?;
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))
}

/// A name not used yet, from `wanted`.
fn unique(wanted: &str, used: &mut HashSet<String>) -> String {
    let base = site::slug(wanted);
    let mut name = base.clone();
    let mut n = 2;
    while !used.insert(name.clone()) {
        name = format!("{base}-{n}");
        n += 1;
    }
    name
}

fn copy(from: &Path, site_dir: &Path, rel_dir: &str) -> anyhow::Result<String> {
    let name = from
        .file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned();
    let to = site_dir.join(rel_dir).join(&name);
    std::fs::copy(from, &to)
        .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    Ok(format!("{rel_dir}/{name}"))
}

/// The run's summary: its summary JSON, else rebuilt from its records.
fn summary_of(run: &RunSource) -> anyhow::Result<(Summary, Option<String>, Value)> {
    if let Some(path) = &run.summary {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let json: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        let s = parse_summary(&json).with_context(|| format!("{}", path.display()))?;
        return Ok((s.summary, s.start_time, s.input_config));
    }
    let path = run
        .records
        .as_ref()
        .expect("a run has a summary or records");
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut b = SummaryBuilder::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Ok(l) = parse_line(line) {
            b.add(&l.record);
        }
    }
    let s = b.finish();
    let start = s.start_ns.map(format_wall_time);
    Ok((s, start, Value::Null))
}

/// Publish one run under `runs/<name>/`.
fn publish_run(
    args: &PublishArgs,
    site_dir: &Path,
    run: &RunSource,
    name: String,
    sweep: Option<(&str, Map<String, Value>)>,
) -> anyhow::Result<SiteRun> {
    let rel = format!("runs/{name}");
    std::fs::create_dir_all(site_dir.join(&rel))?;
    let (summary, start_time, config) = summary_of(run)?;
    let mut files = RunFiles::default();
    let copied = |p: &Option<PathBuf>| p.as_ref().map(|p| copy(p, site_dir, &rel)).transpose();
    files.summary = copied(&run.summary)?;
    files.csv = copied(&run.csv)?;
    files.records = copied(&run.records)?;
    if args.raw {
        files.raw = copied(&run.raw)?;
    }
    if let (Some(raw), false) = (&run.raw, args.images == ImagesMode::None) {
        let img_rel = format!("{rel}/images");
        let entries = gallery::write(
            raw,
            &site_dir.join(&img_rel),
            &img_rel,
            args.images == ImagesMode::Full,
            args.max_images,
        )?;
        let index = format!("{img_rel}/images.json");
        std::fs::write(site_dir.join(&index), serde_json::to_vec(&entries)?)?;
        files.images = Some(index);
    }
    let dir_name = run
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut label = site::run_label(&config, start_time.as_deref()).unwrap_or(dir_name);
    if let Some((_, params)) = &sweep {
        let point: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().map_or(v.to_string(), str::to_owned)))
            .collect();
        label = format!("{} · {label}", point.join(" "));
    }
    Ok(SiteRun {
        name,
        label,
        start_time,
        request_count: summary.request_count,
        error_count: summary.error_count,
        image_count: site::images_made(&summary),
        sweep: sweep.as_ref().map(|(s, _)| (*s).to_owned()),
        parameters: sweep.map(|(_, p)| p),
        files,
    })
}

/// Write the site; returns its index.
pub fn publish(args: &PublishArgs) -> anyhow::Result<SiteIndex> {
    let mut sources = Vec::new();
    for path in &args.runs {
        sources.extend(discover::sources(path)?);
    }
    prepare_output(&args.output, args.force)?;
    let site_dir = args.output.as_path();
    let title = args
        .title
        .clone()
        .unwrap_or_else(|| "imgperf results".to_owned());
    webapp::write(site_dir, args.web_app.as_deref(), &title)?;
    let (mut runs, mut sweeps, mut used, mut used_sweeps) =
        (Vec::new(), Vec::new(), HashSet::new(), HashSet::new());
    let base = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    for source in &sources {
        match source {
            Source::Run(run) => {
                let name = unique(&base(&run.dir), &mut used);
                eprintln!("imgperf publish: {} → #/run/{name}", run.dir.display());
                runs.push(publish_run(args, site_dir, run, name, None)?);
            }
            Source::Sweep(sw) => {
                let sweep_name = unique(&base(&sw.dir), &mut used_sweeps);
                let rel = format!("sweeps/{sweep_name}");
                std::fs::create_dir_all(site_dir.join(&rel))?;
                let summary = copy(&sw.summary, site_dir, &rel)?;
                let mut points = Vec::new();
                for (point, params, run) in &sw.points {
                    let name = unique(&format!("{sweep_name}-{point}"), &mut used);
                    runs.push(publish_run(
                        args,
                        site_dir,
                        run,
                        name.clone(),
                        Some((&sweep_name, params.clone())),
                    )?);
                    points.push(name);
                }
                eprintln!(
                    "imgperf publish: {} → #/sweep/{sweep_name} ({} points)",
                    sw.dir.display(),
                    points.len()
                );
                sweeps.push(SiteSweep {
                    label: format!("sweep {sweep_name}"),
                    name: sweep_name,
                    summary,
                    points,
                });
            }
        }
    }
    let now = time::OffsetDateTime::now_utc()
        .unix_timestamp_nanos()
        .max(0) as u64;
    let index = SiteIndex {
        generator: format!("imgperf {}", env!("CARGO_PKG_VERSION")),
        title: Some(title),
        created: format_wall_time(now),
        runs,
        sweeps,
    };
    std::fs::write(site_dir.join(INDEX), serde_json::to_vec_pretty(&index)?)
        .with_context(|| format!("cannot write {}", site_dir.join(INDEX).display()))?;
    Ok(index)
}

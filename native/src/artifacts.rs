//! The artifact directory of one run, laid out as AIPerf's:
//! `<artifact-dir>/<model>-openai-<endpoint type>-<stimulus>/` with
//! `inputs.json`, `profile_export.jsonl` (records), `profile_export_raw.jsonl`
//! (raw), `profile_export_imgperf.{json,csv}` (summary) and `logs/imgperf.log`.
//! [`ArtifactSink`] writes each finished request as it arrives (bounded
//! buffers), so memory does not grow with the run.

use anyhow::Context;
use imgperf_core::endpoint::EndpointKind;
use imgperf_core::metrics::SummaryBuilder;
use imgperf_core::record::Phase;
use imgperf_core::runner::{Completed, RecordSink};
use indicatif::ProgressBar;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Name of the per-run directory: model with `/` → `_`, endpoint type
/// (`image_generation`, `image_edit`, `video_generation`), stimulus.
pub fn run_dir_name(model: &str, kind: EndpointKind, stimulus: &str) -> String {
    format!(
        "{}-openai-{}-{}",
        model.replace('/', "_"),
        kind.name(),
        stimulus
    )
}

/// File names inside a run directory.
#[derive(Debug, Clone)]
pub struct ArtifactPaths {
    /// The run directory.
    pub dir: PathBuf,
    /// Export file prefix (`profile_export`).
    pub prefix: String,
}

impl ArtifactPaths {
    /// Paths for `dir` with export prefix `prefix`.
    pub fn new(dir: PathBuf, prefix: Option<&str>) -> Self {
        ArtifactPaths {
            dir,
            prefix: prefix.unwrap_or("profile_export").to_owned(),
        }
    }
    /// `inputs.json`.
    pub fn inputs(&self) -> PathBuf {
        self.dir.join("inputs.json")
    }
    /// Per-request records.
    pub fn records(&self) -> PathBuf {
        self.dir.join(format!("{}.jsonl", self.prefix))
    }
    /// Raw payloads and responses.
    pub fn raw(&self) -> PathBuf {
        self.dir.join(format!("{}_raw.jsonl", self.prefix))
    }
    /// Warm-up records, kept apart.
    pub fn warmup(&self) -> PathBuf {
        self.dir.join(format!("{}_warmup.jsonl", self.prefix))
    }
    /// Summary JSON.
    pub fn summary_json(&self) -> PathBuf {
        self.dir.join(format!("{}_imgperf.json", self.prefix))
    }
    /// Summary CSV.
    pub fn summary_csv(&self) -> PathBuf {
        self.dir.join(format!("{}_imgperf.csv", self.prefix))
    }
    /// Run log.
    pub fn log(&self) -> PathBuf {
        self.dir.join("logs").join("imgperf.log")
    }
}

fn create(path: &Path) -> anyhow::Result<BufWriter<File>> {
    let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(BufWriter::with_capacity(256 * 1024, f))
}

/// Writes finished requests to disk and folds them into the summary.
pub struct ArtifactSink {
    records: Option<BufWriter<File>>,
    raw: Option<BufWriter<File>>,
    warmup: Option<BufWriter<File>>,
    warmup_path: PathBuf,
    /// Statistics of the profiling phase.
    pub summary: SummaryBuilder,
    progress: Option<ProgressBar>,
    done: u64,
    errors: u64,
    write_error: Option<io::Error>,
}

impl ArtifactSink {
    /// Open the export files that `records`/`raw` ask for.
    pub fn open(
        paths: &ArtifactPaths,
        records: bool,
        raw: bool,
        progress: Option<ProgressBar>,
    ) -> anyhow::Result<Self> {
        Ok(ArtifactSink {
            records: if records {
                Some(create(&paths.records())?)
            } else {
                None
            },
            raw: if raw {
                Some(create(&paths.raw())?)
            } else {
                None
            },
            warmup: None,
            warmup_path: paths.warmup(),
            summary: SummaryBuilder::new(),
            progress,
            done: 0,
            errors: 0,
            write_error: None,
        })
    }

    fn write_line(w: &mut Option<BufWriter<File>>, line: Option<&str>) -> io::Result<()> {
        if let (Some(w), Some(line)) = (w.as_mut(), line) {
            w.write_all(line.as_bytes())?;
            w.write_all(b"\n")?;
        }
        Ok(())
    }

    fn write(&mut self, done: &Completed) -> io::Result<()> {
        if done.record.phase == Phase::Warmup {
            if self.warmup.is_none() {
                self.warmup = Some(BufWriter::new(File::create(&self.warmup_path)?));
            }
            return Self::write_line(&mut self.warmup, done.record_line.as_deref());
        }
        Self::write_line(&mut self.records, done.record_line.as_deref())?;
        if let (Some(w), Some(line)) = (self.raw.as_mut(), &done.raw_line) {
            line.write_to(w)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Flush every file; the first write error of the run, if any, is returned.
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(p) = &self.progress {
            p.finish_and_clear();
        }
        for w in [&mut self.records, &mut self.raw, &mut self.warmup]
            .into_iter()
            .flatten()
        {
            w.flush()?;
        }
        match self.write_error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl RecordSink for ArtifactSink {
    fn accept(&mut self, done: Completed) {
        if let Err(e) = self.write(&done) {
            self.write_error.get_or_insert(e);
        }
        if done.record.phase == Phase::Profiling {
            self.summary.add(&done.record);
            self.done += 1;
            if done.record.error.is_some() {
                self.errors += 1;
            }
            if let Some(p) = &self.progress {
                p.set_position(self.done);
                p.set_message(format!("{} errors", self.errors));
            }
        }
    }
}

/// Write a JSON value to `path`, pretty-printed.
pub fn write_json(path: &Path, value: &serde_json::Value) -> anyhow::Result<()> {
    let mut w = create(path)?;
    serde_json::to_writer_pretty(&mut w, value)?;
    w.write_all(b"\n")?;
    w.flush()
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Create the run directory and its `logs/`.
pub fn prepare_dir(paths: &ArtifactPaths) -> anyhow::Result<()> {
    fs::create_dir_all(paths.dir.join("logs"))
        .with_context(|| format!("cannot create artifact directory {}", paths.dir.display()))
}

/// Append-only run log (`logs/imgperf.log`); never sees secrets (callers pass redacted text).
pub struct RunLog(Option<BufWriter<File>>);

impl RunLog {
    /// Open the log; a log that cannot be opened only costs the log.
    pub fn open(path: &Path) -> Self {
        RunLog(File::create(path).ok().map(BufWriter::new))
    }
    /// One line, prefixed with UTC time.
    pub fn line(&mut self, msg: &str) {
        if let Some(w) = self.0.as_mut() {
            let now = time::OffsetDateTime::now_utc();
            let _ = writeln!(
                w,
                "{} {msg}",
                imgperf_core::export::format_wall_time(now.unix_timestamp_nanos() as u64)
            );
            let _ = w.flush();
        }
    }
}

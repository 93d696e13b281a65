//! `imgperf profile`: validate flags (no I/O), then load the tokenizer and
//! dataset (and an edit run's reference images, [`references`]), start the
//! embedded mock when asked, run core's runner over the reqwest transport,
//! and write the artifacts and the console table. With `--sweep`, [`sweep`]
//! runs one such benchmark per point of a grid.

mod flags;
mod inputs;
mod references;
pub mod sweep;

use crate::artifacts::{self, ArtifactPaths, ArtifactSink, RunLog};
use crate::cli::{ExportLevel, ProfileArgs, Ui};
use crate::console;
use crate::mock::{MockArgs, MockServer};
use crate::shard::clock::{DatedTransport, ServerClock};
use crate::shard::manifest::PlanId;
use crate::shard::{plan_command, ScaleOut};
use crate::telemetry::{self, InFlightSink, Telemetry, TelemetryPlan, TelemetryResults};
use crate::transport::ReqwestTransport;
use anyhow::{bail, Context};
use flags::{input_config, seconds, validate};
use imgperf_core::edit::edit_workload;
use imgperf_core::export::{self, RunInfo};
use imgperf_core::job::ExportLines;
use imgperf_core::metrics::{ImageReport, Summary, SummaryBuilder};
use imgperf_core::plan::Workload;
use imgperf_core::runner::{self, Arrivals, RunPlan, RunSettings};
use imgperf_core::schedule::concurrency_ramp;
use imgperf_core::stop::StopSignal;
use imgperf_core::video::VideoSettings;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use inputs::{arrivals, prompts, tokenizer_for};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Model name used with `--mock` when `--model` is not given.
pub const MOCK_MODEL: &str = "mock-image-model";

/// What a finished profile run produced.
#[derive(Debug)]
pub struct ProfileReport {
    /// Where the artifacts are (a sweep: the sweep directory).
    pub paths: ArtifactPaths,
    /// The statistics (a sweep: its last point's).
    pub summary: Summary,
    /// Image checks and the per-size breakdown (a sweep: its last point's).
    pub report: ImageReport,
    /// Stopped early (Ctrl-C).
    pub was_cancelled: bool,
}

/// Where one run writes and how much it prints (a sweep point writes into
/// the sweep directory and prints one line).
#[derive(Debug, Clone, Default)]
pub(crate) struct RunPlace {
    /// Run directory instead of `<artifact-dir>/<AIPerf name>`.
    pub dir: Option<PathBuf>,
    /// Print no table (the sweep prints its own).
    pub quiet: bool,
}

/// Run `imgperf profile`. `command_line` is the process's argv (redacted here before use).
pub async fn profile(args: &ProfileArgs, command_line: &[String]) -> anyhow::Result<ProfileReport> {
    if !args.sweep.is_empty() {
        if args.scale.shard.is_some() {
            bail!("--shard cannot be combined with --sweep: run one sharded benchmark per point");
        }
        return sweep::run_sweep(args, command_line).await;
    }
    run_one(args, command_line, &RunPlace::default()).await
}

/// Fail fast, with a clear message, when a server cannot be reached at all.
async fn check_reachable(urls: &[String]) -> anyhow::Result<()> {
    for base in urls {
        let url = reqwest::Url::parse(base).with_context(|| format!("invalid --url {base}"))?;
        let host = url
            .host_str()
            .unwrap_or("localhost")
            .trim_matches(['[', ']'])
            .to_owned();
        let port = url.port_or_known_default().unwrap_or(80);
        let connect = tokio::net::TcpStream::connect((host.as_str(), port));
        match tokio::time::timeout(Duration::from_secs(5), connect).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => bail!("cannot reach {base} ({e}): is the server running and is --url right? (try --mock to use the embedded mock server)"),
            Err(_) => bail!("cannot reach {base}: no answer within 5 s; is --url right?"),
        }
    }
    Ok(())
}

fn progress_bar(args: &ProfileArgs, total: Option<u64>) -> Option<ProgressBar> {
    if args.ui == Ui::None || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} requests, {msg} (eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("0 errors");
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

/// One benchmark run: the whole of `imgperf profile` without `--sweep`.
pub(crate) async fn run_one(
    args: &ProfileArgs,
    command_line: &[String],
    place: &RunPlace,
) -> anyhow::Result<ProfileReport> {
    let mut v = validate(args)?;
    let scale = ScaleOut::resolve(&args.scale, |k| std::env::var(k).ok())?;
    scale.check(args)?;
    TelemetryPlan::from_args(args, &v.endpoint.urls, false)?; // flags checked before any I/O
    let seed = args.random_seed.unwrap_or_else(rand::random);
    let (tokenizer, tokenizer_name) = tokenizer_for(args, &v.endpoint.model)?;
    let dataset = prompts(args, &tokenizer, seed)?;
    let arrivals = arrivals(args, &v, &dataset.stamps, seed)?;

    let mock = if args.mock {
        let mock_args = MockArgs {
            port: 0,
            latency_ms: args.mock_latency_ms,
            // Every request served at once: the latency asked for is the latency measured
            // (with simulated GPUs, enough slots on each for the concurrency).
            slots: match args.mock_gpus {
                0 => 0,
                g => args.concurrency.unwrap_or(64).div_ceil(g).max(1),
            },
            gpus: args.mock_gpus,
            ..MockArgs::default()
        };
        let server = MockServer::start(&mock_args)
            .await
            .context("cannot start the embedded mock server")?;
        eprintln!(
            "imgperf: target is the EMBEDDED MOCK server at {} (simulated images and videos, {} ms per request, no queueing; not a real model)",
            server.base_url(),
            args.mock_latency_ms
        );
        v.endpoint.urls = vec![server.base_url()];
        Some(server)
    } else {
        check_reachable(&v.endpoint.urls).await?;
        None
    };

    let kind = v.endpoint.kind;
    let row_images = dataset.rows.iter().find(|r| !r.images.is_empty());
    let uploads = kind.is_edit()
        || (kind.is_video() && (v.synthetic_images.is_some() || row_images.is_some()));
    let workload = if !uploads {
        if let Some(r) = row_images {
            eprintln!(
                "imgperf: note: input rows name reference images (line {}); they are sent only with --endpoint-type image_edit or video_generation",
                r.line
            );
        }
        Workload::build(&dataset.specs, &v.endpoint, Some(&tokenizer), seed)
    } else {
        let refs = references::edit_references(
            args,
            kind,
            v.synthetic_images.as_ref(),
            &dataset.rows,
            dataset.specs.len(),
            seed,
        )
        .await?;
        edit_workload(
            &dataset.specs,
            &refs,
            &v.endpoint,
            Some(&tokenizer),
            seed,
            args.edit.export_input_images,
        )
    };
    // The tokenizer (tens of MB) and prompt texts are not needed during the run.
    drop((tokenizer, dataset));
    crate::memory::release_freed_heap_soon();
    let dir = place.dir.clone().unwrap_or_else(|| {
        let name = artifacts::run_dir_name(&v.endpoint.model, v.endpoint.kind, &args.stimulus());
        args.artifact_dir.join(name + &scale.dir_suffix())
    });
    let paths = ArtifactPaths::new(dir, args.profile_export_prefix.as_deref());
    artifacts::prepare_dir(&paths)?;
    let inputs = export::inputs_json(&workload.inputs());
    artifacts::write_json(&paths.inputs(), &inputs)?;
    let cli_command = crate::cli::redacted_command_line(command_line);
    let mut log = RunLog::open(&paths.log());
    log.line(&format!(
        "imgperf {} start: {cli_command}",
        env!("CARGO_PKG_VERSION")
    ));
    log.line(&format!(
        "target {} ; {} dataset entries ; seed {seed}",
        v.endpoint,
        workload.items.len()
    ));

    let (rt, scope) = scale.clock()?;
    let server_clock = Arc::new(ServerClock::default());
    let transport = Arc::new(DatedTransport::new(
        ReqwestTransport::new(
            rt,
            v.timeout,
            args.max_response_bytes,
            args.concurrency.unwrap_or(64),
        )?,
        rt,
        server_clock.clone(),
    ));
    let records = args.export_level != ExportLevel::Summary;
    let raw = args.export_level == ExportLevel::Raw;
    let total = v
        .request_count
        .or(match &arrivals {
            Arrivals::Fixed(rows) => Some(rows.len() as u64),
            _ => None,
        })
        .map(|t| scale.shard.share(t));
    let mut sink = ArtifactSink::open(&paths, records, raw, progress_bar(args, total))?;
    if let Some(g) = &v.goodput {
        sink.summary = SummaryBuilder::with_goodput(g.clone());
    }
    // Per-request values go to a temporary file, so memory stays flat.
    match crate::spill::FileSpill::new() {
        Ok(spill) => sink.summary.spill_to(Box::new(spill)),
        Err(e) => eprintln!(
            "imgperf: note: no temporary file for the run's values ({e}); keeping them in memory"
        ),
    }
    let open_loop = !matches!(arrivals, Arrivals::Closed);
    let concurrency = scale.concurrency(if open_loop {
        args.concurrency
    } else {
        Some(args.concurrency.unwrap_or(1))
    })?;
    let settings = RunSettings {
        concurrency,
        concurrency_ramp: match (args.concurrency_ramp_duration, concurrency) {
            (Some(d), Some(c)) => {
                concurrency_ramp(c, seconds("--concurrency-ramp-duration", d)? as f64 / 1e9)
            }
            _ => Vec::new(),
        },
        request_count: v.request_count,
        duration_ns: args.benchmark_duration.map(|d| (d * 1e9) as u64),
        grace_period_ns: (args.benchmark_grace_period * 1e9) as u64,
        warmup_request_count: args.warmup_request_count,
        warmup_duration_ns: args
            .warmup_duration
            .map(|d| seconds("--warmup-duration", d))
            .transpose()?,
        cancellation: v.cancellation,
        sampling: v.sampling,
        seed,
        id_seed: rand::random(),
        export: ExportLines { records, raw },
        validate_images: v.validate_images,
        video: VideoSettings {
            poll_interval_ns: v.poll_interval_ns,
            download_content: args.download_video_content,
            timeout_ns: v.timeout.as_nanos() as u64,
        },
    };
    let stop = StopSignal::new();
    let ctrl_c = tokio::spawn({
        let stop = stop.clone();
        async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                match stop.escalate() {
                    1 => eprintln!("\nimgperf: stopping; waiting for in-flight requests (Ctrl-C again to abandon them)"),
                    _ => eprintln!("\nimgperf: abandoning in-flight requests; writing artifacts"),
                }
            }
        }
    });
    let plan = RunPlan {
        endpoint: &v.endpoint,
        workload: &workload,
        settings: &settings,
    };
    let telemetry_plan = TelemetryPlan::from_args(args, &v.endpoint.urls, args.mock_gpus > 0)?;
    let mut telemetry = Telemetry::new(telemetry_plan, rt, &paths.dir);
    let mut counted = InFlightSink {
        count: telemetry.in_flight(),
        inner: &mut sink,
    };
    let (sink_ref, hooks) = (&mut counted, &mut telemetry);
    let outcome =
        runner::run_with_hooks(plan, arrivals, scope, transport, rt, sink_ref, &stop, hooks).await;
    ctrl_c.abort();
    let mut tel = telemetry.finish();
    let write_result = sink.finish();
    if let Some(server) = mock {
        server.shutdown().await;
    }

    let mut summary = sink.summary.finish();
    let report = sink.summary.report();
    telemetry::add_energy_metrics(&mut summary, &mut tel, scale.shard);
    if let Some(e) = sink.summary.spill_error() {
        eprintln!("imgperf: warning: {e}; statistics cover the values still in memory");
        log.line(&format!("warning: {e}"));
    }
    let info = RunInfo {
        cli_command: cli_command.clone(),
        input_config: scale.annotate(input_config(args, &v, seed, &tokenizer_name)),
        was_cancelled: outcome.was_cancelled,
        wall_origin_ns: imgperf_core::platform::Runtime::wall_origin_ns(&rt),
    };
    write_summary(&paths, &summary, &report, &info, &tel)?;
    if !place.quiet {
        let stopped = outcome.was_cancelled.then(|| {
            format!(
                "Run stopped early: {} of {} requests issued.",
                outcome.released,
                total.map_or("unlimited".to_owned(), |t| t.to_string())
            )
        });
        print_results(&summary, &report, stopped.as_deref(), &paths, &tel);
        if v.endpoint.kind.is_video() {
            println!(
                "Queue Time and Generation Time are seen at polls: resolution {} s (--video-poll-interval).",
                args.video_poll_interval
            );
        }
    }
    for w in &tel.warnings {
        log.line(&format!("warning: {w}"));
    }
    log.line(&format!(
        "done: {} ok, {} errors, {} cancelled, duration {:.3} s, was_cancelled {}",
        summary.request_count,
        summary.error_count,
        summary.cancelled_count,
        summary.benchmark_duration_s,
        outcome.was_cancelled
    ));
    for l in console::error_lines(&summary) {
        log.line(&format!("error {l}"));
    }
    for l in console::image_lines(&report) {
        log.line(&format!("images {l}"));
    }
    if let Some(note) = console::stream_note(&report) {
        log.line(&note);
    }
    if scale.shard.is_split() {
        let plan = PlanId::new(
            crate::cli::redacted_command_line(&plan_command(command_line)),
            seed,
            &serde_json::to_vec(&inputs)?,
        );
        scale
            .manifest(plan, &paths, &outcome, server_clock.estimate())
            .write(&paths.dir)?;
    }
    write_result.with_context(|| format!("writing exports under {}", paths.dir.display()))?;
    Ok(ProfileReport {
        paths,
        summary,
        report,
        was_cancelled: outcome.was_cancelled,
    })
}

/// The summary JSON (with the image report and telemetry) and CSV of a
/// run, or of a merged one: the same files from the same code.
pub(crate) fn write_summary(
    paths: &ArtifactPaths,
    summary: &Summary,
    report: &ImageReport,
    info: &RunInfo,
    tel: &TelemetryResults,
) -> anyhow::Result<()> {
    let mut summary_json = export::summary_json(summary, info);
    export::add_image_report(&mut summary_json, report);
    let (gpu, server) = (tel.gpu.as_ref(), tel.server.as_ref());
    imgperf_core::telemetry::report::add_to_summary_json(&mut summary_json, gpu, server);
    artifacts::write_json(&paths.summary_json(), &summary_json)?;
    let csv = export::summary_csv(summary) + &imgperf_core::telemetry::report::csv(gpu, server);
    std::fs::write(paths.summary_csv(), csv)
        .with_context(|| format!("cannot write {}", paths.summary_csv().display()))
}

/// The console table and notes of a run, or of a merged one.
pub(crate) fn print_results(
    summary: &Summary,
    report: &ImageReport,
    stopped: Option<&str>,
    paths: &ArtifactPaths,
    tel: &TelemetryResults,
) {
    println!("{}", console::metrics_table(summary));
    if let Some(t) = console::size_table(report) {
        println!("{t}");
    }
    for l in telemetry::console::lines(tel, summary) {
        println!("{l}");
    }
    let errors = console::error_lines(summary);
    if !errors.is_empty() {
        println!("Errors ({} requests):", summary.error_count);
        for l in &errors {
            println!("{l}");
        }
    }
    for l in console::image_lines(report) {
        println!("{l}");
    }
    if let Some(note) = console::stream_note(report) {
        println!("{note}");
    }
    if let Some(note) = stopped {
        println!("{note}");
    }
    println!("Artifacts: {}", paths.dir.display());
}

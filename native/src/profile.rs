//! `imgperf profile`: validate flags (no I/O), then load the tokenizer and
//! dataset, start the embedded mock when asked, run core's runner over the
//! reqwest transport, and write the artifacts and the console table.

use crate::artifacts::{self, ArtifactPaths, ArtifactSink, RunLog};
use crate::cli::{ExportLevel, ProfileArgs, Ui};
use crate::console;
use crate::mock::{MockArgs, MockServer};
use crate::runtime::TokioRuntime;
use crate::tokenizer_source::load_tokenizer;
use crate::transport::ReqwestTransport;
use anyhow::{bail, Context};
use imgperf_core::dataset::{parse_dataset_type, parse_single_turn};
use imgperf_core::export::{self, RunInfo};
use imgperf_core::job::ExportLines;
use imgperf_core::metrics::Summary;
use imgperf_core::plan::{PromptSpec, SamplingStrategy, Workload};
use imgperf_core::request::{
    normalize_base_url, parse_extra_inputs, parse_header, EndpointConfig, DEFAULT_ENDPOINT,
};
use imgperf_core::runner::{self, Arrivals, Cancellation, RunPlan, RunSettings};
use imgperf_core::schedule::{
    concurrency_ramp, fixed_schedule, ArrivalPattern, RateSpec, Schedule,
};
use imgperf_core::stop::StopSignal;
use imgperf_core::synthetic::generate_prompts;
use imgperf_core::tokenizer::Tokenizer;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

/// Model name used with `--mock` when `--model` is not given.
pub const MOCK_MODEL: &str = "mock-image-model";

/// What a finished profile run produced.
#[derive(Debug)]
pub struct ProfileReport {
    /// Where the artifacts are.
    pub paths: ArtifactPaths,
    /// The statistics.
    pub summary: Summary,
    /// Stopped early (Ctrl-C).
    pub was_cancelled: bool,
}

/// Flags checked and converted, before any I/O.
struct Validated {
    endpoint: EndpointConfig,
    sampling: SamplingStrategy,
    request_count: Option<u64>,
    timeout: Duration,
    rate: Option<RateSpec>,
    cancellation: Option<Cancellation>,
}

fn seconds(flag: &str, v: f64) -> anyhow::Result<u64> {
    if !(v >= 0.0 && v.is_finite()) {
        bail!("{flag} must be a number of seconds ≥ 0, got {v}");
    }
    Ok((v * 1e9).round() as u64)
}

fn load_flags(args: &ProfileArgs) -> anyhow::Result<(Option<RateSpec>, Option<Cancellation>)> {
    if args.concurrency == Some(0) {
        bail!("--concurrency must be at least 1");
    }
    if let Some(d) = args.benchmark_duration {
        if !(d > 0.0 && d.is_finite()) {
            bail!("--benchmark-duration must be a positive number of seconds, got {d}");
        }
    }
    seconds("--benchmark-grace-period", args.benchmark_grace_period)?;
    let rate = match args.request_rate {
        None => None,
        Some(r) if !(r > 0.0 && r.is_finite()) => {
            bail!("--request-rate must be a positive number of requests per second, got {r}")
        }
        Some(rate) => {
            if args.fixed_schedule {
                bail!("--fixed-schedule replays the input file's timestamps; drop --request-rate");
            }
            let pattern = ArrivalPattern::parse(&args.request_rate_mode, args.arrival_smoothness)?;
            let ramp = args
                .request_rate_ramp_duration
                .map(|d| seconds("--request-rate-ramp-duration", d).map(|_| d))
                .transpose()?;
            Some(RateSpec {
                rate,
                pattern,
                ramp_duration_s: ramp,
            })
        }
    };
    if args.fixed_schedule && args.input_file.is_none() {
        bail!("--fixed-schedule needs an --input-file whose rows carry a \"timestamp\" (ms)");
    }
    let cancellation = match args.request_cancellation_rate {
        None | Some(0.0) => None,
        Some(p) if !(0.0..=100.0).contains(&p) => {
            bail!("--request-cancellation-rate is a percentage between 0 and 100, got {p}")
        }
        Some(p) => Some(Cancellation {
            fraction: p / 100.0,
            delay_ns: seconds(
                "--request-cancellation-delay",
                args.request_cancellation_delay,
            )?,
        }),
    };
    Ok((rate, cancellation))
}

fn validate(args: &ProfileArgs) -> anyhow::Result<Validated> {
    if args.endpoint_type != "image_generation" {
        bail!(
            "unknown --endpoint-type {:?}: imgperf benchmarks the OpenAI Images API; use --endpoint-type image_generation",
            args.endpoint_type
        );
    }
    parse_dataset_type(&args.custom_dataset_type).map_err(|e| anyhow::anyhow!("{e}"))?;
    let sampling =
        SamplingStrategy::parse(&args.dataset_sampling_strategy).map_err(anyhow::Error::msg)?;
    let (rate, cancellation) = load_flags(args)?;
    let request_count = args.effective_request_count();
    if request_count == Some(0) {
        bail!("--request-count must be at least 1");
    }
    if !(args.request_timeout_seconds > 0.0 && args.request_timeout_seconds.is_finite()) {
        bail!(
            "--request-timeout-seconds must be a positive number of seconds, got {}",
            args.request_timeout_seconds
        );
    }
    if args.input_file.is_none() {
        if !(args.synthetic_input_tokens_mean >= 1.0
            && args.synthetic_input_tokens_mean.is_finite())
        {
            bail!(
                "--synthetic-input-tokens-mean must be at least 1, got {}",
                args.synthetic_input_tokens_mean
            );
        }
        if !(args.synthetic_input_tokens_stddev >= 0.0
            && args.synthetic_input_tokens_stddev.is_finite())
        {
            bail!(
                "--synthetic-input-tokens-stddev must be 0 or more, got {}",
                args.synthetic_input_tokens_stddev
            );
        }
        if args.num_dataset_entries == 0 {
            bail!("--num-dataset-entries must be at least 1");
        }
    }
    let model = match (&args.model, args.mock) {
        (Some(m), _) => m.clone(),
        (None, true) => MOCK_MODEL.to_owned(),
        (None, false) => bail!("--model is required (the model name your server serves, e.g. black-forest-labs/FLUX.1-dev); or use --mock to try imgperf against the embedded mock server"),
    };
    let urls = args
        .url
        .iter()
        .map(|u| normalize_base_url(u))
        .collect::<Result<Vec<_>, _>>()?;
    let headers = args
        .header
        .iter()
        .map(|h| parse_header(h))
        .collect::<Result<Vec<_>, _>>()?;
    let extra_inputs = parse_extra_inputs(&args.extra_inputs)?;
    let endpoint = EndpointConfig {
        urls,
        endpoint_path: args
            .endpoint
            .clone()
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned()),
        model,
        api_key: args.api_key.clone().filter(|k| !k.is_empty()),
        headers,
        extra_inputs,
        streaming: args.streaming,
    };
    Ok(Validated {
        endpoint,
        sampling,
        request_count,
        timeout: Duration::from_secs_f64(args.request_timeout_seconds),
        rate,
        cancellation,
    })
}

fn tokenizer_for(args: &ProfileArgs, model: &str) -> anyhow::Result<(Tokenizer, String)> {
    if let Some(name) = &args.tokenizer {
        return Ok((load_tokenizer(name)?, name.clone()));
    }
    match load_tokenizer(model) {
        Ok(t) => Ok((t, model.to_owned())),
        Err(_) => {
            if model != MOCK_MODEL {
                eprintln!("note: no tokenizer found locally for {model:?}; counting input tokens with the bundled gpt2 (choose with --tokenizer)");
            }
            Ok((load_tokenizer("gpt2")?, "gpt2".to_owned()))
        }
    }
}

/// Prompts, and each row's `timestamp` (ms) for `--fixed-schedule`.
type Prompts = (Vec<PromptSpec>, Vec<Option<f64>>);

fn prompts(args: &ProfileArgs, tokenizer: &Tokenizer, seed: u64) -> anyhow::Result<Prompts> {
    match &args.input_file {
        Some(path) => {
            let content = std::fs::read(path)
                .with_context(|| format!("cannot read --input-file {}", path.display()))?;
            let content = String::from_utf8(content).map_err(|e| {
                anyhow::anyhow!(
                    "--input-file {} is not valid UTF-8 (first bad byte at offset {})",
                    path.display(),
                    e.utf8_error().valid_up_to()
                )
            })?;
            let entries = parse_single_turn(&path.display().to_string(), &content)?;
            let stamps = entries.iter().map(|e| e.timestamp_ms).collect();
            let specs = entries
                .into_iter()
                .map(|e| PromptSpec {
                    prompt: e.prompt(),
                    extra: e.extra,
                })
                .collect();
            Ok((specs, stamps))
        }
        None => {
            let specs: Vec<PromptSpec> = generate_prompts(
                tokenizer,
                args.synthetic_input_tokens_mean,
                args.synthetic_input_tokens_stddev,
                args.num_dataset_entries,
                seed,
            )
            .into_iter()
            .map(|prompt| PromptSpec {
                prompt,
                extra: None,
            })
            .collect();
            let stamps = vec![None; specs.len()];
            Ok((specs, stamps))
        }
    }
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

fn arrivals(
    args: &ProfileArgs,
    v: &Validated,
    timestamps: &[Option<f64>],
    seed: u64,
) -> anyhow::Result<Arrivals> {
    if args.fixed_schedule {
        let stamps = timestamps
            .iter()
            .enumerate()
            .map(|(i, t)| {
                t.ok_or_else(|| {
                    anyhow::anyhow!(
                        "--fixed-schedule: row {} of the input file has no \"timestamp\" (ms)",
                        i + 1
                    )
                })
            })
            .collect::<anyhow::Result<Vec<f64>>>()?;
        let rows = fixed_schedule(
            &stamps,
            args.fixed_schedule_auto_offset,
            args.fixed_schedule_start_offset,
            args.fixed_schedule_end_offset,
        )?;
        return Ok(Arrivals::Fixed(rows));
    }
    match &v.rate {
        Some(spec) => Ok(Arrivals::Open(Box::new(Schedule::new(spec, seed)?))),
        None => Ok(Arrivals::Closed),
    }
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

fn input_config(
    args: &ProfileArgs,
    v: &Validated,
    seed: u64,
    tokenizer_name: &str,
) -> serde_json::Value {
    json!({
        "endpoint": {
            "model_names": [v.endpoint.model],
            "type": "image_generation",
            "custom_endpoint": v.endpoint.endpoint_path,
            "urls": v.endpoint.urls,
            "streaming": v.endpoint.streaming,
            "timeout_seconds": args.request_timeout_seconds,
            "mock": args.mock,
        },
        "input": {
            "random_seed": seed,
            "input_file": args.input_file.as_ref().map(|p| p.display().to_string()),
            "custom_dataset_type": args.custom_dataset_type,
            "extra": v.endpoint.extra_inputs,
            "synthetic_input_tokens": {"mean": args.synthetic_input_tokens_mean, "stddev": args.synthetic_input_tokens_stddev},
            "tokenizer": tokenizer_name,
        },
        "loadgen": {
            "concurrency": args.concurrency,
            "request_count": v.request_count,
            "warmup_request_count": args.warmup_request_count,
        },
        "output": {"export_level": format!("{:?}", args.export_level).to_lowercase()},
    })
}

/// Run `imgperf profile`. `command_line` is the process's argv (redacted here before use).
pub async fn profile(args: &ProfileArgs, command_line: &[String]) -> anyhow::Result<ProfileReport> {
    let mut v = validate(args)?;
    let seed = args.random_seed.unwrap_or_else(rand::random);
    let (tokenizer, tokenizer_name) = tokenizer_for(args, &v.endpoint.model)?;
    let (prompts, timestamps) = prompts(args, &tokenizer, seed)?;
    let arrivals = arrivals(args, &v, &timestamps, seed)?;

    let mock = if args.mock {
        let mock_args = MockArgs {
            port: 0,
            latency_ms: args.mock_latency_ms,
            ..MockArgs::default()
        };
        let server = MockServer::start(&mock_args)
            .await
            .context("cannot start the embedded mock server")?;
        eprintln!(
            "imgperf: target is the EMBEDDED MOCK image server at {} (simulated images, {} ms latency; not a real model)",
            server.base_url(),
            args.mock_latency_ms
        );
        v.endpoint.urls = vec![server.base_url()];
        Some(server)
    } else {
        check_reachable(&v.endpoint.urls).await?;
        None
    };

    let workload = Workload::build(&prompts, &v.endpoint, Some(&tokenizer), seed);
    let dir = args
        .artifact_dir
        .join(artifacts::run_dir_name(&v.endpoint.model, &args.stimulus()));
    let paths = ArtifactPaths::new(dir, args.profile_export_prefix.as_deref());
    artifacts::prepare_dir(&paths)?;
    artifacts::write_json(&paths.inputs(), &export::inputs_json(&workload.inputs()))?;
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

    let rt = TokioRuntime::new();
    let transport = Arc::new(ReqwestTransport::new(
        rt,
        v.timeout,
        args.max_response_bytes,
        args.concurrency.unwrap_or(64),
    )?);
    let records = args.export_level != ExportLevel::Summary;
    let raw = args.export_level == ExportLevel::Raw;
    let total = v.request_count.or(match &arrivals {
        Arrivals::Fixed(rows) => Some(rows.len() as u64),
        _ => None,
    });
    let mut sink = ArtifactSink::open(&paths, records, raw, progress_bar(args, total))?;
    let open_loop = !matches!(arrivals, Arrivals::Closed);
    let concurrency = if open_loop {
        args.concurrency
    } else {
        Some(args.concurrency.unwrap_or(1))
    };
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
    let outcome = runner::run(plan, arrivals, transport, rt, &mut sink, &stop).await;
    ctrl_c.abort();
    let write_result = sink.finish();
    if let Some(server) = mock {
        server.shutdown().await;
    }

    let summary = sink.summary.finish();
    let info = RunInfo {
        cli_command: cli_command.clone(),
        input_config: input_config(args, &v, seed, &tokenizer_name),
        was_cancelled: outcome.was_cancelled,
        wall_origin_ns: imgperf_core::platform::Runtime::wall_origin_ns(&rt),
    };
    artifacts::write_json(
        &paths.summary_json(),
        &export::summary_json(&summary, &info),
    )?;
    std::fs::write(paths.summary_csv(), export::summary_csv(&summary))
        .with_context(|| format!("cannot write {}", paths.summary_csv().display()))?;
    println!("{}", console::metrics_table(&summary));
    let errors = console::error_lines(&summary);
    if !errors.is_empty() {
        println!("Errors ({} requests):", summary.error_count);
        for l in &errors {
            println!("{l}");
        }
    }
    if outcome.was_cancelled {
        println!(
            "Run stopped early: {} of {} requests issued.",
            outcome.released,
            total.map_or("unlimited".to_owned(), |t| t.to_string())
        );
    }
    println!("Artifacts: {}", paths.dir.display());
    log.line(&format!(
        "done: {} ok, {} errors, {} cancelled, duration {:.3} s, was_cancelled {}",
        summary.request_count,
        summary.error_count,
        summary.cancelled_count,
        summary.benchmark_duration_s,
        outcome.was_cancelled
    ));
    for l in &errors {
        log.line(&format!("error {l}"));
    }
    write_result.with_context(|| format!("writing exports under {}", paths.dir.display()))?;
    Ok(ProfileReport {
        paths,
        summary,
        was_cancelled: outcome.was_cancelled,
    })
}

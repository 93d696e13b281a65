//! Command-line definition: `imgperf profile` with AIPerf's flags (so a
//! user's `aiperf profile ...` runs with only the program name changed),
//! `imgperf serve-mock`, `imgperf extract` and `imgperf publish`.

mod edit;

pub use edit::EditArgs;

use crate::extract::ExtractArgs;
use crate::mock::MockArgs;
use crate::publish::PublishArgs;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Benchmark image-generation servers that speak the OpenAI Images API.
#[derive(Debug, Parser)]
#[command(name = "imgperf", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a benchmark (AIPerf-compatible flags).
    Profile(Box<ProfileArgs>),
    /// Run the embedded mock image and video server.
    ServeMock(Box<MockArgs>),
    /// Save the images and videos of a raw export (`--export-level raw`) as files.
    Extract(ExtractArgs),
    /// Merge the shards of one benchmark (`profile --shard`) into one run with exact statistics.
    Merge(crate::merge::MergeArgs),
    /// Write runs as a static results site (the browser app, summaries, records, thumbnails).
    Publish(Box<PublishArgs>),
}

/// How much per-request data to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportLevel {
    /// Summary JSON/CSV only.
    Summary,
    /// Plus `profile_export.jsonl`, one record per request (default).
    Records,
    /// Plus `profile_export_raw.jsonl` with every payload and response body.
    Raw,
}

/// Console UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Ui {
    /// Progress bar (imgperf has no full-screen dashboard; same as simple).
    Dashboard,
    /// Progress bar on stderr when it is a terminal.
    Simple,
    /// No progress output.
    None,
}

/// `imgperf profile`.
#[derive(Debug, Clone, Args)]
#[command(next_line_help = false, allow_negative_numbers = true)]
pub struct ProfileArgs {
    // ---- Endpoint ----
    /// Model name sent in the payload (required unless --mock).
    #[arg(
        short = 'm',
        long = "model",
        alias = "model-names",
        help_heading = "Endpoint"
    )]
    pub model: Option<String>,
    /// Endpoint type: `image_generation` (OpenAI Images API, JSON), `image_edit` (POST
    /// /v1/images/edits, multipart/form-data with reference images; see "Image edits") or
    /// `video_generation` (OpenAI Videos API: each request a job submitted, polled to its end, its
    /// MP4 fetched and checked; a job with a reference image is image-to-video, its submit
    /// multipart/form-data with the file part `input_reference`).
    #[arg(long, default_value = "image_generation", help_heading = "Endpoint")]
    pub endpoint_type: String,
    /// Path override for the endpoint (default /v1/images/generations, /v1/images/edits for
    /// image_edit, or /v1/videos for video).
    #[arg(
        long = "endpoint",
        alias = "custom-endpoint",
        help_heading = "Endpoint"
    )]
    pub endpoint: Option<String>,
    /// Server URL; repeat for round-robin over several servers. `http://` is added when no scheme.
    #[arg(
        short = 'u',
        long = "url",
        default_value = "localhost:8000",
        help_heading = "Endpoint"
    )]
    pub url: Vec<String>,
    /// Whole-exchange timeout per request, in seconds.
    #[arg(long, default_value_t = 21600.0, help_heading = "Endpoint")]
    pub request_timeout_seconds: f64,
    /// API key, sent as `Authorization: Bearer <key>`; never written to logs or artifacts.
    #[arg(
        long,
        env = "IMGPERF_API_KEY",
        hide_env_values = true,
        help_heading = "Endpoint"
    )]
    pub api_key: Option<String>,
    /// Extra header `Name:value`; repeatable.
    #[arg(short = 'H', long = "header", help_heading = "Endpoint")]
    pub header: Vec<String>,
    /// Ask for a streamed response (`"stream": true`).
    #[arg(long, help_heading = "Endpoint")]
    pub streaming: bool,
    /// Largest response body accepted, in bytes; a larger one is an error for that request.
    #[arg(long, default_value_t = 256 * 1024 * 1024, help_heading = "Endpoint")]
    pub max_response_bytes: usize,

    // ---- Input ----
    /// Extra payload fields: `key:value` (coerced: true/false, null, ints, floats), a comma list, or a JSON object; repeatable.
    #[arg(long, help_heading = "Input")]
    pub extra_inputs: Vec<String>,
    /// JSONL prompts file: one `{"text": ...}` or `{"texts": [...]}` per line, optional `extra` object;
    /// for image_edit also `image` (or `images`: a list) and optional `mask`, each a path (relative to
    /// this file's folder), an http(s) URL (fetched once before the run) or a data: URI; for
    /// video_generation an optional `image` (one), which makes that job image-to-video.
    #[arg(long, help_heading = "Input")]
    pub input_file: Option<PathBuf>,
    /// Format of --input-file.
    #[arg(long, default_value = "single_turn", help_heading = "Input")]
    pub custom_dataset_type: String,
    /// Seed for prompts, sampling order and ids: same seed → identical inputs.json.
    #[arg(long, help_heading = "Input")]
    pub random_seed: Option<u64>,
    /// How requests pick dataset entries: sequential, random or shuffle.
    #[arg(long, default_value = "sequential", help_heading = "Input")]
    pub dataset_sampling_strategy: String,
    /// Mean prompt length in tokens for synthetic prompts (no --input-file).
    #[arg(long, alias = "isl", default_value_t = 550.0, help_heading = "Input")]
    pub synthetic_input_tokens_mean: f64,
    /// Standard deviation of synthetic prompt lengths in tokens.
    #[arg(
        long,
        alias = "isl-stddev",
        default_value_t = 0.0,
        help_heading = "Input"
    )]
    pub synthetic_input_tokens_stddev: f64,
    /// Synthetic prompts to generate (requests cycle through them).
    #[arg(
        long,
        alias = "num-prompts",
        alias = "num-conversations",
        default_value_t = 100,
        help_heading = "Input"
    )]
    pub num_dataset_entries: usize,

    // ---- Tokenizer ----
    /// Tokenizer for input sequence lengths: `gpt2` (bundled), a tokenizer.json, a directory holding one,
    /// or a Hugging Face model id found in the local cache. Default: the model's, else bundled gpt2.
    /// `builtin` (AIPerf's name for its bundled tiktoken o200k_base) is accepted and counts with the
    /// bundled GPT-2 BPE, so counts can differ slightly from AIPerf's. Edits count prompt tokens only.
    #[arg(long, help_heading = "Tokenizer")]
    pub tokenizer: Option<String>,
    /// Accepted for AIPerf compatibility (the local cache's `main` revision is used).
    #[arg(long, default_value = "main", help_heading = "Tokenizer")]
    pub tokenizer_revision: String,
    /// Accepted for AIPerf compatibility (no code is ever run from a tokenizer).
    #[arg(long, help_heading = "Tokenizer")]
    pub tokenizer_trust_remote_code: bool,

    // ---- Load ----
    /// Cap on requests in flight. Alone: a closed loop of N workers (default 1).
    /// With --request-rate: arrivals beyond the cap wait in a client-side queue (never skipped).
    #[arg(long, help_heading = "Load")]
    pub concurrency: Option<usize>,
    /// Open loop: target requests per second.
    #[arg(long, help_heading = "Load")]
    pub request_rate: Option<f64>,
    /// Arrival process for --request-rate: constant, poisson, gamma or concurrency_burst.
    ///
    /// With --request-count N, poisson and gamma gaps are scaled by one
    /// common factor so that the N arrivals span exactly (N-1)/rate seconds
    /// (the process conditioned on its count): the achieved rate is the
    /// requested one. Seeded by --random-seed.
    #[arg(
        long,
        alias = "arrival-pattern",
        default_value = "poisson",
        help_heading = "Load"
    )]
    pub request_rate_mode: String,
    /// Gamma shape for --request-rate-mode gamma (1 = Poisson; higher = smoother).
    #[arg(long, help_heading = "Load")]
    pub arrival_smoothness: Option<f64>,
    /// Requests to send (default max(10, 2 × concurrency), as AIPerf; unlimited with --benchmark-duration).
    #[arg(long, alias = "num-requests", help_heading = "Load")]
    pub request_count: Option<u64>,
    /// Stop releasing requests after this many seconds.
    #[arg(long, help_heading = "Load")]
    pub benchmark_duration: Option<f64>,
    /// After --benchmark-duration, wait this many seconds for in-flight requests; the rest are recorded as cancelled.
    #[arg(long, default_value_t = 30.0, help_heading = "Load")]
    pub benchmark_grace_period: f64,
    /// Warm-up requests sent first and kept out of the results.
    #[arg(
        long,
        alias = "warmup-requests",
        default_value_t = 0,
        help_heading = "Load"
    )]
    pub warmup_request_count: u64,
    /// Warm-up phase length limit in seconds.
    #[arg(long, help_heading = "Load")]
    pub warmup_duration: Option<f64>,
    /// Percentage (0-100) of requests cancelled on purpose after --request-cancellation-delay.
    #[arg(long, help_heading = "Load")]
    pub request_cancellation_rate: Option<f64>,
    /// Seconds after its start at which a picked request is cancelled.
    #[arg(long, default_value_t = 0.0, help_heading = "Load")]
    pub request_cancellation_delay: f64,
    /// Replay the `timestamp` (ms) of each --input-file row.
    #[arg(long, help_heading = "Load")]
    pub fixed_schedule: bool,
    /// With --fixed-schedule: shift the trace so its first kept row is sent at 0.
    #[arg(long, help_heading = "Load")]
    pub fixed_schedule_auto_offset: bool,
    /// With --fixed-schedule: skip rows before this timestamp (ms).
    #[arg(long, help_heading = "Load")]
    pub fixed_schedule_start_offset: Option<f64>,
    /// With --fixed-schedule: skip rows after this timestamp (ms).
    #[arg(long, help_heading = "Load")]
    pub fixed_schedule_end_offset: Option<f64>,
    /// Raise the request rate linearly from 0 over this many seconds.
    #[arg(long, help_heading = "Load")]
    pub request_rate_ramp_duration: Option<f64>,
    /// Raise the concurrency cap from 1 over this many seconds.
    #[arg(long, help_heading = "Load")]
    pub concurrency_ramp_duration: Option<f64>,

    // ---- Output ----
    /// Directory for artifacts; a sub-directory per run is made as AIPerf names it.
    #[arg(long, default_value = "artifacts", help_heading = "Output")]
    pub artifact_dir: PathBuf,
    /// How much per-request data to write.
    #[arg(long, value_enum, default_value_t = ExportLevel::Records, help_heading = "Output")]
    pub export_level: ExportLevel,
    /// Prefix for export files instead of `profile_export`.
    #[arg(long, help_heading = "Output")]
    pub profile_export_prefix: Option<String>,
    /// Console UI.
    #[arg(long, value_enum, default_value_t = Ui::Dashboard, help_heading = "Output")]
    pub ui: Ui,

    // ---- Images ----
    /// Check every output image from its header (format, dimensions, completeness) against the
    /// request (`n`, `size`, `output_format`): `warn` records mismatches on the request, `strict`
    /// also makes them an error, `off` checks nothing.
    /// Videos: the MP4's size, frame count, frame rate and duration against `size`,
    /// `num_frames` (or `seconds` x `fps`), `fps` and `seconds`; `--validate-output` is the same flag.
    #[arg(long, alias = "validate-output", default_value = "warn", value_parser = ["off", "warn", "strict"], help_heading = "Images")]
    pub validate_images: String,
    /// Service-level objectives, `metric:max_ms` pairs separated by spaces (e.g.
    /// "request_latency:15000 time_to_first_image:2000"): adds good request count, goodput and SLO attainment.
    #[arg(long, help_heading = "Images")]
    pub goodput: Option<String>,

    // ---- Video ----
    /// Seconds between the starts of two status polls of a video job (one poll in flight per job).
    #[arg(
        long,
        env = "AIPERF_HTTP_VIDEO_POLL_INTERVAL",
        default_value_t = imgperf_core::video::DEFAULT_POLL_INTERVAL_S,
        help_heading = "Video"
    )]
    pub video_poll_interval: f64,
    /// Fetch each video's MP4 as part of the request and count it in the latency (as AIPerf).
    /// Without it the MP4 is still fetched after completion to check it (not counted), unless
    /// --validate-images off; the raw export keeps the MP4's bytes only with this flag.
    #[arg(long, help_heading = "Video")]
    pub download_video_content: bool,

    // ---- Image edits ----
    /// Synthetic reference images and exports of an edit run.
    #[command(flatten)]
    pub edit: EditArgs,

    // ---- Sweep ----
    /// Run a grid of benchmarks: KEY=V1,V2,... per axis, repeatable (the grid is every combination).
    /// KEY is concurrency, request-rate, request-count or benchmark-duration, or else a payload
    /// field as with --extra-inputs (size, num_inference_steps, n, ...). One artifact directory per
    /// point under <artifact-dir>/<model>-openai-<endpoint type>-sweep/, plus sweep_summary.json/.csv.
    #[arg(long, value_name = "KEY=V1,V2", help_heading = "Sweep")]
    pub sweep: Vec<String>,

    // ---- Scale-out ----
    /// `--shard`, `--start-at` (see [`crate::shard`]).
    #[command(flatten)]
    pub scale: crate::shard::ScaleArgs,

    // ---- Telemetry ----
    /// Scrape DCGM exporters for GPU power, energy, utilization, memory, clocks and temperature
    /// every --telemetry-interval through the profiling phase (plus one scrape just before and
    /// one just after). `localhost:9400` means `http://localhost:9400/metrics`. Without this flag
    /// (or with it and no URL) imgperf tries http://localhost:9400/metrics and :9401 quietly, as
    /// AIPerf does; URLs named here are always scraped, and their failures are warnings.
    #[arg(long, num_args = 0.., value_name = "URL", help_heading = "Telemetry")]
    pub gpu_telemetry: Option<Vec<String>>,
    /// Do not scrape any DCGM exporter.
    #[arg(long, conflicts_with = "gpu_telemetry", help_heading = "Telemetry")]
    pub no_gpu_telemetry: bool,
    /// Scrape the server's own Prometheus `/metrics` through the profiling phase (every series kept
    /// in server_metrics_export.jsonl; counters summarised as delta and rate, gauges as
    /// avg/min/max). Default: `<url>/metrics` of each --url, when it answers; URLs named here are
    /// scraped too.
    #[arg(long, num_args = 0.., value_name = "URL", help_heading = "Telemetry")]
    pub server_metrics: Option<Vec<String>>,
    /// Do not scrape the server's /metrics.
    #[arg(long, conflicts_with = "server_metrics", help_heading = "Telemetry")]
    pub no_server_metrics: bool,
    /// Seconds between scrapes (each scrape is given at most 1 s).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 0.333,
        help_heading = "Telemetry"
    )]
    pub telemetry_interval: f64,

    // ---- Mock ----
    /// Benchmark the embedded mock image server instead of --url (no GPU needed).
    #[arg(long, help_heading = "Mock")]
    pub mock: bool,
    /// Service latency of the embedded mock per request, in ms.
    #[arg(long, default_value_t = 50.0, help_heading = "Mock")]
    pub mock_latency_ms: f64,
    /// Simulate N GPUs in the embedded mock (DCGM series on its /metrics, scraped as GPU
    /// telemetry): energy per image without a GPU.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        requires = "mock",
        help_heading = "Mock"
    )]
    pub mock_gpus: usize,
}

impl ProfileArgs {
    /// `--request-count`, or AIPerf's default: max(10, 2 × concurrency);
    /// unlimited (`None`) when a duration or a fixed schedule bounds the run.
    pub fn effective_request_count(&self) -> Option<u64> {
        if self.request_count.is_some() {
            return self.request_count;
        }
        if self.benchmark_duration.is_some() || self.fixed_schedule {
            return None;
        }
        Some((2 * self.concurrency.unwrap_or(1) as u64).max(10))
    }

    /// The stimulus part of the artifact directory name, as AIPerf names it.
    pub fn stimulus(&self) -> String {
        if self.fixed_schedule {
            return "fixed_schedule".to_owned();
        }
        let rate = self.request_rate.map(|r| {
            if r.fract() == 0.0 {
                format!("request_rate{r:.1}")
            } else {
                format!("request_rate{r}")
            }
        });
        match (self.concurrency, rate) {
            (Some(c), Some(r)) => format!("concurrency{c}-{r}"),
            (None, Some(r)) => r,
            (c, None) => format!("concurrency{}", c.unwrap_or(1)),
        }
    }
}

/// The command line as typed, with secret values replaced, for logs and artifacts.
pub fn redacted_command_line(args: &[String]) -> String {
    let mut out = Vec::with_capacity(args.len());
    let mut hide_next = false;
    for a in args {
        if hide_next {
            out.push("<redacted>".to_owned());
            hide_next = false;
            continue;
        }
        if a == "--api-key" {
            hide_next = true;
            out.push(a.clone());
        } else if a.starts_with("--api-key=") {
            out.push("--api-key=<redacted>".to_owned());
        } else if a.to_ascii_lowercase().starts_with("authorization:") {
            out.push("Authorization:<redacted>".to_owned());
        } else {
            out.push(a.clone());
        }
    }
    out.iter()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "\"'$`\\".contains(c)) {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(extra: &[&str]) -> ProfileArgs {
        let mut v = vec!["imgperf", "profile", "-m", "x"];
        v.extend_from_slice(extra);
        match Cli::parse_from(v).command {
            Command::Profile(p) => *p,
            _ => unreachable!(),
        }
    }

    #[test]
    fn stimulus_names_match_aiperf() {
        assert_eq!(profile(&[]).stimulus(), "concurrency1");
        assert_eq!(profile(&["--concurrency", "4"]).stimulus(), "concurrency4");
        assert_eq!(
            profile(&["--request-rate", "10"]).stimulus(),
            "request_rate10.0"
        );
        assert_eq!(
            profile(&["--request-rate", "2.5", "--concurrency", "3"]).stimulus(),
            "concurrency3-request_rate2.5"
        );
        assert_eq!(profile(&["--fixed-schedule"]).stimulus(), "fixed_schedule");
    }

    #[test]
    fn api_key_is_redacted_in_every_form() {
        let args: Vec<String> = [
            "imgperf",
            "profile",
            "--api-key",
            "sk-1",
            "--api-key=sk-2",
            "-H",
            "Authorization: Bearer sk-3",
            "--model",
            "m x",
        ]
        .map(String::from)
        .to_vec();
        let line = redacted_command_line(&args);
        assert!(!line.contains("sk-"), "{line}");
        assert!(line.contains("'m x'"));
    }

    #[test]
    fn default_request_count_is_aiperfs() {
        let parse = |extra: &[&str]| {
            let mut v = vec!["imgperf", "profile", "-m", "x"];
            v.extend_from_slice(extra);
            match Cli::parse_from(v).command {
                Command::Profile(p) => p.effective_request_count(),
                _ => unreachable!(),
            }
        };
        assert_eq!(parse(&[]), Some(10));
        assert_eq!(parse(&["--concurrency", "8"]), Some(16));
        assert_eq!(parse(&["--request-count", "3"]), Some(3));
        assert_eq!(parse(&["--benchmark-duration", "5"]), None);
    }
}

//! The mock server's options (`imgperf serve-mock --help`): server, dialect,
//! latency model, faults, CORS and ground truth, with their defaults and
//! validation.

use std::path::PathBuf;
use std::str::FromStr;

use super::faults::{FaultAt, FaultRate};

/// Which server the mock imitates on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dialect {
    /// OpenAI Images API: `b64_json` by default (`url` gives absolute URLs),
    /// PNG, `usage`, `{"error":{...}}` errors, SSE partial images with `stream`.
    Openai,
    /// SGLang diffusion (`sglang serve`): JPEG, `response_format` default
    /// `url` (relative `/v1/images/{id}/content`), `id`, `file_path`,
    /// `peak_memory_mb`, `inference_time_s`, `{"detail"}` errors, `stream` ignored.
    Sglang,
    /// vLLM-Omni: PNG, `b64_json` or `file` (raw bytes), `url` rejected,
    /// vLLM's `{"error":{...}}` errors.
    VllmOmni,
}

impl Dialect {
    /// Name as typed on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Openai => "openai",
            Dialect::Sglang => "sglang",
            Dialect::VllmOmni => "vllm-omni",
        }
    }
}

/// What the imitated model can do, as SGLang's task types say it: a
/// text-only model (`t2i`, `t2v`) rejects every reference image (an edit,
/// an image-to-video job) with 400 `input_reference is not supported for
/// T2I models.` (its task type named), and a model that needs an image
/// (`i2i`, `i2v`) rejects every request without one with 400 `Served model
/// with task type 'I2V' requires an 'image_path' input, but none was
/// provided` (generations, and video jobs without `input_reference`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Task {
    /// Generations, edits, and video jobs with or without a reference.
    #[default]
    Any,
    /// A text-to-image model: edits and video references get a 400.
    T2i,
    /// An image-to-image (edit) model: generations, and video jobs without
    /// a reference, get a 400.
    I2i,
    /// A text-to-video model (Wan2.1-T2V): as t2i.
    T2v,
    /// An image-to-video model (Wan2.1-I2V): as i2i.
    I2v,
}

impl Task {
    /// SGLang's name of the task type (`T2I`, ...).
    pub fn label(self) -> &'static str {
        match self {
            Task::Any => "ANY",
            Task::T2i => "T2I",
            Task::I2i => "I2I",
            Task::T2v => "T2V",
            Task::I2v => "I2V",
        }
    }

    /// Whether a request with a reference image is refused.
    pub fn refuses_references(self) -> bool {
        matches!(self, Task::T2i | Task::T2v)
    }

    /// Whether a request without a reference image is refused.
    pub fn requires_reference(self) -> bool {
        matches!(self, Task::I2i | Task::I2v)
    }

    /// What a text-only model answers a reference image (SGLang's words).
    pub fn refusal(self) -> String {
        format!(
            "input_reference is not supported for {} models.",
            self.label()
        )
    }

    /// What a model that needs an image answers a request without one
    /// (SGLang's words).
    pub fn missing_reference(self) -> String {
        format!(
            "Served model with task type '{}' requires an 'image_path' input, but none was provided",
            self.label()
        )
    }
}

/// Which CORS headers the mock sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CorsMode {
    /// No CORS headers; preflights get 405 (a server without CORS).
    Off,
    /// `access-control-allow-origin: *` and preflights answered.
    Any,
    /// The request's `Origin` echoed back, with `vary: origin` and
    /// `access-control-allow-credentials: true`.
    Echo,
}

const AFTER_HELP: &str = "\
Service time per request (model): (overhead-ms + steps x step-ms x P/1024^2) x n,
where P = W*H of the output plus, for an edit, the pixels of its input images (their
latents join the model's sequence); times a seeded jitter factor, divided by --speedup;
`num_inference_steps` in the request replaces --steps. Defaults imitate FLUX.1-dev on one H100 (~3.8 s for
1024x1024 at 28 steps). --latency-ms replaces the whole model by a fixed time.
Requests wait FIFO for one of --slots generation slots (per GPU with --gpus).

GET /metrics (Prometheus text) reports the queue length and running requests
(named as the dialect's server names them), request counters and a service-time
histogram; with --gpus N also DCGM exporter series per simulated GPU, driven by
the slots' busy time: power = idle + watts-per-slot x busy slots, an energy
counter that integrates it exactly, utilization = busy share of the GPU's slots.

Fault kinds (--fault KIND:RATE, --fault-at KIND:N[-M]):
  400, 422, 429 (with retry-after), 503   answered at once, in the dialect's error shape
  500              after the service time, text/plain \"Internal Server Error\"
  500-close        the same 500, then the connection is closed (without a
                   `Connection: close` header, as SGLang's uvicorn does after an
                   unhandled exception): a client that reuses the connection at
                   once meets a closed socket
  close            after the service time the connection is closed, no answer
  stall            the answer waits --stall-s seconds more
  drop             the connection is closed halfway through the body
  malformed-json   200 whose JSON body is cut short by one byte
  truncated-b64    200 whose base64 image is cut (invalid base64, partial image)
  wrong-size       200 with an image half the requested width and height
                   (videos: an MP4 of half the size; truncated-b64: half an MP4)
  failed           video job ends `failed` halfway through its generation
  stuck            video job stays `in_progress` for ever
  poll-500         video job's first status poll answers 500
  content-404      video job's content answers 404 after completion

Video jobs (POST /v1/videos, GET /v1/videos/{id}, GET /v1/videos/{id}/content):
(video-overhead-ms + steps x video-step-ms x frames x W*H/1024^2) x jitter / speedup,
in the same FIFO slots as images. Real H.264 MP4s of the size, frames and rate
asked (sglang: 832x480, 4 s at 24 fps by default, 4k+1 frames, sizes rounded up
to multiples of 16 in the MP4).

Edits (POST /v1/images/edits, multipart `image` or `image[]`, optional `mask`):
the output is the first input image resized to the output size and tinted by
the prompt and seed; each dialect keeps its quirks (sglang: size floored to 16,
~1024x1024 at the last input's aspect without `size`, mask ignored, 422 without
image, text/plain 500 for a non-image; openai: mask must be a PNG of the image's
size, 400 otherwise).

Examples:
  imgperf serve-mock --port 30000 --dialect sglang --speedup 10
  imgperf serve-mock --latency-ms 500 --slots 4 --cors any
  imgperf serve-mock --fault 429:0.05 --fault drop:0.01 --seed 7 --truth-log truth.jsonl
  imgperf serve-mock --port 30010 --dialect sglang --speedup 20
  imgperf serve-mock --gpus 2 --latency-ms 500   # then: imgperf profile --gpu-telemetry localhost:8000 ...";

/// Options of the mock image server (`imgperf serve-mock`).
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = AFTER_HELP, allow_negative_numbers = true)]
pub struct MockArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", help_heading = "Server")]
    pub host: String,
    /// Port to listen on (0 = any free port).
    #[arg(long, default_value_t = 8000, help_heading = "Server")]
    pub port: u16,
    /// Server imitated on the wire: fields, defaults, errors.
    #[arg(long, value_enum, default_value_t = Dialect::Openai, help_heading = "Server")]
    pub dialect: Dialect,
    /// Model name listed by `GET /v1/models` (requests may name any model).
    #[arg(long, default_value = "mock-image-model", help_heading = "Server")]
    pub model: String,
    /// Image format when a request has no `output_format` [default: the
    /// dialect's: png for openai and vllm-omni, jpeg for sglang].
    #[arg(long, value_name = "FORMAT", value_parser = ["png", "jpeg", "webp"], help_heading = "Server")]
    pub image_format: Option<String>,
    /// Largest width or height served; bigger sizes get a 400.
    #[arg(long, default_value_t = 4096, help_heading = "Server")]
    pub max_dimension: u32,
    /// Distinct pictures per size and format; prompt and seed pick one, so
    /// the same prompt and seed always give the same image. Each is encoded
    /// once and cached.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256), help_heading = "Server")]
    pub image_variants: u32,
    /// What the model does: `any`; `t2i` or `t2v` (text only: edits and
    /// video jobs with `input_reference` get a 400); `i2i` or `i2v` (needs
    /// an image: generations and video jobs without a reference get a 400).
    #[arg(long, value_enum, default_value_t = Task::Any, help_heading = "Server")]
    pub task: Task,

    /// Fixed service time per request in ms, replacing the latency model
    /// (no steps, size, n, jitter or speedup); `model` = use the model.
    #[arg(long, value_name = "MS", default_value = "model", value_parser = parse_latency, help_heading = "Latency")]
    pub latency_ms: f64,
    /// Generation slots: requests beyond this wait in a FIFO queue
    /// (SGLang's default batch size is 1). 0 = unlimited, no queueing.
    #[arg(long, default_value_t = 1, help_heading = "Latency")]
    pub slots: usize,
    /// Time of one denoising step at 1024x1024, in ms; scales with pixel count.
    #[arg(long, default_value_t = 130.0, help_heading = "Latency")]
    pub step_ms: f64,
    /// Fixed cost per image (text encoding, VAE decode), in ms.
    #[arg(long, default_value_t = 200.0, help_heading = "Latency")]
    pub overhead_ms: f64,
    /// Steps when a request has no `num_inference_steps`.
    #[arg(long, default_value_t = 28, help_heading = "Latency")]
    pub steps: u32,
    /// Relative standard deviation of the service time (0.02 = 2%), seeded by --seed.
    #[arg(long, default_value_t = 0.02, help_heading = "Latency")]
    pub jitter: f64,
    /// Divide model service times by this (10 = ten times faster than the GPU).
    #[arg(long, default_value_t = 1.0, help_heading = "Latency")]
    pub speedup: f64,
    /// Dynamic batching: a free slot takes up to this many queued requests at
    /// once (1 = no batching).
    #[arg(long, default_value_t = 1, help_heading = "Latency")]
    pub max_batch: usize,
    /// Dynamic batching: how long a slot waits for more requests to fill a batch, in ms.
    #[arg(long, default_value_t = 20.0, help_heading = "Latency")]
    pub batch_window_ms: f64,
    /// Dynamic batching: cost of each extra request in a batch, as a fraction
    /// of the longest one (a batch of k takes longest x (1 + (k-1) x this)).
    #[arg(long, default_value_t = 0.8, help_heading = "Latency")]
    pub batch_cost: f64,
    /// Warm-up gate: for this many seconds after start, `/health` answers 200
    /// while image requests wait (as SGLang before its warm-up ends).
    #[arg(
        long,
        value_name = "S",
        default_value_t = 0.0,
        help_heading = "Latency"
    )]
    pub warmup_s: f64,
    /// Video jobs: time of one denoising step of one 1024x1024 frame, in ms (a job
    /// takes overhead + steps x this x frames x W*H/1024^2; Wan2.1 on one H100-like GPU).
    #[arg(long, default_value_t = 10.0, help_heading = "Video")]
    pub video_step_ms: f64,
    /// Video jobs: fixed cost per job (text encoding, VAE decode, MP4 encoding), in ms.
    #[arg(long, default_value_t = 2000.0, help_heading = "Video")]
    pub video_overhead_ms: f64,
    /// Video jobs: steps when a job has no `num_inference_steps`.
    #[arg(long, default_value_t = 50, help_heading = "Video")]
    pub video_steps: u32,

    /// Seed of the jitter and fault draws (same seed and arrival order, same run).
    #[arg(long, default_value_t = 0, help_heading = "Latency")]
    pub seed: u64,

    /// Inject a fault into this fraction of image requests, e.g. `429:0.05`
    /// (repeatable; kinds below; rates add up to at most 1).
    #[arg(long = "fault", value_name = "KIND:RATE", help_heading = "Faults")]
    pub faults: Vec<FaultRate>,
    /// Inject a fault into the Nth image request (1-based, arrival order), or
    /// requests N to M: `500:3`, `drop:10-12` (repeatable; wins over --fault).
    #[arg(long = "fault-at", value_name = "KIND:N[-M]", help_heading = "Faults")]
    pub fault_at: Vec<FaultAt>,
    /// How long a `stall` fault holds the answer, in seconds.
    #[arg(
        long,
        value_name = "S",
        default_value_t = 30.0,
        help_heading = "Faults"
    )]
    pub stall_s: f64,
    /// `retry-after` of a 429 or 503 fault, in seconds.
    #[arg(long, value_name = "S", default_value_t = 1, help_heading = "Faults")]
    pub retry_after_s: u64,

    /// CORS headers for browsers; `--cors` alone means `any`.
    #[arg(long, value_enum, default_value_t = CorsMode::Off, num_args = 0..=1,
          default_missing_value = "any", help_heading = "CORS")]
    pub cors: CorsMode,
    /// Reproduce SGLang's trap: 500 answers carry no CORS header, so a browser
    /// sees a network error instead of the 500.
    #[arg(long, help_heading = "CORS")]
    pub cors_trap: bool,

    /// Simulate N GPUs, each with --slots generation slots fed from one FIFO
    /// queue, and serve DCGM-shaped series for them on `/metrics` (power,
    /// energy counter, utilization, memory, clocks, temperature). 0 = none
    /// (`/metrics` still serves the queue gauges).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        help_heading = "GPUs (telemetry)"
    )]
    pub gpus: usize,
    /// Power of an idle simulated GPU, W.
    #[arg(
        long,
        value_name = "W",
        default_value_t = 70.0,
        help_heading = "GPUs (telemetry)"
    )]
    pub gpu_idle_watts: f64,
    /// Power each busy slot adds to its GPU, W.
    #[arg(
        long,
        value_name = "W",
        default_value_t = 560.0,
        help_heading = "GPUs (telemetry)"
    )]
    pub gpu_watts_per_slot: f64,
    /// Leave out DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION (as exporters without
    /// that field do): clients must integrate power.
    #[arg(long, help_heading = "GPUs (telemetry)")]
    pub gpu_no_energy_counter: bool,

    /// Write one JSON line per request (not `/metrics` scrapes) to FILE: request id, arrival, service
    /// start and end, response fully written (epoch ns), status, bytes, fault.
    #[arg(long, value_name = "FILE", help_heading = "Ground truth")]
    pub truth_log: Option<PathBuf>,
}

impl MockArgs {
    /// `latency_ms` value meaning "use the latency model" (the default).
    pub const MODEL_LATENCY: f64 = f64::NAN;

    /// Checks the numbers; the error names the flag.
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        use anyhow::ensure;
        let l = self.latency_ms;
        ensure!(
            l.is_nan() || (l.is_finite() && l >= 0.0),
            "--latency-ms must be a finite number >= 0, got {l}"
        );
        for (flag, v) in [
            ("--step-ms", self.step_ms),
            ("--overhead-ms", self.overhead_ms),
            ("--jitter", self.jitter),
            ("--batch-window-ms", self.batch_window_ms),
            ("--batch-cost", self.batch_cost),
            ("--warmup-s", self.warmup_s),
            ("--stall-s", self.stall_s),
            ("--video-step-ms", self.video_step_ms),
            ("--video-overhead-ms", self.video_overhead_ms),
        ] {
            ensure!(
                v.is_finite() && v >= 0.0,
                "{flag} must be a finite number >= 0, got {v}"
            );
        }
        ensure!(
            self.speedup.is_finite() && self.speedup > 0.0,
            "--speedup must be a positive number, got {}",
            self.speedup
        );
        ensure!(self.max_batch >= 1, "--max-batch must be at least 1");
        ensure!(
            self.gpus == 0 || self.slots >= 1,
            "--gpus needs --slots 1 or more (each simulated GPU serves its own slots)"
        );
        ensure!(self.gpus <= 1024, "--gpus is at most 1024");
        for (flag, v) in [
            ("--gpu-idle-watts", self.gpu_idle_watts),
            ("--gpu-watts-per-slot", self.gpu_watts_per_slot),
        ] {
            ensure!(
                v.is_finite() && v >= 0.0,
                "{flag} must be a finite number >= 0, got {v}"
            );
        }
        ensure!(self.max_dimension > 0, "--max-dimension must be positive");
        ensure!(
            self.image_variants >= 1,
            "--image-variants must be at least 1"
        );
        let total: f64 = self.faults.iter().map(|f| f.rate).sum();
        ensure!(
            total <= 1.0 + 1e-9,
            "--fault rates add up to {total}, more than 1"
        );
        Ok(())
    }
}

impl Default for MockArgs {
    fn default() -> Self {
        MockArgs {
            host: "127.0.0.1".to_string(),
            port: 8000,
            dialect: Dialect::Openai,
            model: "mock-image-model".to_string(),
            image_format: None,
            max_dimension: 4096,
            image_variants: 8,
            task: Task::Any,
            latency_ms: MockArgs::MODEL_LATENCY,
            slots: 1,
            step_ms: 130.0,
            overhead_ms: 200.0,
            steps: 28,
            jitter: 0.02,
            speedup: 1.0,
            max_batch: 1,
            batch_window_ms: 20.0,
            batch_cost: 0.8,
            warmup_s: 0.0,
            video_step_ms: 10.0,
            video_overhead_ms: 2000.0,
            video_steps: 50,
            seed: 0,
            faults: Vec::new(),
            fault_at: Vec::new(),
            stall_s: 30.0,
            retry_after_s: 1,
            cors: CorsMode::Off,
            cors_trap: false,
            truth_log: None,
            gpus: 0,
            gpu_idle_watts: 70.0,
            gpu_watts_per_slot: 560.0,
            gpu_no_energy_counter: false,
        }
    }
}

/// `--latency-ms`: `model` (NaN) or a number of milliseconds >= 0.
fn parse_latency(s: &str) -> Result<f64, String> {
    if s.eq_ignore_ascii_case("model") {
        return Ok(MockArgs::MODEL_LATENCY);
    }
    match f64::from_str(s) {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "expected `model` or a number of milliseconds >= 0, got {s:?}"
        )),
    }
}

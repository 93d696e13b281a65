//! One benchmark run in the page: the form's values checked and turned into
//! core's plan (endpoint, workload, settings, arrivals), then core's runner
//! over [`FetchTransport`] with a sink that feeds the live view (progress,
//! table, gallery) and keeps the export lines for download.

use crate::app::platform::dom::{bytes_url, gpt2, LineStore};
use crate::app::platform::fetch::FetchTransport;
use crate::app::platform::runtime::WebRuntime;
use crate::model::{body_images, GalleryImage, ImageSource, RunBuilder};
use imgperf_core::endpoint::EndpointKind;
use imgperf_core::import::parse_line;
use imgperf_core::job::ExportLines;
use imgperf_core::metrics::Summary;
use imgperf_core::plan::{PromptSpec, SamplingStrategy, Workload};
use imgperf_core::platform::Runtime;
use imgperf_core::record::Phase;
use imgperf_core::request::{normalize_base_url, parse_extra_inputs, EndpointConfig};
use imgperf_core::runner::{
    self, Arrivals, Completed, RecordSink, RunOutcome, RunPlan, RunSettings,
};
use imgperf_core::schedule::{ArrivalPattern, RateSpec, Schedule};
use imgperf_core::stop::StopSignal;
use imgperf_core::synthetic::generate_prompts;
use imgperf_core::video::VideoSettings;
use leptos::prelude::*;
use serde_json::{json, Value};
use std::sync::Arc;

/// Largest response body accepted (bytes).
const MAX_BODY: usize = 256 << 20;
/// Images kept for the gallery of one run in the page.
pub const MAX_IMAGES: usize = 500;

/// Where the prompts come from.
#[derive(Debug, Clone, PartialEq)]
pub enum PromptSource {
    /// One prompt per non-empty line.
    Lines(String),
    /// Synthetic prompts: mean and stddev of the token count, entries.
    Synthetic {
        mean: f64,
        stddev: f64,
        entries: usize,
    },
}

/// The form's values.
#[derive(Debug, Clone, PartialEq)]
pub struct RunForm {
    pub url: String,
    pub model: String,
    pub endpoint: String,
    /// `image_generation` or `video_generation`.
    pub endpoint_type: String,
    /// Held in memory only; sent as `Authorization: Bearer`.
    pub api_key: String,
    pub prompts: PromptSource,
    pub size: String,
    pub quality: String,
    pub extra_json: String,
    pub concurrency: usize,
    pub request_count: u64,
    /// Requests per second; `None`: closed loop.
    pub rate: Option<f64>,
    /// `constant` or `poisson`.
    pub rate_mode: String,
    pub timeout_s: f64,
    pub seed: Option<u64>,
}

/// A run ready to start.
pub struct Prepared {
    endpoint: EndpointConfig,
    workload: Workload,
    settings: RunSettings,
    arrivals: Arrivals,
    timeout_s: f64,
    /// The same run as a CLI command line (API key redacted).
    pub cli_command: String,
    /// `input_config` of the summary JSON.
    pub input_config: Value,
}

fn random_u64() -> u64 {
    let r = || (js_sys::Math::random() * 4_294_967_296.0) as u64;
    (r() << 32) | r()
}

/// The equivalent `imgperf profile` command (the API key redacted).
fn cli_command(f: &RunForm, e: &EndpointConfig, seed: u64) -> String {
    let mut c = format!(
        "imgperf profile --model {} --url {} --endpoint {} --endpoint-type {}",
        e.model,
        e.urls[0],
        e.endpoint_path,
        e.kind.name()
    );
    if e.kind.is_video() {
        c.push_str(" --download-video-content");
    }
    for (k, v) in &e.extra_inputs {
        let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        c.push_str(&format!(" --extra-inputs {k}:{v}"));
    }
    match &f.prompts {
        PromptSource::Lines(_) => c.push_str(" --input-file prompts.jsonl --custom-dataset-type single_turn"),
        PromptSource::Synthetic { mean, stddev, entries } => c.push_str(&format!(
            " --synthetic-input-tokens-mean {mean} --synthetic-input-tokens-stddev {stddev} --num-dataset-entries {entries}"
        )),
    }
    c.push_str(&format!(
        " --concurrency {} --request-count {}",
        f.concurrency, f.request_count
    ));
    if let Some(r) = f.rate {
        c.push_str(&format!(
            " --request-rate {r} --request-rate-mode {}",
            f.rate_mode
        ));
    }
    if e.api_key.is_some() {
        c.push_str(" --api-key <redacted>");
    }
    c.push_str(&format!(" --random-seed {seed} --tokenizer gpt2"));
    c
}

/// Check the form and build the plan (fetches the tokenizer on first use).
pub async fn prepare(f: &RunForm) -> Result<Prepared, String> {
    let url =
        normalize_base_url(&f.url).map_err(|e| e.to_string().replace("--url", "Target URL"))?;
    if f.model.trim().is_empty() {
        return Err(
            "Model is required: the model name your server serves (the mock accepts any).".into(),
        );
    }
    let mut extras = Vec::new();
    for (k, v) in [("size", &f.size), ("quality", &f.quality)] {
        if !v.trim().is_empty() {
            extras.push(format!("{k}:{}", v.trim()));
        }
    }
    if !f.extra_json.trim().is_empty() {
        if !f.extra_json.trim().starts_with('{') {
            return Err(
                "Extra JSON must be a JSON object, like {\"num_inference_steps\": 28}".into(),
            );
        }
        extras.push(f.extra_json.trim().to_owned());
    }
    let extra_inputs = parse_extra_inputs(&extras)
        .map_err(|e| e.to_string().replace("--extra-inputs", "extra input"))?;
    if f.concurrency == 0 || f.request_count == 0 {
        return Err("Concurrency and request count must be at least 1.".into());
    }
    if !f.timeout_s.is_finite() || f.timeout_s <= 0.0 {
        return Err("The request timeout must be a positive number of seconds.".into());
    }
    let kind = EndpointKind::parse(&f.endpoint_type)?;
    let endpoint = EndpointConfig {
        urls: vec![url],
        endpoint_path: if f.endpoint.trim().is_empty() {
            kind.default_path().to_owned()
        } else {
            f.endpoint.trim().to_owned()
        },
        model: f.model.trim().to_owned(),
        api_key: Some(f.api_key.trim().to_owned()).filter(|k| !k.is_empty()),
        headers: Vec::new(),
        extra_inputs,
        streaming: false,
        kind,
    };
    let seed = f.seed.unwrap_or_else(random_u64);
    let tokenizer = gpt2()
        .await
        .map_err(|e| format!("cannot load the GPT-2 tokenizer: {e}"))?;
    let prompts: Vec<String> = match &f.prompts {
        PromptSource::Lines(text) => text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        PromptSource::Synthetic {
            mean,
            stddev,
            entries,
        } => {
            let ok = mean.is_finite() && *mean >= 1.0 && stddev.is_finite() && *stddev >= 0.0;
            if !ok || *entries == 0 {
                return Err(
                    "Synthetic prompts need a mean ≥ 1 token, a stddev ≥ 0 and at least one entry."
                        .into(),
                );
            }
            generate_prompts(&tokenizer, *mean, *stddev, *entries, seed)
        }
    };
    if prompts.is_empty() {
        return Err(
            "Write at least one prompt (one per line), or choose synthetic prompts.".into(),
        );
    }
    let specs: Vec<PromptSpec> = prompts
        .into_iter()
        .map(|prompt| PromptSpec {
            prompt,
            extra: None,
        })
        .collect();
    let workload = Workload::build(&specs, &endpoint, Some(&tokenizer), seed);
    let arrivals = match f.rate {
        None => Arrivals::Closed,
        Some(rate) => {
            let pattern = ArrivalPattern::parse(&f.rate_mode, None).map_err(|e| e.to_string())?;
            let spec = RateSpec {
                rate,
                pattern,
                ramp_duration_s: None,
            };
            Arrivals::Open(Box::new(
                Schedule::new(&spec, seed).map_err(|e| e.to_string())?,
            ))
        }
    };
    let settings = RunSettings {
        concurrency: Some(f.concurrency),
        concurrency_ramp: Vec::new(),
        request_count: Some(f.request_count),
        duration_ns: None,
        grace_period_ns: 30_000_000_000,
        warmup_request_count: 0,
        warmup_duration_ns: None,
        cancellation: None,
        sampling: SamplingStrategy::Sequential,
        seed,
        id_seed: random_u64(),
        export: ExportLines {
            records: true,
            raw: true,
        },
        validate_images: Default::default(),
        // Video jobs: the MP4 is downloaded (and kept) for the gallery.
        video: VideoSettings {
            download_content: true,
            timeout_ns: (f.timeout_s * 1e9) as u64,
            ..VideoSettings::default()
        },
    };
    let input_config = json!({
        "endpoint": {"model_names": [endpoint.model], "type": endpoint.kind.name(),
            "custom_endpoint": endpoint.endpoint_path, "urls": endpoint.urls, "streaming": false,
            "timeout_seconds": f.timeout_s, "mock": false},
        "input": {"random_seed": seed, "extra": endpoint.extra_inputs, "tokenizer": "gpt2",
            "prompts": match &f.prompts { PromptSource::Lines(_) => "lines", PromptSource::Synthetic { .. } => "synthetic" }},
        "loadgen": {"concurrency": f.concurrency, "request_count": f.request_count,
            "request_rate": f.rate, "request_rate_mode": f.rate.map(|_| f.rate_mode.clone())},
        "output": {"export_level": "raw"},
        "client": "imgperf web (browser fetch)",
    });
    Ok(Prepared {
        cli_command: cli_command(f, &endpoint, seed),
        endpoint,
        workload,
        settings,
        arrivals,
        timeout_s: f.timeout_s,
        input_config,
    })
}

/// Signals the live view reads.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    pub issued: RwSignal<u64>,
    pub done: RwSignal<u64>,
    pub errors: RwSignal<u64>,
    /// A request failed before any response (CORS or unreachable).
    pub opaque_errors: RwSignal<u64>,
    pub summary: RwSignal<Option<Summary>>,
    pub images: RwSignal<Vec<GalleryImage>>,
}

impl Live {
    /// All zero.
    pub fn new() -> Self {
        Live {
            issued: RwSignal::new(0),
            done: RwSignal::new(0),
            errors: RwSignal::new(0),
            opaque_errors: RwSignal::new(0),
            summary: RwSignal::new(None),
            images: RwSignal::new(Vec::new()),
        }
    }

    /// Back to zero for a new run.
    pub fn reset(&self) {
        self.issued.set(0);
        self.done.set(0);
        self.errors.set(0);
        self.opaque_errors.set(0);
        self.summary.set(None);
        self.images.set(Vec::new());
    }
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

/// Feeds the live view and keeps the export lines.
pub struct WebSink {
    live: Live,
    /// Summary and plot points.
    pub run: RunBuilder,
    /// `profile_export.jsonl` lines.
    pub records: LineStore,
    /// `profile_export_raw.jsonl` lines.
    pub raw: LineStore,
}

impl WebSink {
    fn gallery(&self, done: &Completed, raw: Option<&str>) {
        let (Some(raw), true) = (raw, done.record.is_valid()) else {
            return;
        };
        if self.live.images.with_untracked(Vec::len) >= MAX_IMAGES {
            return;
        }
        let Ok(line) = parse_line(raw) else { return };
        let Some(body) = line.responses.last() else {
            return;
        };
        let mut new = Vec::new();
        for img in body_images(&body.text, true) {
            let image = GalleryImage {
                source: ImageSource::Url(String::new()),
                prompt: line.prompt.clone().unwrap_or_default(),
                latency_ms: done.record.latency_ms(),
                width: img.width,
                height: img.height,
                format: img.format.clone(),
                bytes: img.len,
            };
            let url = bytes_url(&img.bytes.unwrap_or_default(), image.mime());
            new.push(GalleryImage {
                source: ImageSource::Url(url),
                ..image
            });
        }
        self.live.images.update(|v| v.extend(new));
    }
}

impl RecordSink for WebSink {
    fn issued(&mut self, phase: Phase) {
        if phase == Phase::Profiling {
            self.live.issued.update(|n| *n += 1);
        }
    }

    fn accept(&mut self, done: Completed) {
        if done.record.phase == Phase::Warmup {
            return;
        }
        self.run.add(&done.record);
        if let Some(l) = &done.record_line {
            self.records.push(l);
        }
        let raw = done.raw_line.as_ref().map(ToString::to_string);
        if let Some(l) = &raw {
            self.raw.push(l);
        }
        self.gallery(&done, raw.as_deref());
        if let Some(e) = &done.record.error {
            self.live.errors.update(|n| *n += 1);
            if e.kind == "ConnectionError" {
                self.live.opaque_errors.update(|n| *n += 1);
            }
        }
        self.live.done.update(|n| *n += 1);
        // Recomputing is O(n log n): every request early on, then every 1%.
        let n = self.run.len();
        if n < 1000 || n.is_multiple_of(n / 100) {
            self.live.summary.set(Some(self.run.finish()));
        }
    }
}

/// What a finished run leaves.
pub struct Finished {
    pub sink: WebSink,
    pub outcome: RunOutcome,
    pub wall_origin_ns: u64,
}

/// Run `prep`, updating `live`, until done or `stop`.
pub async fn execute(prep: Prepared, live: Live, stop: StopSignal) -> Finished {
    let rt = WebRuntime::new();
    let transport = Arc::new(FetchTransport::new(rt, prep.timeout_s, MAX_BODY));
    let mut sink = WebSink {
        live,
        run: RunBuilder::new(),
        records: LineStore::new(),
        raw: LineStore::new(),
    };
    let plan = RunPlan {
        endpoint: &prep.endpoint,
        workload: &prep.workload,
        settings: &prep.settings,
    };
    let outcome = runner::run(plan, prep.arrivals, transport, rt, &mut sink, &stop).await;
    live.summary.set(Some(sink.run.finish()));
    Finished {
        sink,
        outcome,
        wall_origin_ns: rt.wall_origin_ns(),
    }
}

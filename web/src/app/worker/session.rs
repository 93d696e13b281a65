//! One benchmark run inside the worker: the form's values checked and
//! turned into core's plan (endpoint, workload, settings, arrivals; an
//! edit's reference images by [`super::edit`]), then
//! core's runner over [`FetchTransport`] with a sink that posts each
//! finished request's record line to the page, and leaves its raw export
//! line and gallery images to the [`Backlog`].

use super::backlog::{Backlog, Item};
use super::edit::{edit_run, InputPreview};
use super::gallery::Gallery;
use super::post;
use crate::app::platform::fetch::FetchTransport;
use crate::app::platform::runtime::sleep_ms;
use crate::app::platform::runtime::WebRuntime;
use crate::app::platform::tokens;
use crate::protocol::{FromWorker, PromptSource, RunForm};
use imgperf_core::endpoint::EndpointKind;
use imgperf_core::job::ExportLines;
use imgperf_core::plan::{PromptSpec, SamplingStrategy, Workload};
use imgperf_core::record::Phase;
use imgperf_core::request::{normalize_base_url, parse_extra_inputs, EndpointConfig};
use imgperf_core::runner::{
    self, Arrivals, Completed, RecordSink, RunOutcome, RunPlan, RunSettings,
};
use imgperf_core::schedule::{ArrivalPattern, RateSpec, Schedule};
use imgperf_core::stop::StopSignal;
use imgperf_core::video::VideoSettings;
use serde_json::{json, Value};
use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

/// Largest response body accepted (bytes).
const MAX_BODY: usize = 256 << 20;

/// A run ready to start.
pub struct Prepared {
    endpoint: EndpointConfig,
    workload: Workload,
    settings: RunSettings,
    arrivals: Arrivals,
    timeout_s: f64,
    /// An edit entry's first input, by conversation id, for the gallery.
    inputs: HashMap<String, InputPreview>,
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
    if let Some(r) = &f.references {
        match &r.synthetic {
            Some(s) => c.push_str(&format!(
                " --image-batch-size {} --image-width-mean {} --image-height-mean {} --image-format {}",
                r.per_request, s.width, s.height, s.format
            )),
            None => c.push_str(" (reference images: picked files)"),
        }
    }
    for (k, v) in &e.extra_inputs {
        let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        c.push_str(&format!(" --extra-inputs {k}:{v}"));
    }
    match &f.prompts {
        PromptSource::Lines { .. } => c.push_str(" --input-file prompts.jsonl --custom-dataset-type single_turn"),
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

/// Check the form and build the plan (fetches the tokenizer on first use);
/// `files` are an edit run's picked reference files.
pub async fn prepare(f: &RunForm, files: Vec<web_sys::Blob>) -> Result<Prepared, String> {
    let url =
        normalize_base_url(&f.url).map_err(|e| e.to_string().replace("--url", "Target URL"))?;
    if f.model.trim().is_empty() {
        return Err(
            "Model is required: the model name your server serves (the mock accepts any).".into(),
        );
    }
    let kind = EndpointKind::parse(&f.endpoint_type)?;
    let mut extras = Vec::new();
    for (k, v) in [("size", &f.size), ("quality", &f.quality)] {
        if !v.trim().is_empty() {
            extras.push(format!("{k}:{}", v.trim()));
        }
    }
    // Images only; empty: left out (OpenAI's gpt-image models reject it).
    if !kind.is_video() {
        extras.push(match f.response_format.trim() {
            "" => "response_format:null".to_owned(),
            v => format!("response_format:{v}"),
        });
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
    // The tokenizer (its module and the 1.3 MB GPT-2 file) is fetched only
    // when synthetic prompts or input token counts need it.
    let loading = || {
        post(&FromWorker::Preparing {
            what: "Loading the GPT-2 tokenizer…".into(),
        })
    };
    let prompts: Vec<String> = match &f.prompts {
        PromptSource::Lines { text } => text
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
            loading();
            tokens::synthetic_prompts(*mean, *stddev, *entries, seed)
                .await
                .map_err(|e| format!("cannot make synthetic prompts: {e}"))?
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
    let (mut workload, inputs) = match (&f.references, kind.is_edit()) {
        (Some(r), _) if kind.is_edit() || kind.is_video() => {
            post(&FromWorker::Preparing {
                what: "Preparing the reference images…".into(),
            });
            edit_run(r, &files, &specs, &endpoint, seed).await?
        }
        (None, true) => return Err("An edit run needs reference images.".into()),
        _ => (
            Workload::build(&specs, &endpoint, None, seed),
            HashMap::new(),
        ),
    };
    if f.count_tokens {
        loading();
        let texts: Vec<String> = workload.items.iter().map(|i| i.prompt.clone()).collect();
        let counts = tokens::count_tokens(&texts)
            .await
            .map_err(|e| format!("cannot count input tokens: {e}"))?;
        for (item, n) in workload.items.iter_mut().zip(counts) {
            item.isl = Some(u64::from(n));
        }
    }
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
            "prompts": match &f.prompts { PromptSource::Lines { .. } => "lines", PromptSource::Synthetic { .. } => "synthetic" }},
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
        inputs,
        input_config,
    })
}

/// Posts each finished request's record line to the page at once; the
/// rest (raw line, gallery) waits in the backlog.
struct WorkerSink {
    /// Profiling requests sent, and whether a post of it is pending.
    issued: Rc<Cell<(u64, bool)>>,
    /// Prompt of each dataset entry, by conversation id.
    prompts: HashMap<String, String>,
    /// An edit entry's first input, by conversation id.
    inputs: HashMap<String, InputPreview>,
    backlog: Backlog,
}

impl RecordSink for WorkerSink {
    fn issued(&mut self, phase: Phase) {
        if phase != Phase::Profiling {
            return;
        }
        // Posted once per burst of sends, after them.
        let (n, pending) = self.issued.get();
        self.issued.set((n + 1, true));
        if !pending {
            let issued = self.issued.clone();
            wasm_bindgen_futures::spawn_local(async move {
                sleep_ms(0.0).await;
                let (count, _) = issued.get();
                issued.set((count, false));
                post(&FromWorker::Issued { count });
            });
        }
    }

    fn accept(&mut self, done: Completed) {
        if done.record.phase == Phase::Warmup {
            return;
        }
        if let Some(line) = done.record_line {
            post(&FromWorker::Record { line });
        }
        if let Some(raw) = done.raw_line {
            let rec = &done.record;
            self.backlog.push(Item {
                raw,
                valid: rec.is_valid(),
                prompt: self
                    .prompts
                    .get(&rec.conversation_id)
                    .cloned()
                    .unwrap_or_default(),
                latency_ms: rec.latency_ms(),
                input: self.inputs.get(&rec.conversation_id).cloned(),
            });
        }
    }
}

/// How a run ended.
pub struct Finished {
    pub outcome: RunOutcome,
    /// The raw export, one blob.
    pub raw: web_sys::Blob,
}

/// Run `prep` until done or `stop`, posting progress, records and images.
pub async fn execute(prep: Prepared, stop: StopSignal) -> Finished {
    let rt = WebRuntime::new();
    let transport = Arc::new(FetchTransport::new(rt, prep.timeout_s, MAX_BODY));
    let mut sink = WorkerSink {
        issued: Rc::new(Cell::new((0, false))),
        prompts: prep
            .workload
            .items
            .iter()
            .map(|i| (i.conversation_id.clone(), i.prompt.clone()))
            .collect(),
        inputs: prep.inputs.clone(),
        backlog: Backlog::new(Gallery::new()),
    };
    super::prime::prime(&prep.endpoint, &prep.workload, &prep.settings, &transport).await;
    let plan = RunPlan {
        endpoint: &prep.endpoint,
        workload: &prep.workload,
        settings: &prep.settings,
    };
    let outcome = runner::run(plan, prep.arrivals, transport, rt, &mut sink, &stop).await;
    Finished {
        outcome,
        raw: sink.backlog.finish().await,
    }
}

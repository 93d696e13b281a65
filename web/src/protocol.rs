//! What the run page and its Web Worker say to each other. The worker runs
//! the benchmark (core's runner, the fetch transport, the response checks),
//! so parsing multi-MB bodies never delays the page, nor the page's drawing
//! the next request. The page sends the form and stop requests; the worker
//! answers with progress, one `profile_export.jsonl` line per finished
//! request (the page builds its table from those lines with the same code
//! as the viewer), gallery images, and at the end the raw export.
//!
//! Each message crosses as a JS object: its JSON text under `msg`, and the
//! blobs that go with it (images, the raw export; an edit run's picked
//! reference files) as further properties, which the browser hands over
//! without copying their bytes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where the prompts come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PromptSource {
    /// One prompt per non-empty line.
    Lines { text: String },
    /// Synthetic prompts: mean and stddev of the token count, entries.
    Synthetic {
        mean: f64,
        stddev: f64,
        entries: usize,
    },
}

/// Synthetic reference images of an edit run (the CLI's `--image-*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticRefs {
    pub width: f64,
    pub height: f64,
    /// `png`, `jpeg` or `random`.
    pub format: String,
}

/// An edit run's reference images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceForm {
    /// Synthetic pictures; `None`: the picked files.
    pub synthetic: Option<SyntheticRefs>,
    /// Names of the picked files, in order; their blobs go with the
    /// `Start` message as `ref0`, `ref1`, ...
    pub files: Vec<String>,
    /// Images per request (the first entry takes the first ones, and so on).
    pub per_request: usize,
}

/// The name of the `i`-th picked reference file's blob in a `Start` message.
pub fn reference_blob(i: usize) -> String {
    format!("ref{i}")
}

/// The run form's values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunForm {
    pub url: String,
    pub model: String,
    pub endpoint: String,
    /// `image_generation`, `image_edit` or `video_generation`.
    pub endpoint_type: String,
    /// An edit run's reference images.
    #[serde(default)]
    pub references: Option<ReferenceForm>,
    /// Held in memory only; sent as `Authorization: Bearer`.
    pub api_key: String,
    pub prompts: PromptSource,
    pub size: String,
    /// `b64_json`, `url`, or empty: left out of the payload.
    pub response_format: String,
    /// Empty: not sent (SGLang answers 400 to OpenAI's `standard`).
    pub quality: String,
    pub extra_json: String,
    pub concurrency: usize,
    pub request_count: u64,
    /// Requests per second; `None`: closed loop.
    pub rate: Option<f64>,
    /// `constant` or `poisson`.
    pub rate_mode: String,
    pub timeout_s: f64,
    /// Count input tokens with the GPT-2 tokenizer (fetched on first use).
    pub count_tokens: bool,
    pub seed: Option<u64>,
}

/// Page → worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    /// Run this benchmark.
    Start { form: Box<RunForm> },
    /// Stop: 1 lets in-flight requests finish, 2 abandons them.
    Stop { level: u8 },
}

/// One gallery image (the image and its thumbnail travel as blobs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageFacts {
    pub prompt: String,
    pub latency_ms: f64,
    pub width: u32,
    pub height: u32,
    /// `png`, `jpeg`, `webp` or `?`.
    pub format: String,
    /// Decoded size in bytes.
    pub bytes: u64,
    /// An edit's first input image (its blob `input` alongside).
    #[serde(default)]
    pub input: Option<InputFacts>,
}

/// What the gallery says about an edit's input image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputFacts {
    pub width: u32,
    pub height: u32,
    /// Input images of the request (the gallery shows the first).
    pub count: usize,
}

/// Worker → page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker's wasm is loaded: it takes `Start` now.
    Ready,
    /// Something slow before the first request (fetching the tokenizer).
    Preparing { what: String },
    /// The form's values cannot run; nothing was sent.
    Invalid { message: String },
    /// The run began.
    Started {
        /// The same run as an `imgperf profile` command (key redacted).
        cli_command: String,
        /// `input_config` of the summary JSON.
        input_config: Value,
    },
    /// Profiling requests handed to `fetch` so far.
    Issued { count: u64 },
    /// A profiling request finished: its `profile_export.jsonl` line.
    Record { line: String },
    /// A gallery image (blobs `full` and `thumb` alongside).
    Image { facts: ImageFacts },
    /// The run ended (blob `raw`, the raw export, alongside).
    Finished { was_cancelled: bool },
}

/// The JSON text of a message.
pub fn encode<T: Serialize>(msg: &T) -> String {
    serde_json::to_string(msg).expect("protocol messages serialise")
}

/// A message from its JSON text.
pub fn decode<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("unreadable message ({e}): {text:.200}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let form = RunForm {
            url: "http://127.0.0.1:8000".into(),
            model: "m".into(),
            endpoint: "/v1/images/generations".into(),
            endpoint_type: "image_edit".into(),
            references: Some(ReferenceForm {
                synthetic: None,
                files: vec!["a.png".into()],
                per_request: 2,
            }),
            api_key: "k".into(),
            prompts: PromptSource::Synthetic {
                mean: 40.0,
                stddev: 0.0,
                entries: 10,
            },
            size: "512x512".into(),
            response_format: String::new(),
            quality: String::new(),
            extra_json: String::new(),
            concurrency: 2,
            request_count: 30,
            rate: Some(1.5),
            rate_mode: "poisson".into(),
            timeout_s: 600.0,
            count_tokens: true,
            seed: None,
        };
        for m in [
            ToWorker::Start {
                form: Box::new(form),
            },
            ToWorker::Stop { level: 2 },
        ] {
            assert_eq!(decode::<ToWorker>(&encode(&m)).unwrap(), m);
        }
        let m = FromWorker::Record {
            line: "{\"metadata\":{}}".into(),
        };
        assert_eq!(decode::<FromWorker>(&encode(&m)).unwrap(), m);
        assert!(encode(&FromWorker::Ready).contains("\"type\":\"ready\""));
        assert!(decode::<FromWorker>("{\"type\":\"nope\"}").is_err());
    }
}

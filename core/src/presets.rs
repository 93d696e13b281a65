//! Settings that each server kind accepts (REFERENCE §6), for the browser
//! form's presets: endpoint path, response format, typical sizes and a
//! model name. No preset sends `quality`: its values differ per server
//! (SGLang answers OpenAI's `standard` with 400 for every request).

/// One server kind's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// Stable id (`sglang`).
    pub id: &'static str,
    /// Shown name.
    pub name: &'static str,
    /// Its usual base URL.
    pub url: &'static str,
    /// A model it serves.
    pub model: &'static str,
    /// Endpoint path.
    pub path: &'static str,
    /// `response_format` to send; empty: leave it out.
    pub response_format: &'static str,
    /// Sizes it serves, the usual one first.
    pub sizes: &'static [&'static str],
    /// What to know about it.
    pub note: &'static str,
}

/// Every preset, in the form's order.
pub const PRESETS: [Preset; 4] = [
    Preset {
        id: "mock",
        name: "imgperf serve-mock --cors",
        url: "http://127.0.0.1:8000",
        model: "mock-image-model",
        path: "/v1/images/generations",
        response_format: "b64_json",
        sizes: &["512x512", "256x256", "1024x1024"],
        note: "The embedded mock: `imgperf serve-mock --cors` (any model name).",
    },
    Preset {
        id: "sglang",
        name: "SGLang diffusion (sglang serve)",
        url: "http://127.0.0.1:30000",
        model: "black-forest-labs/FLUX.1-dev",
        path: "/v1/images/generations",
        response_format: "b64_json",
        sizes: &["1024x1024", "512x512", "1024x1536", "1536x1024"],
        note: "SGLang: b64_json (older versions answer 400 to anything else), JPEG unless \
               output_format asks otherwise; quality only auto|exact|lossless|high|extra-high; \
               requests run one at a time. Older versions send no CORS headers.",
    },
    Preset {
        id: "vllm-omni",
        name: "vLLM-Omni",
        url: "http://127.0.0.1:8000",
        model: "Qwen/Qwen-Image",
        path: "/v1/images/generations",
        response_format: "b64_json",
        sizes: &["1024x1024", "512x512", "1328x1328"],
        note: "vLLM-Omni: b64_json (url is rejected), PNG; extras such as \
               {\"num_inference_steps\": 50} go in Extra JSON.",
    },
    Preset {
        id: "openai",
        name: "OpenAI (gpt-image-1)",
        url: "https://api.openai.com",
        model: "gpt-image-1",
        path: "/v1/images/generations",
        response_format: "",
        sizes: &["1024x1024", "1536x1024", "1024x1536", "auto"],
        note: "OpenAI: needs an API key; gpt-image models always answer base64 and reject \
               response_format, so it is left out; quality is low|medium|high|auto.",
    },
];

/// The preset with this id.
pub fn preset(id: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.id == id)
}

/// The preset's `--extra-inputs` values: its usual size and response
/// format (`null`, which leaves the field out, when it has none).
pub fn extra_inputs(p: &Preset) -> Vec<String> {
    let format = if p.response_format.is_empty() {
        "null"
    } else {
        p.response_format
    };
    vec![
        format!("size:{}", p.sizes[0]),
        format!("response_format:{format}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{parse_extra_inputs, EndpointConfig};

    #[test]
    fn presets_send_no_quality_and_valid_fields() {
        for p in &PRESETS {
            let extra = parse_extra_inputs(&extra_inputs(p)).unwrap();
            let endpoint = EndpointConfig {
                urls: vec![p.url.to_owned()],
                endpoint_path: p.path.to_owned(),
                model: p.model.to_owned(),
                api_key: None,
                headers: Vec::new(),
                extra_inputs: extra,
                streaming: false,
                kind: Default::default(),
            };
            let payload = endpoint.payload("a fox", None);
            assert!(payload.get("quality").is_none(), "{}", p.id);
            assert_eq!(payload["size"], p.sizes[0], "{}", p.id);
            match p.response_format {
                "" => assert!(payload.get("response_format").is_none(), "{}", p.id),
                f => assert_eq!(payload["response_format"], f, "{}", p.id),
            }
            assert!(p.path.starts_with('/'));
        }
        assert_eq!(preset("openai").map(|p| p.model), Some("gpt-image-1"));
        assert!(preset("nope").is_none());
    }
}

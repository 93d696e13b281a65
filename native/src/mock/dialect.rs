//! What each dialect puts on the wire (REFERENCE §6): success bodies, error
//! shapes, `/v1/models` and `/health`.
//!
//! Success bodies are written by hand as a list of chunks so that the cached
//! base64 is sent as is, never copied or escaped per request.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};

use super::args::Dialect;
use super::faults::FaultKind;
use super::request::{Reject, Wanted};

/// One image of a success body.
pub(crate) struct Image {
    pub b64: Option<Bytes>,
    pub url: Option<String>,
    /// Where SGLang would have saved it.
    pub file_path: String,
}

/// Per-response facts.
pub(crate) struct Meta<'a> {
    pub dialect: Dialect,
    /// Request id (SGLang's `id`).
    pub id: &'a str,
    /// Unix seconds.
    pub created: u64,
    /// Service time in seconds (SGLang's `inference_time_s`).
    pub inference_time_s: f64,
}

/// A body under construction: owned text between shared chunks.
#[derive(Default)]
pub(crate) struct Parts {
    chunks: Vec<Bytes>,
    text: String,
}

impl Parts {
    pub(crate) fn s(&mut self, text: &str) {
        self.text.push_str(text);
    }
    pub(crate) fn shared(&mut self, chunk: Bytes) {
        if !self.text.is_empty() {
            self.chunks
                .push(Bytes::from(std::mem::take(&mut self.text)));
        }
        self.chunks.push(chunk);
    }
    pub(crate) fn finish(mut self) -> Vec<Bytes> {
        if !self.text.is_empty() {
            self.chunks.push(Bytes::from(self.text));
        }
        self.chunks
    }
}

fn js(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// `quality` as OpenAI reports it (the `auto` default resolves to `high`).
pub(crate) fn quality(w: &Wanted) -> &str {
    match w.quality.as_deref() {
        None | Some("auto") => "high",
        Some(q) => q,
    }
}

/// `background` as OpenAI reports it.
pub(crate) fn background(w: &Wanted) -> &str {
    match w.background.as_deref() {
        None | Some("auto") => "opaque",
        Some(b) => b,
    }
}

/// OpenAI's `usage` for gpt-image-1: ~4 characters a text token, 323 tokens
/// per input image, output tokens by quality (4160 for high at 1024x1024)
/// scaled by pixel count.
pub(crate) fn usage(w: &Wanted) -> Value {
    let text = (w.prompt.chars().count() as u64).div_ceil(4).max(1);
    let image_in = 323 * w.input_images as u64;
    let per_image = match quality(w) {
        "low" => 272.0,
        "medium" => 1056.0,
        _ => 4160.0,
    } * f64::from(w.width)
        * f64::from(w.height)
        / (1024.0 * 1024.0);
    let output = per_image.round() as u64 * w.n as u64;
    json!({
        "input_tokens": text + image_in,
        "input_tokens_details": {"image_tokens": image_in, "text_tokens": text},
        "output_tokens": output,
        "total_tokens": text + image_in + output,
    })
}

/// The 200 body of an image request.
pub(crate) fn success(meta: &Meta<'_>, w: &Wanted, images: &[Image]) -> Vec<Bytes> {
    let mut p = Parts::default();
    let size = format!("{}x{}", w.width, w.height);
    let fmt = w.format.name();
    let b64_or_null = |p: &mut Parts, img: &Image| match &img.b64 {
        Some(b) => {
            p.s("\"");
            p.shared(b.clone());
            p.s("\"");
        }
        None => p.s("null"),
    };
    let url_or_null = |img: &Image| img.url.as_deref().map_or("null".to_owned(), js);
    match meta.dialect {
        Dialect::Openai => {
            p.s(&format!(
                "{{\"created\":{},\"background\":{},\"data\":[",
                meta.created,
                js(background(w))
            ));
            for (i, img) in images.iter().enumerate() {
                p.s(if i > 0 { "," } else { "" });
                match &img.b64 {
                    Some(_) => {
                        p.s("{\"b64_json\":");
                        b64_or_null(&mut p, img);
                    }
                    None => p.s(&format!("{{\"url\":{}", url_or_null(img))),
                }
                p.s(&format!(",\"revised_prompt\":{}}}", js(&w.prompt)));
            }
            p.s(&format!(
                "],\"output_format\":{},\"quality\":{},\"size\":{},\"usage\":{}}}",
                js(fmt),
                js(quality(w)),
                js(&size),
                usage(w)
            ));
        }
        Dialect::Sglang => {
            p.s(&format!(
                "{{\"id\":{},\"created\":{},\"data\":[",
                js(meta.id),
                meta.created
            ));
            for (i, img) in images.iter().enumerate() {
                p.s(if i > 0 {
                    ",{\"b64_json\":"
                } else {
                    "{\"b64_json\":"
                });
                b64_or_null(&mut p, img);
                p.s(&format!(
                    ",\"url\":{},\"revised_prompt\":{},\"file_path\":{}}}",
                    url_or_null(img),
                    js(&w.prompt),
                    js(&img.file_path)
                ));
            }
            let megapixels = f64::from(w.width) * f64::from(w.height) / 1e6;
            let peak = 31_000.0 + 2_600.0 * megapixels * w.n as f64;
            p.s(&format!(
                "],\"peak_memory_mb\":{:.2},\"inference_time_s\":{}}}",
                peak,
                (meta.inference_time_s * 1e4).round() / 1e4
            ));
        }
        Dialect::VllmOmni => {
            p.s(&format!("{{\"created\":{},\"data\":[", meta.created));
            for (i, img) in images.iter().enumerate() {
                p.s(if i > 0 {
                    ",{\"b64_json\":"
                } else {
                    "{\"b64_json\":"
                });
                b64_or_null(&mut p, img);
                p.s(",\"url\":null,\"revised_prompt\":null}");
            }
            p.s(&format!(
                "],\"output_format\":{},\"size\":{}}}",
                js(fmt),
                js(&size)
            ));
        }
    }
    p.finish()
}

fn json_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// An error in the dialect's usual shape.
fn error(d: Dialect, status: u16, message: &str, openai_type: &str, code: Value) -> Response {
    let body = match d {
        Dialect::Openai => json!({"error": {"message": message, "type": openai_type,
            "param": null, "code": code}}),
        Dialect::Sglang => json!({"detail": message}),
        Dialect::VllmOmni => json!({"error": {"message": message, "type": phrase(status),
            "param": null, "code": status}}),
    };
    json_response(status, body)
}

fn phrase(status: u16) -> &'static str {
    match status {
        400 => "BadRequestError",
        404 => "NotFoundError",
        422 => "UnprocessableEntityError",
        429 => "TooManyRequestsError",
        503 => "ServiceUnavailableError",
        _ => "InternalServerError",
    }
}

/// A rejected request.
pub(crate) fn reject(d: Dialect, r: &Reject) -> Response {
    match r.status {
        Some(500) => return fault(d, FaultKind::Internal, 0),
        Some(status) => return error(d, status, &r.message, "invalid_request_error", Value::Null),
        None => {}
    }
    match (d, r.validation) {
        (Dialect::Sglang, Some(kind)) => {
            let mut loc = vec![json!("body")];
            if let Some(p) = &r.param {
                loc.push(json!(p));
            }
            json_response(
                422,
                json!({"detail": [{"type": kind, "loc": loc, "msg": r.message, "input": null}]}),
            )
        }
        (Dialect::Openai, _) => json_response(
            400,
            json!({"error": {"message": r.message, "type": "invalid_request_error",
                "param": r.param, "code": null}}),
        ),
        _ => error(d, 400, &r.message, "invalid_request_error", Value::Null),
    }
}

/// The answer of a status fault (400, 422, 429, 500, 503).
pub(crate) fn fault(d: Dialect, kind: FaultKind, retry_after_s: u64) -> Response {
    let mut resp = match kind {
        FaultKind::BadRequest => error(
            d,
            400,
            "Your request was rejected as a result of our safety system (mock fault 400).",
            "invalid_request_error",
            json!("content_policy_violation"),
        ),
        FaultKind::Unprocessable => match d {
            Dialect::Sglang => json_response(
                422,
                json!({"detail": [{"type": "value_error", "loc": ["body", "prompt"],
                    "msg": "Value error, prompt rejected (mock fault 422)", "input": null}]}),
            ),
            _ => error(
                d,
                422,
                "Unprocessable request (mock fault 422).",
                "invalid_request_error",
                Value::Null,
            ),
        },
        FaultKind::TooManyRequests => error(
            d,
            429,
            "Rate limit reached for images per minute (mock fault 429). Please try again later.",
            "requests",
            json!("rate_limit_exceeded"),
        ),
        FaultKind::Unavailable => error(
            d,
            503,
            "The server is overloaded or not ready yet (mock fault 503).",
            "server_error",
            Value::Null,
        ),
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Internal Server Error",
        )
            .into_response(),
    };
    if matches!(kind, FaultKind::TooManyRequests | FaultKind::Unavailable) {
        let h = resp.headers_mut();
        h.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
        h.insert("retry-after-ms", HeaderValue::from(retry_after_s * 1000));
    }
    resp
}

/// 404 for an unknown route or image.
pub(crate) fn not_found(d: Dialect, message: &str) -> Response {
    error(d, 404, message, "invalid_request_error", json!("not_found"))
}

/// `GET /v1/models`.
pub(crate) fn models(d: Dialect, model: &str, created: u64) -> Response {
    let card = match d {
        Dialect::Openai => json!({"id": model, "object": "model", "created": created,
            "owned_by": "imgperf"}),
        Dialect::Sglang => json!({"id": model, "object": "model", "created": created,
            "owned_by": "sglang", "root": model, "parent": null, "max_model_len": null,
            "num_gpus": 1, "task_type": "T2I", "dit_precision": "bf16", "vae_precision": "bf16",
            "pipeline_name": "flux", "pipeline_class": "FluxPipeline"}),
        Dialect::VllmOmni => json!({"id": model, "object": "model", "created": created,
            "owned_by": "vllm", "root": model, "parent": null, "max_model_len": null}),
    };
    json_response(200, json!({"object": "list", "data": [card]}))
}

/// `GET /health`: `{"status":"ok"}`, or an empty 200 for vLLM.
pub(crate) fn health(d: Dialect) -> Response {
    match d {
        Dialect::VllmOmni => StatusCode::OK.into_response(),
        _ => json_response(200, json!({"status": "ok"})),
    }
}

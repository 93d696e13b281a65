//! `POST /v1/images/generations` of the mock server: validates the request
//! like the OpenAI Images API does, waits the configured latency and answers
//! with real base64 images of the requested size and format.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use imgperf_core::images::{parse_size, ImageFormat};
use serde_json::{json, Map, Value};

use super::Shared;

/// Size used when the request names none (or `auto`).
const DEFAULT_SIZE: (u32, u32) = (1024, 1024);
/// Most images one request may ask for, as in the OpenAI API.
const MAX_N: u64 = 10;

/// What a valid request asks for.
#[derive(Debug)]
struct Wanted {
    prompt: String,
    n: usize,
    width: u32,
    height: u32,
    format: ImageFormat,
}

/// Why a request is rejected: a 400 answer in the OpenAI error shape.
struct Invalid {
    message: String,
    param: Option<&'static str>,
}

fn invalid(message: impl Into<String>, param: Option<&'static str>) -> Invalid {
    Invalid {
        message: message.into(),
        param,
    }
}

impl IntoResponse for Invalid {
    fn into_response(self) -> Response {
        let body = json!({"error": {
            "message": self.message,
            "type": "invalid_request_error",
            "param": self.param,
            "code": Value::Null,
        }});
        (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
    }
}

fn parse(body: &[u8], shared: &Shared) -> Result<Wanted, Invalid> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        invalid(
            format!("We could not parse the JSON body of your request: {e}"),
            None,
        )
    })?;
    let Value::Object(obj) = value else {
        return Err(invalid("The request body must be a JSON object.", None));
    };
    let field = |name: &str| obj.get(name).filter(|v| !v.is_null());

    let prompt = match field("prompt") {
        Some(Value::String(p)) => p.clone(),
        Some(_) => return Err(invalid("'prompt' must be a string.", Some("prompt"))),
        None => {
            return Err(invalid(
                "Missing required parameter: 'prompt'.",
                Some("prompt"),
            ))
        }
    };
    let n = match field("n") {
        None => 1,
        Some(v) => match v.as_u64() {
            Some(n @ 1..=MAX_N) => n as usize,
            _ => {
                let msg = format!("'n' must be an integer from 1 to {MAX_N}, got {v}.");
                return Err(invalid(msg, Some("n")));
            }
        },
    };
    let (width, height) = match field("size") {
        None => DEFAULT_SIZE,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("auto") => DEFAULT_SIZE,
        Some(v) => v.as_str().and_then(parse_size).ok_or_else(|| {
            invalid(
                format!("Invalid size {v}: expected WIDTHxHEIGHT such as \"1024x1024\"."),
                Some("size"),
            )
        })?,
    };
    let max = shared.args.max_dimension;
    if width > max || height > max {
        let msg =
            format!("Size {width}x{height} is too large: this mock serves at most {max}x{max}.");
        return Err(invalid(msg, Some("size")));
    }
    match field("response_format").map(|v| (v.as_str(), v)) {
        None | Some((Some("b64_json"), _)) => {}
        Some((Some("url"), _)) => {
            let msg = "response_format 'url' is not supported by the imgperf mock server; use 'b64_json'.";
            return Err(invalid(msg, Some("response_format")));
        }
        Some((_, v)) => {
            let msg = format!("Invalid response_format {v}: expected 'b64_json' or 'url'.");
            return Err(invalid(msg, Some("response_format")));
        }
    }
    let format = match field("output_format") {
        None => shared.default_format,
        Some(v) => v.as_str().and_then(ImageFormat::from_name).ok_or_else(|| {
            invalid(
                format!("Invalid output_format {v}: expected 'png', 'jpeg' or 'webp'."),
                Some("output_format"),
            )
        })?,
    };
    Ok(Wanted {
        prompt,
        n,
        width,
        height,
        format,
    })
}

/// The route handler.
pub(super) async fn generations(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let wanted = match parse(&body, &shared) {
        Ok(w) => w,
        Err(invalid) => return invalid.into_response(),
    };
    // The latency and a first-time encode overlap: a request costs the longer of the two.
    let latency = Duration::from_secs_f64(shared.args.latency_ms / 1000.0);
    let (b64, ()) = tokio::join!(
        shared.cache.b64(wanted.width, wanted.height, wanted.format),
        async {
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
        }
    );
    let b64 = match b64 {
        Ok(b64) => b64,
        Err(e) => {
            let body = json!({"error": {"message": format!("{e:#}"), "type": "server_error",
                "param": Value::Null, "code": Value::Null}});
            return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response();
        }
    };
    shared.served.fetch_add(1, Ordering::Relaxed);
    let body = response_body(&wanted, &b64);
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Writes the JSON by hand: the base64 needs no escaping, and copying a few MiB
/// once beats serde_json's per-character escaping of each copy.
fn response_body(wanted: &Wanted, b64: &str) -> String {
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let prompt = Value::String(wanted.prompt.clone()).to_string();
    let mut tail = Map::new();
    tail.insert(
        "size".into(),
        format!("{}x{}", wanted.width, wanted.height).into(),
    );
    tail.insert("output_format".into(), wanted.format.name().into());
    let tail = Value::Object(tail).to_string(); // {"size":..,"output_format":..}

    let mut out = String::with_capacity(wanted.n * (b64.len() + prompt.len() + 48) + 128);
    out.push_str(&format!("{{\"created\":{created},\"data\":["));
    for i in 0..wanted.n {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"b64_json\":\"");
        out.push_str(b64);
        out.push_str("\",\"revised_prompt\":");
        out.push_str(&prompt);
        out.push('}');
    }
    out.push_str("],");
    out.push_str(&tail[1..]);
    out
}

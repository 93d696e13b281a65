//! Request building exactly as AIPerf does it for `image_generation`: base URL
//! normalisation and joining, `--extra-inputs` parsing and coercion, `-H`
//! headers, the Bearer key, and the default payload
//! `{"prompt", "model", "response_format": "b64_json", "n": 1}`. An edit
//! ([`EndpointKind::ImageEdit`]) sends the same fields as a multipart form
//! ([`crate::edit`]).

use crate::endpoint::EndpointKind;
use serde_json::{Map, Value};
use std::fmt;

/// Default path of the Images API generations endpoint.
pub const DEFAULT_ENDPOINT: &str = "/v1/images/generations";
/// Default path of the Images API edits endpoint.
pub const EDIT_ENDPOINT: &str = "/v1/images/edits";

/// A problem with a request-building option, phrased for the command line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// `--url` was empty or not a valid URL.
    #[error("invalid --url {0:?}: expected host:port or http(s)://host:port")]
    BadUrl(String),
    /// `--extra-inputs` value was not `key:value`, a list of them, or a JSON object.
    #[error("invalid --extra-inputs {0:?}: expected key:value (e.g. size:512x512), a comma list of them, or a JSON object like '{{\"size\": \"512x512\"}}'")]
    BadExtraInput(String),
    /// `--extra-inputs` parsed, but a value is unusable.
    #[error("invalid --extra-inputs: {0}")]
    BadExtraValue(String),
    /// A `size` value that no server accepts.
    #[error("invalid size {0}")]
    BadSize(String),
    /// `-H/--header` value was not `Name:value`.
    #[error("invalid --header {0:?}: expected Name:value (e.g. 'X-Team:images')")]
    BadHeader(String),
}

/// Everything needed to turn a prompt into an HTTP request.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointConfig {
    /// Normalised base URLs (`scheme://host[:port][/prefix]`, no trailing `/`); round-robin.
    pub urls: Vec<String>,
    /// Path appended to the base URL.
    pub endpoint_path: String,
    /// `model` in the payload.
    pub model: String,
    /// Sent as `Authorization: Bearer <key>`; never exported.
    pub api_key: Option<String>,
    /// Extra headers from `-H`.
    pub headers: Vec<(String, String)>,
    /// Merged over the default payload.
    pub extra_inputs: Map<String, Value>,
    /// Adds `"stream": true`.
    pub streaming: bool,
    /// `--endpoint-type`: the payload's shape and how a request runs.
    pub kind: EndpointKind,
}

impl EndpointConfig {
    /// Full URL of the `i`-th request (round-robin over `urls`).
    pub fn url_for(&self, i: u64) -> String {
        let base = &self.urls[(i % self.urls.len() as u64) as usize];
        join_url(base, &self.endpoint_path)
    }

    /// The JSON body for one prompt; `row_extra` (the dataset row's `extra`)
    /// is merged last, so it overrides `--extra-inputs`. A video job's body
    /// is AIPerf's `{"prompt", "model"}` plus the extras. A field set to
    /// `null` is left out.
    pub fn payload(&self, prompt: &str, row_extra: Option<&Map<String, Value>>) -> Value {
        let mut body = Map::new();
        body.insert("prompt".into(), Value::String(prompt.to_owned()));
        body.insert("model".into(), Value::String(self.model.clone()));
        if !self.kind.is_video() {
            body.insert("response_format".into(), Value::String("b64_json".into()));
            body.insert("n".into(), Value::from(1));
        }
        if self.streaming {
            body.insert("stream".into(), Value::Bool(true));
        }
        for (k, v) in &self.extra_inputs {
            body.insert(k.clone(), v.clone());
        }
        if let Some(extra) = row_extra {
            for (k, v) in extra {
                body.insert(k.clone(), v.clone());
            }
        }
        // `null` removes a field (`response_format:null` for OpenAI's
        // gpt-image models, which reject `response_format`).
        body.retain(|_, v| !v.is_null());
        Value::Object(body)
    }

    /// Headers of one request, in sending order. Contains the API key: use
    /// [`redact_headers`] before logging or exporting them.
    pub fn headers_for(&self, request_id: &str, correlation_id: &str) -> Vec<(String, String)> {
        self.headers_with_type(request_id, correlation_id, "application/json")
    }

    /// [`EndpointConfig::headers_for`] with another `Content-Type` (a
    /// multipart body's, with its boundary).
    pub fn headers_with_type(
        &self,
        request_id: &str,
        correlation_id: &str,
        content_type: &str,
    ) -> Vec<(String, String)> {
        let mut h = vec![
            (
                "User-Agent".to_owned(),
                format!("imgperf/{}", env!("CARGO_PKG_VERSION")),
            ),
            ("X-Request-ID".to_owned(), request_id.to_owned()),
            ("X-Correlation-ID".to_owned(), correlation_id.to_owned()),
        ];
        h.extend(self.headers.iter().cloned());
        if let Some(key) = &self.api_key {
            h.push(("Authorization".to_owned(), format!("Bearer {key}")));
        }
        h.push(("Content-Type".to_owned(), content_type.to_owned()));
        h
    }
}

/// Header names whose values are secrets.
fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "authorization"
        || n == "proxy-authorization"
        || n.contains("api-key")
        || n.contains("token")
}

/// Copy of `headers` with secret values replaced by `<redacted>`.
pub fn redact_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            if is_secret_header(k) {
                (k.clone(), "<redacted>".to_owned())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect()
}

/// Normalise a `--url` value: trim, add `http://` when no scheme, drop trailing `/`.
pub fn normalize_base_url(raw: &str) -> Result<String, RequestError> {
    let s = raw.trim();
    if s.is_empty() || s.chars().any(char::is_whitespace) {
        return Err(RequestError::BadUrl(raw.to_owned()));
    }
    let with_scheme = if s.contains("://") {
        let scheme = s
            .split("://")
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(RequestError::BadUrl(raw.to_owned()));
        }
        s.to_owned()
    } else {
        format!("http://{s}")
    };
    let trimmed = with_scheme.trim_end_matches('/');
    let host = trimmed.split("://").nth(1).unwrap_or_default();
    if host.is_empty() || host.starts_with('/') || host.starts_with(':') {
        return Err(RequestError::BadUrl(raw.to_owned()));
    }
    Ok(trimmed.to_owned())
}

/// Join a base URL and an endpoint path with exactly one `/` between them.
/// A full URL as `path` is used as it is.
pub fn join_url(base: &str, path: &str) -> String {
    if path.contains("://") {
        return path.to_owned();
    }
    let path = path.trim_start_matches('/');
    if path.is_empty() {
        base.trim_end_matches('/').to_owned()
    } else {
        format!("{}/{}", base.trim_end_matches('/'), path)
    }
}

/// Coerce a `--extra-inputs` value as AIPerf does: `true`/`false` → bool,
/// `none`/`null` → null, integers without a leading zero → int, `x.y` → float,
/// JSON arrays/objects → JSON, anything else stays a string (`512x512`).
pub fn coerce_value(raw: &str) -> Value {
    let s = raw.trim();
    match s.to_ascii_lowercase().as_str() {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        "none" | "null" => return Value::Null,
        _ => {}
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
    {
        if let Ok(i) = s.parse::<i64>() {
            return Value::from(i);
        }
    }
    if let Some((int, frac)) = digits.split_once('.') {
        let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if all_digits(int) && all_digits(frac) {
            if let Ok(f) = s.parse::<f64>() {
                return Value::from(f);
            }
        }
    }
    if (s.starts_with('[') && s.ends_with(']')) || (s.starts_with('{') && s.ends_with('}')) {
        if let Ok(v) = serde_json::from_str::<Value>(s) {
            return v;
        }
    }
    Value::String(s.to_owned())
}

/// Parse every `--extra-inputs` value into one object (later values win).
/// Each value is a JSON object, a `key:value`, or a comma list of `key:value`.
pub fn parse_extra_inputs(values: &[String]) -> Result<Map<String, Value>, RequestError> {
    let mut out = Map::new();
    for raw in values {
        let s = raw.trim();
        if s.starts_with('{') {
            match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(obj)) => out.extend(obj),
                _ => return Err(RequestError::BadExtraInput(raw.clone())),
            }
            continue;
        }
        let parts: Vec<&str> = s.split(',').collect();
        let pieces = if parts.len() > 1 && parts.iter().all(|p| p.contains(':')) {
            parts
        } else {
            vec![s]
        };
        for piece in pieces {
            let (k, v) = piece
                .split_once(':')
                .ok_or_else(|| RequestError::BadExtraInput(raw.clone()))?;
            let k = k.trim();
            if k.is_empty() || v.trim().is_empty() {
                return Err(RequestError::BadExtraInput(raw.clone()));
            }
            out.insert(k.to_owned(), coerce_value(v));
        }
    }
    if let Some(size) = out.get("size") {
        check_size(size).map_err(|e| RequestError::BadExtraValue(e.to_string()))?;
    }
    Ok(out)
}

/// Check a request `size`: `auto`, or `WxH` with positive integers (`W*H`,
/// Xinference's spelling, is accepted too). The error says what to write.
pub fn check_size(value: &Value) -> Result<(), RequestError> {
    let bad = |why: &str| Err(RequestError::BadSize(format!("{value}: {why}")));
    let Some(s) = value.as_str() else {
        return bad("expected a string like \"512x512\"");
    };
    if s == "auto" {
        return Ok(());
    }
    if let Some((w, h)) = s.split_once('X') {
        return bad(&format!("write the x in lower case: \"{w}x{h}\""));
    }
    let Some((w, h)) = s.split_once(['x', '*']) else {
        return bad("expected WIDTHxHEIGHT like \"512x512\" or \"auto\"");
    };
    let dim = |d: &str| {
        d.parse::<u32>()
            .ok()
            .filter(|v| *v > 0 && d.bytes().all(|b| b.is_ascii_digit()))
    };
    match (dim(w), dim(h)) {
        (Some(_), Some(_)) => Ok(()),
        _ => bad("width and height must be positive whole numbers, like \"512x512\""),
    }
}

/// Parse one `-H/--header` value `Name:value`.
pub fn parse_header(raw: &str) -> Result<(String, String), RequestError> {
    let (k, v) = raw
        .split_once(':')
        .ok_or_else(|| RequestError::BadHeader(raw.to_owned()))?;
    let k = k.trim();
    let valid_name = !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_!#$%&'*+.^`|~".contains(&b));
    if !valid_name {
        return Err(RequestError::BadHeader(raw.to_owned()));
    }
    Ok((k.to_owned(), v.trim().to_owned()))
}

impl fmt::Display for EndpointConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.url_for(0), self.model)
    }
}

#[cfg(test)]
mod tests;

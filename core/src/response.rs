//! What a response says: success with N images, or an error in one of the
//! shapes servers use (OpenAI `{"error":{...}}`, FastAPI `{"detail": ...}`,
//! `{"error": "string"}`, text/plain). Parses multi-MB bodies without
//! copying the base64 payloads (borrowed deserialisation): [`inspect`] hands
//! back each `data[]` item as a slice of the body, plus the figures the
//! server reported (`usage`, `inference_time_s`, `peak_memory_mb`).

mod items;

use crate::output::ServerFigures;
use crate::record::ErrorDetails;
pub use items::ImageItem;
pub(crate) use items::{items_one_by_one, server_figures, CowStr, RawItem};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The verdict on one HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// `None` when the request succeeded.
    pub error: Option<ErrorDetails>,
    /// Entries in `data` (images returned).
    pub image_count: u32,
}

/// The verdict plus what a successful body carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection<'a> {
    /// Success or error, and the image count.
    pub verdict: Analysis,
    /// Each `data[]` entry, borrowed from the body (empty on error).
    pub items: Vec<ImageItem<'a>>,
    /// What the server reported about its own work.
    pub server: ServerFigures,
}

/// A response body whose `data` items are `I`.
#[derive(Deserialize)]
struct BodyOf<'a, I> {
    #[serde(default = "Option::default")]
    data: Option<Vec<I>>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
    #[serde(borrow, default)]
    detail: Option<&'a RawValue>,
    #[serde(borrow, default)]
    usage: Option<&'a RawValue>,
    #[serde(borrow, default)]
    inference_time_s: Option<&'a RawValue>,
    #[serde(borrow, default)]
    peak_memory_mb: Option<&'a RawValue>,
}

/// A body with object items (the usual case, one pass).
type Body<'a> = BodyOf<'a, RawItem<'a>>;

/// Any `data` array (items that are not objects count, as missing images).
type LooseBody<'a> = BodyOf<'a, &'a RawValue>;

/// A parsed body, whichever way it parsed.
struct Parsed<'a> {
    items: Option<Vec<ImageItem<'a>>>,
    error: Option<&'a RawValue>,
    detail: Option<&'a RawValue>,
    server: ServerFigures,
}

fn parse(body: &[u8]) -> Result<Parsed<'_>, serde_json::Error> {
    match serde_json::from_slice::<Body<'_>>(body) {
        Ok(b) => Ok(Parsed {
            items: b
                .data
                .map(|d| d.into_iter().map(RawItem::into_item).collect()),
            error: b.error,
            detail: b.detail,
            server: server_figures(b.inference_time_s, b.peak_memory_mb, b.usage),
        }),
        Err(first) => match serde_json::from_slice::<LooseBody<'_>>(body) {
            Ok(b) => Ok(Parsed {
                items: b.data.map(|d| items_one_by_one(&d)),
                error: b.error,
                detail: b.detail,
                server: server_figures(b.inference_time_s, b.peak_memory_mb, b.usage),
            }),
            Err(_) => Err(first),
        },
    }
}

#[derive(Deserialize)]
struct OpenAiError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

const MAX_MESSAGE: usize = 300;

/// A message trimmed and clipped to a readable length.
pub(crate) fn clip(s: &str) -> String {
    let s = s.trim();
    if s.len() <= MAX_MESSAGE {
        return s.to_owned();
    }
    let mut end = MAX_MESSAGE;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// The error type and message carried by a body's `error` or `detail`
/// field, if it has one.
pub(crate) fn error_message(
    error: Option<&RawValue>,
    detail: Option<&RawValue>,
) -> Option<(Option<String>, String)> {
    if let Some(raw) = error {
        if let Ok(e) = serde_json::from_str::<OpenAiError>(raw.get()) {
            if e.message.is_some() || e.kind.is_some() {
                return Some((e.kind, e.message.unwrap_or_default()));
            }
        }
        if let Ok(s) = serde_json::from_str::<String>(raw.get()) {
            return Some((None, s));
        }
        return Some((None, raw.get().to_owned()));
    }
    if let Some(raw) = detail {
        if let Ok(s) = serde_json::from_str::<String>(raw.get()) {
            return Some((None, s));
        }
        // FastAPI validation errors: a list of {"loc", "msg", "type"}.
        if let Ok(items) = serde_json::from_str::<Vec<serde_json::Value>>(raw.get()) {
            let msgs: Vec<String> = items
                .iter()
                .map(|i| {
                    let loc = i["loc"]
                        .as_array()
                        .map(|l| {
                            l.iter()
                                .map(|p| p.to_string().trim_matches('"').to_owned())
                                .collect::<Vec<_>>()
                                .join(".")
                        })
                        .unwrap_or_default();
                    let msg = i["msg"].as_str().unwrap_or("invalid");
                    if loc.is_empty() {
                        msg.to_owned()
                    } else {
                        format!("{loc}: {msg}")
                    }
                })
                .collect();
            return Some((Some("validation_error".into()), msgs.join("; ")));
        }
        return Some((None, raw.get().to_owned()));
    }
    None
}

/// Error type name of an HTTP status (`BadRequest`, `ServerError`, ...).
pub(crate) fn status_type(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        408 => "RequestTimeout",
        413 => "PayloadTooLarge",
        422 => "UnprocessableEntity",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        s if s >= 500 => "ServerError",
        _ => "HTTPError",
    }
}

/// Judge a complete response by status and body.
pub fn analyze(status: u16, body: &[u8]) -> Analysis {
    inspect(status, body).verdict
}

/// Judge a complete response and borrow its image items.
pub fn inspect(status: u16, body: &[u8]) -> Inspection<'_> {
    let failed = |error: ErrorDetails| Inspection {
        verdict: Analysis {
            error: Some(error),
            image_count: 0,
        },
        items: Vec::new(),
        server: ServerFigures::default(),
    };
    let parsed = parse(body);
    if !(200..300).contains(&status) {
        let known = parsed
            .as_ref()
            .ok()
            .and_then(|p| error_message(p.error, p.detail));
        let (kind, message) = match known {
            Some((kind, msg)) => (kind, msg),
            None => (None, String::from_utf8_lossy(body).into_owned()),
        };
        let message = if message.trim().is_empty() {
            format!("HTTP {status} with an empty body")
        } else {
            clip(&message)
        };
        return failed(ErrorDetails {
            code: Some(status),
            kind: kind.unwrap_or_else(|| status_type(status).to_owned()),
            message,
        });
    }
    let invalid = |message: String| {
        failed(ErrorDetails {
            code: Some(status),
            kind: "InvalidResponse".into(),
            message,
        })
    };
    let body_ok = match parsed {
        Ok(b) => b,
        Err(e) => {
            let preview = clip(&String::from_utf8_lossy(&body[..body.len().min(120)]));
            return invalid(format!(
                "response body is not a JSON object ({e}): {preview:?}"
            ));
        }
    };
    if let Some((_, msg)) = error_message(body_ok.error, body_ok.detail) {
        return invalid(format!("HTTP {status} carrying an error: {}", clip(&msg)));
    }
    match body_ok.items {
        None => invalid("response has no \"data\" array".into()),
        Some(d) if d.is_empty() => invalid("response \"data\" is empty: no image returned".into()),
        Some(items) => Inspection {
            verdict: Analysis {
                error: None,
                image_count: items.len() as u32,
            },
            items,
            server: body_ok.server,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, body: &str) -> ErrorDetails {
        analyze(status, body.as_bytes()).error.expect("an error")
    }

    #[test]
    fn non_object_items_count_as_missing_images_not_as_garbage() {
        let i = inspect(200, br#"{"created":1,"data":[7,{"b64_json":"iVBOR"}]}"#);
        assert_eq!(i.verdict.image_count, 2, "{:?}", i.verdict);
        assert_eq!(
            i.verdict.error, None,
            "a missing image is an image issue, not a garbage body"
        );
    }

    #[test]
    fn b64_strings_are_read_as_bytes_escapes_and_all() {
        // `\/` is how some JSON encoders write base64's `/`.
        let i = inspect(
            200,
            br#"{"data":[{"b64_json":"iV\/BOR"},{"url":"http://h/a.png"}]}"#,
        );
        assert_eq!(i.items[0], ImageItem::B64("iV/BOR".into()));
        assert_eq!(i.items[1], ImageItem::Url("http://h/a.png".into()));
        let plain = inspect(200, br#"{"data":[{"b64_json":"iVBOR"}]}"#);
        assert!(matches!(
            &plain.items[0],
            ImageItem::B64(std::borrow::Cow::Borrowed("iVBOR"))
        ));
        // Not a string: that item is missing, the body still counts.
        let odd = inspect(200, br#"{"data":[{"b64_json":[1,2]},{"b64_json":"QUJD"}]}"#);
        assert_eq!(
            odd.verdict,
            Analysis {
                error: None,
                image_count: 2
            }
        );
        assert_eq!(odd.items[0], ImageItem::Missing);
        // Not UTF-8: not JSON at all.
        let bad = analyze(200, b"{\"data\":[{\"b64_json\":\"a\xffb\"}]}");
        assert_eq!(bad.error.unwrap().kind, "InvalidResponse");
    }

    #[test]
    fn success_counts_images() {
        let a = analyze(
            200,
            br#"{"created":1,"data":[{"b64_json":"iVBOR"},{"b64_json":"iVBOR"}]}"#,
        );
        assert_eq!(
            a,
            Analysis {
                error: None,
                image_count: 2
            }
        );
    }

    #[test]
    fn error_shapes() {
        let e = err(
            400,
            r#"{"error":{"message":"bad size","type":"invalid_request_error","param":"size","code":null}}"#,
        );
        assert_eq!(
            (e.code, e.kind.as_str(), e.message.as_str()),
            (Some(400), "invalid_request_error", "bad size")
        );
        let e = err(404, r#"{"detail":"Not Found"}"#);
        assert_eq!(
            (e.kind.as_str(), e.message.as_str()),
            ("NotFound", "Not Found")
        );
        let e = err(
            422,
            r#"{"detail":[{"loc":["body","prompt"],"msg":"field required","type":"missing"}]}"#,
        );
        assert_eq!(e.message, "body.prompt: field required");
        let e = err(500, r#"{"error":"model crashed"}"#);
        assert_eq!(
            (e.kind.as_str(), e.message.as_str()),
            ("InternalServerError", "model crashed")
        );
        let e = err(500, "Internal Server Error");
        assert_eq!(e.message, "Internal Server Error");
        let e = err(503, "");
        assert_eq!(e.message, "HTTP 503 with an empty body");
    }

    #[test]
    fn bad_success_bodies_are_errors() {
        assert_eq!(err(200, "<html>oops</html>").kind, "InvalidResponse");
        assert!(err(200, r#"{"created":1,"data":[]}"#)
            .message
            .contains("empty"));
        assert!(err(200, r#"{"created":1}"#).message.contains("no \"data\""));
        assert!(err(200, r#"{"error":{"message":"quota"}}"#)
            .message
            .contains("quota"));
        assert!(err(200, "[1,2]").message.contains("not a JSON object"));
    }

    #[test]
    fn long_messages_are_clipped() {
        let long = "é".repeat(1000);
        let e = err(500, &long);
        assert!(e.message.len() <= MAX_MESSAGE + 4);
    }
}

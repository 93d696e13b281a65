//! A video submit's body, read as the dialect's server reads it: a JSON
//! object (text-to-video), or `multipart/form-data` whose text fields are
//! the same keys and whose file part `input_reference` is the reference
//! image of an image-to-video job (OpenAI's Videos API; SGLang 0.5.23).
//!
//! SGLang's multipart route declares only `prompt`, `model`, `seconds`,
//! `size`, `fps`, `num_frames` and `extra_body` (a JSON text whose `fps`
//! and `num_frames` fill in missing ones): every other field (`seed`,
//! `num_inference_steps`, ...) is dropped, and a form without `prompt` or
//! without `input_reference` gets 400 `{"detail": "prompt is required"}` /
//! `"input_reference file is required"`. The openai dialect keeps every field.
//! [`reference`] then checks the upload against `--task` and decodes it.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use bytes::Bytes;
use serde_json::{Map, Value};

use imgperf_core::images::probe;

use super::super::args::Dialect;
use super::super::edit::unusable;
use super::super::request::{coerce, Reject};
use super::super::truth::TruthRecord;
use super::super::Shared;

/// The form fields SGLang's multipart route reads.
const SGLANG_FIELDS: [&str; 6] = ["prompt", "model", "seconds", "size", "fps", "num_frames"];

/// The uploaded reference image of an image-to-video job.
pub(crate) struct Upload {
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

/// A submit's fields and its reference, if any.
pub(crate) struct Submitted {
    pub fields: Map<String, Value>,
    pub reference: Option<Upload>,
}

/// Whether the request's body is a multipart form.
fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// Read a submit's body.
pub(crate) async fn read(d: Dialect, req: Request) -> Result<Submitted, Reject> {
    if !is_multipart(&req) {
        let body = Bytes::from_request(req, &())
            .await
            .map_err(|e| Reject::invalid(format!("Could not read the body: {e}"), None))?;
        return match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(fields)) => Ok(Submitted {
                fields,
                reference: None,
            }),
            _ => Err(Reject::invalid(
                "The request body must be a JSON object.",
                Some("body"),
            )),
        };
    }
    let bad = |e: String| Reject::invalid(format!("Could not read the multipart form: {e}"), None);
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|e| bad(e.to_string()))?;
    let mut fields = Map::new();
    let mut reference = None;
    while let Some(field) = form.next_field().await.map_err(|e| bad(e.to_string()))? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "input_reference" {
            reference = Some(Upload {
                filename: field.file_name().map(str::to_owned),
                content_type: field.content_type().map(str::to_owned),
                bytes: field.bytes().await.map_err(|e| bad(e.to_string()))?,
            });
        } else {
            let text = field.text().await.map_err(|e| bad(e.to_string()))?;
            fields.insert(name.clone(), coerce(&name, text));
        }
    }
    if d == Dialect::Sglang {
        sglang_fields(&mut fields);
        if fields
            .get("prompt")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(Reject::status(400, "prompt is required", Some("prompt")));
        }
        if reference.is_none() {
            let m = "input_reference file is required";
            return Err(Reject::status(400, m, Some("input_reference")));
        }
    }
    Ok(Submitted { fields, reference })
}

/// The reference of an image-to-video job, checked against the task and
/// decoded once per distinct upload: its digest (for the MP4's key) and
/// pixels, or the answer refusing it.
pub(crate) async fn reference(
    shared: &Shared,
    upload: Option<&Upload>,
    record: Option<&TruthRecord>,
) -> Result<(u64, u64), Reject> {
    let task = shared.args.task;
    let Some(up) = upload else {
        if task.requires_reference() {
            let m = task.missing_reference();
            return Err(Reject::status(400, m, Some("input_reference")));
        }
        return Ok((0, 0));
    };
    if let Some(r) = record {
        r.upload(
            "input_reference",
            up.filename.as_deref(),
            up.content_type.as_deref(),
            &up.bytes,
        );
    }
    if task.refuses_references() {
        return Err(Reject::status(400, task.refusal(), Some("input_reference")));
    }
    let d = shared.dialect;
    let info = probe(&up.bytes).map_err(|e| unusable(d, &e.to_string()))?;
    let digest = shared
        .cache
        .remember_reference(up.bytes.clone())
        .await
        .map_err(|e| unusable(d, &e))?;
    Ok((digest, u64::from(info.width) * u64::from(info.height)))
}

/// Keep what SGLang's multipart route reads: its declared fields, with
/// `fps` and `num_frames` from `extra_body` when the form has none.
fn sglang_fields(fields: &mut Map<String, Value>) {
    let extra: Map<String, Value> = fields
        .get("extra_body")
        .and_then(Value::as_str)
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    fields.retain(|k, _| SGLANG_FIELDS.contains(&k.as_str()));
    for k in ["fps", "num_frames"] {
        if let (false, Some(v)) = (fields.contains_key(k), extra.get(k)) {
            fields.insert(k.to_owned(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sglang_keeps_its_declared_fields_and_extra_body_frames() {
        let mut f: Map<String, Value> = serde_json::from_str(
            r#"{"prompt": "p", "seconds": "2", "seed": 5, "num_inference_steps": 9,
                "extra_body": "{\"num_frames\": 17, \"fps\": 8}", "fps": "16"}"#,
        )
        .unwrap();
        sglang_fields(&mut f);
        let mut keys: Vec<&str> = f.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["fps", "num_frames", "prompt", "seconds"]);
        assert_eq!(f["fps"], "16", "the form's own fps wins");
        assert_eq!(f["num_frames"], 17);
    }
}

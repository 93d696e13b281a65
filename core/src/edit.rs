//! Requests that upload reference images as `multipart/form-data`: image
//! edits (`--endpoint-type image_edit`, `POST /v1/images/edits`, as OpenAI
//! and SGLang take it) and image-to-video jobs (`--endpoint-type
//! video_generation` with a reference, `POST /v1/videos`, as OpenAI's Videos
//! API and SGLang take it). The text fields are the payload (`prompt`,
//! `model`, `size`, `seconds`, every `--extra-inputs` and row `extra` key),
//! numbers and booleans written as text; the reference images follow as
//! file parts: an edit's `image` for one, `image[]` for several, then the
//! optional `mask`; a video's one `input_reference`. A video entry without
//! a reference keeps its JSON body (text-to-video).
//!
//! Each dataset entry's body is assembled once, with a boundary of its own
//! drawn from the run's seed (checked against the content) and carried by
//! the entry's `Content-Type`: every request of the entry sends the same
//! shared bytes, so an image's bytes are copied once, into its entry's body.
//! The payload kept for `inputs.json` and the raw export is the text fields
//! plus a `files` list describing each part (name, filename, content type,
//! size, sha256, format and dimensions, source), the bytes as `b64` only
//! when asked for (`--export-input-images`).

use crate::endpoint::EndpointKind;
use crate::plan::{EntryBody, PromptSpec, Workload};
use crate::reference::{InputImageMeta, ReferenceImage, References, SHA_PREFIX};
use crate::request::EndpointConfig;
use crate::tokenizer::Tokenizer;
use base64::Engine as _;
use bytes::Bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Key of the file descriptions in an edit's payload.
pub const FILES_KEY: &str = "files";

/// A multipart/form-data body under construction.
struct Form {
    boundary: String,
    buf: Vec<u8>,
}

/// A form field name or filename inside quotes: `"`, CR and LF
/// percent-encoded, as browsers do.
fn quoted(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

impl Form {
    fn new(boundary: String, capacity: usize) -> Form {
        Form {
            boundary,
            buf: Vec::with_capacity(capacity),
        }
    }

    fn head(&mut self, name: &str) {
        self.buf.extend_from_slice(b"--");
        self.buf.extend_from_slice(self.boundary.as_bytes());
        self.buf
            .extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
        self.buf.extend_from_slice(quoted(name).as_bytes());
        self.buf.push(b'"');
    }

    fn text(&mut self, name: &str, value: &str) {
        self.head(name);
        self.buf.extend_from_slice(b"\r\n\r\n");
        self.buf.extend_from_slice(value.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    fn file(&mut self, name: &str, filename: &str, content_type: &str, bytes: &[u8]) {
        self.head(name);
        self.buf.extend_from_slice(b"; filename=\"");
        self.buf.extend_from_slice(quoted(filename).as_bytes());
        self.buf.extend_from_slice(b"\"\r\nContent-Type: ");
        self.buf.extend_from_slice(content_type.as_bytes());
        self.buf.extend_from_slice(b"\r\n\r\n");
        self.buf.extend_from_slice(bytes);
        self.buf.extend_from_slice(b"\r\n");
    }

    fn finish(mut self) -> Bytes {
        self.buf.extend_from_slice(b"--");
        self.buf.extend_from_slice(self.boundary.as_bytes());
        self.buf.extend_from_slice(b"--\r\n");
        Bytes::from(self.buf)
    }
}

/// A field's value as form text: strings as they are, numbers and booleans
/// as JSON writes them, arrays and objects as JSON; `null` sends nothing.
fn field_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// One file part: form name, filename and image.
struct FilePart<'a> {
    name: &'static str,
    filename: String,
    image: &'a ReferenceImage,
}

/// Form name of a video's reference image (OpenAI's Videos API, SGLang).
pub const VIDEO_REFERENCE_PART: &str = "input_reference";

fn file_parts(refs: &References, kind: EndpointKind) -> Vec<FilePart<'_>> {
    let name = match (kind, refs.images.len()) {
        (EndpointKind::VideoGeneration, _) => VIDEO_REFERENCE_PART,
        (_, 1) => "image",
        _ => "image[]",
    };
    let mut parts: Vec<FilePart<'_>> = refs
        .images
        .iter()
        .enumerate()
        .map(|(i, img)| FilePart {
            name,
            filename: format!("image_{i}.{}", img.info.format.extension()),
            image: img,
        })
        .collect();
    if let Some(m) = &refs.mask {
        parts.push(FilePart {
            name: "mask",
            filename: format!("mask.{}", m.info.format.extension()),
            image: m,
        });
    }
    parts
}

/// A boundary found in none of `contents`.
fn boundary(rng: &mut impl Rng, contents: &[&[u8]]) -> String {
    loop {
        let b: [u8; 12] = rng.random();
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let candidate = format!("imgperf-{hex}");
        let clash = contents
            .iter()
            .any(|c| memchr::memmem::find(c, candidate.as_bytes()).is_some());
        if !clash {
            return candidate;
        }
    }
}

/// The multipart body of one request of `kind` (an edit, or a video job
/// with a reference): `fields` (the payload) as text parts, then `refs` as
/// file parts. `export_bytes` puts each file's base64 in the payload
/// description.
pub fn edit_body(
    kind: EndpointKind,
    fields: &Map<String, Value>,
    refs: &References,
    rng: &mut impl Rng,
    export_bytes: bool,
) -> EntryBody {
    let texts: Vec<(&str, String)> = fields
        .iter()
        .filter(|(k, _)| k.as_str() != FILES_KEY)
        .filter_map(|(k, v)| field_text(v).map(|t| (k.as_str(), t)))
        .collect();
    let parts = file_parts(refs, kind);
    let mut contents: Vec<&[u8]> = texts.iter().map(|(_, t)| t.as_bytes()).collect();
    contents.extend(parts.iter().map(|p| &p.image.bytes[..]));
    let boundary = boundary(rng, &contents);
    let size: usize = contents.iter().map(|c| c.len() + 160).sum();
    let mut form = Form::new(boundary, size + 64);
    for (k, t) in &texts {
        form.text(k, t);
    }
    let mut files = Vec::with_capacity(parts.len());
    for p in &parts {
        let img = p.image;
        let mime = img.info.format.mime();
        form.file(p.name, &p.filename, mime, &img.bytes);
        let mut d = json!({
            "name": p.name, "filename": p.filename, "content_type": mime,
            "size": img.bytes.len(), "sha256": img.sha256_hex(),
            "format": img.info.format, "width": img.info.width, "height": img.info.height,
            "source": img.source,
        });
        if export_bytes {
            d["b64"] = Value::from(base64::engine::general_purpose::STANDARD.encode(&img.bytes));
        }
        files.push(d);
    }
    let content_type = format!("multipart/form-data; boundary={}", form.boundary);
    let mut payload = fields.clone();
    payload.remove(FILES_KEY);
    payload.insert(FILES_KEY.into(), Value::Array(files));
    EntryBody {
        payload: Value::Object(payload),
        body: form.finish(),
        content_type: Arc::from(content_type),
        inputs: refs.images.iter().map(|i| i.meta()).collect(),
    }
}

/// The workload of an edit run, or of a video run with references: entry
/// `i` pairs `prompts[i]` with `refs[i]` (`refs` has one entry per prompt),
/// its file parts named as `endpoint.kind` wants; a video entry without a
/// reference keeps the JSON body. ISL counts prompt tokens only.
pub fn edit_workload(
    prompts: &[PromptSpec],
    refs: &[References],
    endpoint: &EndpointConfig,
    tokenizer: Option<&Tokenizer>,
    seed: u64,
    export_bytes: bool,
) -> Workload {
    assert_eq!(
        prompts.len(),
        refs.len(),
        "one set of references per prompt"
    );
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xb0_0da7_0000_0003);
    Workload::build_with(prompts, tokenizer, seed, |i, p| {
        let payload = endpoint.payload(&p.prompt, p.extra.as_ref());
        if endpoint.kind.is_video() && refs[i].images.is_empty() {
            return EntryBody::json(payload);
        }
        let Value::Object(fields) = payload else {
            unreachable!("payloads are objects")
        };
        edit_body(endpoint.kind, &fields, &refs[i], &mut rng, export_bytes)
    })
}

/// The input images an edit's payload describes (its `files`, the mask
/// left out), as records carry them: how an imported raw line gets them.
pub fn input_images_of(payload: &Value) -> Vec<InputImageMeta> {
    let Some(files) = payload.get(FILES_KEY).and_then(Value::as_array) else {
        return Vec::new();
    };
    files
        .iter()
        .filter(|f| f.get("name").and_then(Value::as_str) != Some("mask"))
        .filter_map(|f| {
            let num = |k: &str| f.get(k).and_then(Value::as_u64);
            Some(InputImageMeta {
                format: serde_json::from_value(f.get("format")?.clone()).ok()?,
                width: u32::try_from(num("width")?).ok()?,
                height: u32::try_from(num("height")?).ok()?,
                bytes: num("size")?,
                sha256: f
                    .get("sha256")?
                    .as_str()?
                    .chars()
                    .take(SHA_PREFIX)
                    .collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;

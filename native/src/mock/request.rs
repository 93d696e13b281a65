//! What an image request asks for: the JSON body of `generations` (or the
//! fields of an `edits` form, read by `edit`), validated the way the chosen
//! dialect's server validates it (defaults, clamping, which values it
//! rejects and how).

use imgperf_core::images::{parse_size, ImageFormat};
use serde_json::{Map, Value};

use super::args::Dialect;

/// Size when the request names none (or `auto`).
pub(crate) const DEFAULT_SIZE: (u32, u32) = (1024, 1024);
/// Most images one request may ask for.
const MAX_N: i64 = 10;

/// How the images go back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Respond {
    /// `data[].b64_json`.
    B64,
    /// `data[].url`, fetched from `/v1/images/{id}/content`.
    Url,
    /// The image file itself as the body (vLLM-Omni `response_format: file`).
    File,
}

/// A valid request.
#[derive(Debug, Clone)]
pub(crate) struct Wanted {
    pub prompt: String,
    pub n: usize,
    pub width: u32,
    pub height: u32,
    pub format: ImageFormat,
    pub respond: Respond,
    pub steps: Option<u32>,
    pub seed: Option<i64>,
    pub stream: bool,
    pub partial_images: u32,
    pub quality: Option<String>,
    pub background: Option<String>,
    /// Input images of an edit (0 for a generation).
    pub input_images: usize,
    /// Pixels of an edit's input images (they add to the work).
    pub input_pixels: u64,
    /// Digest of the decoded first input image the output is made from
    /// (0: a generation, drawn from the prompt).
    pub reference: u64,
}

/// Why a request is rejected, rendered in the dialect's error shape.
#[derive(Debug, Clone)]
pub(crate) struct Reject {
    pub message: String,
    pub param: Option<String>,
    /// A schema (pydantic) error: 422 `{"detail":[...]}` for SGLang, 400 elsewhere.
    pub validation: Option<&'static str>,
    /// Answer with this status in the dialect's plain error shape (500: the
    /// text/plain "Internal Server Error" of an unhandled exception).
    pub status: Option<u16>,
}

impl Reject {
    /// A 400 about a value (the server's own check).
    pub(crate) fn invalid(message: impl Into<String>, param: Option<&str>) -> Reject {
        Reject {
            message: message.into(),
            param: param.map(str::to_owned),
            validation: None,
            status: None,
        }
    }

    /// An error answered with `status` in the dialect's plain shape.
    pub(crate) fn status(status: u16, message: impl Into<String>, param: Option<&str>) -> Reject {
        Reject {
            status: Some(status),
            ..Reject::invalid(message, param)
        }
    }

    /// A schema error of pydantic type `kind` (`missing`, `int_type`, ...).
    pub(crate) fn schema(message: impl Into<String>, param: &str, kind: &'static str) -> Reject {
        Reject {
            message: message.into(),
            param: Some(param.to_owned()),
            validation: Some(kind),
            status: None,
        }
    }
}

/// Server-wide settings the parse needs.
pub(crate) struct Limits {
    pub dialect: Dialect,
    pub default_format: ImageFormat,
    pub max_dimension: u32,
}

/// Parses a `generations` JSON body.
pub(crate) fn parse_json(body: &[u8], limits: &Limits) -> Result<Wanted, Reject> {
    let value: Value = serde_json::from_slice(body).map_err(|e| Reject {
        message: format!("We could not parse the JSON body of your request: {e}"),
        param: None,
        validation: Some("json_invalid"),
        status: None,
    })?;
    let Value::Object(obj) = value else {
        return Err(Reject {
            message: "The request body must be a JSON object.".into(),
            param: None,
            validation: Some("model_attributes_type"),
            status: None,
        });
    };
    parse_fields(&obj, limits, None)
}

/// Form fields are text: numbers and booleans become JSON numbers and booleans.
pub(crate) fn coerce(name: &str, text: String) -> Value {
    const NUMERIC: [&str; 8] = [
        "n",
        "seed",
        "num_inference_steps",
        "partial_images",
        "width",
        "height",
        "guidance_scale",
        "output_compression",
    ];
    if NUMERIC.contains(&name) {
        if let Ok(i) = text.trim().parse::<i64>() {
            return Value::from(i);
        }
        if let Ok(f) = text.trim().parse::<f64>() {
            return Value::from(f);
        }
    }
    if name == "stream" {
        match text.trim() {
            "true" | "True" | "1" => return Value::Bool(true),
            "false" | "False" | "0" => return Value::Bool(false),
            _ => {}
        }
    }
    Value::String(text)
}

fn int_field(obj: &Map<String, Value>, name: &str) -> Result<Option<i64>, Reject> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| {
            Reject::schema(
                format!("'{name}' must be an integer, got {v}."),
                name,
                "int_type",
            )
        }),
    }
}

fn str_field<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, Reject> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(Reject::schema(
            format!("'{name}' must be a string, got {v}."),
            name,
            "string_type",
        )),
    }
}

pub(crate) fn parse_fields(
    obj: &Map<String, Value>,
    limits: &Limits,
    input_size: Option<(u32, u32)>,
) -> Result<Wanted, Reject> {
    let d = limits.dialect;
    let prompt = match str_field(obj, "prompt")? {
        Some(p) => p.to_owned(),
        None if d == Dialect::Openai => {
            return Err(Reject::invalid(
                "Missing required parameter: 'prompt'.",
                Some("prompt"),
            ))
        }
        None => return Err(Reject::schema("Field required", "prompt", "missing")),
    };

    let n = match (int_field(obj, "n")?, d) {
        (None, _) => 1,
        (Some(n), Dialect::Sglang) => n.clamp(1, MAX_N),
        (Some(n @ 1..=MAX_N), _) => n,
        (Some(n), Dialect::Openai) => {
            let msg = format!("'n' must be an integer from 1 to {MAX_N}, got {n}.");
            return Err(Reject::invalid(msg, Some("n")));
        }
        (Some(n), _) => {
            let msg = format!("Input should be between 1 and {MAX_N}, got {n}");
            return Err(Reject::schema(msg, "n", "less_than_equal"));
        }
    } as usize;

    let bad_size = |v: &str| {
        Reject::invalid(
            format!(
                "Invalid size format: {v:?}. Expected format: 'WIDTHxHEIGHT' (e.g., '1024x1024')."
            ),
            Some("size"),
        )
    };
    let (mut width, mut height) = match str_field(obj, "size")? {
        None => input_size.unwrap_or(DEFAULT_SIZE),
        Some(s) if s.eq_ignore_ascii_case("auto") => input_size.unwrap_or(DEFAULT_SIZE),
        Some(s) => parse_size(s).ok_or_else(|| bad_size(s))?,
    };
    if d == Dialect::Sglang {
        // SGLang's own width/height extras win over size.
        let dim = |name| -> Result<Option<u32>, Reject> {
            match int_field(obj, name)? {
                None => Ok(None),
                Some(v) if v >= 1 && v <= i64::from(u32::MAX) => Ok(Some(v as u32)),
                Some(v) => Err(Reject::invalid(
                    format!("'{name}' must be positive, got {v}"),
                    Some(name),
                )),
            }
        };
        width = dim("width")?.unwrap_or(width);
        height = dim("height")?.unwrap_or(height);
    }
    let max = limits.max_dimension;
    if width > max || height > max {
        let msg =
            format!("Size {width}x{height} is too large: this mock serves at most {max}x{max}.");
        return Err(Reject::invalid(msg, Some("size")));
    }

    let respond = parse_response_format(str_field(obj, "response_format")?, d)?;
    let format = match str_field(obj, "output_format")? {
        None => limits.default_format,
        Some(s) => ImageFormat::from_name(&s.to_ascii_lowercase()).ok_or_else(|| {
            Reject::invalid(
                format!("Invalid output_format {s:?}: expected 'png', 'jpeg' or 'webp'."),
                Some("output_format"),
            )
        })?,
    };

    let steps = match int_field(obj, "num_inference_steps")? {
        None => None,
        Some(s @ 1..=1000) => Some(s as u32),
        Some(s) => {
            let msg = format!("'num_inference_steps' must be between 1 and 1000, got {s}");
            return Err(Reject::schema(
                msg,
                "num_inference_steps",
                "greater_than_equal",
            ));
        }
    };
    let seed = int_field(obj, "seed")?.or((d == Dialect::Sglang).then_some(1024));

    let stream = d == Dialect::Openai && obj.get("stream").and_then(Value::as_bool) == Some(true);
    let partial_images = match (int_field(obj, "partial_images")?, d) {
        (Some(p @ 0..=3), Dialect::Openai) => p as u32,
        (Some(p), Dialect::Openai) => {
            let msg = format!("'partial_images' must be between 0 and 3, got {p}.");
            return Err(Reject::invalid(msg, Some("partial_images")));
        }
        _ => 0,
    };
    if stream && respond == Respond::Url {
        return Err(Reject::invalid(
            "Streaming returns base64 images: 'response_format' 'url' cannot be streamed.",
            Some("response_format"),
        ));
    }
    Ok(Wanted {
        prompt,
        n,
        width,
        height,
        format,
        respond,
        steps,
        seed,
        stream,
        partial_images,
        quality: str_field(obj, "quality")?.map(str::to_owned),
        background: str_field(obj, "background")?.map(str::to_owned),
        input_images: 0,
        input_pixels: 0,
        reference: 0,
    })
}

fn parse_response_format(value: Option<&str>, d: Dialect) -> Result<Respond, Reject> {
    let lower = value.map(str::to_ascii_lowercase);
    match (lower.as_deref(), d) {
        (None, Dialect::Sglang) => Ok(Respond::Url),
        (None, _) | (Some("b64_json"), _) => Ok(Respond::B64),
        (Some("url"), Dialect::Openai | Dialect::Sglang) => Ok(Respond::Url),
        (Some("file"), Dialect::VllmOmni) => Ok(Respond::File),
        (Some(other), Dialect::VllmOmni) => Err(Reject::schema(
            format!(
                "Value error, Only 'b64_json' or 'file' response format is supported, got: {other}"
            ),
            "response_format",
            "value_error",
        )),
        (Some(other), Dialect::Sglang) => Err(Reject::invalid(
            format!("response_format={other} is not supported"),
            Some("response_format"),
        )),
        (Some(_), Dialect::Openai) => Err(Reject::invalid(
            format!(
                "Invalid response_format {:?}: expected 'b64_json' or 'url'.",
                value.unwrap_or_default()
            ),
            Some("response_format"),
        )),
    }
}

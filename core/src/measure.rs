//! Measuring what a response delivered, on the request's own task: judge
//! the status and body ([`crate::response`]), then check every image from
//! its header ([`crate::images::check_b64`]) against what the payload asked
//! for (`n`, `size` or `width`/`height`, `output_format`), date the first
//! and final images, and collect the server's own figures. Streamed (SSE)
//! responses are read event by event (`stream`); URL images are fetched
//! through the same transport afterwards (`fetch`).
//!
//! `--validate-images`: `off` checks nothing (bytes are still counted),
//! `warn` (default) records mismatches and defects on the request,
//! `strict` also makes them an error of the request.

pub(crate) mod fetch;
pub(crate) mod stream;

use crate::images::{
    b64_decoded_len, check_b64, check_bytes, parse_size, Checked, Defect, ImageFormat,
};
use crate::output::{Delivery, ImageIssue, ImageMeta, IssueKind, Output};
use crate::record::ErrorDetails;
use crate::response::{self, Analysis, ImageItem};
use crate::transport::HttpResponse;
use serde_json::Value;
use std::borrow::Cow;

/// `--validate-images`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValidateImages {
    /// Count images and bytes, check nothing.
    Off,
    /// Record mismatches and defects on the request; it still succeeds.
    #[default]
    Warn,
    /// A mismatch or defect makes the request an error.
    Strict,
}

impl ValidateImages {
    /// Parse the flag value (`off`, `warn`, `strict`).
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "off" => Ok(Self::Off),
            "warn" => Ok(Self::Warn),
            "strict" => Ok(Self::Strict),
            other => Err(format!(
                "unknown --validate-images {other:?}: use off, warn or strict"
            )),
        }
    }

    /// The flag value.
    pub fn name(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Warn => "warn",
            Self::Strict => "strict",
        }
    }
}

/// What a payload asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expect {
    /// `n` (1 when absent).
    pub n: u32,
    /// Dimensions from `size`, or `width` and `height`.
    pub size: Option<(u32, u32)>,
    /// The size as written (`auto` included), for per-size breakdowns.
    pub size_label: Option<String>,
    /// `output_format`.
    pub format: Option<ImageFormat>,
    /// `stream: true`.
    pub stream: bool,
}

fn as_u32(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Expect {
    /// Read `n`, `size`/`width`/`height`, `output_format` and `stream`.
    pub fn from_payload(payload: &Value) -> Expect {
        let get = |k: &str| payload.get(k);
        let n = get("n").and_then(as_u32).unwrap_or(1);
        let (size, size_label) = match get("size").and_then(Value::as_str) {
            Some(s) => (parse_size(s), Some(s.to_owned())),
            None => match (
                get("width").and_then(as_u32),
                get("height").and_then(as_u32),
            ) {
                (Some(w), Some(h)) if w > 0 && h > 0 => (Some((w, h)), Some(format!("{w}x{h}"))),
                _ => (None, None),
            },
        };
        Expect {
            n,
            size,
            size_label,
            format: get("output_format")
                .and_then(Value::as_str)
                .and_then(ImageFormat::from_name),
            stream: get("stream").and_then(Value::as_bool).unwrap_or(false),
        }
    }

    /// A record's output before the response: what was asked for.
    pub fn output(&self) -> Output {
        Output {
            stream_requested: self.stream,
            requested_images: Some(self.n),
            requested_size: self.size_label.clone(),
            ..Output::default()
        }
    }
}

/// A response, measured: the verdict, the record's output, the URLs still
/// to fetch and (for the raw export) the events of a stream.
#[derive(Debug)]
pub(crate) struct Measured<'a> {
    pub verdict: Analysis,
    pub output: Output,
    pub urls: Vec<(u32, Cow<'a, str>)>,
    /// `(arrival ns, data)` of each SSE event; empty for plain JSON.
    pub events: Vec<(u64, Cow<'a, str>)>,
}

/// Measure a complete response (JSON or event stream).
pub(crate) fn measure<'a>(
    resp: &'a HttpResponse,
    expect: &Expect,
    mode: ValidateImages,
) -> Measured<'a> {
    let mut output = expect.output();
    let sse = resp
        .header("content-type")
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("text/event-stream"))
        || (expect.stream && crate::sse::looks_like_sse(&resp.body));
    if sse && (200..300).contains(&resp.status) {
        return stream::measure(resp, expect, mode, output);
    }
    let inspection = response::inspect(resp.status, &resp.body);
    output.server = inspection.server;
    let mut m = Measured {
        verdict: inspection.verdict,
        output,
        urls: Vec::new(),
        events: Vec::new(),
    };
    if m.verdict.error.is_some() {
        return m;
    }
    let has_url = inspection
        .items
        .iter()
        .any(|i| matches!(i, ImageItem::Url(u) if !u.starts_with("data:")));
    m.output.delivery = Some(if has_url {
        Delivery::Url
    } else {
        Delivery::B64Json
    });
    for (i, item) in inspection.items.into_iter().enumerate() {
        take_item(i as u32, item, mode, &mut m);
    }
    // With URLs, the images are in hand once downloaded (see `fetch::apply`).
    if m.urls.is_empty() {
        m.output.first_image_ns = Some(resp.timing.end_ns);
        m.output.final_image_ns = Some(resp.timing.end_ns);
    }
    if mode != ValidateImages::Off {
        check_count(m.verdict.image_count, expect, &mut m.output);
    }
    m
}

/// Check an inline image, or queue a URL to fetch.
pub(crate) fn take_item<'a>(
    index: u32,
    item: ImageItem<'a>,
    mode: ValidateImages,
    m: &mut Measured<'a>,
) {
    match item {
        ImageItem::B64(s) => record_image(index, &s, None, mode, &mut m.output),
        ImageItem::Url(u) if u.starts_with("data:") => {
            record_image(index, &u, None, mode, &mut m.output)
        }
        ImageItem::Url(u) => m.urls.push((index, u)),
        ImageItem::Missing if mode != ValidateImages::Off => m.output.issues.push(ImageIssue {
            index: Some(index),
            kind: IssueKind::Missing,
            message: "data item has neither b64_json nor url".into(),
        }),
        ImageItem::Missing => {}
    }
}

fn add_bytes(output: &mut Output, n: Option<u64>) {
    if let Some(n) = n {
        output.image_bytes = Some(output.image_bytes.unwrap_or(0) + n);
    }
}

/// Check one image (base64 text, or downloaded bytes) and record it.
pub(crate) fn record_image(
    index: u32,
    b64: &str,
    bytes: Option<&[u8]>,
    mode: ValidateImages,
    output: &mut Output,
) {
    if mode == ValidateImages::Off {
        add_bytes(
            output,
            bytes.map_or_else(|| b64_decoded_len(b64), |b| Some(b.len() as u64)),
        );
        return;
    }
    let checked: Checked = match bytes {
        Some(b) => check_bytes(b),
        None => check_b64(b64),
    };
    add_bytes(output, checked.bytes);
    let issue = |kind, message| ImageIssue {
        index: Some(index),
        kind,
        message,
    };
    match checked.result {
        Ok(info) => {
            output.images.push(ImageMeta {
                index,
                format: info.format,
                width: info.width,
                height: info.height,
                bytes: checked.bytes.unwrap_or(0),
            });
            let want = output.requested_size.as_deref().and_then(parse_size);
            if let Some((w, h)) = want {
                if (w, h) != (info.width, info.height) {
                    let msg = format!("{}x{} returned, {w}x{h} requested", info.width, info.height);
                    output.issues.push(issue(IssueKind::SizeMismatch, msg));
                }
            }
        }
        Err(Defect::Undecodable(m)) => output.issues.push(issue(IssueKind::Undecodable, m)),
        Err(Defect::Truncated(m)) => output.issues.push(issue(IssueKind::Truncated, m)),
    }
}

/// Compare the formats of the checked images with `output_format`.
pub(crate) fn check_formats(expect: &Expect, output: &mut Output) {
    let Some(want) = expect.format else { return };
    for img in output.images.iter().filter(|i| i.format != want) {
        output.issues.push(ImageIssue {
            index: Some(img.index),
            kind: IssueKind::FormatMismatch,
            message: format!("{} returned, {want} requested (output_format)", img.format),
        });
    }
}

/// Compare the number of images with `n`.
pub(crate) fn check_count(returned: u32, expect: &Expect, output: &mut Output) {
    if returned != expect.n {
        output.issues.push(ImageIssue {
            index: None,
            kind: IssueKind::CountMismatch,
            message: format!("{returned} images returned, {} requested (n)", expect.n),
        });
    }
}

/// Order the findings, and with `strict` turn them into the request's error.
pub(crate) fn conclude(
    verdict: &mut Analysis,
    output: &mut Output,
    expect: &Expect,
    mode: ValidateImages,
    status: u16,
) {
    if verdict.error.is_none() && mode != ValidateImages::Off {
        check_formats(expect, output);
    }
    output.images.sort_by_key(|i| i.index);
    output.issues.sort_by_key(|i| (i.index.is_some(), i.index));
    if mode == ValidateImages::Strict && verdict.error.is_none() && !output.issues.is_empty() {
        let mut messages: Vec<String> = Vec::new();
        for i in &output.issues {
            let m = format!("{}: {}", i.kind.name(), i.message);
            if !messages.contains(&m) {
                messages.push(m);
            }
        }
        verdict.error = Some(ErrorDetails {
            code: Some(status),
            kind: "ImageValidationError".into(),
            message: response::clip(&messages.join("; ")),
        });
    }
}

#[cfg(test)]
mod tests;

//! A streamed response (`--streaming`): the OpenAI image events
//! `image_generation.partial_image` (`b64_json`, `partial_image_index`) and
//! `image_generation.completed` (`b64_json` or `url`, `usage`), with or
//! without a closing `data: [DONE]`; `image_edit.*` alike; an `error` event
//! (or any event carrying `error`) fails the request. Each event is dated by
//! the arrival of its last byte. Events that name no type but carry images
//! (`b64_json`, `url` or a `data` array) count as final images.

use super::{check_count, take_item, Expect, Measured, ValidateImages};
use crate::output::{Delivery, Output, ServerFigures};
use crate::record::ErrorDetails;
use crate::response::{self, server_figures, Analysis, CowStr, ImageItem, RawItem};
use crate::sse;
use crate::transport::HttpResponse;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The JSON `data` of an image event.
#[derive(Deserialize)]
struct EventData<'a> {
    #[serde(borrow, default, rename = "type")]
    kind: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    b64_json: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    url: Option<CowStr<'a>>,
    #[serde(borrow, default)]
    data: Option<Vec<RawItem<'a>>>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
    #[serde(borrow, default)]
    usage: Option<&'a RawValue>,
    #[serde(borrow, default)]
    inference_time_s: Option<&'a RawValue>,
    #[serde(borrow, default)]
    peak_memory_mb: Option<&'a RawValue>,
}

/// What one event says.
struct Digest<'x> {
    kind: String,
    server: ServerFigures,
    error: Option<(Option<String>, String)>,
    images: Vec<ImageItem<'x>>,
}

fn digest<'x>(event_name: Option<&str>, d: EventData<'x>, data: &str) -> Digest<'x> {
    let kind = event_name
        .or(d.kind.as_ref().map(|k| k.0.as_ref()))
        .unwrap_or("")
        .to_owned();
    let server = server_figures(d.inference_time_s, d.peak_memory_mb, d.usage);
    let error = (kind == "error" || kind.ends_with(".failed") || d.error.is_some())
        .then(|| response::error_message(d.error, None).unwrap_or((None, response::clip(data))));
    let images = if let Some(items) = d.data {
        items.into_iter().map(RawItem::into_item).collect()
    } else if d.b64_json.is_some() || d.url.is_some() {
        vec![RawItem {
            b64_json: d.b64_json,
            url: d.url,
        }
        .into_item()]
    } else {
        Vec::new()
    };
    Digest {
        kind,
        server,
        error,
        images,
    }
}

/// Measure an event-stream body.
pub(crate) fn measure<'a>(
    resp: &'a HttpResponse,
    expect: &Expect,
    mode: ValidateImages,
    mut output: Output,
) -> Measured<'a> {
    output.delivery = Some(Delivery::Stream);
    let events = sse::parse(&resp.body);
    let mut raw = Vec::with_capacity(events.len());
    let mut finals: Vec<ImageItem<'a>> = Vec::new();
    let (mut first_final_ns, mut final_ns) = (None, None);
    let mut server = ServerFigures::default();
    let mut error: Option<ErrorDetails> = None;
    let mut unparsed = 0usize;
    for ev in events {
        let at = resp.arrival_ns(ev.end);
        let name = ev.event.as_deref();
        if ev.data.trim() == "[DONE]" {
            raw.push((at, ev.data));
            continue;
        }
        // Borrow from the body when the event data is a slice of it; a
        // multi-line event was joined into a copy, whose images are copied.
        let dig: Option<Digest<'a>> = match &ev.data {
            Cow::Borrowed(s) => {
                let s: &'a str = s;
                serde_json::from_str::<EventData<'a>>(s)
                    .ok()
                    .map(|d| digest(name, d, s))
            }
            Cow::Owned(s) => serde_json::from_str::<EventData<'_>>(s).ok().map(|d| {
                let dg = digest(name, d, s);
                Digest {
                    kind: dg.kind,
                    server: dg.server,
                    error: dg.error,
                    images: dg.images.into_iter().map(ImageItem::into_owned).collect(),
                }
            }),
        };
        raw.push((at, ev.data));
        let Some(dg) = dig else {
            unparsed += 1;
            continue;
        };
        server = server.or(dg.server);
        if let Some((etype, message)) = dg.error {
            error.get_or_insert(ErrorDetails {
                code: Some(resp.status),
                kind: etype.unwrap_or_else(|| "StreamError".into()),
                message: response::clip(&message),
            });
            continue;
        }
        if dg.kind.ends_with("partial_image") {
            output.partial_image_ns.push(at);
            continue;
        }
        if !dg.images.is_empty() {
            finals.extend(dg.images);
            first_final_ns.get_or_insert(at);
            final_ns = Some(at);
        }
    }
    output.server = server;
    let mut m = Measured {
        verdict: Analysis {
            error: None,
            image_count: finals.len() as u32,
        },
        output,
        urls: Vec::new(),
        events: raw,
    };
    if let Some(e) = error {
        m.verdict = Analysis {
            error: Some(e),
            image_count: 0,
        };
        return m;
    }
    if finals.is_empty() {
        let partials = m.output.partial_image_ns.len();
        m.verdict.error = Some(ErrorDetails {
            code: Some(resp.status),
            kind: "InvalidResponse".into(),
            message: format!(
                "stream ended without a final image (no image_generation.completed or image_edit.completed event; {partials} partial images, {unparsed} unreadable events)"
            ),
        });
        return m;
    }
    for (i, item) in finals.into_iter().enumerate() {
        take_item(i as u32, item, mode, &mut m);
    }
    // With URLs, the final images are in hand once downloaded (`fetch::apply`).
    if m.urls.is_empty() {
        // Partial images have their own metrics; these two are final images.
        m.output.first_image_ns = first_final_ns;
        m.output.final_image_ns = final_ns;
    }
    if mode != ValidateImages::Off {
        check_count(m.verdict.image_count, expect, &mut m.output);
    }
    m
}

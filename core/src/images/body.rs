//! Finding and decoding the base64 images inside Images API response bodies.

use std::borrow::Cow;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde::Deserialize;

use super::ImageError;

/// One decoded `b64_json` image of a response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseImage {
    /// Position of the item in the body's `data` array.
    pub index: usize,
    /// The decoded image bytes.
    pub bytes: Vec<u8>,
}

#[derive(Deserialize)]
struct Body<'a> {
    #[serde(borrow, default)]
    data: Option<Vec<Item<'a>>>,
    /// A streamed event (`image_generation.completed`) carries its image at the top level.
    #[serde(borrow, default, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    b64_json: Option<Cow<'a, str>>,
}

/// SSE event types whose top-level `b64_json` is a final image (a
/// generation's, an edit's).
const COMPLETED_EVENTS: [&str; 2] = ["image_generation.completed", "image_edit.completed"];

#[derive(Deserialize)]
struct Item<'a> {
    #[serde(borrow, default)]
    b64_json: Option<Cow<'a, str>>,
}

/// Finds and decodes every `data[j].b64_json` image in a response body, or
/// the final image of a streamed `image_generation.completed` (or
/// `image_edit.completed`) event (index 0).
///
/// Items without `b64_json` (e.g. `url` items) are skipped; each returned
/// image keeps its position `j` in `data`. A `b64_json` that is not valid
/// base64 yields an `Err` in its place ([`ImageError::BadBase64`] carries the
/// index). The outer `Err` means the body is not JSON or has no `data` array.
///
/// Decoding accepts the standard alphabet with or without padding, the
/// URL-safe alphabet, embedded line breaks and a `data:...;base64,` prefix.
pub fn b64_images_in_body(
    text: &str,
) -> Result<Vec<Result<ResponseImage, ImageError>>, ImageError> {
    let body: Body<'_> = serde_json::from_str(text).map_err(|e| {
        if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
            ImageError::NoData(e.to_string())
        } else {
            ImageError::NotJson(e.to_string())
        }
    })?;
    let data = match body.data {
        Some(data) => data,
        None if body
            .kind
            .as_deref()
            .is_some_and(|k| COMPLETED_EVENTS.contains(&k))
            && body.b64_json.is_some() =>
        {
            vec![Item {
                b64_json: body.b64_json,
            }]
        }
        None => return Err(ImageError::NoData("missing `data`".to_string())),
    };
    Ok(data
        .into_iter()
        .enumerate()
        .filter_map(|(index, item)| {
            let b64 = item.b64_json?;
            Some(
                decode_base64(&b64)
                    .map(|bytes| ResponseImage { index, bytes })
                    .map_err(|reason| ImageError::BadBase64 { index, reason }),
            )
        })
        .collect())
}

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Decodes a piece of base64 without whitespace, padding optional, in the
/// standard alphabet or else the URL-safe one.
pub(crate) fn decode_part(part: &[u8]) -> Result<Vec<u8>, base64::DecodeError> {
    STANDARD_LENIENT
        .decode(part)
        .or_else(|e| URL_SAFE_LENIENT.decode(part).map_err(|_| e))
}

/// Decodes base64 leniently: standard or URL-safe alphabet, padding optional,
/// ASCII whitespace ignored, an optional `data:<mime>;base64,` prefix dropped.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let mut s = text.trim();
    if s.starts_with("data:") {
        if let Some(at) = s.find(";base64,") {
            s = &s[at + ";base64,".len()..];
        }
    }
    let cleaned: Cow<'_, str> = if s.bytes().any(|c| c.is_ascii_whitespace()) {
        Cow::Owned(s.chars().filter(|c| !c.is_ascii_whitespace()).collect())
    } else {
        Cow::Borrowed(s)
    };
    if cleaned.is_empty() {
        return Err("empty string".to_string());
    }
    let engine = if cleaned.bytes().any(|c| c == b'-' || c == b'_') {
        &URL_SAFE_LENIENT
    } else {
        &STANDARD_LENIENT
    };
    engine.decode(cleaned.as_bytes()).map_err(|e| e.to_string())
}

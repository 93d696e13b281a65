//! `POST /v1/images/edits` in the mock: the multipart form read and checked
//! the way each dialect's server does it (REFERENCE §10), and an output that
//! depends on the reference image: the first input image, decoded once per
//! distinct upload, resized to the output size and tinted by the prompt and
//! seed, then encoded like any mock image (and cached as one).
//!
//! Dialects: SGLang takes `image` or `image[]`, floors an explicit `size` to
//! multiples of 16, makes about 1024² at the LAST input's aspect ratio when
//! there is none, ignores `mask`, answers a form without image with 422
//! `{"detail":"Field 'image' or 'url' is required"}` and a non-image upload
//! with a text/plain 500. OpenAI wants a mask to be a PNG of the first
//! image's size and answers 400 to anything it cannot use; vLLM-Omni
//! answers 400 too. `--task t2i` (or `t2v`) rejects every edit as a
//! text-only model does (`input_reference is not supported for T2I models.`).

use std::sync::Arc;

use axum::extract::Multipart;
use bytes::Bytes;
use image::imageops::{self, FilterType};
use image::RgbImage;
use imgperf_core::images::{parse_size, probe, ImageFormat, ImageInfo};
use imgperf_core::picture::{grain_amplitude, mix64};
use serde_json::{Map, Value};

use super::args::{Dialect, Task};
use super::picture::{ImageCache, Key};
use super::request::{coerce, parse_fields, Limits, Reject, Wanted};

/// What SGLang answers an edit with no image.
const NO_IMAGE_SGLANG: &str = "Field 'image' or 'url' is required";

/// Parse an edit form, check its images as the dialect does, and have the
/// first image decoded (once per distinct upload) for the output.
pub(crate) async fn parse_edit(
    mut form: Multipart,
    limits: &Limits,
    task: Task,
    cache: &ImageCache,
) -> Result<Wanted, Reject> {
    let d = limits.dialect;
    let mut obj = Map::new();
    let mut images: Vec<Bytes> = Vec::new();
    let mut mask: Option<Bytes> = None;
    let bad = |e: axum::extract::multipart::MultipartError| {
        Reject::invalid(format!("Could not read the multipart form: {e}"), None)
    };
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "image" | "image[]" => images.push(field.bytes().await.map_err(bad)?),
            "mask" => mask = Some(field.bytes().await.map_err(bad)?),
            _ => {
                let text = field.text().await.map_err(bad)?;
                obj.insert(name.clone(), coerce(&name, text));
            }
        }
    }
    if task.refuses_references() {
        return Err(Reject::status(400, task.refusal(), Some("image")));
    }
    if images.is_empty() {
        return Err(match d {
            Dialect::Sglang => Reject::status(422, NO_IMAGE_SGLANG, Some("image")),
            _ => Reject::schema(
                "Missing required parameter: 'image' (a file part named image or image[]).",
                "image",
                "missing",
            ),
        });
    }
    let infos = images
        .iter()
        .map(|b| probe(b))
        .collect::<Result<Vec<ImageInfo>, _>>()
        .map_err(|e| unusable(d, &e.to_string()))?;
    if d == Dialect::Openai {
        if let Some(m) = &mask {
            check_mask(m, infos[0])?;
        }
    }
    let (first, last) = (infos[0], infos[infos.len() - 1]);
    let mut wanted = parse_fields(&obj, limits, Some((first.width, first.height)))?;
    if d == Dialect::Sglang {
        (wanted.width, wanted.height) = sglang_size(obj.get("size"), &obj, last);
    }
    wanted.input_images = images.len();
    wanted.input_pixels = infos
        .iter()
        .map(|i| u64::from(i.width) * u64::from(i.height))
        .sum();
    wanted.reference = cache
        .remember_reference(images.swap_remove(0))
        .await
        .map_err(|e| unusable(d, &e))?;
    Ok(wanted)
}

/// An upload that is not a usable image: SGLang's unhandled 500, a 400 elsewhere.
pub(crate) fn unusable(d: Dialect, why: &str) -> Reject {
    match d {
        Dialect::Sglang => Reject::status(500, "Internal Server Error", None),
        _ => Reject::invalid(
            format!("Invalid image file: {why}. Supported formats are PNG, JPEG and WebP."),
            Some("image"),
        ),
    }
}

/// OpenAI: a mask is a PNG with the first image's width and height.
fn check_mask(mask: &[u8], image: ImageInfo) -> Result<(), Reject> {
    let info = probe(mask)
        .map_err(|e| Reject::invalid(format!("Invalid mask image: {e}."), Some("mask")))?;
    if info.format != ImageFormat::Png {
        return Err(Reject::invalid(
            format!(
                "Invalid mask image: it is a {}, a mask must be a PNG.",
                info.format
            ),
            Some("mask"),
        ));
    }
    if (info.width, info.height) != (image.width, image.height) {
        return Err(Reject::invalid(
            format!(
                "Invalid mask image: it is {}x{} but the image is {}x{}; they must have the same dimensions.",
                info.width, info.height, image.width, image.height
            ),
            Some("mask"),
        ));
    }
    Ok(())
}

/// SGLang's output size: an explicit `size` (or `width`/`height`) floored
/// to multiples of 16; without one, about 1024x1024 pixels at the last
/// input's aspect ratio (each side rounded to 32).
fn sglang_size(size: Option<&Value>, obj: &Map<String, Value>, last: ImageInfo) -> (u32, u32) {
    let floor16 = |v: u32| (v / 16 * 16).max(16);
    let explicit = size.and_then(Value::as_str).and_then(parse_size);
    let dim = |k: &str| obj.get(k).and_then(Value::as_u64).map(|v| v as u32);
    match (explicit, dim("width"), dim("height")) {
        (_, Some(w), Some(h)) => (floor16(w), floor16(h)),
        (Some((w, h)), _, _) => (floor16(w), floor16(h)),
        _ => {
            let ratio = f64::from(last.width) / f64::from(last.height);
            let area = 1024.0 * 1024.0;
            let round32 = |v: f64| ((v / 32.0).round() as u32 * 32).max(32);
            (
                floor16(round32((area * ratio).sqrt())),
                floor16(round32((area / ratio).sqrt())),
            )
        }
    }
}

/// A 64-bit digest of an upload, naming its decoded image in the cache.
pub(crate) fn digest(bytes: &[u8]) -> u64 {
    let mut h = mix64(bytes.len() as u64);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = mix64(h ^ u64::from_le_bytes(c.try_into().expect("8 bytes")));
    }
    for &b in chunks.remainder() {
        h = mix64(h ^ u64::from(b));
    }
    h.max(1)
}

/// Decode an upload into RGB pixels.
pub(crate) fn decode(bytes: &[u8]) -> Result<Arc<RgbImage>, String> {
    image::load_from_memory(bytes)
        .map(|img| Arc::new(img.to_rgb8()))
        .map_err(|e| format!("cannot decode it ({e})"))
}

/// The edited picture of `key`: `reference` resized to the key's size,
/// tinted by its variant (prompt and seed), with the grain of a real
/// image, encoded in the key's format.
pub(crate) fn render_edit(reference: &RgbImage, key: Key) -> anyhow::Result<Vec<u8>> {
    let mut img = imageops::resize(reference, key.width, key.height, FilterType::Triangle);
    let h = mix64(u64::from(key.variant) ^ 0x7e57);
    let tint = [
        (h & 0xFF) as f32,
        ((h >> 8) & 0xFF) as f32,
        ((h >> 16) & 0xFF) as f32,
    ];
    let amp = grain_amplitude(key.format);
    for (i, px) in img.pixels_mut().enumerate() {
        let n = (mix64(h ^ i as u64) % (2 * amp + 1)) as f32 - amp as f32;
        for (c, t) in px.0.iter_mut().zip(tint) {
            *c = (f32::from(*c) * 0.7 + t * 0.3 + n)
                .round()
                .clamp(0.0, 255.0) as u8;
        }
    }
    crate::encode::encode_rgb(img.as_raw(), key.width, key.height, key.format)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(w: u32, h: u32) -> ImageInfo {
        ImageInfo {
            format: ImageFormat::Png,
            width: w,
            height: h,
        }
    }

    #[test]
    fn sglang_sizes_as_reference_section_10() {
        let none = Map::new();
        assert_eq!(sglang_size(None, &none, info(640, 480)), (1184, 896));
        assert_eq!(sglang_size(None, &none, info(512, 512)), (1024, 1024));
        let size = Value::from("500x300");
        assert_eq!(sglang_size(Some(&size), &none, info(640, 480)), (496, 288));
        let auto = Value::from("auto");
        assert_eq!(sglang_size(Some(&auto), &none, info(300, 600)), (736, 1440));
    }

    #[test]
    fn edited_picture_follows_the_reference_and_the_variant() {
        let mut left_dark = RgbImage::new(32, 16);
        for (x, _, p) in left_dark.enumerate_pixels_mut() {
            *p = image::Rgb(if x < 16 { [0, 0, 0] } else { [255, 255, 255] });
        }
        let key = |variant| Key {
            width: 64,
            height: 32,
            format: ImageFormat::Png,
            variant,
            reference: 1,
        };
        let out = image::load_from_memory(&render_edit(&left_dark, key(3)).unwrap())
            .unwrap()
            .to_rgb8();
        assert_eq!(out.dimensions(), (64, 32));
        let luma = |x| {
            out.get_pixel(x, 16)
                .0
                .iter()
                .map(|&c| u32::from(c))
                .sum::<u32>()
        };
        assert!(luma(60) > luma(3) + 300, "{} vs {}", luma(60), luma(3));
        assert_ne!(
            render_edit(&left_dark, key(3)).unwrap(),
            render_edit(&left_dark, key(4)).unwrap()
        );
        assert_ne!(digest(b"abcdefgh1"), digest(b"abcdefgh2"));
    }
}

//! The mock server's pictures: a deterministic "mountains at sunset" scene of
//! any size, encoded once per (width, height, format) and cached as base64.
//!
//! A light film grain keeps the payloads close to real generated images in
//! size (a 1024x1024 PNG is a few MiB of base64, JPEG a few hundred KiB), so a
//! benchmark against the mock exercises the client's body handling honestly.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use base64::Engine as _;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, ImageEncoder, Rgb, RgbImage};
use imgperf_core::images::ImageFormat;
use tokio::sync::OnceCell;

/// JPEG quality of the mock's images.
const JPEG_QUALITY: u8 = 85;
/// How many distinct (size, format) encodings are kept before the cache is reset.
const CACHE_ENTRIES: usize = 16;

type Key = (u32, u32, ImageFormat);

/// Encoded images, base64 ready to paste into a response, one per key.
#[derive(Default)]
pub(crate) struct ImageCache {
    entries: Mutex<HashMap<Key, Arc<OnceCell<Arc<str>>>>>,
}

impl ImageCache {
    /// Base64 of the picture at this size and format, encoding it on first use
    /// (on the blocking pool; concurrent first requests share one encode).
    pub(crate) async fn b64(
        &self,
        width: u32,
        height: u32,
        format: ImageFormat,
    ) -> anyhow::Result<Arc<str>> {
        let cell = {
            let mut entries = self.entries.lock().expect("image cache lock poisoned");
            let key = (width, height, format);
            if !entries.contains_key(&key) && entries.len() >= CACHE_ENTRIES {
                entries.clear(); // in-flight users keep their Arc; new ones re-encode
            }
            entries.entry(key).or_default().clone()
        };
        let b64 = cell
            .get_or_try_init(|| async move {
                let task = tokio::task::spawn_blocking(move || encode(width, height, format));
                let bytes = task.await.context("image encoder task failed")??;
                let text = base64::engine::general_purpose::STANDARD.encode(bytes);
                anyhow::Ok(Arc::<str>::from(text))
            })
            .await?;
        Ok(b64.clone())
    }
}

/// Renders the picture and encodes it in `format`.
pub(crate) fn encode(width: u32, height: u32, format: ImageFormat) -> anyhow::Result<Vec<u8>> {
    let img = render(width, height);
    let mut out = Vec::new();
    let (w, h, color) = (img.width(), img.height(), ExtendedColorType::Rgb8);
    match format {
        ImageFormat::Png => {
            PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
                .write_image(img.as_raw(), w, h, color)
        }
        ImageFormat::Jpeg => JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY).write_image(
            img.as_raw(),
            w,
            h,
            color,
        ),
        ImageFormat::Webp => {
            WebPEncoder::new_lossless(&mut out).write_image(img.as_raw(), w, h, color)
        }
    }
    .with_context(|| format!("encoding a {width}x{height} {format} image"))?;
    Ok(out)
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    let t = t.clamp(0.0, 1.0);
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// Deterministic per-pixel noise in `-6..=6`.
fn grain(x: u32, y: u32) -> f32 {
    let mut z = (u64::from(x) << 32 | u64::from(y)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z ^= z >> 31;
    z = z.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z ^= z >> 29;
    (z % 13) as f32 - 6.0
}

/// A sunset over two mountain ranges: sky gradient, a sun with a soft glow,
/// sine-shaped ridges, plus grain. Same size in, same pixels out.
pub(crate) fn render(width: u32, height: u32) -> RgbImage {
    let (wf, hf) = (width as f32, height as f32);
    let ridge = |u: f32, base: f32, a: f32, f: f32, phase: f32| {
        hf * (base + a * (u * f + phase).sin() + a * 0.45 * (u * f * 2.7 + phase * 1.9).sin())
    };
    let far: Vec<f32> = (0..width)
        .map(|x| ridge(x as f32 / wf, 0.62, 0.07, 7.0, 0.4))
        .collect();
    let near: Vec<f32> = (0..width)
        .map(|x| ridge(x as f32 / wf, 0.80, 0.045, 4.0, 2.1))
        .collect();
    let (sun_x, sun_y, sun_r) = (0.68 * wf, 0.40 * hf, 0.12 * wf.min(hf));

    RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
        let v = fy / hf;
        let mut c = if v < 0.35 {
            mix([26.0, 30.0, 84.0], [150.0, 72.0, 120.0], v / 0.35)
        } else {
            mix(
                [150.0, 72.0, 120.0],
                [250.0, 170.0, 105.0],
                (v - 0.35) / 0.3,
            )
        };
        let d = ((fx - sun_x).powi(2) + (fy - sun_y).powi(2)).sqrt() / sun_r;
        c = if d < 1.0 {
            mix([255.0, 236.0, 160.0], [255.0, 205.0, 120.0], d * d)
        } else {
            mix(c, [255.0, 210.0, 140.0], 0.45 * (-(d - 1.0) * 1.6).exp())
        };
        let (far_y, near_y) = (far[x as usize], near[x as usize]);
        if fy > near_y {
            c = mix(
                [40.0, 70.0, 72.0],
                [14.0, 26.0, 30.0],
                (fy - near_y) / (hf - near_y + 1.0),
            );
        } else if fy > far_y {
            c = mix(
                [92.0, 70.0, 112.0],
                [48.0, 40.0, 78.0],
                (fy - far_y) / (hf * 0.25),
            );
        }
        let n = grain(x, y);
        Rgb(c.map(|ch| (ch + n).round().clamp(0.0, 255.0) as u8))
    })
}

//! The mock server's pictures: a deterministic "mountains at sunset" scene of
//! any size, in one of a few variants (palette, sun, ridges, grain) picked by
//! prompt and seed, encoded once per (size, format, variant) and cached both
//! raw and as base64.
//!
//! A light film grain keeps the payloads close to real generated images in
//! size (REFERENCE §7: a 512x512 JPEG is ~45-85 KiB of base64, a 1024x1024 PNG
//! ~1.7-1.9 MiB), so a benchmark against the mock exercises the client's body
//! handling honestly.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use base64::Engine as _;
use bytes::Bytes;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, ImageEncoder, Rgb, RgbImage};
use imgperf_core::images::ImageFormat;
use tokio::sync::OnceCell;

use super::faults::mix64;

/// JPEG quality of the mock's images. With the grain below it gives the byte
/// sizes of real q75 generations (REFERENCE §7), whose content is busier.
const JPEG_QUALITY: u8 = 85;
/// Encodings kept; the oldest is forgotten past this.
const CACHE_ENTRIES: usize = 96;
/// Amplitude of the film grain, in 8-bit levels either side of zero, per
/// format: calibrated so that 512x512 and 1024x1024 images weigh what real
/// ones do (JPEG ~60 and ~215 KiB of base64, PNG ~0.44 and ~1.7 MiB).
fn grain_amplitude(format: ImageFormat) -> u64 {
    match format {
        ImageFormat::Jpeg => 7,
        ImageFormat::Png | ImageFormat::Webp => 2,
    }
}

/// Which picture: size, format and variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub width: u32,
    pub height: u32,
    pub format: ImageFormat,
    pub variant: u32,
}

/// One encoded picture.
#[derive(Debug)]
pub(crate) struct Encoded {
    /// The image file's bytes.
    pub raw: Bytes,
    /// The same, base64 (standard alphabet, padded).
    pub b64: Bytes,
}

type Cell = Arc<OnceCell<Arc<Encoded>>>;

/// Encoded pictures, shared by all requests.
#[derive(Default)]
pub(crate) struct ImageCache {
    inner: Mutex<(HashMap<Key, Cell>, VecDeque<Key>)>,
}

impl ImageCache {
    /// The picture for `key`, encoding it on first use (on the blocking pool;
    /// concurrent first requests share one encode).
    pub(crate) async fn get(&self, key: Key) -> anyhow::Result<Arc<Encoded>> {
        let cell = {
            let mut guard = self.inner.lock().expect("image cache lock poisoned");
            let (map, order) = &mut *guard;
            match map.get(&key) {
                Some(cell) => cell.clone(),
                None => {
                    if order.len() >= CACHE_ENTRIES {
                        if let Some(old) = order.pop_front() {
                            map.remove(&old); // users in flight keep their Arc
                        }
                    }
                    order.push_back(key);
                    map.entry(key).or_default().clone()
                }
            }
        };
        let encoded = cell
            .get_or_try_init(|| async move {
                let task = tokio::task::spawn_blocking(move || encode(key));
                let raw = task.await.context("image encoder task failed")??;
                let b64 = base64::engine::general_purpose::STANDARD.encode(&raw);
                anyhow::Ok(Arc::new(Encoded {
                    raw: Bytes::from(raw),
                    b64: Bytes::from(b64),
                }))
            })
            .await?;
        Ok(encoded.clone())
    }
}

/// The variant for a prompt and seed: same inputs, same picture.
pub(crate) fn variant_for(prompt: &str, seed: Option<i64>, variants: u32, index: usize) -> u32 {
    let mut h = 0xCBF2_9CE4_8422_2325u64; // FNV-1a over the prompt
    for b in prompt.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
    }
    let h = mix64(h ^ mix64(seed.unwrap_or(-1) as u64) ^ (index as u64));
    (h % u64::from(variants.max(1))) as u32
}

/// Renders the picture and encodes it.
pub(crate) fn encode(key: Key) -> anyhow::Result<Vec<u8>> {
    let Key {
        width,
        height,
        format,
        ..
    } = key;
    let img = render(width, height, key.variant, grain_amplitude(format));
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

/// Deterministic per-pixel noise in `-amp..=amp`.
fn grain(x: u32, y: u32, salt: u64, amp: u64) -> f32 {
    let z = mix64((u64::from(x) << 32 | u64::from(y)) ^ salt);
    (z % (2 * amp + 1)) as f32 - amp as f32
}

/// Palettes: sky top, sky middle, horizon, far ridge, near ridge.
const PALETTES: [[[f32; 3]; 5]; 4] = [
    [
        [26.0, 30.0, 84.0],
        [150.0, 72.0, 120.0],
        [250.0, 170.0, 105.0],
        [92.0, 70.0, 112.0],
        [40.0, 70.0, 72.0],
    ],
    [
        [12.0, 40.0, 96.0],
        [70.0, 130.0, 190.0],
        [240.0, 200.0, 150.0],
        [70.0, 90.0, 120.0],
        [30.0, 60.0, 40.0],
    ],
    [
        [40.0, 16.0, 60.0],
        [190.0, 60.0, 80.0],
        [255.0, 150.0, 60.0],
        [110.0, 50.0, 80.0],
        [50.0, 30.0, 40.0],
    ],
    [
        [20.0, 60.0, 70.0],
        [90.0, 160.0, 150.0],
        [230.0, 230.0, 180.0],
        [60.0, 100.0, 90.0],
        [25.0, 50.0, 45.0],
    ],
];

/// A sunset over two mountain ranges: sky gradient, a sun with a soft glow,
/// sine-shaped ridges, plus grain. Same size and variant in, same pixels out.
pub(crate) fn render(width: u32, height: u32, variant: u32, amp: u64) -> RgbImage {
    let r = |i: u64| (mix64(u64::from(variant) * 31 + i) >> 11) as f32 / (1u64 << 53) as f32;
    let pal = PALETTES[variant as usize % PALETTES.len()];
    let salt = mix64(u64::from(variant));
    let (wf, hf) = (width as f32, height as f32);
    let ridge = |u: f32, base: f32, a: f32, f: f32, phase: f32| {
        hf * (base + a * (u * f + phase).sin() + a * 0.45 * (u * f * 2.7 + phase * 1.9).sin())
    };
    let (f1, p1, f2, p2) = (5.0 + 4.0 * r(1), 6.0 * r(2), 3.0 + 3.0 * r(3), 6.0 * r(4));
    let far: Vec<f32> = (0..width)
        .map(|x| ridge(x as f32 / wf, 0.62, 0.07, f1, p1))
        .collect();
    let near: Vec<f32> = (0..width)
        .map(|x| ridge(x as f32 / wf, 0.80, 0.045, f2, p2))
        .collect();
    let (sun_x, sun_y) = ((0.2 + 0.6 * r(5)) * wf, (0.3 + 0.15 * r(6)) * hf);
    let sun_r = (0.08 + 0.06 * r(7)) * wf.min(hf);

    RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
        let v = fy / hf;
        let mut c = if v < 0.35 {
            mix(pal[0], pal[1], v / 0.35)
        } else {
            mix(pal[1], pal[2], (v - 0.35) / 0.3)
        };
        let d = ((fx - sun_x).powi(2) + (fy - sun_y).powi(2)).sqrt() / sun_r;
        c = if d < 1.0 {
            mix([255.0, 236.0, 160.0], [255.0, 205.0, 120.0], d * d)
        } else {
            mix(c, [255.0, 210.0, 140.0], 0.45 * (-(d - 1.0) * 1.6).exp())
        };
        let (far_y, near_y) = (far[x as usize], near[x as usize]);
        if fy > near_y {
            let t = (fy - near_y) / (hf - near_y + 1.0);
            c = mix(pal[4], pal[4].map(|ch| ch * 0.35), t);
        } else if fy > far_y {
            let t = (fy - far_y) / (hf * 0.25);
            c = mix(pal[3], pal[3].map(|ch| ch * 0.6), t);
        }
        let n = grain(x, y, salt, amp);
        Rgb(c.map(|ch| (ch + n).round().clamp(0.0, 255.0) as u8))
    })
}

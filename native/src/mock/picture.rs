//! The mock server's pictures: core's deterministic "mountains at sunset"
//! scene ([`imgperf_core::picture`]) of any size, in one of a few variants
//! (palette, sun, ridges, grain) picked by prompt and seed, encoded once per
//! (size, format, variant) and cached both raw and as base64.
//!
//! The film grain keeps the payloads close to real generated images in size
//! (REFERENCE §7: a 512x512 JPEG is ~45-85 KiB of base64, a 1024x1024 PNG
//! ~1.7-1.9 MiB), so a benchmark against the mock exercises the client's
//! body handling honestly.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use base64::Engine as _;
use bytes::Bytes;
use imgperf_core::images::ImageFormat;
use imgperf_core::picture::grain_amplitude;
use tokio::sync::OnceCell;

use super::faults::mix64;

/// Encodings kept; the oldest is forgotten past this.
const CACHE_ENTRIES: usize = 96;
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
        variant,
    } = key;
    let rgb = imgperf_core::picture::render_rgb(width, height, variant, grain_amplitude(format));
    crate::encode::encode_rgb(&rgb, width, height, format)
}

/// The picture of `width` x `height` in `variant` (core's scene renderer).
pub(crate) fn render(width: u32, height: u32, variant: u32, amp: u64) -> image::RgbImage {
    let pixels = imgperf_core::picture::render_rgb(width, height, variant, amp);
    image::RgbImage::from_raw(width, height, pixels)
        .expect("render_rgb fills width x height x 3 bytes")
}

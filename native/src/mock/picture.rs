//! The mock server's pictures: core's deterministic "mountains at sunset"
//! scene ([`imgperf_core::picture`]) of any size, in one of a few variants
//! (palette, sun, ridges, grain) picked by prompt and seed, encoded once per
//! (size, format, variant) and cached both raw and as base64. An edit's
//! output is made from its decoded reference instead (`edit`), cached the
//! same way under the reference's digest.
//!
//! The film grain keeps the payloads close to real generated images in size
//! (REFERENCE §7: a 512x512 JPEG is ~45-85 KiB of base64, a 1024x1024 PNG
//! ~1.7-1.9 MiB), so a benchmark against the mock exercises the client's
//! body handling honestly.

use std::sync::Arc;

use anyhow::Context as _;
use base64::Engine as _;
use bytes::Bytes;
use image::RgbImage;
use imgperf_core::images::ImageFormat;
use imgperf_core::picture::grain_amplitude;
use tokio::sync::OnceCell;

use super::bounded::Bounded;
use super::faults::mix64;

/// Encodings kept; the oldest is forgotten past this.
const CACHE_ENTRIES: usize = 96;
/// Decoded edit references kept (a 1024x1024 one is 3 MB).
const REFERENCE_ENTRIES: usize = 32;

/// Which picture: size, format and variant, and for an edit the digest of
/// its decoded reference (0 for a generated scene).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub width: u32,
    pub height: u32,
    pub format: ImageFormat,
    pub variant: u32,
    pub reference: u64,
}

/// One encoded picture.
#[derive(Debug)]
pub(crate) struct Encoded {
    /// The image file's bytes.
    pub raw: Bytes,
    /// The same, base64 (standard alphabet, padded).
    pub b64: Bytes,
}

/// Values made once per key; the oldest key is forgotten past its capacity
/// (users in flight keep their `Arc`).
struct Lru<K, V>(Bounded<K, Arc<OnceCell<V>>>);

impl<K: Copy + Eq + std::hash::Hash, V> Lru<K, V> {
    fn new(cap: usize) -> Self {
        Lru(Bounded::new(cap))
    }

    /// The cell of `key`, made empty when new.
    fn cell(&self, key: K) -> Arc<OnceCell<V>> {
        self.0.get_or_insert_with(key, Default::default)
    }

    /// The cell of `key`, if it is still known.
    fn peek(&self, key: K) -> Option<Arc<OnceCell<V>>> {
        self.0.get(&key)
    }
}

type Decoded = Result<Arc<RgbImage>, String>;

/// Encoded pictures and decoded edit references, shared by all requests.
pub(crate) struct ImageCache {
    encoded: Lru<Key, Arc<Encoded>>,
    references: Lru<u64, Decoded>,
}

impl Default for ImageCache {
    fn default() -> Self {
        ImageCache {
            encoded: Lru::new(CACHE_ENTRIES),
            references: Lru::new(REFERENCE_ENTRIES),
        }
    }
}

impl ImageCache {
    /// The picture for `key`, encoding it on first use (on the blocking pool;
    /// concurrent first requests share one encode). An edit's key needs its
    /// reference remembered first ([`ImageCache::remember_reference`]).
    pub(crate) async fn get(&self, key: Key) -> anyhow::Result<Arc<Encoded>> {
        let reference = match key.reference {
            0 => None,
            digest => Some(self.reference(digest)?),
        };
        let cell = self.encoded.cell(key);
        let encoded = cell
            .get_or_try_init(|| async move {
                let task = tokio::task::spawn_blocking(move || match reference {
                    None => encode(key),
                    Some(img) => super::edit::render_edit(&img, key),
                });
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

    /// The decoded reference image of `digest` (remembered by
    /// [`ImageCache::remember_reference`]).
    pub(crate) fn reference(&self, digest: u64) -> anyhow::Result<Arc<RgbImage>> {
        let cell = self.references.peek(digest);
        match cell.as_ref().and_then(|c| c.get()) {
            Some(Ok(img)) => Ok(img.clone()),
            _ => anyhow::bail!("the reference image of this request is no longer cached"),
        }
    }

    /// Decode an edit's (or image-to-video job's) reference image once per distinct upload; its
    /// digest (for [`Key::reference`]), or why it is not an image.
    pub(crate) async fn remember_reference(&self, bytes: Bytes) -> Result<u64, String> {
        let digest = super::edit::digest(&bytes);
        let cell = self.references.cell(digest);
        let decoded = cell
            .get_or_init(|| async move {
                tokio::task::spawn_blocking(move || super::edit::decode(&bytes))
                    .await
                    .unwrap_or_else(|e| Err(format!("decoder task failed: {e}")))
            })
            .await;
        decoded.as_ref().map(|_| digest).map_err(Clone::clone)
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
        ..
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

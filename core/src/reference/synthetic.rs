//! Synthetic reference images, as AIPerf's `--image-width-mean/-stddev`,
//! `--image-height-mean/-stddev`, `--image-batch-size` and `--image-format
//! png|jpeg|random` ask for them: each dataset entry gets `batch_size`
//! pictures whose sizes are drawn from the two normal distributions and
//! whose content is one of [`POOL`] photo-like scenes
//! ([`crate::picture`]), all from the run's seed.
//!
//! Core plans the pictures and renders their pixels; the platform encodes
//! them (the `image` crate natively, a canvas in the browser), through the
//! `encode` function given to [`synthetic_references`]. Each distinct
//! picture (size, format, scene) is encoded once and shared by every entry
//! that uses it.

use super::{ReferenceImage, References};
use crate::images::ImageFormat;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

/// Distinct scenes pictures are drawn from (AIPerf too draws from a small
/// pool of source images).
pub const POOL: u32 = 16;
/// Smallest and largest side of a drawn picture.
pub const SIDE_RANGE: (u32, u32) = (16, 4096);

/// `--image-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyntheticFormat {
    /// Every picture a PNG.
    Png,
    /// Every picture a JPEG.
    Jpeg,
    /// PNG or JPEG, drawn per picture.
    Random,
}

impl SyntheticFormat {
    /// Parse the flag value (`png`, `jpeg`/`jpg`, `random`).
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "png" => Ok(Self::Png),
            "jpeg" | "jpg" => Ok(Self::Jpeg),
            "random" => Ok(Self::Random),
            other => Err(format!(
                "unknown --image-format {other:?}: use png, jpeg or random"
            )),
        }
    }

    /// The flag value.
    pub fn name(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpeg",
            Self::Random => "random",
        }
    }
}

/// What synthetic references to make.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyntheticImages {
    /// `--image-width-mean` (pixels).
    pub width_mean: f64,
    /// `--image-width-stddev`.
    pub width_stddev: f64,
    /// `--image-height-mean`.
    pub height_mean: f64,
    /// `--image-height-stddev`.
    pub height_stddev: f64,
    /// `--image-batch-size`: pictures per request.
    pub batch_size: usize,
    /// `--image-format`.
    pub format: SyntheticFormat,
}

/// One picture to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PictureSpec {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Container to encode it in.
    pub format: ImageFormat,
    /// The scene ([`crate::picture::render_rgb`]'s variant), below [`POOL`].
    pub variant: u32,
}

impl PictureSpec {
    /// Its RGB8 pixels, row by row.
    pub fn render(&self) -> Vec<u8> {
        crate::picture::render_rgb(
            self.width,
            self.height,
            self.variant,
            crate::picture::grain_amplitude(self.format),
        )
    }

    /// How exports and messages name it: `synthetic 512x512 png #3`.
    pub fn label(&self) -> String {
        format!(
            "synthetic {}x{} {} #{}",
            self.width, self.height, self.format, self.variant
        )
    }
}

impl SyntheticImages {
    /// Check the flags; each error names its flag.
    pub fn validate(&self) -> Result<(), String> {
        if self.batch_size == 0 {
            return Err(
                "--image-batch-size must be at least 1 (reference images per edit request)".into(),
            );
        }
        let (lo, hi) = SIDE_RANGE;
        for (flag, v) in [
            ("--image-width-mean", self.width_mean),
            ("--image-height-mean", self.height_mean),
        ] {
            if !(v >= f64::from(lo) && v <= f64::from(hi)) {
                return Err(format!(
                    "{flag} must be a number of pixels from {lo} to {hi}, got {v}"
                ));
            }
        }
        for (flag, v) in [
            ("--image-width-stddev", self.width_stddev),
            ("--image-height-stddev", self.height_stddev),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(format!("{flag} must be 0 or more, got {v}"));
            }
        }
        Ok(())
    }

    /// The pictures of `entries` dataset entries (`batch_size` each): sizes
    /// drawn from Normal(mean, stddev), rounded and clamped to
    /// [`SIDE_RANGE`]; scene and (for `random`) format drawn too. Same seed,
    /// same plan.
    pub fn plan(&self, entries: usize, seed: u64) -> Vec<Vec<PictureSpec>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_1a6e_0000_0002);
        let side = |mean: f64, stddev: f64, rng: &mut ChaCha8Rng| {
            let v = match Normal::new(mean, stddev) {
                Ok(n) if stddev > 0.0 => n.sample(rng),
                _ => mean,
            };
            (v.round().max(0.0) as u32).clamp(SIDE_RANGE.0, SIDE_RANGE.1)
        };
        (0..entries)
            .map(|_| {
                (0..self.batch_size)
                    .map(|_| {
                        let width = side(self.width_mean, self.width_stddev, &mut rng);
                        let height = side(self.height_mean, self.height_stddev, &mut rng);
                        let format = match self.format {
                            SyntheticFormat::Png => ImageFormat::Png,
                            SyntheticFormat::Jpeg => ImageFormat::Jpeg,
                            SyntheticFormat::Random if rng.random::<bool>() => ImageFormat::Png,
                            SyntheticFormat::Random => ImageFormat::Jpeg,
                        };
                        PictureSpec {
                            width,
                            height,
                            format,
                            variant: rng.random_range(0..POOL),
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// Encoded at once while making synthetic references.
const PARALLEL_ENCODES: usize = 4;

/// The references of a plan: `encode` turns one picture into its file's
/// bytes (render it with [`PictureSpec::render`]) and is called once per
/// distinct picture, up to 4 at a time; each result is checked (format and
/// size must be the spec's).
pub async fn synthetic_references<F, Fut>(
    plan: &[Vec<PictureSpec>],
    mut encode: F,
) -> Result<Vec<References>, String>
where
    F: FnMut(PictureSpec) -> Fut,
    Fut: Future<Output = Result<bytes::Bytes, String>>,
{
    use futures_util::stream::{self, StreamExt};
    let mut distinct: Vec<PictureSpec> = plan.iter().flatten().copied().collect();
    distinct.sort_by_key(|s| (s.width, s.height, s.format, s.variant));
    distinct.dedup();
    let encoded: Vec<(PictureSpec, Result<bytes::Bytes, String>)> =
        stream::iter(distinct.into_iter().map(|spec| {
            let fut = encode(spec);
            async move { (spec, fut.await) }
        }))
        .buffer_unordered(PARALLEL_ENCODES)
        .collect()
        .await;
    let mut images: HashMap<PictureSpec, Arc<ReferenceImage>> = HashMap::new();
    for (spec, bytes) in encoded {
        let label = spec.label();
        let img = bytes
            .and_then(|b| ReferenceImage::from_bytes(b, label.clone()))
            .map_err(|e| format!("cannot make the {label} reference image: {e}"))?;
        let got = (img.info.format, img.info.width, img.info.height);
        if got != (spec.format, spec.width, spec.height) {
            return Err(format!(
                "the {label} reference image came out as {} {}x{}",
                got.0, got.1, got.2
            ));
        }
        images.insert(spec, Arc::new(img));
    }
    Ok(plan
        .iter()
        .map(|pics| References {
            images: pics.iter().map(|s| images[s].clone()).collect(),
            mask: None,
        })
        .collect())
}

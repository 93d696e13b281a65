//! The image-edit flags of `imgperf profile` (AIPerf's `--image-*`):
//! synthetic reference images (an edit's, or an image-to-video job's), and
//! whether exports keep their bytes.

use clap::Args;
use imgperf_core::reference::synthetic::{SyntheticFormat, SyntheticImages};

/// `--image-batch-size`, `--image-width-mean/-stddev`,
/// `--image-height-mean/-stddev`, `--image-format`, `--export-input-images`.
#[derive(Debug, Clone, Args)]
pub struct EditArgs {
    /// Reference images per request, when they are synthetic (no --input-file) [default: 1 for
    /// image_edit]. An edit sends them as `image` for 1, `image[]` for more. With video_generation,
    /// --image-batch-size 1 (or an --image-width-mean / --image-height-mean) makes the run
    /// image-to-video: each job uploads one synthetic reference as `input_reference`; without these
    /// flags, or with 0, a synthetic video run is text-to-video.
    #[arg(
        long,
        alias = "batch-size-image",
        value_name = "N",
        help_heading = "Image edits"
    )]
    pub image_batch_size: Option<usize>,
    /// Mean width in pixels of synthetic reference images (default 512). Sizes are drawn per image
    /// from a normal distribution, rounded, kept within 16..4096; --random-seed makes them reproducible.
    #[arg(long, help_heading = "Image edits")]
    pub image_width_mean: Option<f64>,
    /// Standard deviation of synthetic reference image widths.
    #[arg(long, default_value_t = 0.0, help_heading = "Image edits")]
    pub image_width_stddev: f64,
    /// Mean height in pixels of synthetic reference images (default 512).
    #[arg(long, help_heading = "Image edits")]
    pub image_height_mean: Option<f64>,
    /// Standard deviation of synthetic reference image heights.
    #[arg(long, default_value_t = 0.0, help_heading = "Image edits")]
    pub image_height_stddev: f64,
    /// Container of synthetic reference images: png, jpeg or random (each image drawn). They are
    /// photo-like scenes (sky, sun, ridges, grain), encoded once before the run.
    ///
    /// An edit run adds Input Images, Input Image Size, Input Megapixels and Upload Time (request
    /// start until the body's last byte went to the connection) per request. Upload Time is measured
    /// by the CLI; the browser app cannot tell it (fetch does not report uploads).
    #[arg(long, default_value = "png", help_heading = "Image edits")]
    pub image_format: String,
    /// Write each uploaded file's bytes (base64, field `b64`) into inputs.json and the raw export;
    /// without it they describe each file part by name, content type, size and sha256 only.
    #[arg(long, help_heading = "Image edits")]
    pub export_input_images: bool,
}

impl EditArgs {
    /// The synthetic reference images these flags ask for (512x512 PNG, one
    /// per request, by default), checked; errors name the flag.
    pub fn synthetic(&self) -> Result<SyntheticImages, String> {
        let spec = SyntheticImages {
            width_mean: self.image_width_mean.unwrap_or(512.0),
            width_stddev: self.image_width_stddev,
            height_mean: self.image_height_mean.unwrap_or(512.0),
            height_stddev: self.image_height_stddev,
            batch_size: self.image_batch_size.unwrap_or(1),
            format: SyntheticFormat::parse(&self.image_format)?,
        };
        spec.validate()?;
        Ok(spec)
    }

    /// The synthetic references of a video run, if these flags ask for
    /// image-to-video: `--image-batch-size 1`, or a width or height mean
    /// given (batch size unset). One reference per job at most.
    pub fn synthetic_video(&self) -> Result<Option<SyntheticImages>, String> {
        let sized = self.image_width_mean.is_some() || self.image_height_mean.is_some();
        match self.image_batch_size {
            Some(0) => Ok(None),
            Some(1) => self.synthetic().map(Some),
            None if sized => self.synthetic().map(Some),
            None => Ok(None),
            Some(n) => Err(format!(
                "--image-batch-size {n}: image-to-video sends one reference (input_reference) per job; use 1, or 0 for text-to-video"
            )),
        }
    }
}

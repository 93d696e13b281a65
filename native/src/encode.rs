//! Encoding RGB8 pixels as a PNG, JPEG or WebP file with the `image` crate:
//! the mock server's outputs and edits, and the synthetic reference images
//! of `imgperf profile --endpoint-type image_edit` (whose pixels come from
//! core's [`imgperf_core::picture`]).

use anyhow::Context as _;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, ImageEncoder};
use imgperf_core::images::ImageFormat;
use imgperf_core::reference::synthetic::PictureSpec;

/// JPEG quality. With core's film grain it gives the byte sizes of real q75
/// generations (REFERENCE §7), whose content is busier.
pub const JPEG_QUALITY: u8 = 85;

/// `rgb` (`3 * width * height` bytes, row by row) as an image file.
pub fn encode_rgb(
    rgb: &[u8],
    width: u32,
    height: u32,
    format: ImageFormat,
) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let color = ExtendedColorType::Rgb8;
    match format {
        ImageFormat::Png => {
            PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
                .write_image(rgb, width, height, color)
        }
        ImageFormat::Jpeg => JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
            .write_image(rgb, width, height, color),
        ImageFormat::Webp => {
            WebPEncoder::new_lossless(&mut out).write_image(rgb, width, height, color)
        }
    }
    .with_context(|| format!("encoding a {width}x{height} {format} image"))?;
    Ok(out)
}

/// A synthetic reference image, rendered and encoded.
pub fn encode_picture(spec: PictureSpec) -> anyhow::Result<Vec<u8>> {
    encode_rgb(&spec.render(), spec.width, spec.height, spec.format)
}

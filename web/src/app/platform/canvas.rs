//! Encoding RGB8 pixels as a PNG or JPEG file with the browser's own
//! encoder (an `OffscreenCanvas` and `convertToBlob`, which also works in a
//! Web Worker), so the web build carries no image encoder of its own. Used
//! for synthetic reference images, whose pixels core renders.

use imgperf_core::images::ImageFormat;
use wasm_bindgen::{Clamped, JsCast};
use wasm_bindgen_futures::JsFuture;

/// JPEG quality, as the CLI's encoder uses (85).
const JPEG_QUALITY: f64 = 0.85;

/// `rgb` (`3 * width * height` bytes, row by row) as an image file.
pub async fn encode_rgb(
    rgb: &[u8],
    width: u32,
    height: u32,
    format: ImageFormat,
) -> Result<Vec<u8>, String> {
    let js = |e: wasm_bindgen::JsValue| format!("{e:?}");
    let canvas = web_sys::OffscreenCanvas::new(width, height).map_err(js)?;
    let ctx: web_sys::OffscreenCanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(js)?
        .ok_or("no 2d context")?
        .dyn_into()
        .map_err(|_| "not a 2d context")?;
    let mut rgba = Vec::with_capacity(rgb.len() / 3 * 4);
    for px in rgb.chunks_exact(3) {
        rgba.extend_from_slice(&[px[0], px[1], px[2], 255]);
    }
    let data = web_sys::ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), width, height)
        .map_err(js)?;
    ctx.put_image_data(&data, 0.0, 0.0).map_err(js)?;
    let opts = web_sys::ImageEncodeOptions::new();
    opts.set_type(format.mime());
    if format == ImageFormat::Jpeg {
        opts.set_quality(JPEG_QUALITY);
    }
    let blob: web_sys::Blob =
        JsFuture::from(canvas.convert_to_blob_with_options(&opts).map_err(js)?)
            .await
            .map_err(js)?
            .dyn_into()
            .map_err(|_| "convertToBlob gave no blob")?;
    let buf = JsFuture::from(blob.array_buffer()).await.map_err(js)?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

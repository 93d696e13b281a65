//! The run's gallery, made in the worker: each successful response's images
//! become a blob (the image as received) and a small JPEG thumbnail
//! (`createImageBitmap` with a resize, then an `OffscreenCanvas`, both
//! asynchronous so the runner goes on meanwhile), posted to the page with
//! their facts (an edit's with its first input image). The page only shows
//! thumbnails; a click opens the image.

use super::post_with;
use crate::model::body_images;
use crate::protocol::{FromWorker, ImageFacts};
use futures_channel::oneshot;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Images posted for one run at most.
pub const MAX_IMAGES: usize = 500;
/// Longest side of a thumbnail, in pixels.
pub const THUMB_SIDE: u32 = 256;

/// Gallery images of one run.
#[derive(Default)]
pub struct Gallery {
    posted: usize,
    /// Thumbnails still being made.
    pending: Vec<oneshot::Receiver<()>>,
}

fn blob_of(bytes: &[u8], mime: &str) -> web_sys::Blob {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    crate::app::platform::dom::blob_of(&parts, mime)
}

/// A JPEG thumbnail of `image` whose longest side is at most [`THUMB_SIDE`].
async fn thumbnail(
    image: &web_sys::Blob,
    width: u32,
    height: u32,
) -> Result<web_sys::Blob, JsValue> {
    let scale = (THUMB_SIDE as f64 / width.max(height).max(1) as f64).min(1.0);
    let (w, h) = (
        ((width as f64 * scale).round() as u32).max(1),
        ((height as f64 * scale).round() as u32).max(1),
    );
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let opts = web_sys::ImageBitmapOptions::new();
    opts.set_resize_width(w);
    opts.set_resize_height(h);
    opts.set_resize_quality(web_sys::ResizeQuality::Medium);
    let promise = scope.create_image_bitmap_with_blob_and_image_bitmap_options(image, &opts)?;
    let bitmap: web_sys::ImageBitmap = JsFuture::from(promise).await?.unchecked_into();
    let canvas = web_sys::OffscreenCanvas::new(w, h)?;
    let ctx: web_sys::ImageBitmapRenderingContext = canvas
        .get_context("bitmaprenderer")?
        .ok_or_else(|| JsValue::from_str("no bitmaprenderer context"))?
        .unchecked_into();
    ctx.transfer_from_image_bitmap(&bitmap);
    let encode = web_sys::ImageEncodeOptions::new();
    encode.set_type("image/jpeg");
    encode.set_quality(0.82);
    let blob = JsFuture::from(canvas.convert_to_blob_with_options(&encode)?).await?;
    Ok(blob.unchecked_into())
}

impl Gallery {
    /// An empty gallery.
    pub fn new() -> Self {
        Self::default()
    }

    /// Post the images of a successful response `body` (its last text),
    /// with an edit's `input` image beside them.
    pub fn add(
        &mut self,
        body: Option<&str>,
        prompt: String,
        latency_ms: f64,
        input: Option<&super::edit::InputPreview>,
    ) {
        let Some(body) = body else { return };
        for img in body_images(body, true) {
            if self.posted >= MAX_IMAGES {
                return;
            }
            self.posted += 1;
            let facts = ImageFacts {
                prompt: prompt.clone(),
                latency_ms,
                width: img.width,
                height: img.height,
                format: img.format,
                bytes: img.len,
                input: input.map(|(_, facts)| facts.clone()),
            };
            let input_blob = input.map(|(blob, _)| blob.clone());
            let full = blob_of(&img.bytes.unwrap_or_default(), mime(&facts.format));
            let (done, wait) = oneshot::channel();
            self.pending.push(wait);
            wasm_bindgen_futures::spawn_local(async move {
                // A video job's MP4, or an image the browser cannot
                // shrink, is shown whole.
                let thumb = if facts.format == "mp4" {
                    full.clone()
                } else {
                    thumbnail(&full, facts.width, facts.height)
                        .await
                        .unwrap_or_else(|_| full.clone())
                };
                let mut blobs = vec![("full", &full), ("thumb", &thumb)];
                if let Some(b) = &input_blob {
                    blobs.push(("input", b));
                }
                post_with(&FromWorker::Image { facts }, &blobs);
                let _ = done.send(());
            });
        }
    }

    /// Wait until every thumbnail is posted.
    pub async fn settle(&mut self) {
        for wait in self.pending.drain(..) {
            let _ = wait.await;
        }
    }
}

/// MIME type of an image format name.
pub fn mime(format: &str) -> &'static str {
    match format {
        "jpeg" => "image/jpeg",
        "mp4" => "video/mp4",
        "webp" => "image/webp",
        _ => "image/png",
    }
}

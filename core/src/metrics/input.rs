//! The metrics of a request's uploaded images (an edit's references):
//! how many, their bytes and megapixels, and the upload time where the
//! platform can tell it; and AIPerf's Image Latency (latency per image).

use super::{def, MetricDef};
use crate::record::RequestRecord;

/// Request start → last byte of the request body handed to the connection
/// (an edit's upload; where the platform can tell).
pub const HTTP_REQ_SENDING: MetricDef = def("http_req_sending", "Upload Time", "ms");
/// Request latency per output image (AIPerf's Image Latency).
pub const IMAGE_LATENCY: MetricDef = def("image_latency", "Image Latency", "ms/image");
/// Images a request uploaded (an edit's references).
pub const INPUT_IMAGE_COUNT: MetricDef = def("input_image_count", "Input Images", "images");
/// Bytes of the images a request uploaded.
pub const INPUT_IMAGE_BYTES: MetricDef = def("input_image_bytes", "Input Image Size", "bytes");
/// Pixels of the images a request uploaded, in millions.
pub const INPUT_MEGAPIXELS: MetricDef = def("input_megapixels", "Input Megapixels", "MP");

/// An edit's input metrics (none for a request that uploaded no image).
pub(super) fn input_metrics(rec: &RequestRecord, out: &mut Vec<(MetricDef, f64)>) {
    let inputs = &rec.input_images;
    if inputs.is_empty() {
        return;
    }
    if let Some(ms) = rec.upload_ms() {
        out.push((HTTP_REQ_SENDING, ms));
    }
    let bytes: u64 = inputs.iter().map(|i| i.bytes).sum();
    let pixels: u64 = inputs
        .iter()
        .map(|i| u64::from(i.width) * u64::from(i.height))
        .sum();
    out.push((INPUT_IMAGE_COUNT, inputs.len() as f64));
    out.push((INPUT_IMAGE_BYTES, bytes as f64));
    out.push((INPUT_MEGAPIXELS, pixels as f64 / 1e6));
}

//! Helpers of the image-measurement tests: real PNG/JPEG/WebP bodies, a
//! small axum server on 127.0.0.1, and reading a run's records and summary.
#![allow(dead_code)]

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use image::{ExtendedColorType, ImageEncoder, RgbImage};
use imgperf_core::images::ImageFormat;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A real image of `w`×`h` in `format`.
pub fn encode(format: ImageFormat, w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 5) as u8, ((x ^ y) * 3) as u8])
    });
    let (raw, color) = (img.as_raw(), ExtendedColorType::Rgb8);
    let mut out = Vec::new();
    match format {
        ImageFormat::Png => {
            image::codecs::png::PngEncoder::new(&mut out).write_image(raw, w, h, color)
        }
        ImageFormat::Jpeg => {
            image::codecs::jpeg::JpegEncoder::new(&mut out).write_image(raw, w, h, color)
        }
        ImageFormat::Webp => {
            image::codecs::webp::WebPEncoder::new_lossless(&mut out).write_image(raw, w, h, color)
        }
    }
    .expect("encode");
    out
}

/// Base64 of bytes.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Serve `app` on 127.0.0.1 (any port); returns the base URL.
pub async fn serve(app: Router) -> String {
    crate::common::serve_app(app).await
}

/// A static server for reference-image URLs: `path` answers `png` (its GETs
/// counted), anything else 404. Its base URL and the count.
pub async fn reference_server(path: &str, png: Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let gets = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route(
            path,
            get(
                |State((png, gets)): State<(Arc<Vec<u8>>, Arc<AtomicUsize>)>| async move {
                    gets.fetch_add(1, Ordering::SeqCst);
                    ([("content-type", "image/png")], png.to_vec())
                },
            ),
        )
        .fallback(|| async { (StatusCode::NOT_FOUND, "not here").into_response() })
        .with_state((Arc::new(png), gets.clone()));
    (serve(app).await, gets)
}

/// The only run directory under `dir/artifacts`.
pub fn run_dir(dir: &Path) -> PathBuf {
    let mut entries: Vec<_> = std::fs::read_dir(dir.join("artifacts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries.pop().unwrap()
}

/// A JSON file, parsed.
pub fn json_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Records of a run, ordered by `session_num`.
pub fn records_in_order(run: &Path) -> Vec<Value> {
    let mut r = crate::common::jsonl(&run.join("profile_export.jsonl"));
    r.sort_by_key(|v| v["metadata"]["session_num"].as_u64().unwrap());
    r
}

/// A metric's value in a record line.
pub fn metric(record: &Value, tag: &str) -> Option<f64> {
    record["metrics"][tag]["value"].as_f64()
}

/// Rows of an input file, one `{"text", "extra"}` per case.
pub fn input_file(dir: &Path, rows: &[(&str, Value)]) -> String {
    let text: String = rows
        .iter()
        .map(|(prompt, extra)| format!("{}\n", serde_json::json!({"text": prompt, "extra": extra})))
        .collect();
    std::fs::write(dir.join("cases.jsonl"), text).unwrap();
    "cases.jsonl".into()
}

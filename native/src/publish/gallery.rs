//! A published run's gallery: the images of its raw export (successful
//! requests, in order, up to `--max-images`), written as JPEG thumbnails
//! (longest side [`THUMB_SIDE`]) and, with `--images full`, as the server
//! sent them too; listed in `images/images.json` (core's
//! [`GalleryEntry`]). The export is read one line at a time.

use anyhow::Context;
use image::codecs::jpeg::JpegEncoder;
use imgperf_core::images::{b64_images_in_body, probe};
use imgperf_core::import::parse_line;
use imgperf_core::site::GalleryEntry;
use std::io::BufRead;
use std::path::Path;

/// Longest side of a thumbnail, in pixels.
pub const THUMB_SIDE: u32 = 320;

/// A JPEG thumbnail of an image file's bytes.
fn thumbnail(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let img = image::load_from_memory(bytes)?;
    // `thumbnail` also enlarges: small images stay as they are.
    let small = if img.width().max(img.height()) > THUMB_SIDE {
        img.thumbnail(THUMB_SIDE, THUMB_SIDE)
    } else {
        img
    }
    .to_rgb8();
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 82).encode_image(&small)?;
    Ok(out)
}

/// Write the gallery of `raw` under `dir` (`rel` is `dir` from the site's
/// root); returns its entries.
pub fn write(
    raw: &Path,
    dir: &Path,
    rel: &str,
    full: bool,
    max: usize,
) -> anyhow::Result<Vec<GalleryEntry>> {
    let file =
        std::fs::File::open(raw).with_context(|| format!("cannot open {}", raw.display()))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut entries = Vec::new();
    let mut line = String::new();
    let mut line_no = 0;
    std::fs::create_dir_all(dir)?;
    while entries.len() < max {
        line.clear();
        line_no += 1;
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let Ok(parsed) = parse_line(line.trim_end()) else {
            continue;
        };
        if !parsed.record.is_valid() {
            continue;
        }
        let Some(body) = parsed.responses.last() else {
            continue;
        };
        let Ok(images) = b64_images_in_body(&body.text) else {
            continue;
        };
        for img in images.into_iter().flatten() {
            if entries.len() >= max {
                break;
            }
            let Ok(info) = probe(&img.bytes) else {
                continue;
            };
            let n = entries.len() + 1;
            let thumb = match thumbnail(&img.bytes) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!(
                        "imgperf publish: {}:{line_no}: image {}: {e}; skipped",
                        raw.display(),
                        img.index
                    );
                    continue;
                }
            };
            let name = format!("{n:05}.jpg");
            std::fs::write(dir.join(&name), thumb)?;
            let full_name = full.then(|| format!("{n:05}-full.{}", info.format.extension()));
            if let Some(f) = &full_name {
                std::fs::write(dir.join(f), &img.bytes)?;
            }
            entries.push(GalleryEntry {
                src: format!("{rel}/{name}"),
                full: full_name.map(|f| format!("{rel}/{f}")),
                prompt: parsed.prompt.clone().unwrap_or_default(),
                latency_ms: parsed.record.latency_ms(),
                width: info.width,
                height: info.height,
                format: info.format.name().to_owned(),
                bytes: img.bytes.len() as u64,
            });
        }
    }
    Ok(entries)
}

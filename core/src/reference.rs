//! Reference images: the input images of an edit (and of image-to-video).
//!
//! An input row names them as written ([`ImageSource::parse`]): a local path
//! (relative to the input file's folder), an `http(s)` URL or a `data:` URI.
//! [`load_references`] loads every distinct source once, before the run,
//! through a fetch the platform provides (a file read or a GET natively; a
//! picked file or `fetch` in the browser), decodes `data:` URIs itself, and
//! checks each image from its header and last bytes (format, size,
//! completeness) without decoding pixels. A mask must have the size of its
//! row's first image. Every problem is one line naming the file, the row
//! and the image. Synthetic references come from [`synthetic`].
//!
//! A [`ReferenceImage`] holds its bytes once (shared, never copied by
//! whoever uses it) with its [`ImageInfo`] and sha256.

pub mod synthetic;

use crate::images::{check_bytes, decode_base64, ImageInfo};
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

/// Where a reference image comes from, as an input row writes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ImageSource {
    /// A local file (a `file://` prefix dropped); a relative path is relative
    /// to the input file's folder, which the platform resolves.
    Path(String),
    /// An `http://` or `https://` URL, fetched once before the run.
    Url(String),
    /// A `data:<mime>;base64,...` URI, decoded here.
    Data(String),
}

fn has_prefix(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

impl ImageSource {
    /// Classify a row's string (trimmed).
    pub fn parse(s: &str) -> ImageSource {
        let t = s.trim();
        if has_prefix(t, "data:") {
            ImageSource::Data(t.to_owned())
        } else if has_prefix(t, "http://") || has_prefix(t, "https://") {
            ImageSource::Url(t.to_owned())
        } else if has_prefix(t, "file://") {
            ImageSource::Path(t[7..].to_owned())
        } else {
            ImageSource::Path(t.to_owned())
        }
    }

    /// How messages and exports name it: the path or URL as written, a
    /// `data:` URI by its media type and length.
    pub fn label(&self) -> String {
        match self {
            ImageSource::Path(p) | ImageSource::Url(p) => p.clone(),
            ImageSource::Data(d) => {
                let mime = d[5..].split([';', ',']).next().unwrap_or_default();
                let mime = if mime.is_empty() {
                    "no media type"
                } else {
                    mime
                };
                format!("data: URI ({mime}, {} characters)", d.len())
            }
        }
    }
}

/// The bytes of a `data:` URI (base64 only: `data:image/png;base64,...`).
pub fn decode_data_uri(uri: &str) -> Result<Bytes, String> {
    let Some((head, data)) = uri.trim().split_once(',') else {
        return Err("data: URI has no ',' before its data".into());
    };
    if !has_prefix(head, "data:") {
        return Err("not a data: URI".into());
    }
    if !head.to_ascii_lowercase().ends_with(";base64") {
        return Err("data: URI is not base64; write data:image/png;base64,<data>".into());
    }
    decode_base64(data)
        .map(Bytes::from)
        .map_err(|e| format!("data: URI holds invalid base64 ({e})"))
}

/// One reference image, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceImage {
    /// The image file's bytes.
    pub bytes: Bytes,
    /// Format and dimensions from its header.
    pub info: ImageInfo,
    /// SHA-256 of `bytes`.
    pub sha256: [u8; 32],
    /// Where it came from ([`ImageSource::label`], or what made it).
    pub source: String,
}

impl ReferenceImage {
    /// Check `bytes` (a PNG, JPEG or WebP image, complete) and hash them.
    pub fn from_bytes(bytes: Bytes, source: impl Into<String>) -> Result<ReferenceImage, String> {
        let info = check_bytes(&bytes).result.map_err(|d| match d {
            crate::images::Defect::Undecodable(m) | crate::images::Defect::Truncated(m) => m,
        })?;
        let sha256 = Sha256::digest(&bytes).into();
        Ok(ReferenceImage {
            bytes,
            info,
            sha256,
            source: source.into(),
        })
    }

    /// The SHA-256 in lower-case hex.
    pub fn sha256_hex(&self) -> String {
        self.sha256.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Width × height.
    pub fn pixels(&self) -> u64 {
        u64::from(self.info.width) * u64::from(self.info.height)
    }

    /// What records say about it: format, dimensions, bytes, sha256 prefix.
    pub fn meta(&self) -> InputImageMeta {
        InputImageMeta {
            format: self.info.format,
            width: self.info.width,
            height: self.info.height,
            bytes: self.bytes.len() as u64,
            sha256: self.sha256_hex()[..SHA_PREFIX].to_owned(),
        }
    }
}

/// Hex digits of the sha256 prefix in records.
pub const SHA_PREFIX: usize = 16;

/// An input image as a request record carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct InputImageMeta {
    /// Container format.
    pub format: crate::images::ImageFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// First [`SHA_PREFIX`] hex digits of its SHA-256.
    pub sha256: String,
}

/// The reference images one input row names, as written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RowReferences {
    /// 1-based line of the row in its file.
    pub line: usize,
    /// `image` / `images`, in order.
    pub images: Vec<String>,
    /// `mask`, if any.
    pub mask: Option<String>,
}

/// A row's reference images, loaded and checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct References {
    /// The images, in row order (shared between rows naming the same source).
    pub images: Vec<Arc<ReferenceImage>>,
    /// The mask, of the first image's size.
    pub mask: Option<Arc<ReferenceImage>>,
}

/// A reference image that cannot be used, with the row that names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {problem}")]
pub struct ReferenceError {
    /// The input file (or what stands for it).
    pub file: String,
    /// 1-based line of the row.
    pub line: usize,
    /// What is wrong and what to do.
    pub problem: String,
}

/// Every row must name at least one image (edits need one): the first row
/// that names none is the error.
pub fn require_images(file: &str, rows: &[RowReferences], why: &str) -> Result<(), ReferenceError> {
    match rows.iter().find(|r| r.images.is_empty()) {
        None => Ok(()),
        Some(r) => Err(ReferenceError {
            file: file.to_owned(),
            line: r.line,
            problem: format!(
                "row has no \"image\" (or \"images\"); {why} (a path, an http(s) URL or a data: URI)"
            ),
        }),
    }
}

/// Image-to-video takes one reference (`input_reference`) and no mask: the
/// first row naming more, or a mask, is the error. Rows naming none stay
/// text-to-video.
pub fn check_video_rows(file: &str, rows: &[RowReferences]) -> Result<(), ReferenceError> {
    let err = |r: &RowReferences, problem: String| ReferenceError {
        file: file.to_owned(),
        line: r.line,
        problem,
    };
    for r in rows {
        if r.images.len() > 1 {
            return Err(err(r, format!(
                "row names {} images; image-to-video sends one reference (input_reference): keep one \"image\"",
                r.images.len()
            )));
        }
        if r.mask.is_some() {
            return Err(err(
                r,
                "row has a \"mask\"; image-to-video takes none: drop it".into(),
            ));
        }
    }
    Ok(())
}

/// URLs and files fetched at once while loading.
const PARALLEL_FETCHES: usize = 8;

/// Load and check every row's images and mask. `fetch` reads a
/// [`ImageSource::Path`] or [`ImageSource::Url`] (never a `data:` URI) and is
/// called once per distinct source, up to 8 at a time; its error text says
/// why (e.g. "HTTP 404", "No such file or directory"). The first problem, in
/// row order, is the error.
pub async fn load_references<F, Fut>(
    file: &str,
    rows: &[RowReferences],
    mut fetch: F,
) -> Result<Vec<References>, ReferenceError>
where
    F: FnMut(ImageSource) -> Fut,
    Fut: Future<Output = Result<Bytes, String>>,
{
    let mut distinct: Vec<&str> = Vec::new();
    for r in rows {
        for s in r.images.iter().chain(&r.mask) {
            if !distinct.contains(&s.as_str()) {
                distinct.push(s);
            }
        }
    }
    let loaded: HashMap<&str, Result<Arc<ReferenceImage>, String>> =
        stream::iter(distinct.into_iter().map(|s| {
            let source = ImageSource::parse(s);
            let label = source.label();
            let bytes = match &source {
                ImageSource::Data(uri) => {
                    futures_util::future::Either::Left(std::future::ready(decode_data_uri(uri)))
                }
                _ => futures_util::future::Either::Right(fetch(source)),
            };
            async move {
                let checked = bytes.await.and_then(|b| {
                    ReferenceImage::from_bytes(b, label.clone()).map_err(|e| {
                        format!("is not a usable image: {e}; give a PNG, JPEG or WebP file")
                    })
                });
                (s, checked.map(Arc::new))
            }
        }))
        .buffer_unordered(PARALLEL_FETCHES)
        .collect()
        .await;
    rows.iter()
        .map(|r| {
            let err = |problem: String| ReferenceError {
                file: file.to_owned(),
                line: r.line,
                problem,
            };
            let get = |what: &str, s: &str| match &loaded[s] {
                Ok(img) => Ok(img.clone()),
                Err(e) => Err(err(format!(
                    "{what} {}: {e}",
                    quote(&ImageSource::parse(s).label())
                ))),
            };
            let images = r
                .images
                .iter()
                .map(|s| get("image", s))
                .collect::<Result<Vec<_>, _>>()?;
            let mask = r.mask.as_deref().map(|s| get("mask", s)).transpose()?;
            if let (Some(m), Some(first)) = (&mask, images.first()) {
                let (mi, fi) = (m.info, first.info);
                if (mi.width, mi.height) != (fi.width, fi.height) {
                    return Err(err(format!(
                        "mask {} is {}x{} but its image {} is {}x{}; a mask must have the image's size",
                        quote(&m.source),
                        mi.width,
                        mi.height,
                        quote(&first.source),
                        fi.width,
                        fi.height
                    )));
                }
            }
            Ok(References { images, mask })
        })
        .collect()
}

fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
mod tests;

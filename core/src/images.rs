//! Image facts from bytes, and the images inside Images API response bodies.
//!
//! Everything here works on plain byte slices and strings so that it runs the
//! same natively and in the browser: [`sniff_format`] tells PNG, JPEG and WebP
//! apart by their magic bytes, [`probe`] reads width and height from the
//! headers alone (no pixel decoding), [`parse_size`] reads `"512x512"`-style
//! size strings, and [`b64_images_in_body`] pulls the base64 images out of an
//! OpenAI-style `{"data":[{"b64_json": ...}]}` body. [`check_b64`] and
//! [`check_bytes`] check an output image from its header and last bytes
//! only (format, dimensions, completeness), never decoding it whole.

mod body;
mod check;

pub use body::{b64_images_in_body, decode_base64, ResponseImage};
pub use check::{b64_decoded_len, check_b64, check_bytes, Checked, Defect};

/// Image container formats the Images API can return.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// Portable Network Graphics.
    Png,
    /// JPEG (JFIF/Exif).
    Jpeg,
    /// WebP (lossy `VP8`, lossless `VP8L` or extended `VP8X`).
    Webp,
}

impl ImageFormat {
    /// Every supported format, in a stable order.
    pub const ALL: [ImageFormat; 3] = [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Webp];

    /// File extension without the dot: `png`, `jpg` or `webp`.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Webp => "webp",
        }
    }

    /// MIME type, e.g. `image/png`.
    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Webp => "image/webp",
        }
    }

    /// The name the Images API uses in `output_format`: `png`, `jpeg`, `webp`.
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Webp => "webp",
        }
    }

    /// Parses an `output_format`-style name (`png`, `jpeg`/`jpg`, `webp`;
    /// case-insensitive).
    pub fn from_name(name: &str) -> Option<ImageFormat> {
        match name.trim().to_ascii_lowercase().as_str() {
            "png" => Some(ImageFormat::Png),
            "jpeg" | "jpg" => Some(ImageFormat::Jpeg),
            "webp" => Some(ImageFormat::Webp),
            _ => None,
        }
    }
}

impl std::fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What [`probe`] learns from an image's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// Container format, from the magic bytes.
    pub format: ImageFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Why bytes could not be read as an image, or a body's images not found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// The bytes start with no PNG, JPEG or WebP signature.
    #[error("not a PNG, JPEG or WebP image ({0})")]
    NotAnImage(String),
    /// The data ends before the header says what the size is.
    #[error("truncated {format} header: {what}")]
    Truncated {
        /// Format recognised from the magic bytes.
        format: ImageFormat,
        /// Which part was missing.
        what: &'static str,
    },
    /// The header is present but makes no sense.
    #[error("malformed {format} header: {what}")]
    Malformed {
        /// Format recognised from the magic bytes.
        format: ImageFormat,
        /// What is wrong with it.
        what: String,
    },
    /// A `b64_json` value is not valid base64.
    #[error("data[{index}].b64_json is not valid base64: {reason}")]
    BadBase64 {
        /// Position of the item in the body's `data` array.
        index: usize,
        /// Decoder message.
        reason: String,
    },
    /// The response body is not JSON at all.
    #[error("response body is not JSON: {0}")]
    NotJson(String),
    /// The body is JSON but has no usable `data` array.
    #[error("response body has no `data` array of objects: {0}")]
    NoData(String),
}

fn describe_start(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "empty".to_string();
    }
    let hex: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{} bytes starting {}", bytes.len(), hex.join(" "))
}

const PNG_MAGIC: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// Recognises the format from the magic bytes only (no validation beyond).
pub fn sniff_format(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(&PNG_MAGIC) {
        Some(ImageFormat::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::Webp)
    } else {
        None
    }
}

/// Reads format, width and height from the header, without decoding pixels.
///
/// PNG: the `IHDR` chunk. JPEG: walks the marker segments up to the first
/// start-of-frame (`SOF0`..`SOF15`, not `DHT`/`JPG`/`DAC`). WebP: the first
/// chunk, `VP8 ` (lossy), `VP8L` (lossless) or `VP8X` (extended canvas).
pub fn probe(bytes: &[u8]) -> Result<ImageInfo, ImageError> {
    let format =
        sniff_format(bytes).ok_or_else(|| ImageError::NotAnImage(describe_start(bytes)))?;
    let (width, height) = match format {
        ImageFormat::Png => probe_png(bytes)?,
        ImageFormat::Jpeg => probe_jpeg(bytes)?,
        ImageFormat::Webp => probe_webp(bytes)?,
    };
    if width == 0 || height == 0 {
        return Err(malformed(
            format,
            format!("zero dimension {width}x{height}"),
        ));
    }
    Ok(ImageInfo {
        format,
        width,
        height,
    })
}

fn malformed(format: ImageFormat, what: impl Into<String>) -> ImageError {
    ImageError::Malformed {
        format,
        what: what.into(),
    }
}

fn be16(b: &[u8], at: usize) -> u32 {
    u32::from(u16::from_be_bytes([b[at], b[at + 1]]))
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le16(b: &[u8], at: usize) -> u32 {
    u32::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn le24(b: &[u8], at: usize) -> u32 {
    u32::from(b[at]) | u32::from(b[at + 1]) << 8 | u32::from(b[at + 2]) << 16
}

fn probe_png(b: &[u8]) -> Result<(u32, u32), ImageError> {
    const F: ImageFormat = ImageFormat::Png;
    if b.len() < 24 {
        return Err(ImageError::Truncated {
            format: F,
            what: "IHDR chunk missing",
        });
    }
    if &b[12..16] != b"IHDR" {
        return Err(malformed(F, "first chunk is not IHDR"));
    }
    Ok((be32(b, 16), be32(b, 20)))
}

fn probe_jpeg(b: &[u8]) -> Result<(u32, u32), ImageError> {
    const F: ImageFormat = ImageFormat::Jpeg;
    let truncated = || ImageError::Truncated {
        format: F,
        what: "no start-of-frame segment before end of data",
    };
    let mut pos = 2; // past SOI (FF D8)
    loop {
        // Every segment starts with 0xFF, possibly padded with more 0xFF fill bytes.
        match b.get(pos) {
            None => return Err(truncated()),
            Some(0xFF) => {}
            Some(other) => {
                return Err(malformed(
                    F,
                    format!("expected a marker at byte {pos}, found 0x{other:02x}"),
                ))
            }
        }
        while b.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *b.get(pos).ok_or_else(truncated)?;
        pos += 1;
        match marker {
            // Standalone markers carry no length.
            0x01 | 0xD0..=0xD8 => continue,
            0xD9 => return Err(malformed(F, "end of image before any start-of-frame")),
            0xDA => return Err(malformed(F, "scan data before any start-of-frame")),
            _ => {}
        }
        if pos + 2 > b.len() {
            return Err(truncated());
        }
        let len = be16(b, pos) as usize;
        if len < 2 {
            return Err(malformed(
                F,
                format!("segment 0x{marker:02x} has length {len}"),
            ));
        }
        let is_sof = (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            // length(2) precision(1) height(2) width(2)
            if len < 7 {
                return Err(malformed(F, "start-of-frame segment too short"));
            }
            if pos + 7 > b.len() {
                return Err(ImageError::Truncated {
                    format: F,
                    what: "start-of-frame segment cut short",
                });
            }
            let height = be16(b, pos + 3);
            let width = be16(b, pos + 5);
            if height == 0 {
                return Err(malformed(
                    F,
                    "height given later by a DNL marker (unsupported)",
                ));
            }
            return Ok((width, height));
        }
        pos += len;
    }
}

fn probe_webp(b: &[u8]) -> Result<(u32, u32), ImageError> {
    const F: ImageFormat = ImageFormat::Webp;
    if b.len() < 20 {
        return Err(ImageError::Truncated {
            format: F,
            what: "first chunk header missing",
        });
    }
    let need = |n: usize, what: &'static str| {
        if b.len() < n {
            Err(ImageError::Truncated { format: F, what })
        } else {
            Ok(())
        }
    };
    match &b[12..16] {
        b"VP8 " => {
            // frame tag(3) start code(3) width(2, 14 bits) height(2, 14 bits)
            need(30, "VP8 frame header cut short")?;
            if b[23..26] != [0x9D, 0x01, 0x2A] {
                return Err(malformed(F, "VP8 start code missing"));
            }
            if b[20] & 1 != 0 {
                return Err(malformed(F, "VP8 first frame is not a key frame"));
            }
            Ok((le16(b, 26) & 0x3FFF, le16(b, 28) & 0x3FFF))
        }
        b"VP8L" => {
            // signature 0x2F, then 14 bits width-1, 14 bits height-1 (LSB first)
            need(25, "VP8L header cut short")?;
            if b[20] != 0x2F {
                return Err(malformed(F, "VP8L signature byte missing"));
            }
            let bits = u32::from_le_bytes([b[21], b[22], b[23], b[24]]);
            Ok(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8X" => {
            // flags(1) reserved(3) canvas width-1 (24 bits) canvas height-1 (24 bits)
            need(30, "VP8X header cut short")?;
            Ok((le24(b, 24) + 1, le24(b, 27) + 1))
        }
        other => Err(malformed(
            F,
            format!("unknown first chunk {:?}", String::from_utf8_lossy(other)),
        )),
    }
}

/// Parses an Images API size: `"512x512"`, `"512X512"` or `"1024*1024"`
/// (Xinference). Both dimensions must be positive decimal integers.
pub fn parse_size(s: &str) -> Option<(u32, u32)> {
    let (w, h) = s.trim().split_once(['x', 'X', '*'])?;
    let dim = |part: &str| -> Option<u32> {
        let part = part.trim();
        if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse::<u32>().ok().filter(|&v| v > 0)
    };
    Some((dim(w)?, dim(h)?))
}

#[cfg(test)]
mod tests;

/// A PNG of `w`×`h` as far as header checks go (IHDR, `filler` bytes of
/// IDAT, IEND), for the crate's tests.
#[cfg(test)]
pub(crate) use check::tests::png as test_png;

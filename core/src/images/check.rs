//! Checking an output image without decoding it: format and dimensions from
//! the header ([`super::probe`]), completeness from the last bytes (PNG's
//! `IEND` chunk, JPEG's end-of-image marker, WebP's RIFF length), size from
//! the base64 length. Of a base64 image only a prefix (a few KB, more only
//! when a JPEG's metadata segments are long) and the last 64 characters are
//! decoded, so checking a 3 MB image costs microseconds and no copy.

use super::body::{decode_base64, decode_part};
use super::{probe, ImageError, ImageFormat, ImageInfo};

/// Why an image failed its check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Defect {
    /// Not valid base64, or not a PNG, JPEG or WebP image.
    Undecodable(String),
    /// The data ends early.
    Truncated(String),
}

/// Outcome of checking one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Size of the image file in bytes (decoded), when it could be told.
    pub bytes: Option<u64>,
    /// Format and dimensions, or what is wrong.
    pub result: Result<ImageInfo, Defect>,
}

/// Characters decoded first from the start of a base64 image (3 KB of bytes).
const PREFIX_CHARS: usize = 4096;
/// Characters decoded from the end.
const TAIL_CHARS: usize = 64;
const PNG_IEND: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];

/// The base64 text without a `data:<mime>;base64,` prefix and outer whitespace.
fn strip(text: &str) -> &str {
    let s = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if s.starts_with("data:") {
        if let Some(at) = s.find(";base64,") {
            return &s[at + ";base64,".len()..];
        }
    }
    s
}

/// Decoded size of base64 text (padding optional), without decoding it;
/// `None` when no complete encoding has this length. Assumes no interior
/// whitespace.
pub fn b64_decoded_len(text: &str) -> Option<u64> {
    let s = strip(text);
    let core = s.trim_end_matches('=');
    let pad = s.len() - core.len();
    if core.len() & 3 == 1 || pad > 2 || (pad > 0 && s.len() & 3 != 0) {
        return None;
    }
    Some((core.len() as u64 * 3) / 4)
}

/// Checks a base64 image (`b64_json`, or a `data:` URL), decoding only its
/// first few KB and its last 64 characters.
pub fn check_b64(text: &str) -> Checked {
    let s = strip(text);
    match check_b64_fast(s) {
        Some(c) => c,
        // Interior whitespace (line-wrapped base64): decode it all, once.
        None => match decode_base64(s) {
            Ok(bytes) => check_bytes(&bytes),
            Err(e) => Checked {
                bytes: None,
                result: Err(Defect::Undecodable(format!("not valid base64: {e}"))),
            },
        },
    }
}

fn has_whitespace(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_whitespace())
}

/// `None` means: holds whitespace, take the slow path.
fn check_b64_fast(s: &str) -> Option<Checked> {
    let undecodable = |m: String| Checked {
        bytes: None,
        result: Err(Defect::Undecodable(m)),
    };
    if s.is_empty() {
        return Some(undecodable("empty base64 string".into()));
    }
    let core = s.trim_end_matches('=');
    let Some(total) = b64_decoded_len(s) else {
        if has_whitespace(s) {
            return None;
        }
        return Some(Checked {
            bytes: None,
            result: Err(Defect::Truncated(format!(
                "base64 of {} characters cannot be complete (cut short?)",
                s.len()
            ))),
        });
    };
    let bytes = s.as_bytes();
    // Prefix: grow until the header is complete or the whole image is read.
    let mut window = PREFIX_CHARS;
    let (head, whole) = loop {
        let whole = window >= core.len();
        let part = if whole { bytes } else { &bytes[..window] };
        let head = match decode_part(part) {
            Ok(h) => h,
            Err(_) if has_whitespace(s) => return None,
            Err(e) => return Some(undecodable(format!("not valid base64: {e}"))),
        };
        match probe(&head) {
            Err(ImageError::Truncated { .. }) if !whole => window *= 16,
            _ => break (head, whole),
        }
    };
    let info = match probe(&head) {
        Ok(info) => info,
        Err(e @ ImageError::Truncated { .. }) => {
            return Some(Checked {
                bytes: Some(total),
                result: Err(Defect::Truncated(e.to_string())),
            })
        }
        Err(e) => {
            return Some(Checked {
                bytes: Some(total),
                result: Err(Defect::Undecodable(e.to_string())),
            })
        }
    };
    let tail = if whole {
        head.clone()
    } else {
        // Both ends of the base64 text are 4-aligned from its start.
        let start = core.len().saturating_sub(TAIL_CHARS) & !3;
        match decode_part(&bytes[start..]) {
            Ok(t) => t,
            Err(_) if has_whitespace(s) => return None,
            Err(e) => return Some(undecodable(format!("not valid base64: {e}"))),
        }
    };
    let result = match complete(info.format, &head, &tail, total) {
        Ok(()) => Ok(info),
        Err(_) if !whole && has_whitespace(s) => return None,
        Err(m) => Err(Defect::Truncated(m)),
    };
    Some(Checked {
        bytes: Some(total),
        result,
    })
}

/// Checks image bytes (a downloaded file): header and last bytes only.
pub fn check_bytes(bytes: &[u8]) -> Checked {
    let total = bytes.len() as u64;
    let result = match probe(bytes) {
        Ok(info) => {
            let tail = &bytes[bytes.len().saturating_sub(TAIL_CHARS)..];
            complete(info.format, bytes, tail, total)
                .map(|()| info)
                .map_err(Defect::Truncated)
        }
        Err(e @ ImageError::Truncated { .. }) => Err(Defect::Truncated(e.to_string())),
        Err(e) => Err(Defect::Undecodable(e.to_string())),
    };
    Checked {
        bytes: Some(total),
        result,
    }
}

/// Whether an image of `total` bytes starting with `head` and ending with
/// `tail` is complete.
fn complete(format: ImageFormat, head: &[u8], tail: &[u8], total: u64) -> Result<(), String> {
    match format {
        ImageFormat::Png if !tail.ends_with(&PNG_IEND) => {
            Err("png ends before its IEND chunk (cut short?)".into())
        }
        ImageFormat::Jpeg if !tail.windows(2).any(|w| w == [0xFF, 0xD9]) => {
            Err("jpeg has no end-of-image marker (cut short?)".into())
        }
        ImageFormat::Webp if head.len() >= 8 => {
            let riff = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
            let declared = u64::from(riff) + 8;
            if total < declared {
                Err(format!(
                    "webp is {total} bytes, its RIFF header says {declared} (cut short?)"
                ))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine as _;

    /// A PNG of `w`×`h` with `filler` bytes of IDAT and an IEND chunk.
    pub(crate) fn png(w: u32, h: u32, filler: usize) -> Vec<u8> {
        let mut b = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        b.extend_from_slice(&13u32.to_be_bytes());
        b.extend_from_slice(b"IHDR");
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&(filler as u32).to_be_bytes());
        b.extend_from_slice(b"IDAT");
        b.extend((0..filler).map(|i| (i * 7 % 251) as u8));
        b.extend_from_slice(&[0, 0, 0, 0]);
        b.extend_from_slice(&PNG_IEND);
        b
    }

    fn jpeg(w: u16, h: u16, app_len: usize) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE1];
        b.extend_from_slice(&((app_len + 2) as u16).to_be_bytes());
        b.extend(std::iter::repeat_n(0x11, app_len));
        b.extend_from_slice(&[0xFF, 0xC0, 0, 17, 8]);
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        b.extend(std::iter::repeat_n(0x42, 5000));
        b.extend_from_slice(&[0xFF, 0xD9]);
        b
    }

    fn webp(w: u32, h: u32) -> Vec<u8> {
        let bits = (w - 1) | ((h - 1) << 14);
        let mut payload = vec![0x2F];
        payload.extend_from_slice(&bits.to_le_bytes());
        payload.extend(std::iter::repeat_n(7, 995));
        let mut b = b"RIFF".to_vec();
        b.extend_from_slice(&((payload.len() + 12) as u32).to_le_bytes());
        b.extend_from_slice(b"WEBPVP8L");
        b.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        b.extend_from_slice(&payload);
        b
    }

    fn ok(c: &Checked) -> (ImageFormat, u32, u32) {
        let i = c.result.clone().expect("valid image");
        (i.format, i.width, i.height)
    }

    #[test]
    fn reads_all_three_formats_from_base64() {
        let p = png(512, 256, 20_000);
        let c = check_b64(&STANDARD.encode(&p));
        assert_eq!(ok(&c), (ImageFormat::Png, 512, 256));
        assert_eq!(c.bytes, Some(p.len() as u64));
        // A JPEG whose frame header lies beyond the first prefix window.
        let j = jpeg(640, 480, 20_000);
        let c = check_b64(&STANDARD.encode(&j));
        assert_eq!(ok(&c), (ImageFormat::Jpeg, 640, 480));
        assert_eq!(c.bytes, Some(j.len() as u64));
        let w = webp(300, 200);
        let c = check_b64(&URL_SAFE_NO_PAD.encode(&w));
        assert_eq!(ok(&c), (ImageFormat::Webp, 300, 200));
        let data_url = format!("data:image/png;base64,{}", STANDARD.encode(png(8, 8, 10)));
        assert_eq!(ok(&check_b64(&data_url)), (ImageFormat::Png, 8, 8));
    }

    #[test]
    fn decoded_length_without_decoding() {
        for n in 0..10usize {
            let bytes = vec![0xA5u8; 100 + n];
            assert_eq!(
                b64_decoded_len(&STANDARD.encode(&bytes)),
                Some(bytes.len() as u64)
            );
            let unpadded = URL_SAFE_NO_PAD.encode(&bytes);
            assert_eq!(b64_decoded_len(&unpadded), Some(bytes.len() as u64));
        }
        assert_eq!(b64_decoded_len("AAAAA"), None);
        assert_eq!(b64_decoded_len("AA="), None);
    }

    #[test]
    fn truncated_base64_is_caught_at_any_cut() {
        for img in [png(64, 64, 30_000), jpeg(64, 64, 10), webp(64, 64)] {
            let b64 = STANDARD.encode(&img);
            for cut in [b64.len() / 2, b64.len() - 4, b64.len() - 5, b64.len() - 7] {
                let c = check_b64(&b64[..cut]);
                assert!(
                    matches!(c.result, Err(Defect::Truncated(_))),
                    "cut {cut} of {}: {c:?}",
                    b64.len()
                );
            }
        }
        let c = check_bytes(&png(4, 4, 100)[..60]);
        assert!(matches!(c.result, Err(Defect::Truncated(_))), "{c:?}");
    }

    #[test]
    fn garbage_is_undecodable() {
        let c = check_b64("!!!!");
        assert!(matches!(c.result, Err(Defect::Undecodable(ref m)) if m.contains("base64")));
        let c = check_b64(&STANDARD.encode(b"<html>not an image</html>"));
        assert!(matches!(c.result, Err(Defect::Undecodable(ref m)) if m.contains("not a PNG")));
        assert!(matches!(check_b64("").result, Err(Defect::Undecodable(_))));
    }

    #[test]
    fn line_wrapped_base64_takes_the_slow_path() {
        let img = png(100, 50, 10_000);
        let wrapped: String = STANDARD
            .encode(&img)
            .as_bytes()
            .chunks(76)
            .map(|l| format!("{}\n", std::str::from_utf8(l).unwrap()))
            .collect();
        let c = check_b64(&wrapped);
        assert_eq!(ok(&c), (ImageFormat::Png, 100, 50));
        assert_eq!(c.bytes, Some(img.len() as u64));
    }

    #[test]
    fn downloaded_bytes() {
        assert_eq!(
            ok(&check_bytes(&jpeg(10, 20, 4))),
            (ImageFormat::Jpeg, 10, 20)
        );
        let w = webp(5, 5);
        assert!(matches!(
            check_bytes(&w[..w.len() - 1]).result,
            Err(Defect::Truncated(_))
        ));
        assert!(matches!(
            check_bytes(b"GIF89a").result,
            Err(Defect::Undecodable(_))
        ));
    }
}

//! Unit tests of the image header probes, size parsing and body scanning.

use super::*;

fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut b = PNG_MAGIC.to_vec();
    b.extend_from_slice(&13u32.to_be_bytes());
    b.extend_from_slice(b"IHDR");
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&[8, 2, 0, 0, 0]);
    b
}

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0xFF, marker];
    b.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    b.extend_from_slice(payload);
    b
}

fn jpeg_header(sof: u8, w: u16, h: u16) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8];
    b.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    b.extend(segment(0xDB, &[0u8; 65]));
    b.extend(segment(0xC4, &[0u8; 30])); // DHT, not a frame
    b.extend(segment(0xCC, &[0u8; 4])); // DAC, not a frame
    b.push(0xFF); // a fill byte
    let mut sof_payload = vec![8];
    sof_payload.extend_from_slice(&h.to_be_bytes());
    sof_payload.extend_from_slice(&w.to_be_bytes());
    sof_payload.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    b.extend(segment(sof, &sof_payload));
    b
}

fn webp(chunk: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut b = b"RIFF".to_vec();
    b.extend_from_slice(&((payload.len() + 12) as u32).to_le_bytes());
    b.extend_from_slice(b"WEBP");
    b.extend_from_slice(chunk);
    b.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    b.extend_from_slice(payload);
    b
}

fn info(format: ImageFormat, width: u32, height: u32) -> ImageInfo {
    ImageInfo {
        format,
        width,
        height,
    }
}

#[test]
fn sniffs_magic_bytes() {
    assert_eq!(sniff_format(&png_header(1, 1)), Some(ImageFormat::Png));
    assert_eq!(
        sniff_format(&[0xFF, 0xD8, 0xFF, 0xE0]),
        Some(ImageFormat::Jpeg)
    );
    assert_eq!(
        sniff_format(&webp(b"VP8L", &[0x2F, 0, 0, 0, 0])),
        Some(ImageFormat::Webp)
    );
    assert_eq!(sniff_format(b"GIF89a......"), None);
    assert_eq!(sniff_format(b"RIFF\0\0\0\0WAVE"), None);
    assert_eq!(sniff_format(b""), None);
}

#[test]
fn probes_png() {
    assert_eq!(
        probe(&png_header(513, 257)),
        Ok(info(ImageFormat::Png, 513, 257))
    );
    assert!(matches!(
        probe(&png_header(513, 257)[..20]),
        Err(ImageError::Truncated { .. })
    ));
    assert!(matches!(
        probe(&png_header(0, 5)),
        Err(ImageError::Malformed { .. })
    ));
}

#[test]
fn probes_jpeg_skipping_non_frame_markers() {
    for sof in [0xC0, 0xC1, 0xC2, 0xCF] {
        assert_eq!(
            probe(&jpeg_header(sof, 1024, 768)),
            Ok(info(ImageFormat::Jpeg, 1024, 768))
        );
    }
    let full = jpeg_header(0xC0, 9, 7);
    assert!(matches!(
        probe(&full[..full.len() - 12]),
        Err(ImageError::Truncated { .. })
    ));
    assert!(matches!(
        probe(&[0xFF, 0xD8, 0xFF, 0xD9]),
        Err(ImageError::Malformed { .. })
    ));
    assert!(matches!(
        probe(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00]),
        Err(ImageError::Truncated { .. })
    ));
    assert!(matches!(
        probe(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 0x42]),
        Err(ImageError::Malformed { .. })
    ));
}

#[test]
fn probes_webp_variants() {
    // VP8L: 513x257 -> (512, 256) packed as 14+14 bits.
    let bits: u32 = 512 | (256 << 14);
    let mut vp8l = vec![0x2F];
    vp8l.extend_from_slice(&bits.to_le_bytes());
    assert_eq!(
        probe(&webp(b"VP8L", &vp8l)),
        Ok(info(ImageFormat::Webp, 513, 257))
    );
    // VP8 (lossy) key frame: tag, start code, 14-bit width/height with scale bits set.
    let mut vp8 = vec![0x50, 0x2A, 0x00, 0x9D, 0x01, 0x2A];
    vp8.extend_from_slice(&(1000u16 | 0x4000).to_le_bytes());
    vp8.extend_from_slice(&(333u16 | 0x8000).to_le_bytes());
    assert_eq!(
        probe(&webp(b"VP8 ", &vp8)),
        Ok(info(ImageFormat::Webp, 1000, 333))
    );
    // VP8X: 24-bit canvas size minus one.
    let mut vp8x = vec![0x10, 0, 0, 0];
    vp8x.extend_from_slice(&(4095u32).to_le_bytes()[..3]);
    vp8x.extend_from_slice(&(70_000u32 - 1).to_le_bytes()[..3]);
    assert_eq!(
        probe(&webp(b"VP8X", &vp8x)),
        Ok(info(ImageFormat::Webp, 4096, 70_000))
    );
    assert!(matches!(
        probe(&webp(b"VP8X", &vp8x)[..25]),
        Err(ImageError::Truncated { .. })
    ));
    assert!(matches!(
        probe(&webp(b"ALPH", &vp8x)),
        Err(ImageError::Malformed { .. })
    ));
    vp8[3] = 0;
    assert!(matches!(
        probe(&webp(b"VP8 ", &vp8)),
        Err(ImageError::Malformed { .. })
    ));
}

#[test]
fn rejects_non_images_with_a_clear_message() {
    let err = probe(b"<html>oops</html>").unwrap_err();
    assert!(matches!(err, ImageError::NotAnImage(_)));
    assert!(err.to_string().contains("3c 68 74 6d"), "{err}");
    assert_eq!(
        probe(b"").unwrap_err().to_string(),
        "not a PNG, JPEG or WebP image (empty)"
    );
}

#[test]
fn parses_sizes() {
    assert_eq!(parse_size("512x512"), Some((512, 512)));
    assert_eq!(parse_size("1536X1024"), Some((1536, 1024)));
    assert_eq!(parse_size("1024*768"), Some((1024, 768)));
    assert_eq!(parse_size(" 64 x 32 "), Some((64, 32)));
    for bad in [
        "",
        "x",
        "512",
        "0x512",
        "512x0",
        "auto",
        "512x512x3",
        "-5x5",
        "+5x5",
        "5.0x5",
        "axb",
        "99999999999x1",
    ] {
        assert_eq!(parse_size(bad), None, "{bad:?}");
    }
}

#[test]
fn format_names() {
    assert_eq!(ImageFormat::Jpeg.extension(), "jpg");
    assert_eq!(ImageFormat::Webp.mime(), "image/webp");
    assert_eq!(ImageFormat::from_name("JPG"), Some(ImageFormat::Jpeg));
    assert_eq!(ImageFormat::from_name("gif"), None);
    assert_eq!(serde_json::to_string(&ImageFormat::Png).unwrap(), "\"png\"");
    assert_eq!(ImageFormat::Webp.to_string(), "webp");
}

#[test]
fn finds_b64_images_in_bodies() {
    let body = r#"{"created":1,"data":[{"b64_json":"aGVsbG8="},{"url":"/v1/images/x/content"},
        {"b64_json":"aGVsbG8","revised_prompt":"p"},{"b64_json":"a\/8="},{"b64_json":"!!!"}]}"#;
    let images = b64_images_in_body(body).unwrap();
    assert_eq!(images.len(), 4);
    assert_eq!(
        images[0],
        Ok(ResponseImage {
            index: 0,
            bytes: b"hello".to_vec()
        })
    );
    assert_eq!(
        images[1],
        Ok(ResponseImage {
            index: 2,
            bytes: b"hello".to_vec()
        })
    );
    assert_eq!(
        images[2],
        Ok(ResponseImage {
            index: 3,
            bytes: vec![0x6b, 0xff]
        })
    );
    assert!(matches!(
        images[3],
        Err(ImageError::BadBase64 { index: 4, .. })
    ));
    assert!(matches!(
        b64_images_in_body("not json"),
        Err(ImageError::NotJson(_))
    ));
    assert!(matches!(
        b64_images_in_body(r#"{"error":{}}"#),
        Err(ImageError::NoData(_))
    ));
    assert!(matches!(
        b64_images_in_body(r#"{"data":5}"#),
        Err(ImageError::NoData(_))
    ));
    assert!(matches!(
        b64_images_in_body("[1]"),
        Err(ImageError::NoData(_))
    ));
    assert_eq!(b64_images_in_body(r#"{"data":[]}"#), Ok(vec![]));
}

#[test]
fn decodes_base64_leniently() {
    assert_eq!(decode_base64("aGVs\nbG8=\n").unwrap(), b"hello");
    assert_eq!(
        decode_base64("data:image/png;base64,aGVsbG8").unwrap(),
        b"hello"
    );
    assert_eq!(decode_base64("_-8").unwrap(), vec![0xff, 0xef]);
    assert!(decode_base64("").is_err());
    assert!(decode_base64("a").is_err());
}

#[test]
fn streamed_completed_event_holds_the_final_image() {
    let done = r#"{"type":"image_generation.completed","b64_json":"aGVsbG8=","usage":{}}"#;
    let images = b64_images_in_body(done).unwrap();
    assert_eq!(
        images,
        vec![Ok(ResponseImage {
            index: 0,
            bytes: b"hello".to_vec()
        })]
    );
    // A partial image is not a final one.
    let partial = r#"{"type":"image_generation.partial_image","b64_json":"aGVsbG8=","partial_image_index":0}"#;
    assert!(matches!(
        b64_images_in_body(partial),
        Err(ImageError::NoData(_))
    ));
}

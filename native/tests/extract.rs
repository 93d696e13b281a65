//! Tests of `imgperf extract` on hand-built raw exports, and of the core image
//! probes on real PNG, JPEG and WebP files encoded by the `image` crate.

use std::path::Path;

use base64::Engine as _;
use image::{ExtendedColorType, ImageEncoder, RgbImage};
use imgperf::extract::{run_extract, ExtractArgs};
use imgperf_core::images::{probe, sniff_format, ImageFormat, ImageInfo};
use serde_json::json;

fn picture(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 5) as u8, ((x ^ y) * 3) as u8])
    })
}

fn encode(format: ImageFormat, w: u32, h: u32) -> Vec<u8> {
    let img = picture(w, h);
    let mut out = Vec::new();
    let (raw, color) = (img.as_raw(), ExtendedColorType::Rgb8);
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
    .unwrap();
    out
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One raw-export line: the body travels as a JSON string in `responses[].text`.
fn raw_line(bodies: &[serde_json::Value]) -> String {
    let responses: Vec<_> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| json!({"perf_ns": 1000 + i, "text": body.to_string(), "content_type": "application/json"}))
        .collect();
    json!({
        "metadata": {"session_num": 0, "x_request_id": "abc", "benchmark_phase": "profiling", "was_cancelled": false},
        "start_perf_ns": 1, "payload": {"prompt": "p", "size": "512x512"}, "request_headers": {},
        "status": 200, "responses": responses, "error": null
    })
    .to_string()
}

fn body(items: serde_json::Value) -> serde_json::Value {
    json!({"created": 1_700_000_000, "data": items})
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn args(raw: &Path, out: &Path) -> ExtractArgs {
    ExtractArgs {
        raw_file: Some(raw.to_path_buf()),
        out_dir: Some(out.to_path_buf()),
        api_key: None,
    }
}

#[test]
fn extracts_png_jpeg_and_webp_with_names_and_extensions_from_magic_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let png = encode(ImageFormat::Png, 513, 257);
    let jpeg = encode(ImageFormat::Jpeg, 64, 31);
    let webp = encode(ImageFormat::Webp, 37, 19);
    let lines = [
        raw_line(&[body(
            json!([{"b64_json": b64(&png), "revised_prompt": "a"}, {"b64_json": b64(&jpeg)}]),
        )]),
        // A url item keeps its slot: the WebP is data[1].
        raw_line(&[body(
            json!([{"url": "/v1/images/x/content"}, {"b64_json": b64(&webp)}]),
        )]),
        // A failed request: an error body, no images.
        raw_line(&[
            json!({"error": {"message": "boom", "type": "server_error", "param": null, "code": null}}),
        ]),
        String::new(),
        // Two responses in one record, and bytes that are no image.
        raw_line(&[
            body(json!([{"b64_json": b64(&jpeg)}])),
            body(json!([{"b64_json": b64(b"hello")}])),
        ]),
    ];
    let raw = dir.path().join("profile_export_raw.jsonl");
    std::fs::write(&raw, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("nested/extracted_images");

    let written = run_extract(&args(&raw, &out)).unwrap();
    assert_eq!(written, 5);
    assert_eq!(
        names(&out),
        [
            "image_0001_00.png",
            "image_0001_01.jpg",
            "image_0002_01.webp",
            "image_0005_00.jpg",
            "image_0005_r01_00.bin"
        ]
    );
    for (name, dims) in [
        ("image_0001_00.png", (513, 257)),
        ("image_0001_01.jpg", (64, 31)),
        ("image_0002_01.webp", (37, 19)),
        ("image_0005_00.jpg", (64, 31)),
    ] {
        let img = image::open(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((img.width(), img.height()), dims, "{name}");
    }
    assert_eq!(std::fs::read(out.join("image_0001_00.png")).unwrap(), png);
    assert_eq!(
        std::fs::read(out.join("image_0005_r01_00.bin")).unwrap(),
        b"hello"
    );
}

#[test]
fn missing_file_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let err = run_extract(&args(
        &dir.path().join("nope.jsonl"),
        &dir.path().join("out"),
    ))
    .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("nope.jsonl") && msg.contains("--export-level raw"),
        "{msg}"
    );
}

#[test]
fn malformed_line_names_file_and_line_and_keeps_earlier_images() {
    let dir = tempfile::tempdir().unwrap();
    let png = encode(ImageFormat::Png, 8, 8);
    let raw = dir.path().join("raw.jsonl");
    let good = raw_line(&[body(json!([{"b64_json": b64(&png)}]))]);
    std::fs::write(
        &raw,
        format!("{good}\n{{\"responses\": [truncated\n{good}\n"),
    )
    .unwrap();
    let out = dir.path().join("out");
    let err = run_extract(&args(&raw, &out)).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("raw.jsonl:2"), "{msg}");
    assert_eq!(names(&out), ["image_0001_00.png"]);
}

#[test]
fn probe_reads_exact_sizes_of_real_images() {
    for (w, h) in [(1, 1), (513, 257), (257, 513), (1000, 3)] {
        for format in ImageFormat::ALL {
            let bytes = encode(format, w, h);
            assert_eq!(sniff_format(&bytes), Some(format));
            assert_eq!(
                probe(&bytes),
                Ok(ImageInfo {
                    format,
                    width: w,
                    height: h
                }),
                "{format} {w}x{h}"
            );
        }
    }
    // PNG with alpha and 16-bit grey, and a JPEG with an Exif-ish APP1 before the frame.
    let mut rgba = Vec::new();
    image::codecs::png::PngEncoder::new(&mut rgba)
        .write_image(&vec![7u8; 33 * 17 * 4], 33, 17, ExtendedColorType::Rgba8)
        .unwrap();
    assert_eq!(
        probe(&rgba).unwrap(),
        ImageInfo {
            format: ImageFormat::Png,
            width: 33,
            height: 17
        }
    );
    let mut grey16 = Vec::new();
    image::codecs::png::PngEncoder::new(&mut grey16)
        .write_image(&[0u8; 9 * 5 * 2], 9, 5, ExtendedColorType::L16)
        .unwrap();
    assert_eq!(probe(&grey16).unwrap().width, 9);
    let jpeg = encode(ImageFormat::Jpeg, 99, 77);
    let mut with_app1 = jpeg[..2].to_vec();
    with_app1.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x08, b'E', b'x', b'i', b'f', 0, 0]);
    with_app1.extend_from_slice(&jpeg[2..]);
    assert_eq!(
        probe(&with_app1).unwrap(),
        ImageInfo {
            format: ImageFormat::Jpeg,
            width: 99,
            height: 77
        }
    );
    // Extended WebP (VP8X): metadata makes the encoder write a VP8X chunk first.
    let mut vp8x = Vec::new();
    let mut enc = image::codecs::webp::WebPEncoder::new_lossless(&mut vp8x);
    enc.set_exif_metadata(b"Exif\0\0MM\0*".to_vec()).unwrap();
    enc.write_image(picture(301, 2).as_raw(), 301, 2, ExtendedColorType::Rgb8)
        .unwrap();
    assert_eq!(&vp8x[12..16], b"VP8X");
    assert_eq!(
        probe(&vp8x).unwrap(),
        ImageInfo {
            format: ImageFormat::Webp,
            width: 301,
            height: 2
        }
    );
    // Truncating a real file in the header is reported, not misread.
    let png = encode(ImageFormat::Png, 5, 5);
    assert!(probe(&png[..20]).is_err());
}

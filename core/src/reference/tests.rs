//! Reference images: sources, data URIs, loading with per-row errors,
//! masks, and synthetic plans.

use super::synthetic::{synthetic_references, PictureSpec, SyntheticFormat, SyntheticImages};
use super::*;
use crate::images::ImageFormat;
use crate::virtual_clock::VirtualRuntime;
use base64::Engine as _;
use std::cell::RefCell;

/// A PNG of `w`×`h` as far as a header check goes.
fn png(w: u32, h: u32) -> Bytes {
    Bytes::from(crate::images::test_png(w, h, 4))
}

fn row(line: usize, images: &[&str], mask: Option<&str>) -> RowReferences {
    RowReferences {
        line,
        images: images.iter().map(|s| s.to_string()).collect(),
        mask: mask.map(str::to_owned),
    }
}

/// Load `rows` from an in-memory "disk and web", counting fetches.
fn load(
    rows: &[RowReferences],
    files: &[(&str, Bytes)],
) -> (Result<Vec<References>, ReferenceError>, Vec<ImageSource>) {
    let calls = RefCell::new(Vec::new());
    let result = VirtualRuntime::new().block_on(load_references("edits.jsonl", rows, |src| {
        calls.borrow_mut().push(src.clone());
        let key = match &src {
            ImageSource::Path(p) | ImageSource::Url(p) => p.clone(),
            ImageSource::Data(_) => unreachable!("data: URIs are decoded by core"),
        };
        let found = files
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, b)| b.clone());
        async move {
            found.ok_or_else(|| match src {
                ImageSource::Url(_) => "HTTP 404 Not Found".to_string(),
                _ => "No such file or directory (os error 2)".to_string(),
            })
        }
    }));
    (result, calls.into_inner())
}

#[test]
fn sources_are_classified() {
    assert_eq!(
        ImageSource::parse(" ref/a.png "),
        ImageSource::Path("ref/a.png".into())
    );
    assert_eq!(
        ImageSource::parse("file:///tmp/a.png"),
        ImageSource::Path("/tmp/a.png".into())
    );
    assert!(matches!(
        ImageSource::parse("HTTPS://x/a.png"),
        ImageSource::Url(_)
    ));
    let data = ImageSource::parse("data:image/png;base64,AAAA");
    assert!(matches!(data, ImageSource::Data(_)));
    assert_eq!(data.label(), "data: URI (image/png, 26 characters)");
}

#[test]
fn data_uris_decode_or_say_why_not() {
    let b64 = base64::engine::general_purpose::STANDARD.encode(png(3, 2));
    let bytes = decode_data_uri(&format!("data:image/png;base64,{b64}")).unwrap();
    assert_eq!(bytes, png(3, 2));
    assert!(decode_data_uri("data:image/png,abc")
        .unwrap_err()
        .contains("not base64"));
    assert!(decode_data_uri("data:image/png;base64")
        .unwrap_err()
        .contains("no ','"));
    assert!(decode_data_uri("data:image/png;base64,@@@")
        .unwrap_err()
        .contains("invalid base64"));
}

#[test]
fn each_source_is_fetched_once_and_shared() {
    let b64 = base64::engine::general_purpose::STANDARD.encode(png(8, 8));
    let data = format!("data:image/png;base64,{b64}");
    let rows = [
        row(1, &["a.png"], None),
        row(2, &["a.png", "http://h/b.png"], Some("m.png")),
        row(4, &[&data], None),
    ];
    let files = [
        ("a.png", png(64, 32)),
        ("http://h/b.png", png(16, 16)),
        ("m.png", png(64, 32)),
    ];
    let (refs, calls) = load(&rows, &files);
    let refs = refs.unwrap();
    assert_eq!(
        calls.len(),
        3,
        "a.png, b.png and the mask, once each: {calls:?}"
    );
    assert!(Arc::ptr_eq(&refs[0].images[0], &refs[1].images[0]));
    assert_eq!(refs[1].images[1].info.width, 16);
    assert_eq!(refs[1].mask.as_ref().unwrap().info.height, 32);
    assert_eq!(refs[2].images[0].info.width, 8);
    let meta = refs[0].images[0].meta();
    assert_eq!(
        (meta.format, meta.width, meta.height),
        (ImageFormat::Png, 64, 32)
    );
    assert_eq!(meta.bytes, png(64, 32).len() as u64);
    assert_eq!(meta.sha256.len(), SHA_PREFIX);
    assert!(refs[0].images[0].sha256_hex().starts_with(&meta.sha256));
    assert_ne!(refs[0].images[0].sha256, refs[1].images[1].sha256);
}

#[test]
fn each_bad_reference_is_one_line_naming_the_row() {
    let files = [
        ("a.png", png(64, 32)),
        ("small-mask.png", png(32, 32)),
        ("notes.txt", Bytes::from_static(b"hello, not an image")),
        ("cut.png", png(8, 8).slice(..40)),
    ];
    let cases = [
        (
            row(7, &["missing.png"], None),
            "edits.jsonl:7: image \"missing.png\": No such file",
        ),
        (
            row(3, &["http://h/gone.png"], None),
            "edits.jsonl:3: image \"http://h/gone.png\": HTTP 404",
        ),
        (
            row(2, &["notes.txt"], None),
            "edits.jsonl:2: image \"notes.txt\": is not a usable image: not a PNG, JPEG or WebP",
        ),
        (
            row(5, &["cut.png"], None),
            "image \"cut.png\": is not a usable image: png ends before its IEND",
        ),
        (
            row(9, &["a.png"], Some("small-mask.png")),
            "edits.jsonl:9: mask \"small-mask.png\" is 32x32 but its image \"a.png\" is 64x32",
        ),
        (
            row(4, &["a.png"], Some("nope.png")),
            "edits.jsonl:4: mask \"nope.png\": No such file",
        ),
    ];
    for (r, want) in cases {
        let rows = [row(1, &["a.png"], None), r];
        let msg = load(&rows, &files).0.unwrap_err().to_string();
        assert!(msg.contains(want), "{msg}\n  wanted: {want}");
        assert!(!msg.contains('\n'), "{msg}");
    }
    let rows = [row(1, &["a.png"], None), row(6, &[], None)];
    let msg = require_images("edits.jsonl", &rows, "image_edit needs one")
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("edits.jsonl:6: row has no \"image\""),
        "{msg}"
    );
    assert!(require_images("edits.jsonl", &rows[..1], "x").is_ok());
}

#[test]
fn video_rows_take_one_reference_and_no_mask() {
    let ok = [row(1, &["a.png"], None), row(2, &[], None)];
    assert!(check_video_rows("v.jsonl", &ok).is_ok());
    let two = [row(1, &[], None), row(3, &["a.png", "b.png"], None)];
    let msg = check_video_rows("v.jsonl", &two).unwrap_err().to_string();
    assert!(
        msg.starts_with("v.jsonl:3: row names 2 images; image-to-video sends one"),
        "{msg}"
    );
    let mask = [row(4, &["a.png"], Some("m.png"))];
    let msg = check_video_rows("v.jsonl", &mask).unwrap_err().to_string();
    assert!(msg.starts_with("v.jsonl:4: row has a \"mask\""), "{msg}");
}

fn spec(batch: usize, w: f64, wsd: f64, format: SyntheticFormat) -> SyntheticImages {
    SyntheticImages {
        width_mean: w,
        width_stddev: wsd,
        height_mean: 300.0,
        height_stddev: 0.0,
        batch_size: batch,
        format,
    }
}

#[test]
fn synthetic_plans_are_seeded_and_follow_the_flags() {
    let s = spec(3, 512.0, 0.0, SyntheticFormat::Png);
    let plan = s.plan(5, 42);
    assert_eq!(plan.len(), 5);
    assert!(plan.iter().all(|p| p.len() == 3));
    assert!(plan
        .iter()
        .flatten()
        .all(|p| (p.width, p.height, p.format) == (512, 300, ImageFormat::Png)));
    assert_eq!(plan, s.plan(5, 42));
    assert_ne!(plan, s.plan(5, 43));

    let varied = spec(1, 512.0, 100.0, SyntheticFormat::Random).plan(200, 1);
    let widths: Vec<u32> = varied.iter().flatten().map(|p| p.width).collect();
    let mean = widths.iter().map(|&w| f64::from(w)).sum::<f64>() / 200.0;
    assert!((mean - 512.0).abs() < 30.0, "mean width {mean}");
    assert!(widths.iter().any(|&w| w != 512));
    let pngs = varied
        .iter()
        .flatten()
        .filter(|p| p.format == ImageFormat::Png)
        .count();
    assert!((50..150).contains(&pngs), "{pngs} PNGs of 200");
}

#[test]
fn synthetic_flags_are_checked_by_name() {
    let msg = spec(0, 512.0, 0.0, SyntheticFormat::Png)
        .validate()
        .unwrap_err();
    assert!(
        msg.starts_with("--image-batch-size must be at least 1"),
        "{msg}"
    );
    assert!(spec(1, 0.0, 0.0, SyntheticFormat::Png)
        .validate()
        .unwrap_err()
        .starts_with("--image-width-mean"));
    assert!(spec(1, 64.0, -1.0, SyntheticFormat::Png)
        .validate()
        .unwrap_err()
        .starts_with("--image-width-stddev"));
    assert!(spec(1, 64.0, 0.0, SyntheticFormat::Png).validate().is_ok());
    assert_eq!(SyntheticFormat::parse("JPG"), Ok(SyntheticFormat::Jpeg));
    assert!(SyntheticFormat::parse("gif")
        .unwrap_err()
        .contains("png, jpeg or random"));
}

#[test]
fn synthetic_references_encode_each_distinct_picture_once() {
    let plan = vec![
        vec![PictureSpec {
            width: 4,
            height: 2,
            format: ImageFormat::Png,
            variant: 1,
        }],
        vec![
            PictureSpec {
                width: 4,
                height: 2,
                format: ImageFormat::Png,
                variant: 1,
            },
            PictureSpec {
                width: 6,
                height: 6,
                format: ImageFormat::Png,
                variant: 2,
            },
        ],
    ];
    let calls = RefCell::new(0);
    let refs = VirtualRuntime::new()
        .block_on(synthetic_references(&plan, |s| {
            *calls.borrow_mut() += 1;
            assert_eq!(s.render().len(), (3 * s.width * s.height) as usize);
            std::future::ready(Ok(png(s.width, s.height)))
        }))
        .unwrap();
    assert_eq!(*calls.borrow(), 2);
    assert!(Arc::ptr_eq(&refs[0].images[0], &refs[1].images[0]));
    assert_eq!(refs[1].images[1].source, "synthetic 6x6 png #2");

    let wrong = VirtualRuntime::new().block_on(synthetic_references(&plan, |_| {
        std::future::ready(Ok(png(1, 1)))
    }));
    assert!(wrong.unwrap_err().contains("came out as png 1x1"));
}

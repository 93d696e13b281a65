//! Edit bodies: the multipart form as servers read it, the payload
//! description, and one shared body per entry.

use super::*;
use crate::reference::ReferenceImage;
use crate::request::{parse_extra_inputs, EDIT_ENDPOINT};

/// A checked image of `w`×`h`; `filler` bytes of IDAT tell images apart.
fn image(w: u32, h: u32, filler: usize, source: &str) -> Arc<ReferenceImage> {
    let png = Bytes::from(crate::images::test_png(w, h, filler));
    Arc::new(ReferenceImage::from_bytes(png, source).unwrap())
}

/// A part of a parsed form: headers and content.
#[derive(Debug)]
struct Part {
    disposition: String,
    content_type: Option<String>,
    content: Vec<u8>,
}

/// Parse a multipart body the way RFC 7578 lays it out.
fn parse(body: &[u8], content_type: &str) -> Vec<Part> {
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .expect("multipart content type");
    let delim = format!("--{boundary}");
    let mut rest = body
        .strip_prefix(delim.as_bytes())
        .expect("body starts with the boundary");
    let mut parts = Vec::new();
    let sep = format!("\r\n--{boundary}");
    loop {
        if rest.starts_with(b"--\r\n") {
            assert_eq!(rest.len(), 4, "nothing after the closing boundary");
            return parts;
        }
        rest = rest.strip_prefix(b"\r\n").expect("CRLF after a boundary");
        let head_end = memchr::memmem::find(rest, b"\r\n\r\n").expect("part headers end");
        let head = std::str::from_utf8(&rest[..head_end]).unwrap();
        let body_start = head_end + 4;
        let end = memchr::memmem::find(&rest[body_start..], sep.as_bytes()).expect("next boundary");
        let mut disposition = String::new();
        let mut ctype = None;
        for line in head.split("\r\n") {
            if let Some(v) = line.strip_prefix("Content-Disposition: ") {
                disposition = v.to_owned();
            } else if let Some(v) = line.strip_prefix("Content-Type: ") {
                ctype = Some(v.to_owned());
            }
        }
        parts.push(Part {
            disposition,
            content_type: ctype,
            content: rest[body_start..body_start + end].to_vec(),
        });
        rest = &rest[body_start + end + sep.len()..];
    }
}

fn endpoint() -> EndpointConfig {
    EndpointConfig {
        urls: vec!["http://127.0.0.1:1".into()],
        endpoint_path: EDIT_ENDPOINT.into(),
        model: "black-forest-labs/FLUX.2-klein-4B".into(),
        api_key: None,
        headers: vec![],
        extra_inputs: parse_extra_inputs(&[
            "size:512x512".into(),
            "guidance_scale:1.0".into(),
            "num_inference_steps:4".into(),
        ])
        .unwrap(),
        streaming: false,
        kind: crate::endpoint::EndpointKind::ImageEdit,
    }
}

#[test]
fn one_image_goes_as_image_with_every_field_as_text() {
    let refs = References {
        images: vec![image(64, 32, 3, "ref1.png")],
        mask: None,
    };
    let prompts = [PromptSpec {
        prompt: "Make the background a sunset".into(),
        extra: Some(serde_json::from_str(r#"{"seed": 7, "negative_prompt": null}"#).unwrap()),
    }];
    let w = edit_workload(
        &prompts,
        std::slice::from_ref(&refs),
        &endpoint(),
        None,
        1,
        false,
    );
    let item = &w.items[0];
    let parts = parse(&item.body, &item.content_type);
    let names: Vec<&str> = parts.iter().map(|p| p.disposition.as_str()).collect();
    assert_eq!(
        names,
        [
            "form-data; name=\"prompt\"",
            "form-data; name=\"model\"",
            "form-data; name=\"response_format\"",
            "form-data; name=\"n\"",
            "form-data; name=\"size\"",
            "form-data; name=\"guidance_scale\"",
            "form-data; name=\"num_inference_steps\"",
            "form-data; name=\"seed\"",
            "form-data; name=\"image\"; filename=\"image_0.png\"",
        ]
    );
    let text = |i: usize| String::from_utf8(parts[i].content.clone()).unwrap();
    assert_eq!(text(0), "Make the background a sunset");
    assert_eq!(
        (text(3), text(5), text(6), text(7)),
        ("1".into(), "1.0".into(), "4".into(), "7".into())
    );
    assert_eq!(parts[8].content_type.as_deref(), Some("image/png"));
    assert_eq!(parts[8].content, &refs.images[0].bytes[..]);

    let p = &item.payload;
    assert_eq!(p["prompt"], "Make the background a sunset");
    assert_eq!(p["size"], "512x512");
    let f = &p[FILES_KEY][0];
    assert_eq!(f["name"], "image");
    assert_eq!(f["content_type"], "image/png");
    assert_eq!(f["size"], refs.images[0].bytes.len());
    assert_eq!(f["sha256"], refs.images[0].sha256_hex());
    assert_eq!(
        (f["width"].clone(), f["height"].clone()),
        (json!(64), json!(32))
    );
    assert_eq!(f["source"], "ref1.png");
    assert!(f.get("b64").is_none(), "bytes only when asked for");
    assert_eq!(item.inputs.len(), 1);
    assert_eq!(item.inputs[0].width, 64);
}

#[test]
fn several_images_go_as_image_array_then_the_mask_and_bytes_on_request() {
    let refs = References {
        images: vec![image(8, 8, 3, "a.png"), image(16, 8, 5, "b.png")],
        mask: Some(image(8, 8, 1, "m.png")),
    };
    let fields = endpoint().payload("p", None);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let b = edit_body(
        EndpointKind::ImageEdit,
        fields.as_object().unwrap(),
        &refs,
        &mut rng,
        true,
    );
    let parts = parse(&b.body, &b.content_type);
    let files: Vec<&str> = parts
        .iter()
        .map(|p| p.disposition.as_str())
        .filter(|d| d.contains("filename"))
        .collect();
    assert_eq!(
        files,
        [
            "form-data; name=\"image[]\"; filename=\"image_0.png\"",
            "form-data; name=\"image[]\"; filename=\"image_1.png\"",
            "form-data; name=\"mask\"; filename=\"mask.png\"",
        ]
    );
    assert_eq!(b.inputs.len(), 2, "the mask is not an input image");
    let described = &b.payload[FILES_KEY];
    assert_eq!(described.as_array().unwrap().len(), 3);
    let b64 = described[1]["b64"].as_str().unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(decoded, &refs.images[1].bytes[..]);
}

#[test]
fn boundary_never_occurs_in_the_content_and_is_seeded() {
    // A prompt holding the boundary the generator would draw first (text
    // and file parts are searched alike).
    let mut probe = ChaCha8Rng::seed_from_u64(9);
    let first = boundary(&mut probe, &[]);
    let refs = References {
        images: vec![image(8, 8, 2, "a.png")],
        mask: None,
    };
    let fields = endpoint().payload(&format!("say {first}"), None);
    let b = edit_body(
        EndpointKind::ImageEdit,
        fields.as_object().unwrap(),
        &refs,
        &mut ChaCha8Rng::seed_from_u64(9),
        false,
    );
    assert!(!b.content_type.contains(&first));
    assert_eq!(parse(&b.body, &b.content_type).len(), 8);
    let again = edit_body(
        EndpointKind::ImageEdit,
        fields.as_object().unwrap(),
        &refs,
        &mut ChaCha8Rng::seed_from_u64(9),
        false,
    );
    assert_eq!(again.body, b.body, "same seed, same bytes");
}

#[test]
fn quotes_and_line_breaks_in_names_are_escaped() {
    assert_eq!(quoted("a\"b\r\nc"), "a%22b%0D%0Ac");
}

#[test]
fn a_video_entry_with_a_reference_is_a_form_with_input_reference_and_one_without_stays_json() {
    let refs = [
        References {
            images: vec![image(48, 32, 5, "first.png")],
            mask: None,
        },
        References::default(),
    ];
    let prompts: Vec<PromptSpec> = ["A cat walks on the grass", "A fox in the snow"]
        .iter()
        .map(|p| PromptSpec {
            prompt: (*p).into(),
            extra: None,
        })
        .collect();
    let endpoint = EndpointConfig {
        endpoint_path: "/v1/videos".into(),
        extra_inputs: parse_extra_inputs(&["size:832x480".into(), "seconds:4".into()]).unwrap(),
        kind: EndpointKind::VideoGeneration,
        ..endpoint()
    };
    let w = edit_workload(&prompts, &refs, &endpoint, None, 3, false);
    let i2v = &w.items[0];
    let parts = parse(&i2v.body, &i2v.content_type);
    let last = parts.last().unwrap();
    assert_eq!(
        last.disposition,
        "form-data; name=\"input_reference\"; filename=\"image_0.png\""
    );
    assert_eq!(last.content, &refs[0].images[0].bytes[..]);
    let texts: Vec<&str> = parts[..parts.len() - 1]
        .iter()
        .map(|p| p.disposition.as_str())
        .collect();
    assert!(texts.contains(&"form-data; name=\"seconds\""), "{texts:?}");
    assert_eq!(i2v.payload[FILES_KEY][0]["name"], VIDEO_REFERENCE_PART);
    assert_eq!(i2v.payload["seconds"], 4, "the payload keeps JSON values");
    assert_eq!(i2v.inputs.len(), 1);
    let t2v = &w.items[1];
    assert_eq!(&*t2v.content_type, "application/json");
    assert!(t2v.payload.get(FILES_KEY).is_none());
    assert!(t2v.inputs.is_empty());
    let body: Value = serde_json::from_slice(&t2v.body).unwrap();
    assert_eq!(body["prompt"], "A fox in the snow");
}

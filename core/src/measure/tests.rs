//! Unit tests of response measurement: JSON bodies, event streams, checks
//! against the payload, and `--validate-images` modes.

use super::*;
use crate::output::IssueKind;
use crate::transport::Timing;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use serde_json::json;

const MS: u64 = 1_000_000;

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut b = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
    b.extend_from_slice(b"IHDR");
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    b.extend((0..5000).map(|i| (i % 251) as u8));
    b.extend_from_slice(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]);
    b
}

fn b64(w: u32, h: u32) -> String {
    STANDARD.encode(png(w, h))
}

fn resp(status: u16, ct: &str, body: impl Into<Bytes>, chunks: Vec<(u64, usize)>) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), ct.into())],
        body: body.into(),
        timing: Timing {
            start_ns: 0,
            upload_end_ns: None,
            first_byte_ns: Some(10 * MS),
            end_ns: 400 * MS,
            stale_attempt_ns: None,
        },
        chunks,
    }
}

fn run(payload: serde_json::Value, r: &HttpResponse, mode: ValidateImages) -> (Analysis, Output) {
    let expect = Expect::from_payload(&payload);
    let mut m = measure(r, &expect, mode);
    assert!(m.urls.is_empty());
    conclude(&mut m.verdict, &mut m.output, &expect, mode, r.status);
    (m.verdict, m.output)
}

fn kinds(o: &Output) -> Vec<IssueKind> {
    o.issues.iter().map(|i| i.kind).collect()
}

#[test]
fn expectations_from_the_payload() {
    let e = Expect::from_payload(
        &json!({"n": 2, "size": "512x256", "output_format": "JPEG", "stream": true}),
    );
    assert_eq!(
        (e.n, e.size, e.format, e.stream),
        (2, Some((512, 256)), Some(ImageFormat::Jpeg), true)
    );
    let e = Expect::from_payload(&json!({"width": 640, "height": "480"}));
    assert_eq!(
        (e.n, e.size, e.size_label.as_deref()),
        (1, Some((640, 480)), Some("640x480"))
    );
    let e = Expect::from_payload(&json!({"size": "auto"}));
    assert_eq!((e.size, e.size_label.as_deref()), (None, Some("auto")));
}

#[test]
fn json_images_are_checked_against_n_size_and_format() {
    let body = json!({"data": [{"b64_json": b64(512, 512)}, {"b64_json": b64(1, 1)}],
                      "inference_time_s": 1.5, "peak_memory_mb": 2048})
    .to_string();
    let r = resp(200, "application/json", body, vec![]);
    let payload = json!({"n": 2, "size": "512x512", "output_format": "png"});
    let (v, o) = run(payload.clone(), &r, ValidateImages::Warn);
    assert_eq!((v.error, v.image_count), (None, 2));
    assert_eq!(o.delivery, Some(Delivery::B64Json));
    assert_eq!(o.images.len(), 2);
    assert_eq!((o.images[0].width, o.images[1].width), (512, 1));
    assert_eq!(o.image_bytes, Some(2 * png(1, 1).len() as u64));
    assert_eq!(kinds(&o), [IssueKind::SizeMismatch]);
    assert_eq!(o.issues[0].message, "1x1 returned, 512x512 requested");
    assert_eq!(o.issues[0].index, Some(1));
    assert_eq!(
        (o.first_image_ns, o.final_image_ns),
        (Some(400 * MS), Some(400 * MS))
    );
    assert_eq!(o.server.inference_time_s, Some(1.5));
    assert_eq!(o.server.peak_memory_mb, Some(2048.0));
    // Strict: the same response is an error; off: nothing is checked.
    let (v, _) = run(payload.clone(), &r, ValidateImages::Strict);
    let e = v.error.unwrap();
    assert_eq!(
        (e.code, e.kind.as_str()),
        (Some(200), "ImageValidationError")
    );
    assert_eq!(e.message, "size_mismatch: 1x1 returned, 512x512 requested");
    let (v, o) = run(payload, &r, ValidateImages::Off);
    assert!(v.error.is_none() && o.issues.is_empty() && o.images.is_empty());
    assert_eq!(o.image_bytes, Some(2 * png(1, 1).len() as u64));
    // Format and count mismatches.
    let (_, o) = run(
        json!({"n": 3, "output_format": "jpeg"}),
        &r,
        ValidateImages::Warn,
    );
    assert_eq!(
        kinds(&o),
        [
            IssueKind::CountMismatch,
            IssueKind::FormatMismatch,
            IssueKind::FormatMismatch
        ]
    );
}

#[test]
fn defective_and_missing_images() {
    let cut = b64(64, 64);
    let body = json!({"data": [{"b64_json": &cut[..cut.len() / 2]}, {"b64_json": "@@@@"}, {"revised_prompt": "x"}]});
    let r = resp(200, "application/json", body.to_string(), vec![]);
    let (v, o) = run(json!({"n": 3}), &r, ValidateImages::Warn);
    assert!(v.error.is_none());
    assert_eq!(
        kinds(&o),
        [
            IssueKind::Truncated,
            IssueKind::Undecodable,
            IssueKind::Missing
        ]
    );
    let (v, _) = run(json!({"n": 3}), &r, ValidateImages::Strict);
    assert!(v.error.unwrap().message.contains("truncated: "));
}

#[test]
fn errors_and_url_items() {
    let r = resp(200, "application/json", r#"{"data":[]}"#, vec![]);
    let (v, o) = run(json!({}), &r, ValidateImages::Warn);
    assert!(v.error.unwrap().message.contains("empty"));
    assert_eq!(o.delivery, None);
    let r = resp(
        200,
        "application/json",
        r#"{"data":[{"url":"/v1/images/a/content"}]}"#,
        vec![],
    );
    let m = measure(&r, &Expect::from_payload(&json!({})), ValidateImages::Warn);
    assert_eq!(m.urls, [(0, Cow::Borrowed("/v1/images/a/content"))]);
    assert_eq!(m.output.delivery, Some(Delivery::Url));
    assert_eq!(m.output.final_image_ns, None);
}

/// Events at 100, 200 (partials) and 300 ms (final), `[DONE]` at 310 ms.
fn stream_body(done: bool) -> (String, Vec<(u64, usize)>) {
    let mut body = String::new();
    let mut chunks = Vec::new();
    let events = [
        (
            "image_generation.partial_image",
            json!({"type": "image_generation.partial_image", "b64_json": b64(8, 8), "partial_image_index": 0}),
        ),
        (
            "image_generation.partial_image",
            json!({"type": "image_generation.partial_image", "b64_json": b64(8, 8), "partial_image_index": 1}),
        ),
        (
            "image_generation.completed",
            json!({"type": "image_generation.completed", "b64_json": b64(512, 512),
            "usage": {"input_tokens": 7, "output_tokens": 4160, "total_tokens": 4167}}),
        ),
    ];
    for (i, (name, data)) in events.iter().enumerate() {
        body.push_str(&format!("event: {name}\ndata: {data}\n\n"));
        chunks.push(((i as u64 + 1) * 100 * MS, body.len()));
    }
    if done {
        body.push_str("data: [DONE]\n\n");
        chunks.push((310 * MS, body.len()));
    }
    (body, chunks)
}

#[test]
fn stream_events_are_dated_by_their_chunks() {
    for done in [true, false] {
        let (body, chunks) = stream_body(done);
        let r = resp(200, "text/event-stream", body, chunks);
        let expect = Expect::from_payload(&json!({"stream": true, "size": "512x512"}));
        let m = measure(&r, &expect, ValidateImages::Warn);
        assert!(m.verdict.error.is_none(), "{:?}", m.verdict);
        assert_eq!(m.verdict.image_count, 1);
        let o = &m.output;
        assert_eq!(o.delivery, Some(Delivery::Stream));
        assert_eq!(o.partial_image_ns, [100 * MS, 200 * MS]);
        assert_eq!(
            (o.first_image_ns, o.final_image_ns),
            (Some(300 * MS), Some(300 * MS)),
            "first and final are final images; partials are counted apart"
        );
        assert!(o.issues.is_empty(), "{:?}", o.issues);
        assert_eq!(o.images[0].width, 512);
        assert_eq!(
            (o.server.input_tokens, o.server.total_tokens),
            (Some(7), Some(4167))
        );
        assert_eq!(m.events.len(), 3 + usize::from(done));
        assert_eq!(m.events[1].0, 200 * MS);
        assert!(m.events[2].1.contains("image_generation.completed"));
        assert!(
            matches!(m.events[2].1, Cow::Borrowed(_)),
            "event data is not copied"
        );
    }
}

#[test]
fn stream_failures_and_a_server_ignoring_stream() {
    let err = "event: error\ndata: {\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\"}}\n\n";
    let r = resp(200, "text/event-stream", err, vec![]);
    let m = measure(
        &r,
        &Expect::from_payload(&json!({"stream": true})),
        ValidateImages::Warn,
    );
    let e = m.verdict.error.unwrap();
    assert_eq!(
        (e.kind.as_str(), e.message.as_str()),
        ("server_error", "out of memory")
    );
    let partial_only = format!(
        "data: {}\n\n",
        json!({"type": "image_generation.partial_image", "b64_json": b64(2, 2)})
    );
    let r = resp(200, "text/event-stream", partial_only, vec![]);
    let m = measure(
        &r,
        &Expect::from_payload(&json!({"stream": true})),
        ValidateImages::Warn,
    );
    assert!(m
        .verdict
        .error
        .unwrap()
        .message
        .contains("without a final image (no image_generation.completed or image_edit.completed event; 1 partial"));
    // Asked to stream, answered with JSON: measured as JSON, flagged.
    let body = json!({"data": [{"b64_json": b64(4, 4)}]}).to_string();
    let r = resp(200, "application/json", body, vec![]);
    let (v, o) = run(json!({"stream": true}), &r, ValidateImages::Warn);
    assert!(v.error.is_none());
    assert!(o.stream_ignored());
    assert!(o.partial_image_ns.is_empty());
}

#[test]
fn arbitrary_bytes_never_panic() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let alphabet = b"AZaz09+/=-_ \n\r:{}\"[],.databevntimg_json\xc3\xa9\xff";
    let good = b64(16, 16);
    for round in 0..3000 {
        let len = rng.random_range(0..400);
        let mut body: Vec<u8> = (0..len)
            .map(|_| alphabet[rng.random_range(0..alphabet.len())])
            .collect();
        if round % 3 == 0 {
            // Mutations of a well-formed body and event stream.
            let base = if round % 2 == 0 {
                json!({"data": [{"b64_json": good}]}).to_string()
            } else {
                format!(
                    "event: image_generation.completed\ndata: {}\n\n",
                    json!({"b64_json": good})
                )
            };
            body = base.into_bytes();
            for _ in 0..rng.random_range(1..6) {
                let at = rng.random_range(0..body.len());
                body[at] = alphabet[rng.random_range(0..alphabet.len())];
            }
            body.truncate(rng.random_range(0..body.len() + 1));
        }
        let text = String::from_utf8_lossy(&body).into_owned();
        let _ = crate::images::check_b64(&text);
        let _ = crate::images::check_bytes(&body);
        for ct in ["application/json", "text/event-stream"] {
            let chunks = vec![(1, body.len() / 2), (2, body.len())];
            let r = resp(200, ct, body.clone(), chunks);
            for mode in [ValidateImages::Warn, ValidateImages::Strict] {
                let _ = run_any(&r, mode);
            }
        }
    }
}

fn run_any(r: &HttpResponse, mode: ValidateImages) -> Analysis {
    let expect = Expect::from_payload(&json!({"n": 2, "size": "16x16", "stream": true}));
    let mut m = measure(r, &expect, mode);
    conclude(&mut m.verdict, &mut m.output, &expect, mode, r.status);
    m.verdict
}

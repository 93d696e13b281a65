//! Request building tests: URLs, headers and their redaction, extra inputs
//! and their coercion, size checks.

use super::*;
use serde_json::json;

fn cfg() -> EndpointConfig {
    EndpointConfig {
        urls: vec![normalize_base_url("localhost:30000").unwrap()],
        endpoint_path: DEFAULT_ENDPOINT.into(),
        model: "black-forest-labs/FLUX.1-dev".into(),
        api_key: Some("sk-secret".into()),
        headers: vec![parse_header("X-Team: images").unwrap()],
        extra_inputs: parse_extra_inputs(&["size:512x512".into(), "quality:standard".into()])
            .unwrap(),
        streaming: false,
        kind: Default::default(),
    }
}

#[test]
fn url_gets_scheme_and_joins_once() {
    assert_eq!(
        normalize_base_url("localhost:30000").unwrap(),
        "http://localhost:30000"
    );
    assert_eq!(
        normalize_base_url("https://api.openai.com/").unwrap(),
        "https://api.openai.com"
    );
    assert_eq!(
        join_url("http://h:1", "/v1/images/generations"),
        "http://h:1/v1/images/generations"
    );
    assert_eq!(join_url("http://h:1/", "v1/x"), "http://h:1/v1/x");
    assert_eq!(
        cfg().url_for(7),
        "http://localhost:30000/v1/images/generations"
    );
    for bad in ["", "  ", "ftp://x", "http://", "a b"] {
        assert!(normalize_base_url(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn round_robin_over_urls() {
    let mut c = cfg();
    c.urls.push(normalize_base_url("127.0.0.1:2").unwrap());
    assert_eq!(c.url_for(0), "http://localhost:30000/v1/images/generations");
    assert_eq!(c.url_for(1), "http://127.0.0.1:2/v1/images/generations");
    assert_eq!(c.url_for(2), "http://localhost:30000/v1/images/generations");
}

#[test]
fn coercion_matches_aiperf() {
    assert_eq!(coerce_value("true"), json!(true));
    assert_eq!(coerce_value("False"), json!(false));
    assert_eq!(coerce_value("none"), Value::Null);
    assert_eq!(coerce_value("null"), Value::Null);
    assert_eq!(coerce_value("28"), json!(28));
    assert_eq!(coerce_value("-3"), json!(-3));
    assert_eq!(coerce_value("0"), json!(0));
    assert_eq!(coerce_value("007"), json!("007"));
    assert_eq!(coerce_value("3.5"), json!(3.5));
    assert_eq!(coerce_value("512x512"), json!("512x512"));
    assert_eq!(coerce_value("1e5"), json!("1e5"));
    assert_eq!(coerce_value("[1,2]"), json!([1, 2]));
}

#[test]
fn extra_inputs_forms() {
    let m = parse_extra_inputs(&[
        "size:512x512".into(),
        "num_inference_steps:28,guidance_scale:3.5".into(),
        r#"{"seed": 42, "size": "1024x1024"}"#.into(),
        "negative_prompt:blurry, low quality".into(),
    ])
    .unwrap();
    assert_eq!(m["size"], json!("1024x1024"));
    assert_eq!(m["num_inference_steps"], json!(28));
    assert_eq!(m["guidance_scale"], json!(3.5));
    assert_eq!(m["seed"], json!(42));
    assert_eq!(m["negative_prompt"], json!("blurry, low quality"));
    for bad in ["size", ":x", "size:", "{not json", "[1,2]"] {
        let err = parse_extra_inputs(&[bad.into()]).unwrap_err();
        assert!(err.to_string().contains("--extra-inputs"), "{err}");
    }
}

#[test]
fn sizes_are_checked_with_a_hint() {
    for ok in ["512x512", "1024*1024", "auto", "1536x1024"] {
        assert!(check_size(&json!(ok)).is_ok(), "{ok}");
    }
    let msg = |s: Value| check_size(&s).unwrap_err().to_string();
    assert!(msg(json!("512X512")).contains("\"512x512\""));
    assert!(msg(json!("0x0")).contains("positive"));
    assert!(msg(json!("abc")).contains("WIDTHxHEIGHT"));
    assert!(msg(json!(512)).contains("string"));
    let e = parse_extra_inputs(&["size:0x0".into()])
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("invalid --extra-inputs: invalid size \"0x0\""),
        "{e}"
    );
}

#[test]
fn default_payload_then_extras_then_row_extra() {
    let c = cfg();
    let p = c.payload("a red fox", None);
    assert_eq!(
        p,
        json!({"prompt": "a red fox", "model": "black-forest-labs/FLUX.1-dev",
               "response_format": "b64_json", "n": 1, "size": "512x512", "quality": "standard"})
    );
    let row: Map<String, Value> =
        serde_json::from_value(json!({"size": "256x256", "seed": 1})).unwrap();
    let p = c.payload("x", Some(&row));
    assert_eq!(p["size"], json!("256x256"));
    assert_eq!(p["seed"], json!(1));
    let mut s = c.clone();
    s.streaming = true;
    assert_eq!(s.payload("x", None)["stream"], json!(true));
    // null leaves a field out (gpt-image models reject response_format).
    s.extra_inputs = parse_extra_inputs(&["response_format:null".into()]).unwrap();
    let p = s.payload("x", None);
    assert!(p.get("response_format").is_none(), "{p}");
    assert_eq!(p["n"], json!(1));
}

#[test]
fn headers_carry_ids_key_and_user_headers_and_redact() {
    let h = cfg().headers_for("rid", "cid");
    let get = |n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    assert_eq!(get("X-Request-ID").as_deref(), Some("rid"));
    assert_eq!(get("X-Correlation-ID").as_deref(), Some("cid"));
    assert_eq!(get("Authorization").as_deref(), Some("Bearer sk-secret"));
    assert_eq!(get("X-Team").as_deref(), Some("images"));
    assert_eq!(get("Content-Type").as_deref(), Some("application/json"));
    let red = redact_headers(&h);
    assert!(!format!("{red:?}").contains("sk-secret"));
    assert!(parse_header("nocolon").is_err());
    assert!(parse_header("bad name: v").is_err());
}

#[test]
fn a_video_payload_is_prompt_model_and_extras() {
    let mut c = cfg();
    c.kind = EndpointKind::VideoGeneration;
    c.extra_inputs = parse_extra_inputs(&["size:1280x720".into(), "seconds:4".into()]).unwrap();
    let p = c.payload("a red fox", None);
    assert_eq!(
        p,
        json!({"prompt": "a red fox", "model": "black-forest-labs/FLUX.1-dev", "size": "1280x720", "seconds": 4})
    );
}

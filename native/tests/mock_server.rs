//! End-to-end tests of the embedded mock image server: a real server on a free
//! loopback port, driven over HTTP with reqwest. Basics: real images, sizes
//! and formats, determinism, validation, models/health, shutdown. Latency,
//! dialects, faults, CORS and the truth log have their own `mock_*` files.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use base64::Engine as _;
use imgperf::mock::{CorsMode, MockArgs, MockServer};
use imgperf_core::images::{probe, ImageFormat};
use serde_json::{json, Value};

fn args(latency_ms: f64) -> MockArgs {
    MockArgs {
        port: 0,
        latency_ms,
        ..MockArgs::default()
    }
}

async fn start(args: MockArgs) -> MockServer {
    MockServer::start(&args).await.expect("mock server starts")
}

async fn post(server: &MockServer, body: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/images/generations", server.base_url()))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("request sent");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body read");
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")),
    )
}

async fn get(server: &MockServer, path: &str) -> reqwest::Response {
    reqwest::get(format!("{}{path}", server.base_url()))
        .await
        .expect("request sent")
}

/// Decodes every `data[].b64_json` of a 200 body.
fn images(body: &Value) -> Vec<Vec<u8>> {
    body["data"]
        .as_array()
        .expect("data array")
        .iter()
        .map(|item| {
            let b64 = item["b64_json"].as_str().expect("b64_json string");
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("valid base64")
        })
        .collect()
}

#[tokio::test]
async fn serves_real_images_of_the_requested_size_and_format() {
    let server = start(args(0.0)).await;
    for (name, format) in [
        ("png", ImageFormat::Png),
        ("jpeg", ImageFormat::Jpeg),
        ("webp", ImageFormat::Webp),
    ] {
        let req = json!({"prompt": "A serene mountain landscape at sunset", "size": "513x257", "output_format": name});
        let (status, body) = post(&server, &req.to_string()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["size"], "513x257");
        assert_eq!(body["output_format"], name);
        assert!(body["created"].as_u64().unwrap() > 1_600_000_000);
        assert_eq!(
            body["data"][0]["revised_prompt"],
            "A serene mountain landscape at sunset"
        );
        let imgs = images(&body);
        assert_eq!(imgs.len(), 1);
        let info = probe(&imgs[0]).expect("probe");
        assert_eq!((info.format, info.width, info.height), (format, 513, 257));
        let decoded = image::load_from_memory(&imgs[0])
            .expect("decodable")
            .to_rgb8();
        assert_eq!(decoded.dimensions(), (513, 257));
        let colours: HashSet<[u8; 3]> = decoded.pixels().map(|p| p.0).collect();
        assert!(
            colours.len() > 200,
            "{name}: a pattern, not a flat image ({} colours)",
            colours.len()
        );
    }
    assert_eq!(server.requests_seen(), 3);
    assert_eq!(server.requests_served(), 3);
    server.shutdown().await;
}

#[tokio::test]
async fn n_images_default_size_and_default_format() {
    let server = start(MockArgs {
        image_format: Some("jpeg".into()),
        ..args(0.0)
    })
    .await;
    let (status, body) = post(&server, r#"{"prompt":"two","n":2,"size":"64X48"}"#).await;
    assert_eq!(status, 200, "{body}");
    let imgs = images(&body);
    assert_eq!(imgs.len(), 2);
    for img in &imgs {
        let info = probe(img).unwrap();
        assert_eq!(
            (info.format, info.width, info.height),
            (ImageFormat::Jpeg, 64, 48)
        );
    }
    assert_eq!(body["output_format"], "jpeg");

    let (status, body) = post(
        &server,
        r#"{"prompt":"default size","n":null,"output_format":"png"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["size"], "1024x1024");
    let imgs = images(&body);
    let decoded = image::load_from_memory(&imgs[0]).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (1024, 1024));
    // Same request again: served from the cache, byte-identical.
    let (_, again) = post(
        &server,
        r#"{"prompt":"default size","size":"1024*1024","output_format":"png"}"#,
    )
    .await;
    assert_eq!(images(&again)[0], imgs[0]);
    server.shutdown().await;
}

#[tokio::test]
async fn bad_requests_get_400_in_the_openai_error_shape() {
    let server = start(args(0.0)).await;
    let cases: &[(&str, Option<&str>)] = &[
        ("this is not json", None),
        ("[1,2]", None),
        (r#"{"n":1}"#, Some("prompt")),
        (r#"{"prompt":42}"#, Some("prompt")),
        (r#"{"prompt":"p","n":0}"#, Some("n")),
        (r#"{"prompt":"p","n":11}"#, Some("n")),
        (r#"{"prompt":"p","n":"2"}"#, Some("n")),
        (r#"{"prompt":"p","size":"big"}"#, Some("size")),
        (r#"{"prompt":"p","size":"0x512"}"#, Some("size")),
        (r#"{"prompt":"p","size":"5000x5000"}"#, Some("size")),
        (
            r#"{"prompt":"p","response_format":"gif"}"#,
            Some("response_format"),
        ),
        (
            r#"{"prompt":"p","output_format":"gif"}"#,
            Some("output_format"),
        ),
    ];
    for (body, param) in cases {
        let (status, answer) = post(&server, body).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        let err = &answer["error"];
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{answer}"
        );
        assert_eq!(err["type"], "invalid_request_error");
        assert_eq!(
            err["param"],
            param.map_or(Value::Null, |p| json!(p)),
            "{body}"
        );
        assert!(err.get("code").is_some_and(Value::is_null), "{answer}");
    }
    let (_, answer) = post(&server, r#"{"prompt":"p","response_format":"gif"}"#).await;
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("b64_json"));
    assert_eq!(server.requests_seen(), cases.len() as u64 + 1);
    assert_eq!(server.requests_served(), 0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_is_honoured_and_slots_let_requests_overlap() {
    let server = start(MockArgs {
        slots: 4,
        ..args(200.0)
    })
    .await;
    let body = r#"{"prompt":"p","size":"32x32"}"#;
    let t = Instant::now();
    let (status, _) = post(&server, body).await;
    assert_eq!(status, 200);
    assert!(
        t.elapsed() >= Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );

    let t = Instant::now();
    let results = futures_util::future::join_all((0..4).map(|_| post(&server, body))).await;
    let elapsed = t.elapsed();
    assert!(results.iter().all(|(status, _)| *status == 200));
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(
        elapsed < Duration::from_millis(600),
        "requests were serialised: {elapsed:?}"
    );
    assert_eq!(server.requests_served(), 5);
    server.shutdown().await;
}

#[tokio::test]
async fn models_health_and_unknown_routes() {
    let server = start(args(0.0)).await;
    let models: Value =
        serde_json::from_str(&get(&server, "/v1/models").await.text().await.unwrap()).unwrap();
    let created = models["data"][0]["created"].as_u64().unwrap();
    assert_eq!(
        models,
        json!({"object":"list","data":[{"id":"mock-image-model","object":"model",
            "created": created, "owned_by":"imgperf"}]})
    );
    assert_eq!(get(&server, "/health").await.status().as_u16(), 200);
    let missing = get(&server, "/v1/nothing").await;
    assert_eq!(missing.status().as_u16(), 404);
    assert!(missing
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn cors_when_asked() {
    let server = start(MockArgs {
        cors: CorsMode::Any,
        ..args(0.0)
    })
    .await;
    let url = format!("{}/v1/images/generations", server.base_url());
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "http://example.test")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,authorization",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    assert!(h["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    assert_eq!(
        h["access-control-allow-headers"],
        "content-type,authorization"
    );
    let resp = get(&server, "/health").await;
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    assert_eq!(
        server.requests_seen(),
        0,
        "a preflight is not a generation request"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_the_server_and_base_url_is_loopback() {
    let server = start(MockArgs {
        host: "0.0.0.0".into(),
        ..args(0.0)
    })
    .await;
    let base = server.base_url();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert_ne!(server.addr.port(), 0);
    assert!(reqwest::get(format!("{base}/health")).await.is_ok());
    server.shutdown().await;
    let after = reqwest::Client::new()
        .get(format!("{base}/health"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(after.is_err(), "still answering after shutdown");
    for bad in [
        MockArgs {
            latency_ms: -1.0,
            ..args(0.0)
        },
        MockArgs {
            speedup: 0.0,
            ..args(0.0)
        },
        MockArgs {
            faults: vec!["500:0.6".parse().unwrap(), "429:0.6".parse().unwrap()],
            ..args(0.0)
        },
    ] {
        assert!(MockServer::start(&bad).await.is_err(), "{bad:?}");
    }
}

#[tokio::test]
async fn same_prompt_and_seed_same_image_and_prompts_vary_it() {
    let server = start(args(0.0)).await;
    let image = |prompt: &str, seed: u64| {
        let req = json!({"prompt": prompt, "seed": seed, "size": "96x64", "output_format": "png"});
        let server = &server;
        async move {
            let (status, body) = post(server, &req.to_string()).await;
            assert_eq!(status, 200, "{body}");
            images(&body).remove(0)
        }
    };
    assert_eq!(image("a red fox", 7).await, image("a red fox", 7).await);
    let mut distinct = HashSet::new();
    for i in 0..12 {
        distinct.insert(image(&format!("prompt number {i}"), 1).await);
    }
    assert!(
        distinct.len() >= 4,
        "only {} distinct images",
        distinct.len()
    );
    server.shutdown().await;
}

#[test]
fn serve_mock_help_documents_every_feature() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_imgperf"))
        .args(["serve-mock", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--dialect",
        "sglang",
        "vllm-omni",
        "--slots",
        "--step-ms",
        "--steps",
        "--jitter",
        "--speedup",
        "--max-batch",
        "--batch-window-ms",
        "--warmup-s",
        "--seed",
        "--fault ",
        "--fault-at",
        "--stall-s",
        "truncated-b64",
        "wrong-size",
        "--cors",
        "echo",
        "--cors-trap",
        "--truth-log",
        "--latency-ms",
    ] {
        assert!(
            help.contains(flag),
            "serve-mock --help lacks {flag}:\n{help}"
        );
    }
}

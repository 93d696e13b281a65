//! Each dialect of the mock on the wire, field by field (REFERENCE §6):
//! OpenAI, SGLang and vLLM-Omni generations, errors, `url` answers and
//! `/v1/images/{id}/content`, OpenAI SSE partial images, multipart edits,
//! `/v1/models` and `/health`.

use base64::Engine as _;
use imgperf::mock::{Dialect, MockArgs, MockServer};
use imgperf_core::images::{probe, ImageFormat};
use serde_json::{json, Value};

async fn server(dialect: Dialect) -> MockServer {
    MockServer::start(&MockArgs {
        port: 0,
        latency_ms: 0.0,
        dialect,
        ..MockArgs::default()
    })
    .await
    .expect("mock starts")
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.bytes)))
    }
}

async fn send(req: reqwest::RequestBuilder) -> Answer {
    let resp = req.send().await.expect("sent");
    Answer {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        bytes: resp.bytes().await.expect("body").to_vec(),
    }
}

async fn post(server: &MockServer, body: Value) -> Answer {
    send(
        reqwest::Client::new()
            .post(format!("{}/v1/images/generations", server.base_url()))
            .header("content-type", "application/json")
            .body(body.to_string()),
    )
    .await
}

async fn get(server: &MockServer, path: &str) -> Answer {
    send(reqwest::Client::new().get(format!("{}{path}", server.base_url()))).await
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

fn b64(s: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s.as_str().expect("base64 string"))
        .expect("valid base64")
}

fn shape(bytes: &[u8]) -> (ImageFormat, u32, u32) {
    let info = probe(bytes).expect("an image");
    (info.format, info.width, info.height)
}

#[tokio::test]
async fn openai_b64_url_usage_and_errors() {
    let s = server(Dialect::Openai).await;
    let a = post(
        &s,
        json!({"prompt": "a blue bird", "size": "256x256", "quality": "low"}),
    )
    .await;
    assert_eq!(a.status, 200);
    let body = a.json();
    assert_eq!(
        keys(&body),
        [
            "background",
            "created",
            "data",
            "output_format",
            "quality",
            "size",
            "usage"
        ]
    );
    assert_eq!(
        (
            &body["background"],
            &body["output_format"],
            &body["quality"],
            &body["size"]
        ),
        (
            &json!("opaque"),
            &json!("png"),
            &json!("low"),
            &json!("256x256")
        )
    );
    assert_eq!(keys(&body["data"][0]), ["b64_json", "revised_prompt"]);
    assert_eq!(
        shape(&b64(&body["data"][0]["b64_json"])),
        (ImageFormat::Png, 256, 256)
    );
    let u = &body["usage"];
    assert_eq!(
        keys(u),
        [
            "input_tokens",
            "input_tokens_details",
            "output_tokens",
            "total_tokens"
        ]
    );
    assert_eq!(
        u["output_tokens"], 17,
        "272 low-quality tokens at 1024x1024, / 16"
    );
    assert_eq!(u["input_tokens_details"]["text_tokens"], 3);
    assert_eq!(u["total_tokens"], 20);

    let a = post(
        &s,
        json!({"prompt": "p", "size": "64x64", "n": 2, "response_format": "url"}),
    )
    .await;
    let body = a.json();
    for (i, item) in body["data"].as_array().unwrap().iter().enumerate() {
        let url = item["url"].as_str().unwrap();
        assert!(url.starts_with(&s.base_url()), "absolute URL: {url}");
        assert!(url.ends_with(&format!("/content?variant={i}")), "{url}");
        let img = send(reqwest::Client::new().get(url)).await;
        assert_eq!(img.headers["content-type"], "image/png");
        assert_eq!(shape(&img.bytes), (ImageFormat::Png, 64, 64));
    }

    let a = post(&s, json!({"size": "64x64"})).await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.json(),
        json!({"error": {"message": "Missing required parameter: 'prompt'.",
            "type": "invalid_request_error", "param": "prompt", "code": null}})
    );
    let a = get(&s, "/v1/images/nope/content").await;
    assert_eq!(a.status, 404);
    assert_eq!(a.json()["error"]["code"], "not_found");
    s.shutdown().await;
}

#[tokio::test]
async fn openai_streams_partial_images_then_completed() {
    let s = server(Dialect::Openai).await;
    let a = post(
        &s,
        json!({"prompt": "p", "size": "64x64", "stream": true, "partial_images": 2}),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.headers["content-type"], "text/event-stream");
    let text = String::from_utf8(a.bytes).unwrap();
    let events: Vec<(&str, Value)> = text
        .split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let (event, data) = e.split_once('\n').unwrap();
            let data = data.strip_prefix("data: ").unwrap();
            (
                event.strip_prefix("event: ").unwrap(),
                serde_json::from_str(data).unwrap(),
            )
        })
        .collect();
    let names: Vec<&str> = events.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "image_generation.partial_image",
            "image_generation.partial_image",
            "image_generation.completed"
        ]
    );
    for (i, (name, data)) in events.iter().enumerate() {
        assert_eq!(data["type"], *name);
        assert_eq!(shape(&b64(&data["b64_json"])), (ImageFormat::Png, 64, 64));
        assert_eq!(data["size"], "64x64");
        if i < 2 {
            assert_eq!(data["partial_image_index"], i);
        } else {
            assert!(data["usage"]["total_tokens"].as_u64().unwrap() > 0);
        }
    }
    assert!(!text.contains("[DONE]"));
    s.shutdown().await;
}

#[tokio::test]
async fn sglang_url_by_default_jpeg_and_its_fields() {
    let s = server(Dialect::Sglang).await;
    let a = post(
        &s,
        json!({"prompt": "a harbour", "size": "128x96", "stream": true}),
    )
    .await;
    assert_eq!(a.status, 200, "stream is ignored: plain JSON");
    assert_eq!(a.headers["content-type"], "application/json");
    let body = a.json();
    assert_eq!(
        keys(&body),
        [
            "created",
            "data",
            "id",
            "inference_time_s",
            "peak_memory_mb"
        ]
    );
    let id = body["id"].as_str().unwrap();
    let item = &body["data"][0];
    assert_eq!(
        keys(item),
        ["b64_json", "file_path", "revised_prompt", "url"]
    );
    assert_eq!(item["b64_json"], Value::Null);
    assert_eq!(item["revised_prompt"], "a harbour");
    assert_eq!(item["url"], format!("/v1/images/{id}/content"));
    assert!(item["file_path"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{id}.jpg")));
    assert!(body["peak_memory_mb"].as_f64().unwrap() > 1000.0);
    let img = get(&s, item["url"].as_str().unwrap()).await;
    assert_eq!(img.headers["content-type"], "image/jpeg");
    assert_eq!(shape(&img.bytes), (ImageFormat::Jpeg, 128, 96));

    let a = post(
        &s,
        json!({"prompt": "p", "response_format": "b64_json", "width": 80,
        "height": 48, "n": 20, "output_format": "webp"}),
    )
    .await;
    let body = a.json();
    assert_eq!(
        body["data"].as_array().unwrap().len(),
        10,
        "n clamped to 10"
    );
    assert_eq!(body["data"][3]["url"], Value::Null);
    assert_eq!(
        shape(&b64(&body["data"][3]["b64_json"])),
        (ImageFormat::Webp, 80, 48)
    );

    let a = post(&s, json!({"size": "64x64"})).await;
    assert_eq!(a.status, 422);
    assert_eq!(
        a.json(),
        json!({"detail": [{"type": "missing", "loc": ["body", "prompt"],
            "msg": "Field required", "input": null}]})
    );
    let a = post(&s, json!({"prompt": "p", "response_format": "gif"})).await;
    assert_eq!(
        (a.status, a.json()),
        (
            400,
            json!({"detail": "response_format=gif is not supported"})
        )
    );
    let a = get(&s, "/v1/images/unknown/content").await;
    assert_eq!(
        (a.status, a.json()),
        (404, json!({"detail": "Image not found"}))
    );
    s.shutdown().await;
}

#[tokio::test]
async fn vllm_omni_png_b64_file_and_url_rejected() {
    let s = server(Dialect::VllmOmni).await;
    let body = post(&s, json!({"prompt": "p", "size": "96x64", "seed": 3}))
        .await
        .json();
    assert_eq!(keys(&body), ["created", "data", "output_format", "size"]);
    assert_eq!(
        (&body["output_format"], &body["size"]),
        (&json!("png"), &json!("96x64"))
    );
    let item = &body["data"][0];
    assert_eq!(keys(item), ["b64_json", "revised_prompt", "url"]);
    assert_eq!(
        (&item["url"], &item["revised_prompt"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(shape(&b64(&item["b64_json"])), (ImageFormat::Png, 96, 64));

    let a = post(
        &s,
        json!({"prompt": "p", "size": "96x64", "response_format": "url"}),
    )
    .await;
    assert_eq!(a.status, 400);
    let err = a.json();
    assert_eq!(keys(&err["error"]), ["code", "message", "param", "type"]);
    assert_eq!(
        (&err["error"]["code"], &err["error"]["type"]),
        (&json!(400), &json!("BadRequestError"))
    );
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("b64_json"));

    let a = post(
        &s,
        json!({"prompt": "p", "size": "96x64", "response_format": "file"}),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.headers["content-type"], "image/png");
    assert!(a.headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(shape(&a.bytes), (ImageFormat::Png, 96, 64));
    s.shutdown().await;
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::new(width, height)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

async fn edit(s: &MockServer, form: reqwest::multipart::Form) -> Answer {
    send(
        reqwest::Client::new()
            .post(format!("{}/v1/images/edits", s.base_url()))
            .multipart(form),
    )
    .await
}

#[tokio::test]
async fn edits_take_multipart_images_in_every_dialect() {
    use reqwest::multipart::{Form, Part};
    let part = |w, h| {
        Part::bytes(png(w, h))
            .file_name("in.png")
            .mime_str("image/png")
            .unwrap()
    };
    for dialect in [Dialect::Openai, Dialect::Sglang, Dialect::VllmOmni] {
        let s = server(dialect).await;
        let form = Form::new()
            .text("prompt", "make it night")
            .text("response_format", "b64_json")
            .part("image", part(72, 40));
        let a = edit(&s, form).await;
        assert_eq!(
            a.status,
            200,
            "{dialect:?}: {}",
            String::from_utf8_lossy(&a.bytes)
        );
        let body = a.json();
        let (_, w, h) = shape(&b64(&body["data"][0]["b64_json"]));
        let default = match dialect {
            // About 1024x1024 at the input's aspect ratio (REFERENCE §10).
            Dialect::Sglang => (1376, 768),
            _ => (72, 40),
        };
        assert_eq!((w, h), default, "{dialect:?}: the default size of an edit");

        let form = Form::new()
            .text("prompt", "two inputs")
            .text("size", "64x32")
            .text("n", "2")
            .text("response_format", "b64_json")
            .part("image[]", part(16, 16))
            .part("image[]", part(16, 16));
        let body = edit(&s, form).await.json();
        assert_eq!(body["data"].as_array().unwrap().len(), 2, "{dialect:?}");
        let (_, w, h) = shape(&b64(&body["data"][1]["b64_json"]));
        assert_eq!((w, h), (64, 32));
        if dialect == Dialect::Openai {
            assert_eq!(body["usage"]["input_tokens_details"]["image_tokens"], 646);
        }

        let a = edit(&s, Form::new().text("prompt", "no image")).await;
        assert!(matches!(a.status, 400 | 422), "{dialect:?}: {}", a.status);
        s.shutdown().await;
    }
}

#[tokio::test]
async fn models_and_health_per_dialect() {
    for (dialect, owner, health) in [
        (Dialect::Openai, "imgperf", Some(json!({"status": "ok"}))),
        (Dialect::Sglang, "sglang", Some(json!({"status": "ok"}))),
        (Dialect::VllmOmni, "vllm", None),
    ] {
        let s = server(dialect).await;
        let models = get(&s, "/v1/models").await.json();
        assert_eq!(models["object"], "list");
        assert_eq!(models["data"][0]["id"], "mock-image-model");
        assert_eq!(models["data"][0]["owned_by"], owner);
        let h = get(&s, "/health").await;
        assert_eq!(h.status, 200);
        match health {
            Some(v) => assert_eq!(h.json(), v),
            None => assert!(h.bytes.is_empty()),
        }
        s.shutdown().await;
    }
}

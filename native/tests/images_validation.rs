//! Every image of every response is checked from its header, against an
//! in-process server answering each prompt with a different case: PNG, JPEG
//! and WebP bodies (format and dimensions), a wrong size, truncated base64,
//! `n: 2`, empty `data`, and each error shape (OpenAI, FastAPI string and
//! list, `{"error": "string"}`, text/plain). `warn` records mismatches on
//! successful requests; `strict` turns them into errors.

mod common;
mod imgtest;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use common::*;
use imgperf_core::images::ImageFormat;
use imgtest::*;
use serde_json::{json, Value};

fn data(images: &[Vec<u8>]) -> Value {
    let items: Vec<Value> = images.iter().map(|i| json!({"b64_json": b64(i)})).collect();
    json!({"created": 1, "data": items})
}

async fn generate(Json(body): Json<Value>) -> Response {
    let ok = |v: Value| (StatusCode::OK, Json(v)).into_response();
    let png = |w, h| encode(ImageFormat::Png, w, h);
    match body["prompt"].as_str().unwrap_or("") {
        "png" => ok(data(&[png(64, 48)])),
        "jpeg" => ok(data(&[encode(ImageFormat::Jpeg, 80, 60)])),
        "webp" => ok(data(&[encode(ImageFormat::Webp, 40, 30)])),
        "wrong-size" => ok(data(&[png(32, 32)])),
        "truncated" => {
            let full = b64(&png(64, 64));
            ok(json!({"data": [{"b64_json": &full[..full.len() / 2]}]}))
        }
        "n2" => ok(data(&[png(16, 16), png(16, 16)])),
        "empty" => ok(json!({"created": 1, "data": []})),
        "openai-error" => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"message": "size not supported", "type": "invalid_request_error", "param": "size", "code": null}})),
        )
            .into_response(),
        "fastapi-detail" => (StatusCode::NOT_FOUND, Json(json!({"detail": "Model not found"}))).into_response(),
        "fastapi-validation" => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"detail": [{"loc": ["body", "prompt"], "msg": "field required", "type": "missing"}]})),
        )
            .into_response(),
        "string-error" => (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": "model crashed"}))).into_response(),
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain")],
            "Internal Server Error",
        )
            .into_response(),
    }
}

const CASES: [(&str, &str); 12] = [
    ("png", "64x48"),
    ("jpeg", "80x60"),
    ("webp", "40x30"),
    ("wrong-size", "64x64"),
    ("truncated", "64x64"),
    ("n2", "16x16"),
    ("empty", "64x64"),
    ("openai-error", "64x64"),
    ("fastapi-detail", "64x64"),
    ("fastapi-validation", "64x64"),
    ("string-error", "64x64"),
    ("text-plain", "64x64"),
];

async fn run(validate: &str) -> (std::path::PathBuf, Vec<Value>, tempfile::TempDir, String) {
    let url = serve(Router::new().route("/v1/images/generations", post(generate))).await;
    let dir = workdir();
    let rows: Vec<(&str, Value)> = CASES
        .iter()
        .map(|(p, size)| {
            let mut extra = json!({"size": size});
            if *p == "n2" {
                extra["n"] = json!(2);
            }
            if *p == "jpeg" {
                extra["output_format"] = json!("jpeg");
            }
            (*p, extra)
        })
        .collect();
    let file = input_file(dir.path(), &rows);
    let count = CASES.len().to_string();
    let args = tutorial_args(
        &url,
        &[
            "--input-file",
            &file,
            "--request-count",
            &count,
            "--validate-images",
            validate,
        ],
    );
    let out = imgperf_async(dir.path(), &args).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let run = run_dir(dir.path());
    let records = records_in_order(&run);
    assert_eq!(records.len(), CASES.len());
    (run, records, dir, stdout)
}

fn item(r: &Value, i: usize) -> (String, u64, u64) {
    let it = &r["images"]["items"][i];
    (
        it["format"].as_str().unwrap_or("?").to_owned(),
        it["width"].as_u64().unwrap_or(0),
        it["height"].as_u64().unwrap_or(0),
    )
}

fn issue_kinds(r: &Value) -> Vec<String> {
    r["images"]["issues"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["kind"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warn_records_formats_dimensions_and_mismatches() {
    let (run, r, _dir, stdout) = run("warn").await;
    // Formats and dimensions from the headers.
    assert_eq!(item(&r[0], 0), ("png".into(), 64, 48));
    assert_eq!(item(&r[1], 0), ("jpeg".into(), 80, 60));
    assert_eq!(item(&r[2], 0), ("webp".into(), 40, 30));
    for ok in &r[..3] {
        assert!(ok["error"].is_null(), "{ok}");
        assert_eq!(issue_kinds(ok), Vec::<String>::new(), "{ok}");
        assert_eq!(ok["images"]["delivery"], "b64_json");
        assert!(metric(ok, "image_bytes").unwrap() > 100.0);
        assert!(metric(ok, "output_megapixels").unwrap() > 0.001);
    }
    let png_bytes = encode(ImageFormat::Png, 64, 48).len() as f64;
    assert_eq!(metric(&r[0], "image_bytes"), Some(png_bytes));
    // Wrong size and truncated: recorded, still successful.
    assert!(r[3]["error"].is_null());
    assert_eq!(issue_kinds(&r[3]), ["size_mismatch"]);
    assert_eq!(
        r[3]["images"]["issues"][0]["message"],
        "32x32 returned, 64x64 requested"
    );
    assert!(r[4]["error"].is_null());
    assert_eq!(issue_kinds(&r[4]), ["truncated"]);
    // n: 2 counts 2 images.
    assert_eq!(metric(&r[5], "output_image_count"), Some(2.0));
    assert_eq!(
        (
            r[5]["images"]["requested"].as_u64(),
            r[5]["images"]["returned"].as_u64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(item(&r[5], 1), ("png".into(), 16, 16));
    // Empty data and the error shapes.
    let err = |i: usize| {
        (
            r[i]["error"]["code"].as_u64().unwrap(),
            r[i]["error"]["type"].as_str().unwrap().to_owned(),
            r[i]["error"]["message"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(err(6).0, 200);
    assert!(err(6).2.contains("\"data\" is empty"), "{:?}", err(6));
    assert_eq!(
        err(7),
        (
            400,
            "invalid_request_error".into(),
            "size not supported".into()
        )
    );
    assert_eq!(err(8), (404, "NotFound".into(), "Model not found".into()));
    assert_eq!(
        err(9),
        (
            422,
            "validation_error".into(),
            "body.prompt: field required".into()
        )
    );
    assert_eq!(
        err(10),
        (500, "InternalServerError".into(), "model crashed".into())
    );
    assert_eq!(
        err(11),
        (
            500,
            "InternalServerError".into(),
            "Internal Server Error".into()
        )
    );

    let s = json_file(&run.join("profile_export_imgperf.json"));
    assert_eq!(s["request_count"]["avg"], 6.0);
    assert_eq!(s["error_request_count"]["avg"], 6.0);
    assert_eq!(s["error_rate"]["avg"], 50.0);
    assert_eq!(s["image_issue_request_count"]["avg"], 2.0);
    assert_eq!(s["error_summary"].as_array().unwrap().len(), 6);
    // The latency view that keeps failures has all 12 requests.
    let with_errors = s["request_latency_with_errors"]["max"].as_f64().unwrap();
    assert!(with_errors >= s["request_latency"]["max"].as_f64().unwrap());
    let issues = s["image_issue_summary"].as_array().unwrap();
    assert_eq!(issues.len(), 2, "{issues:?}");
    // Requests asked for different sizes: a per-size breakdown.
    let sizes: Vec<&str> = s["per_size"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["size"].as_str().unwrap())
        .collect();
    assert_eq!(sizes, ["16x16", "40x30", "64x48", "64x64", "80x60"]);
    let big = &s["per_size"][3];
    assert_eq!(
        (
            big["request_count"].as_u64(),
            big["error_request_count"].as_u64()
        ),
        (Some(2), Some(6))
    );
    assert!(stdout.contains("Per requested size"), "{stdout}");
    assert!(stdout.contains("Image issues (2):"), "{stdout}");
    assert!(
        stdout.contains("1 × size_mismatch: 32x32 returned, 64x64 requested"),
        "{stdout}"
    );
    assert!(stdout.contains("Requests with Image Issues"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_makes_mismatches_errors() {
    let (run, r, _dir, _) = run("strict").await;
    for ok in &r[..3] {
        assert!(ok["error"].is_null(), "{ok}");
    }
    assert!(r[5]["error"].is_null(), "n: 2 with 2 images is fine");
    for (i, kind) in [(3, "size_mismatch"), (4, "truncated")] {
        assert_eq!(r[i]["error"]["type"], "ImageValidationError", "{}", r[i]);
        assert_eq!(r[i]["error"]["code"], 200);
        assert!(
            r[i]["error"]["message"].as_str().unwrap().starts_with(kind),
            "{}",
            r[i]
        );
    }
    let s = json_file(&run.join("profile_export_imgperf.json"));
    assert_eq!(s["request_count"]["avg"], 4.0);
    assert_eq!(s["error_request_count"]["avg"], 8.0);
}

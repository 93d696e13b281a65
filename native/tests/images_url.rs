//! `response_format: url` (SGLang's default): the generation answers with
//! relative URLs (`/v1/images/{id}/content`); imgperf fetches each image
//! through the same transport, times the download apart from the
//! generation request, checks the downloaded bytes like an inline image,
//! and reports a failed download. Server-reported `inference_time_s` and
//! `peak_memory_mb` are summarised.

mod common;
mod imgtest;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::*;
use imgperf_core::images::ImageFormat;
use imgtest::*;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const DOWNLOAD_MS: u64 = 40;

/// Image id and `Authorization` of every GET.
type Gets = Arc<Mutex<Vec<(String, Option<String>)>>>;

#[derive(Clone, Default)]
struct Seen {
    gets: Gets,
}

async fn generate(Json(body): Json<Value>) -> Json<Value> {
    let prompt = body["prompt"].as_str().unwrap_or("");
    let n = body["n"].as_u64().unwrap_or(1);
    let urls: Vec<Value> = (0..n)
        .map(|i| match prompt {
            "missing" => json!({"url": "/v1/images/nope/content"}),
            "relative" => json!({"url": format!("v1/images/rel{i}/content")}),
            _ => json!({"url": format!("/v1/images/img{i}/content"), "revised_prompt": prompt}),
        })
        .collect();
    Json(
        json!({"created": 1, "data": urls, "id": "x", "inference_time_s": 0.012, "peak_memory_mb": 1234.5}),
    )
}

async fn content(State(seen): State<Seen>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let auth = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap().to_owned());
    seen.gets.lock().unwrap().push((id.clone(), auth));
    tokio::time::sleep(Duration::from_millis(DOWNLOAD_MS)).await;
    if id == "nope" {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"detail": "Image not found"})),
        )
            .into_response();
    }
    (
        [(header::CONTENT_TYPE, "image/jpeg")],
        encode(ImageFormat::Jpeg, 96, 64),
    )
        .into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_images_are_fetched_timed_and_checked() {
    let seen = Seen::default();
    let app = Router::new()
        .route("/v1/images/generations", post(generate))
        .route("/v1/images/{id}/content", get(content))
        .with_state(seen.clone());
    let url = serve(app).await;
    let dir = workdir();
    let rows = [
        ("plain", json!({"size": "96x64", "response_format": "url"})),
        (
            "two",
            json!({"size": "96x64", "response_format": "url", "n": 2}),
        ),
        (
            "relative",
            json!({"size": "96x64", "response_format": "url"}),
        ),
        (
            "missing",
            json!({"size": "96x64", "response_format": "url"}),
        ),
    ];
    let file = input_file(dir.path(), &rows);
    let args = tutorial_args(
        &url,
        &[
            "--input-file",
            &file,
            "--request-count",
            "4",
            "--api-key",
            "sk-test",
        ],
    );
    let out = imgperf_async(dir.path(), &args).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let run = run_dir(dir.path());
    let r = records_in_order(&run);
    for rec in &r[..3] {
        assert!(rec["error"].is_null(), "{rec}");
        assert_eq!(rec["images"]["delivery"], "url");
        assert!(
            rec["images"]["issues"].as_array().unwrap().is_empty(),
            "{rec}"
        );
        let it = &rec["images"]["items"][0];
        assert_eq!(
            (
                it["format"].as_str(),
                it["width"].as_u64(),
                it["height"].as_u64()
            ),
            (Some("jpeg"), Some(96), Some(64))
        );
        let latency = metric(rec, "request_latency").unwrap();
        let download = metric(rec, "image_download_time").unwrap();
        let final_image = metric(rec, "time_to_final_image").unwrap();
        assert!(download >= DOWNLOAD_MS as f64, "download {download} ms");
        assert!(
            final_image >= latency + download - 0.5,
            "{final_image} vs {latency} + {download}"
        );
        assert!(
            latency < download,
            "the generation itself is fast here: {latency} ms"
        );
        assert_eq!(metric(rec, "server_inference_time"), Some(12.0));
        assert_eq!(metric(rec, "server_peak_memory"), Some(1234.5));
        let n = rec["images"]["items"].as_array().unwrap().len() as f64;
        assert_eq!(
            metric(rec, "image_bytes"),
            Some(n * encode(ImageFormat::Jpeg, 96, 64).len() as f64)
        );
    }
    // n = 2: both fetched, concurrently.
    assert_eq!(r[1]["images"]["items"].as_array().unwrap().len(), 2);
    assert!(metric(&r[1], "image_download_time").unwrap() < 2.0 * DOWNLOAD_MS as f64 + 30.0);
    // A 404 on the image: recorded as a download failure (warn), no final image time.
    let issues = r[3]["images"]["issues"].as_array().unwrap();
    assert_eq!(issues[0]["kind"], "download_failed");
    assert!(
        issues[0]["message"]
            .as_str()
            .unwrap()
            .contains("HTTP 404: Image not found"),
        "{issues:?}"
    );
    assert!(metric(&r[3], "time_to_final_image").is_none());
    assert!(metric(&r[3], "image_download_time").unwrap() >= DOWNLOAD_MS as f64);
    // What the server saw: every image fetched, with the key (same origin).
    let gets = seen.gets.lock().unwrap().clone();
    let mut ids: Vec<&str> = gets.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["img0", "img0", "img1", "nope", "rel0"]);
    assert!(gets
        .iter()
        .all(|(_, a)| a.as_deref() == Some("Bearer sk-test")));
    // Summary and table.
    let s = json_file(&run.join("profile_export_imgperf.json"));
    assert!(s["image_download_time"]["min"].as_f64().unwrap() >= DOWNLOAD_MS as f64);
    assert_eq!(s["server_inference_time"]["avg"], 12.0);
    for row in [
        "Image Download Time (ms)",
        "Time to Final Image (ms)",
        "Server Inference Time (ms)",
        "Server Peak Memory (MB)",
    ] {
        assert!(stdout.contains(row), "missing {row}:\n{stdout}");
    }
}

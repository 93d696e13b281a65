//! `--streaming` against an in-process SSE server that sends two partial
//! images then the final one, 100 ms apart, with and without a closing
//! `data: [DONE]`: time to first partial image < time to final image, both
//! within 5 ms of when the server sent them; the gap between partials is
//! measured; the raw export has one `responses[]` entry per event. A
//! request the server answers with plain JSON (it ignores `stream`, as
//! SGLang does) is measured as JSON, and the console says so once.

mod common;
mod imgtest;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use common::*;
use imgperf_core::images::ImageFormat;
use imgtest::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// When each event is sent, ms after the request arrived.
const SEND_AT_MS: [u64; 3] = [100, 200, 300];

#[derive(Clone, Default)]
struct Sent(Arc<Mutex<HashMap<String, Vec<f64>>>>);

fn event(i: usize) -> String {
    let partial = |idx: usize| {
        json!({"type": "image_generation.partial_image", "partial_image_index": idx,
               "b64_json": b64(&encode(ImageFormat::Png, 8, 8)), "size": "64x64"})
    };
    match i {
        0 | 1 => format!(
            "event: image_generation.partial_image\ndata: {}\n\n",
            partial(i)
        ),
        _ => format!(
            "event: image_generation.completed\ndata: {}\n\n",
            json!({"type": "image_generation.completed", "b64_json": b64(&encode(ImageFormat::Png, 64, 64)),
                   "usage": {"input_tokens": 9, "output_tokens": 272, "total_tokens": 281}})
        ),
    }
}

async fn generate(State(sent): State<Sent>, Json(body): Json<Value>) -> Response {
    let t0 = Instant::now();
    let prompt = body["prompt"].as_str().unwrap_or("").to_owned();
    if prompt == "ignore" || body["stream"] != true {
        let data =
            json!({"created": 1, "data": [{"b64_json": b64(&encode(ImageFormat::Png, 64, 64))}]});
        return Json(data).into_response();
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    tokio::spawn(async move {
        let mut offsets = Vec::new();
        for (i, at) in SEND_AT_MS.iter().enumerate() {
            let e = Bytes::from(event(i));
            tokio::time::sleep_until((t0 + Duration::from_millis(*at)).into()).await;
            offsets.push(t0.elapsed().as_secs_f64() * 1e3);
            tx.send(e).await.unwrap();
        }
        if prompt == "done" {
            tx.send(Bytes::from_static(b"data: [DONE]\n\n"))
                .await
                .unwrap();
        }
        sent.0.lock().unwrap().insert(prompt, offsets);
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(stream),
    )
        .into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_images_are_timed_as_the_server_sent_them() {
    let sent = Sent::default();
    let app = Router::new()
        .route("/v1/images/generations", post(generate))
        .with_state(sent.clone());
    let url = serve(app).await;
    let dir = workdir();
    let size = json!({"size": "64x64"});
    let file = input_file(
        dir.path(),
        &[
            ("done", size.clone()),
            ("no-done", size.clone()),
            ("ignore", size),
        ],
    );
    let args = tutorial_args(
        &url,
        &[
            "--input-file",
            &file,
            "--request-count",
            "3",
            "--streaming",
            "--export-level",
            "raw",
        ],
    );
    let out = imgperf_async(dir.path(), &args).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let run = run_dir(dir.path());
    let r = records_in_order(&run);
    let sent = sent.0.lock().unwrap().clone();
    for (rec, prompt) in r.iter().zip(["done", "no-done"]) {
        assert!(rec["error"].is_null(), "{rec}");
        assert_eq!(rec["images"]["delivery"], "stream");
        let first_partial = metric(rec, "time_to_first_partial_image").unwrap();
        let final_image = metric(rec, "time_to_final_image").unwrap();
        assert!(
            first_partial < final_image,
            "{first_partial} vs {final_image}"
        );
        let server = &sent[prompt];
        for (measured, sent_at) in [(first_partial, server[0]), (final_image, server[2])] {
            assert!(
                (measured - sent_at).abs() <= 5.0,
                "{prompt}: measured {measured:.2} ms, server sent at {sent_at:.2} ms"
            );
        }
        let gaps = rec["metrics"]["inter_partial_image_latency"]["value"]
            .as_array()
            .unwrap();
        assert_eq!(gaps.len(), 1);
        let gap = gaps[0].as_f64().unwrap();
        // A difference of two times, each with its own scheduling jitter.
        let sent_gap = server[1] - server[0];
        assert!((gap - sent_gap).abs() <= 10.0, "gap {gap}, sent {sent_gap}");
        assert_eq!(metric(rec, "partial_image_count"), Some(2.0));
        // One final image: first and final image are the same event.
        assert_eq!(metric(rec, "time_to_first_image"), Some(final_image));
        assert_eq!(metric(rec, "usage_output_tokens"), Some(272.0));
        let it = &rec["images"]["items"][0];
        assert_eq!(
            (it["width"].as_u64(), it["height"].as_u64()),
            (Some(64), Some(64))
        );
        assert!(
            rec["images"]["issues"].as_array().unwrap().is_empty(),
            "{rec}"
        );
    }
    // The server that ignored `stream`: measured as plain JSON, flagged.
    assert!(r[2]["error"].is_null());
    assert_eq!(r[2]["images"]["delivery"], "b64_json");
    assert_eq!(r[2]["images"]["stream_ignored"], true);
    assert!(metric(&r[2], "time_to_first_partial_image").is_none());
    assert_eq!(stdout.matches("ignores \"stream\"").count(), 1, "{stdout}");
    assert!(
        stdout.contains("answered 1 of 3 requests with plain JSON"),
        "{stdout}"
    );
    // Raw export: one responses[] entry per event, in arrival order.
    let raw = jsonl(&run.join("profile_export_raw.jsonl"));
    let mut raw: Vec<&Value> = raw.iter().collect();
    raw.sort_by_key(|v| v["metadata"]["session_num"].as_u64());
    for (line, events) in raw.iter().zip([4, 3, 1]) {
        let responses = line["responses"].as_array().unwrap();
        assert_eq!(responses.len(), events, "{}", line["payload"]);
        let times: Vec<u64> = responses
            .iter()
            .map(|x| x["perf_ns"].as_u64().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }
    let events = raw[0]["responses"].as_array().unwrap();
    assert_eq!(events[0]["content_type"], "text/event-stream");
    let first: Value = serde_json::from_str(events[0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(first["type"], "image_generation.partial_image");
    assert_eq!(events[3]["text"], "[DONE]");
    // Summary.
    let s = json_file(&run.join("profile_export_imgperf.json"));
    assert_eq!(s["partial_image_count"]["avg"], 2.0);
    assert_eq!(
        s["streaming"],
        json!({"requested": 3, "server_ignored_stream": 1})
    );
    for row in [
        "Time to First Partial Image (ms)",
        "Gap Between Partial Images (ms)",
        "Time to Final Image (ms)",
    ] {
        assert!(stdout.contains(row), "missing {row}:\n{stdout}");
    }
}

//! Bad input gets one clear line on stderr and a non-zero exit, never a panic;
//! server errors and garbage bodies are recorded per request and the run goes
//! on; the API key never reaches an artifact or the log; seeds reproduce.

mod common;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use common::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

fn assert_one_line_error(out: &std::process::Output, needle: &str) {
    let (stdout, stderr) = text(out);
    assert!(!out.status.success(), "expected failure; stdout:\n{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("imgperf: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "one error line expected:\n{stderr}");
    assert!(
        errors[0].contains(needle),
        "error should mention {needle:?}: {}",
        errors[0]
    );
}

#[test]
fn missing_input_file() {
    let dir = workdir();
    let out = imgperf(
        dir.path(),
        &tutorial_args("127.0.0.1:9", &["--input-file", "nope.jsonl"]),
    );
    assert_one_line_error(&out, "nope.jsonl");
}

#[test]
fn malformed_jsonl_line_names_file_and_line() {
    let dir = workdir();
    std::fs::write(
        dir.path().join("bad.jsonl"),
        "{\"text\": \"ok\"}\n\n{\"text\": oops}\n",
    )
    .unwrap();
    let out = imgperf(
        dir.path(),
        &tutorial_args("127.0.0.1:9", &["--input-file", "bad.jsonl"]),
    );
    assert_one_line_error(&out, "bad.jsonl:3");
}

#[test]
fn unknown_endpoint_type() {
    let dir = workdir();
    let mut args = tutorial_args("127.0.0.1:9", &[]);
    let i = args.iter().position(|a| *a == "image_generation").unwrap();
    args[i] = "chat";
    let out = imgperf(dir.path(), &args);
    assert_one_line_error(&out, "--endpoint-type");
}

#[test]
fn malformed_extra_inputs() {
    let dir = workdir();
    let out = imgperf(
        dir.path(),
        &tutorial_args("127.0.0.1:9", &["--extra-inputs", "size"]),
    );
    assert_one_line_error(&out, "--extra-inputs");
}

#[test]
fn unreachable_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = workdir();
    let url = format!("127.0.0.1:{port}");
    let out = imgperf(dir.path(), &tutorial_args(&url, &[]));
    assert_one_line_error(&out, &format!("http://127.0.0.1:{port}"));
}

#[derive(Default)]
struct Seen {
    n: AtomicUsize,
    headers: Mutex<Vec<HeaderMap>>,
}

async fn flaky(State(seen): State<Arc<Seen>>, headers: HeaderMap) -> impl IntoResponse {
    seen.headers.lock().unwrap().push(headers);
    // 1×1 PNG, so successful answers hold a real image.
    const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    match seen.n.fetch_add(1, Ordering::SeqCst) % 4 {
        0 => (
            StatusCode::OK,
            format!(r#"{{"created":1,"data":[{{"b64_json":"{PNG}"}}]}}"#),
        )
            .into_response(),
        1 => (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response(),
        2 => (StatusCode::OK, "this is not json").into_response(),
        _ => (
            StatusCode::BAD_REQUEST,
            r#"{"error":{"message":"size not supported","type":"invalid_request_error"}}"#,
        )
            .into_response(),
    }
}

async fn flaky_server() -> (String, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let app = Router::new()
        .route("/v1/images/generations", post(flaky))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_recorded_and_the_run_goes_on() {
    let (url, seen) = flaky_server().await;
    let dir = workdir();
    let out = imgperf_async(
        dir.path(),
        &tutorial_args(
            &url,
            &[
                "--request-count",
                "8",
                "--api-key",
                "sk-TOPSECRET-42",
                "--export-level",
                "raw",
            ],
        ),
    )
    .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(seen.n.load(Ordering::SeqCst), 8);
    let run = dir.path().join(TUTORIAL_RUN_DIR);
    let records = jsonl(&run.join("profile_export.jsonl"));
    assert_eq!(records.len(), 8);
    let errors: Vec<&serde_json::Value> =
        records.iter().filter(|r| !r["error"].is_null()).collect();
    assert_eq!(errors.len(), 6);
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run.join("profile_export_imgperf.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["request_count"]["avg"], 2.0);
    assert_eq!(summary["error_request_count"]["avg"], 6.0);
    let groups = summary["error_summary"].as_array().unwrap();
    assert_eq!(groups.len(), 3, "{groups:?}");
    let find = |code: u64, msg: &str| {
        groups.iter().any(|g| {
            g["error_details"]["code"] == code
                && g["error_details"]["message"]
                    .as_str()
                    .unwrap()
                    .contains(msg)
                && g["count"] == 2
        })
    };
    assert!(find(500, "Internal Server Error"), "{groups:?}");
    assert!(find(400, "size not supported"), "{groups:?}");
    assert!(find(200, "not a JSON object"), "{groups:?}");
    assert!(stdout.contains("Errors (6 requests)"), "{stdout}");

    // What the server saw: ids and the key; what we wrote: never the key.
    for h in seen.headers.lock().unwrap().iter() {
        assert_eq!(h["authorization"], "Bearer sk-TOPSECRET-42");
        assert_eq!(h["x-request-id"].len(), 36);
        assert_eq!(h["content-type"], "application/json");
    }
    for entry in walk(&run) {
        let content = std::fs::read(&entry).unwrap();
        assert!(
            !String::from_utf8_lossy(&content).contains("TOPSECRET"),
            "key leaked into {}",
            entry.display()
        );
    }
    assert!(!stdout.contains("TOPSECRET") && !stderr.contains("TOPSECRET"));
    let summary_text = std::fs::read_to_string(run.join("profile_export_imgperf.json")).unwrap();
    assert!(
        summary_text.contains("--api-key <redacted>"),
        "command line recorded redacted"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_seed_same_inputs_different_seed_different_prompts() {
    let args = MockArgsLite::default();
    let server = imgperf::mock::MockServer::start(&args.0).await.unwrap();
    let url = server.base_url();
    let run = |seed: &'static str| {
        let url = url.clone();
        async move {
            let dir = workdir();
            let a = [
                "profile",
                "-m",
                "black-forest-labs/FLUX.1-dev",
                "--tokenizer",
                "gpt2",
                "-u",
                &url,
                "--synthetic-input-tokens-mean",
                "40",
                "--synthetic-input-tokens-stddev",
                "10",
                "--request-count",
                "2",
                "--random-seed",
                seed,
                "--export-level",
                "summary",
            ];
            let out = imgperf_async(dir.path(), &a).await;
            assert!(out.status.success(), "{:?}", text(&out));
            std::fs::read(dir.path().join(TUTORIAL_RUN_DIR).join("inputs.json")).unwrap()
        }
    };
    let a = run("7").await;
    let b = run("7").await;
    let c = run("8").await;
    assert_eq!(a, b, "same seed must give byte-identical inputs.json");
    let prompts = |bytes: &[u8]| {
        let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["payloads"][0]["prompt"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_ne!(prompts(&a), prompts(&c));
}

struct MockArgsLite(imgperf::mock::MockArgs);
impl Default for MockArgsLite {
    fn default() -> Self {
        MockArgsLite(imgperf::mock::MockArgs {
            port: 0,
            latency_ms: 1.0,
            ..imgperf::mock::MockArgs::default()
        })
    }
}

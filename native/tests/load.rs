//! Load generation against a real in-process server on 127.0.0.1: duration +
//! grace period cuts in-flight requests as cancelled (never lost), timeouts
//! are recorded, a cancellation rate cancels its share, and a fixed schedule
//! sends at the trace's offsets (as the server observed them).

mod common;

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use common::*;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// These tests measure timing: run them one at a time, not beside each other.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

#[derive(Clone)]
struct Server {
    delay: Duration,
    arrivals: Arc<Mutex<Vec<Instant>>>,
}

async fn generate(State(s): State<Server>) -> String {
    s.arrivals.lock().unwrap().push(Instant::now());
    tokio::time::sleep(s.delay).await;
    format!(r#"{{"created":1,"data":[{{"b64_json":"{PNG}"}}]}}"#)
}

async fn server(delay_ms: u64) -> (String, Arc<Mutex<Vec<Instant>>>) {
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let state = Server {
        delay: Duration::from_millis(delay_ms),
        arrivals: arrivals.clone(),
    };
    let app = Router::new()
        .route("/v1/images/generations", post(generate))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, arrivals)
}

/// The tutorial's arguments minus `--request-count 3` (the run is bounded otherwise).
fn without_request_count(args: Vec<&str>) -> Vec<&str> {
    let i = args
        .iter()
        .position(|a| *a == "--request-count")
        .expect("tutorial args carry --request-count");
    args.into_iter()
        .enumerate()
        .filter(|(j, _)| *j != i && *j != i + 1)
        .map(|(_, a)| a)
        .collect()
}

fn run_dir(dir: &std::path::Path) -> std::path::PathBuf {
    let artifacts = dir.join("artifacts");
    let mut entries: Vec<_> = std::fs::read_dir(&artifacts)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries.pop().unwrap()
}

fn summary(run: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("profile_export_imgperf.json")).unwrap())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duration_and_grace_record_cut_requests_as_cancelled() {
    let _serial = SERIAL.lock().await;
    let (url, arrivals) = server(1500).await;
    let dir = workdir();
    let args = tutorial_args(
        &url,
        &[
            "--concurrency",
            "2",
            "--benchmark-duration",
            "1",
            "--benchmark-grace-period",
            "0.2",
        ],
    );
    let args = without_request_count(args);
    let out = imgperf_async(dir.path(), &args).await;
    assert!(out.status.success(), "{:?}", text(&out));
    let run = run_dir(dir.path());
    let records = jsonl(&run.join("profile_export.jsonl"));
    assert_eq!(
        records.len(),
        arrivals.lock().unwrap().len(),
        "every sent request has a record"
    );
    assert_eq!(records.len(), 2);
    for r in &records {
        assert_eq!(r["metadata"]["was_cancelled"], true, "{r}");
        assert_eq!(r["error"]["code"], 499);
        assert!(r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("grace period"));
    }
    assert_eq!(summary(&run)["cancelled_request_count"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_are_recorded() {
    let _serial = SERIAL.lock().await;
    let (url, _) = server(2000).await;
    let dir = workdir();
    let out = imgperf_async(
        dir.path(),
        &tutorial_args(
            &url,
            &["--request-timeout-seconds", "0.2", "--request-count", "2"],
        ),
    )
    .await;
    assert!(out.status.success(), "{:?}", text(&out));
    let records = jsonl(&run_dir(dir.path()).join("profile_export.jsonl"));
    assert_eq!(records.len(), 2);
    for r in &records {
        assert_eq!(r["error"]["code"], 408, "{r}");
        assert_eq!(r["error"]["type"], "RequestTimeout");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_rate_cancels_its_share() {
    let _serial = SERIAL.lock().await;
    let (url, _) = server(30).await;
    let dir = workdir();
    let args = tutorial_args(
        &url,
        &[
            "--request-count",
            "200",
            "--concurrency",
            "20",
            "--request-cancellation-rate",
            "30",
            "--request-cancellation-delay",
            "0.01",
            "--random-seed",
            "5",
        ],
    );
    let out = imgperf_async(dir.path(), &args).await;
    assert!(out.status.success(), "{:?}", text(&out));
    let records = jsonl(&run_dir(dir.path()).join("profile_export.jsonl"));
    assert_eq!(records.len(), 200);
    let cancelled = records
        .iter()
        .filter(|r| r["metadata"]["was_cancelled"] == true)
        .count();
    assert!(
        (50..=70).contains(&cancelled),
        "{cancelled} of 200 cancelled, want 30% ± 5%"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_schedule_sends_at_trace_offsets() {
    let _serial = SERIAL.lock().await;
    let (url, arrivals) = server(5).await;
    let dir = workdir();
    let offsets = [0u64, 50, 120, 300, 310, 600];
    let trace: String = offsets
        .iter()
        .map(|t| format!("{{\"text\": \"a lighthouse at dusk\", \"timestamp\": {}, \"extra\": {{\"seed\": {t}}}}}\n", t + 1000))
        .collect();
    std::fs::write(dir.path().join("trace.jsonl"), trace).unwrap();
    let args = tutorial_args(
        &url,
        &[
            "--input-file",
            "trace.jsonl",
            "--fixed-schedule",
            "--fixed-schedule-auto-offset",
            "--concurrency",
            "8",
        ],
    );
    let args = without_request_count(args);
    let out = imgperf_async(dir.path(), &args).await;
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(run_dir(dir.path())
        .ends_with("black-forest-labs_FLUX.1-dev-openai-image_generation-fixed_schedule"));
    let seen = arrivals.lock().unwrap().clone();
    assert_eq!(seen.len(), offsets.len());
    for (i, t) in seen.iter().enumerate() {
        let observed = t.duration_since(seen[0]).as_secs_f64() * 1000.0;
        let want = offsets[i] as f64;
        assert!(
            (observed - want).abs() <= 5.0,
            "request {i}: server saw +{observed:.2} ms, trace says +{want} ms"
        );
    }
}

//! Survival under hostile servers and interruptions: a body over
//! `--max-response-bytes` is an error for that request (never an OOM), a
//! server that trickles bytes is cut by `--request-timeout-seconds`, and
//! Ctrl-C waits at most the grace period (a second Ctrl-C stops at once),
//! with every request recorded either way.

mod common;

use axum::body::Body;
use axum::routing::post;
use axum::Router;
use common::*;
use std::time::{Duration, Instant};

fn only_run(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::read_dir(dir.join("artifacts"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_is_an_error_not_an_oom() {
    let big = format!(
        r#"{{"created":1,"data":[{{"b64_json":"{}"}}]}}"#,
        "A".repeat(2_000_000)
    );
    let url =
        serve_app(Router::new().route("/v1/images/generations", post(move || async move { big })))
            .await;
    let dir = workdir();
    let out = imgperf_async(
        dir.path(),
        &tutorial_args(
            &url,
            &["--request-count", "2", "--max-response-bytes", "100000"],
        ),
    )
    .await;
    assert!(out.status.success(), "{:?}", text(&out));
    let records = jsonl(&only_run(dir.path()).join("profile_export.jsonl"));
    assert_eq!(records.len(), 2);
    for r in &records {
        assert_eq!(r["error"]["type"], "ResponseTooLarge", "{r}");
        assert!(r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--max-response-bytes"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_server_is_cut_by_the_timeout() {
    let trickle = || async {
        let chunks = futures_util::stream::unfold(0u32, |i| async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            (i < 100).then(|| {
                (
                    Ok::<_, std::io::Error>(bytes::Bytes::from_static(b" ")),
                    i + 1,
                )
            })
        });
        Body::from_stream(chunks)
    };
    let url = serve_app(Router::new().route("/v1/images/generations", post(trickle))).await;
    let dir = workdir();
    let started = Instant::now();
    let out = imgperf_async(
        dir.path(),
        &tutorial_args(
            &url,
            &["--request-count", "1", "--request-timeout-seconds", "0.5"],
        ),
    )
    .await;
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the 10 s trickle was not cut"
    );
    let records = jsonl(&only_run(dir.path()).join("profile_export.jsonl"));
    assert_eq!(records[0]["error"]["code"], 408, "{}", records[0]);
    let latency_ms = (records[0]["metadata"]["request_end_ns"].as_u64().unwrap()
        - records[0]["metadata"]["request_start_ns"].as_u64().unwrap()) as f64
        / 1e6;
    assert!(
        (450.0..1500.0).contains(&latency_ms),
        "cut after {latency_ms} ms"
    );
}

/// Start a 5 s-per-request run, send SIGINT `signals` times, return (output, seconds to exit).
async fn interrupted(
    signals: usize,
    grace: &str,
) -> (std::process::Output, f64, tempfile::TempDir) {
    let arrived = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = arrived.clone();
    let slow = move || {
        count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            r#"{"created":1,"data":[{"b64_json":"iVBORw0KGgo="}]}"#
        }
    };
    let url = serve_app(Router::new().route("/v1/images/generations", post(slow))).await;
    let dir = workdir();
    let args = tutorial_args(
        &url,
        &[
            "--request-count",
            "10",
            "--concurrency",
            "2",
            "--benchmark-grace-period",
            grace,
        ],
    );
    let child = spawn_imgperf(dir.path(), &args);
    // Both requests in flight (however long a loaded machine takes to start).
    let waiting = Instant::now();
    while arrived.load(std::sync::atomic::Ordering::SeqCst) < 2 {
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "imgperf sent nothing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let sent = Instant::now();
    for _ in 0..signals {
        sigint(child.id());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    (out, sent.elapsed().as_secs_f64(), dir)
}

fn assert_all_cancelled(dir: &std::path::Path, want_message: &str) {
    let run = only_run(dir);
    let records = jsonl(&run.join("profile_export.jsonl"));
    assert_eq!(records.len(), 2, "the two in-flight requests are recorded");
    for r in &records {
        assert_eq!(r["metadata"]["was_cancelled"], true);
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .contains(want_message),
            "{r}"
        );
    }
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run.join("profile_export_imgperf.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["was_cancelled"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_waits_only_the_grace_period() {
    let (out, secs, dir) = interrupted(1, "0.5").await;
    assert_eq!(out.status.code(), Some(130), "{:?}", text(&out));
    assert!(
        secs < 3.0,
        "exited {secs:.2} s after Ctrl-C; the grace period is 0.5 s"
    );
    assert_all_cancelled(dir.path(), "grace period after the stop request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_ctrl_c_stops_at_once() {
    let (out, secs, dir) = interrupted(2, "30").await;
    assert_eq!(out.status.code(), Some(130), "{:?}", text(&out));
    assert!(secs < 3.0, "exited {secs:.2} s after the second Ctrl-C");
    assert_all_cancelled(dir.path(), "Ctrl-C");
}

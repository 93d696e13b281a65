//! Ctrl-C (SIGINT) during a run: imgperf stops issuing, lets in-flight
//! requests finish, and still writes every artifact with `was_cancelled: true`.

mod common;

use common::*;
use imgperf::mock::{MockArgs, MockServer};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_keeps_every_finished_record() {
    let server = MockServer::start(&MockArgs {
        port: 0,
        latency_ms: 100.0,
        ..MockArgs::default()
    })
    .await
    .unwrap();
    let url = server.base_url();
    let dir = workdir();
    let args = tutorial_args(&url, &["--request-count", "1000", "--concurrency", "2"]);
    let child = spawn_imgperf(dir.path(), &args);
    // A few requests done (however long a loaded machine takes to start).
    let waiting = std::time::Instant::now();
    while server.requests_served() < 4 {
        assert!(waiting.elapsed() < Duration::from_secs(30), "no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sigint(child.id());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(stdout.contains("Run stopped early"), "{stdout}");
    let run = dir
        .path()
        .join(TUTORIAL_RUN_DIR.replace("concurrency1", "concurrency2"));
    let records = jsonl(&run.join("profile_export.jsonl"));
    assert!(
        records.len() >= 4 && records.len() < 1000,
        "{} records",
        records.len()
    );
    // Stop level 1 lets in-flight requests finish: every issued request has a record and none failed.
    assert!(records.iter().all(|r| r["error"].is_null()));
    assert_eq!(server.requests_seen() as usize, records.len());
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run.join("profile_export_imgperf.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["was_cancelled"], true);
    assert_eq!(
        summary["request_count"]["avg"].as_f64().unwrap() as usize,
        records.len()
    );
}

//! `imgperf profile` (the binary) against the mock in each dialect and with
//! every fault: the run completes and each injected fault shows up in
//! `profile_export.jsonl` as the right error, matched to the mock's truth
//! log by `X-Request-ID`.

mod common;

use std::collections::HashMap;

use common::*;
use imgperf::mock::{Dialect, MockArgs, MockServer};
use serde_json::Value;

async fn mock(args: MockArgs) -> MockServer {
    MockServer::start(&MockArgs {
        port: 0,
        latency_ms: 5.0,
        ..args
    })
    .await
    .expect("mock starts")
}

/// Records of the tutorial run directory, keyed by `x_request_id`.
fn records(dir: &std::path::Path, concurrency: &str) -> HashMap<String, Value> {
    let run = dir.join(TUTORIAL_RUN_DIR.replace("concurrency1", concurrency));
    jsonl(&run.join("profile_export.jsonl"))
        .into_iter()
        .map(|r| {
            (
                r["metadata"]["x_request_id"].as_str().unwrap().to_owned(),
                r,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_completes_against_each_dialect() {
    for (dialect, extra) in [
        (Dialect::Openai, None),
        // imgperf asks for `b64_json` (AIPerf's payload), SGLang's own default is `url`.
        (Dialect::Sglang, None),
        (Dialect::Sglang, Some("response_format:url")),
        (Dialect::VllmOmni, None),
    ] {
        let dir = workdir();
        let log = dir.path().join("truth.jsonl");
        let server = mock(MockArgs {
            dialect,
            truth_log: Some(log.clone()),
            ..MockArgs::default()
        })
        .await;
        let url = server.base_url();
        let mut flags = vec!["--request-count", "4", "--concurrency", "2"];
        if let Some(e) = extra {
            flags.extend(["--extra-inputs", e]);
        }
        let out = imgperf_async(dir.path(), &tutorial_args(&url, &flags)).await;
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{dialect:?}\n{stdout}\n{stderr}");
        let recs = records(dir.path(), "concurrency2");
        assert_eq!(recs.len(), 4, "{dialect:?}");
        for r in recs.values() {
            assert!(r["error"].is_null(), "{dialect:?}: {r}");
        }
        assert_eq!(server.requests_served(), 4);
        server.shutdown().await;
        // A client that fetches `url` images reads each from /v1/images/{id}/content.
        let fetched = jsonl(&log)
            .iter()
            .filter(|l| l["path"].as_str().unwrap().ends_with("/content") && l["status"] == 200)
            .count();
        let url_mode = extra == Some("response_format:url");
        if url_mode && client_checks_images() {
            assert_eq!(fetched, 4, "{dialect:?}: every url fetched");
        } else if !url_mode {
            assert_eq!(fetched, 0);
        }
    }
}

/// Does this build's client check images (`--validate-images`)?
fn client_checks_images() -> bool {
    let out = std::process::Command::new(bin())
        .args(["profile", "--help"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).contains("--validate-images")
}

async fn faults_show_as_errors(dialect: Dialect) {
    let schedule = [
        "400:1",
        "422:2",
        "429:3",
        "500:4",
        "503:5",
        "stall:6",
        "drop:7",
        "malformed-json:8",
        "truncated-b64:9",
        "wrong-size:10",
    ];
    let dir = workdir();
    let log = dir.path().join("truth.jsonl");
    let server = mock(MockArgs {
        dialect,
        fault_at: schedule.iter().map(|s| s.parse().unwrap()).collect(),
        stall_s: 3.0,
        truth_log: Some(log.clone()),
        ..MockArgs::default()
    })
    .await;
    let url = server.base_url();
    let checks_images = client_checks_images();
    let mut flags = vec!["--request-count", "12", "--request-timeout-seconds", "1"];
    if checks_images {
        flags.extend(["--validate-images", "strict"]);
    }
    let out = imgperf_async(dir.path(), &tutorial_args(&url, &flags)).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{dialect:?}\n{stdout}\n{stderr}");
    server.shutdown().await;

    let recs = records(dir.path(), "concurrency1");
    assert_eq!(recs.len(), 12);
    let truth = jsonl(&log);
    let gens: Vec<&Value> = truth.iter().filter(|l| l["seq"].is_u64()).collect();
    assert_eq!(gens.len(), 12, "one truth line per request");
    for line in gens {
        let id = line["request_id"]
            .as_str()
            .expect("X-Request-ID reached the server");
        let err = &recs[id]["error"];
        let code = err["code"].as_u64();
        let kind = err["type"].as_str().unwrap_or_default();
        let what = format!("{dialect:?} {line}\n-> {err}");
        match line["fault"].as_str() {
            None => assert!(err.is_null(), "{what}"),
            Some(f @ ("400" | "422" | "429" | "503")) => {
                assert_eq!(code, Some(f.parse().unwrap()), "{what}")
            }
            Some("500") => {
                assert_eq!(code, Some(500), "{what}");
                assert!(err["message"]
                    .as_str()
                    .unwrap()
                    .contains("Internal Server Error"));
            }
            Some("stall") => assert_eq!((code, kind), (Some(408), "RequestTimeout"), "{what}"),
            Some("drop") => assert_eq!(kind, "IOError", "{what}"),
            Some("malformed-json") => assert_eq!(kind, "InvalidResponse", "{what}"),
            Some("truncated-b64" | "wrong-size") if checks_images => {
                assert!(!err.is_null(), "{what}")
            }
            // A client that does not look into images cannot see these.
            Some("truncated-b64" | "wrong-size") => assert!(err.is_null(), "{what}"),
            Some(other) => panic!("unexpected fault {other}"),
        }
    }
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join(TUTORIAL_RUN_DIR)
                .join("profile_export_imgperf.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let errors = summary["error_request_count"]["avg"].as_f64().unwrap();
    assert_eq!(errors, if checks_images { 10.0 } else { 8.0 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_shows_each_openai_fault_as_the_right_error() {
    faults_show_as_errors(Dialect::Openai).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_shows_each_sglang_fault_as_the_right_error() {
    faults_show_as_errors(Dialect::Sglang).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_shows_each_vllm_omni_fault_as_the_right_error() {
    faults_show_as_errors(Dialect::VllmOmni).await;
}

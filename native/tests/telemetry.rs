//! GPU telemetry and server metrics against `serve-mock --gpus 2`, whose
//! `/metrics` is driven by its own load so the truth is known: energy per
//! image within 1% of the mock's power model, utilization and queue series
//! on the records' timeline; an integrated-power fallback; energy per image
//! per point of a size sweep; and endpoints that are down, hang or answer
//! garbage: warnings and gaps, the run intact.

mod common;

use axum::routing::get;
use axum::Router;
use common::*;
use imgperf::mock::{MockArgs, MockServer};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const IDLE_W: f64 = 100.0;
const SLOT_W: f64 = 500.0;
const SERVICE_S: f64 = 0.1;

async fn gpu_mock(energy_counter: bool) -> MockServer {
    MockServer::start(&MockArgs {
        port: 0,
        latency_ms: SERVICE_S * 1000.0,
        jitter: 0.0,
        slots: 1,
        gpus: 2,
        gpu_idle_watts: IDLE_W,
        gpu_watts_per_slot: SLOT_W,
        gpu_no_energy_counter: !energy_counter,
        ..MockArgs::default()
    })
    .await
    .expect("mock starts")
}

fn only_run(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir.join("artifacts"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
}

fn summary(run: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("profile_export_imgperf.json")).unwrap())
        .unwrap()
}

/// The mock's model: both GPUs idle over the span, plus every request's
/// service time at the busy-slot power.
fn model_energy_j(span_s: f64, requests: f64) -> f64 {
    2.0 * IDLE_W * span_s + SLOT_W * SERVICE_S * requests
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn energy_per_image_matches_the_mock_within_one_percent() {
    let server = gpu_mock(true).await;
    let url = server.base_url();
    let dir = workdir();
    let flags = [
        "--request-count",
        "24",
        "--concurrency",
        "4",
        "--gpu-telemetry",
        &url,
        "--telemetry-interval",
        "0.05",
    ];
    let out = imgperf_async(dir.path(), &tutorial_args(&url, &flags)).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    server.shutdown().await;
    let run = only_run(dir.path());
    let s = summary(&run);
    let gpu = &s["gpu_telemetry"];
    assert_eq!(gpu["gpus"].as_array().unwrap().len(), 2, "{gpu}");
    assert_eq!(gpu["energy_source"], "counter");
    let span = gpu["span_s"].as_f64().unwrap();
    let expected = model_energy_j(span, 24.0);
    let energy = s["gpu_energy"]["avg"].as_f64().unwrap();
    assert!(
        (energy / expected - 1.0).abs() < 0.01,
        "{energy} J vs model {expected} J"
    );
    let per_image = s["energy_per_image"]["avg"].as_f64().unwrap();
    assert!(
        (per_image / (expected / 24.0) - 1.0).abs() < 0.01,
        "{per_image}"
    );
    assert_eq!(s["energy_per_image"]["unit"], "J");
    let kwh = s["images_per_kwh"]["avg"].as_f64().unwrap();
    assert!((kwh - 24.0 / (energy / 3.6e6)).abs() < 1e-6 * kwh);
    // Power: idle when nothing was in flight, a busy slot's worth more otherwise.
    let idle = s["gpu_power_idle"]["avg"].as_f64().unwrap();
    assert_eq!(idle, 2.0 * IDLE_W);
    assert!(s["gpu_power_in_flight"]["avg"].as_f64().unwrap() > idle);
    // Utilization series: busy and idle both seen, per GPU.
    for g in gpu["gpus"].as_array().unwrap() {
        assert_eq!(g["gpu_util_pct"]["max"], 100.0, "{g}");
        assert_eq!(g["gpu_util_pct"]["min"], 0.0, "{g}");
        assert_eq!(g["model_name"], "imgperf mock GPU");
    }
    // The queue gauge (4 in flight on 2 slots) and the counters.
    let server_m = &s["server_metrics"];
    let gauge = |name: &str| {
        server_m["gauges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {server_m}"))
            .clone()
    };
    assert!(
        gauge("imgperf_mock:num_requests_waiting")["max"]
            .as_f64()
            .unwrap()
            >= 1.0
    );
    assert_eq!(gauge("imgperf_mock:num_requests_running")["max"], 2.0);
    let served = server_m["counters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "imgperf_mock:images_served_total")
        .unwrap();
    assert_eq!(served["delta"], 24.0);
    assert!(server_m["gauges"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| !g["name"].as_str().unwrap().starts_with("DCGM")));
    // Console.
    assert!(stdout.contains("imgperf | GPU Telemetry"), "{stdout}");
    assert!(stdout.contains("Energy per image:"), "{stdout}");
    assert!(
        stdout.contains("imgperf_mock:num_requests_waiting"),
        "{stdout}"
    );
    // CSV: the energy metrics and a row per GPU.
    let csv = std::fs::read_to_string(run.join("profile_export_imgperf.csv")).unwrap();
    assert!(csv.contains("Energy per Image (J),"), "{csv}");
    assert_eq!(
        csv.lines()
            .filter(|l| l.starts_with("imgperf-mock:"))
            .count(),
        2,
        "{csv}"
    );
    // One line per scrape, on the records' epoch-ns timeline, with the
    // boundary scrapes bracketing every request.
    let lines = jsonl(&run.join("gpu_telemetry_export.jsonl"));
    let records = jsonl(&run.join("profile_export.jsonl"));
    let meta = |k: &'static str| {
        records
            .iter()
            .map(move |r| r["metadata"][k].as_u64().unwrap())
    };
    let first_start = meta("request_start_ns").min().unwrap();
    let last_end = meta("request_end_ns").max().unwrap();
    assert_eq!(lines.first().unwrap()["edge"], "start");
    assert_eq!(lines.last().unwrap()["edge"], "end");
    assert!(lines.first().unwrap()["timestamp_ns"].as_u64().unwrap() <= first_start);
    assert!(lines.last().unwrap()["timestamp_ns"].as_u64().unwrap() >= last_end);
    assert!(lines.len() > 4, "periodic scrapes between the edges");
    let busy = lines
        .iter()
        .filter(|l| l["gpus"][0]["gpu_util_pct"] == 100.0)
        .count();
    assert!(busy > 0, "utilization series shows the load");
    let server_lines = jsonl(&run.join("server_metrics_export.jsonl"));
    assert!(server_lines.iter().any(|l| l["samples"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == "imgperf_mock:num_requests_waiting"
            && s["value"].as_f64().unwrap() >= 1.0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_energy_counter_power_is_integrated_and_said_so() {
    let server = gpu_mock(false).await;
    let url = server.base_url();
    let dir = workdir();
    let flags = [
        "--request-count",
        "12",
        "--concurrency",
        "2",
        "--gpu-telemetry",
        &url,
        "--telemetry-interval",
        "0.02",
    ];
    let out = imgperf_async(dir.path(), &tutorial_args(&url, &flags)).await;
    assert!(out.status.success(), "{:?}", text(&out));
    server.shutdown().await;
    let s = summary(&only_run(dir.path()));
    let gpu = &s["gpu_telemetry"];
    assert_eq!(gpu["energy_source"], "integrated_power");
    let expected = model_energy_j(gpu["span_s"].as_f64().unwrap(), 12.0);
    let energy = s["gpu_energy"]["avg"].as_f64().unwrap();
    // Sampling a step function every 20 ms: close, not exact.
    assert!(
        (energy / expected - 1.0).abs() < 0.15,
        "{energy} J vs model {expected} J"
    );
    assert!(text(&out).0.contains("integrated power samples"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_sweep_reports_energy_per_image_per_point() {
    let dir = workdir();
    let args = [
        "profile",
        "--mock",
        "--mock-gpus",
        "1",
        "--mock-latency-ms",
        "20",
        "--tokenizer",
        "gpt2",
        "--request-count",
        "4",
        "--sweep",
        "size=64x64,128x128",
        "--telemetry-interval",
        "0.05",
        "--ui",
        "none",
    ];
    let out = imgperf_async(dir.path(), &args).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let root = dir
        .path()
        .join("artifacts/mock-image-model-openai-image_generation-sweep");
    let sweep: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("sweep_summary.json")).unwrap())
            .unwrap();
    let points = sweep["points"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    let mut per_mp = Vec::new();
    for p in points {
        let m = &p["metrics"];
        assert!(m["energy_per_image"]["avg"].as_f64().unwrap() > 0.0, "{p}");
        per_mp.push(m["energy_per_megapixel"]["avg"].as_f64().unwrap());
    }
    assert!(
        per_mp[0] > per_mp[1],
        "same time per image, 4x the pixels: {per_mp:?}"
    );
    let csv = std::fs::read_to_string(root.join("sweep_summary.csv")).unwrap();
    assert!(
        csv.lines().next().unwrap().contains("energy_per_image"),
        "{csv}"
    );
    assert!(stdout.contains("J/image"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_down_hanging_or_garbage_are_warnings_and_gaps() {
    let bad = serve_app(
        Router::new()
            .route(
                "/garbage",
                get(|| async { "# TYPE x gauge\nx{unclosed=\"1 2\n" }),
            )
            .route("/empty", get(|| async { "# nothing here\n" }))
            .route(
                "/hang",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    "x 1\n"
                }),
            ),
    )
    .await;
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    }; // closed again: connection refused
    let server = MockServer::start(&MockArgs {
        port: 0,
        latency_ms: 20.0,
        ..MockArgs::default()
    })
    .await
    .unwrap();
    let url = server.base_url();
    let dir = workdir();
    let (garbage, hang, empty) = (
        format!("{bad}/garbage"),
        format!("{bad}/hang"),
        format!("{bad}/empty"),
    );
    let flags = [
        "--request-count",
        "6",
        "--gpu-telemetry",
        &down,
        &hang,
        &garbage,
        &empty,
        "--server-metrics",
        &garbage,
        "--telemetry-interval",
        "0.2",
    ];
    let started = Instant::now();
    let out = imgperf_async(dir.path(), &tutorial_args(&url, &flags)).await;
    let took = started.elapsed();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    server.shutdown().await;
    assert!(
        took < Duration::from_secs(20),
        "each scrape is bounded: {took:?}"
    );
    for (u, why) in [
        (down.as_str(), "error sending request"),
        (hang.as_str(), "no complete answer within 1 s"),
        (garbage.as_str(), "not a Prometheus exposition: line 2"),
        (empty.as_str(), "no DCGM_FI_* series"),
    ] {
        assert!(
            stderr.lines().any(|l| l.contains(u) && l.contains(why)),
            "{u}: {why}\n{stderr}"
        );
    }
    let run = only_run(dir.path());
    assert_eq!(
        jsonl(&run.join("profile_export.jsonl")).len(),
        6,
        "run intact"
    );
    let s = summary(&run);
    assert_eq!(s["request_count"]["avg"], 6.0);
    let endpoints = s["gpu_telemetry"]["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 4, "{endpoints:?}");
    assert!(endpoints
        .iter()
        .all(|e| e["ok"] == 0 && e["failed"].as_u64().unwrap() >= 2));
    assert!(s.get("energy_per_image").is_none());
    // The gaps are in the export, one line per failed scrape.
    let gpu_lines = jsonl(&run.join("gpu_telemetry_export.jsonl"));
    assert!(gpu_lines.iter().all(|l| l["error"].is_string()));
    // The mock's own /metrics (the default) answered; the garbage one did not.
    let server_eps = s["server_metrics"]["endpoints"].as_array().unwrap();
    let ep = |u: &str| server_eps.iter().find(|e| e["url"] == u).unwrap().clone();
    assert_eq!(ep(&garbage)["ok"], 0);
    assert!(ep(&format!("{url}/metrics"))["ok"].as_u64().unwrap() >= 2);
    let log = std::fs::read_to_string(run.join("logs/imgperf.log")).unwrap();
    assert!(log.contains("warning: GPU telemetry"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_mock_gpus_2_serves_dcgm_series_driven_by_its_load() {
    use imgperf_core::telemetry::{dcgm, prometheus};
    use std::io::{BufRead, BufReader};
    let bad = std::process::Command::new(bin())
        .args(["serve-mock", "--port", "0", "--gpus", "2", "--slots", "0"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--gpus needs --slots 1 or more"));

    let mut child = std::process::Command::new(bin())
        .args([
            "serve-mock",
            "--port",
            "0",
            "--gpus",
            "2",
            "--latency-ms",
            "400",
        ])
        .args(["--gpu-idle-watts", "50", "--gpu-watts-per-slot", "300"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("{line}"))
        .to_owned();
    assert!(line.contains("2 simulated GPUs"), "{line}");
    let client = reqwest::Client::new();
    let gpus = |text: String| dcgm::readings(&prometheus::parse(&text).unwrap());
    let idle = gpus(
        client
            .get(format!("{url}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(idle.len(), 2);
    assert!(idle
        .iter()
        .all(|g| g.power_w == Some(50.0) && g.gpu_util_pct == Some(0.0)));
    let post = client
        .post(format!("{url}/v1/images/generations"))
        .body(r#"{"prompt":"a cat","size":"64x64"}"#)
        .send();
    let busy = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        gpus(
            client
                .get(format!("{url}/metrics"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        )
    };
    let (answer, busy) = tokio::join!(post, busy);
    assert_eq!(answer.unwrap().status(), 200);
    let powers: Vec<f64> = busy.iter().map(|g| g.power_w.unwrap()).collect();
    assert_eq!(
        powers.iter().sum::<f64>(),
        2.0 * 50.0 + 300.0,
        "one busy slot: {powers:?}"
    );
    assert!(busy.iter().any(|g| g.gpu_util_pct == Some(100.0)));
    let after = gpus(
        client
            .get(format!("{url}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let spent_j: f64 = after
        .iter()
        .zip(&idle)
        .map(|(a, b)| (a.energy_mj.unwrap() - b.energy_mj.unwrap()) / 1000.0)
        .sum();
    assert!(
        spent_j >= 300.0 * 0.4,
        "the busy slot's 120 J are in the counters: {spent_j}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_reports_gpu_energy_but_not_energy_per_image() {
    let dir = workdir();
    let args = [
        "profile",
        "--mock",
        "--mock-gpus",
        "1",
        "--mock-latency-ms",
        "20",
        "--tokenizer",
        "gpt2",
        "--request-count",
        "6",
        "--shard",
        "0/2",
        "--random-seed",
        "3",
        "--ui",
        "none",
        "--extra-inputs",
        "size:64x64",
    ];
    let out = imgperf_async(dir.path(), &args).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let s = summary(&only_run(dir.path()));
    assert!(s["gpu_telemetry"]["energy_j"].as_f64().unwrap() > 0.0);
    assert!(s.get("energy_per_image").is_none() && s.get("gpu_energy").is_none());
    assert!(
        stdout.contains("Shard 0/2: the GPUs served every shard"),
        "{stdout}"
    );
    assert!(!stdout.contains("Energy per image:"), "{stdout}");
}

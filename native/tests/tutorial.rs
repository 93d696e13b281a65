//! The seed tutorial end to end: its three `profile` commands (with `aiperf`
//! replaced by `imgperf`) against a real `imgperf` mock server on 127.0.0.1,
//! the table, the artifacts, and image extraction from the raw export.

mod common;

use base64::Engine;
use common::*;
use imgperf::mock::{MockArgs, MockServer};

async fn mock() -> MockServer {
    let args = MockArgs {
        port: 0,
        latency_ms: 10.0,
        ..MockArgs::default()
    };
    MockServer::start(&args).await.expect("mock starts")
}

fn isl_row(stdout: &str) -> Vec<String> {
    let line = stdout
        .lines()
        .find(|l| l.contains("Input Sequence Length (tokens)"))
        .unwrap_or_else(|| panic!("no ISL row in:\n{stdout}"));
    line.split(['│', '┆'])
        .skip(2)
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_file_command_prints_table_and_writes_artifacts() {
    let server = mock().await;
    let dir = workdir();
    let url = server.base_url();
    let out = imgperf_async(dir.path(), &tutorial_args(&url, &[])).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("Image Generation Metrics"), "{stdout}");
    for row in [
        "Request Latency (ms)",
        "Request Throughput (requests/sec)",
        "Request Count (requests)",
        "Error Request Count (requests)",
    ] {
        assert!(stdout.contains(row), "missing {row}:\n{stdout}");
    }
    assert_eq!(
        isl_row(&stdout),
        ["6.67", "6.00", "7.00", "7.00", "7.00", "7.00", "0.47"]
    );

    let run = dir.path().join(TUTORIAL_RUN_DIR);
    for f in [
        "inputs.json",
        "profile_export.jsonl",
        "profile_export_imgperf.json",
        "profile_export_imgperf.csv",
        "logs/imgperf.log",
    ] {
        assert!(run.join(f).is_file(), "missing {f}");
    }
    assert!(
        !run.join("profile_export_raw.jsonl").exists(),
        "raw export only at --export-level raw"
    );
    let records = jsonl(&run.join("profile_export.jsonl"));
    assert_eq!(records.len(), 3);
    let isl: Vec<u64> = records
        .iter()
        .map(|r| {
            r["metrics"]["input_sequence_length"]["value"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let mut sorted = isl.clone();
    sorted.sort();
    assert_eq!(sorted, [6, 7, 7]);
    for r in &records {
        assert!(r["error"].is_null(), "{r}");
        assert_eq!(r["metadata"]["benchmark_phase"], "profiling");
        assert!(r["metrics"]["request_latency"]["value"].as_f64().unwrap() >= 10.0);
    }
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run.join("profile_export_imgperf.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["request_count"]["avg"], 3.0);
    assert_eq!(summary["input_sequence_length"]["p50"], 7.0);
    assert_eq!(summary["was_cancelled"], false);
    let inputs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("inputs.json")).unwrap()).unwrap();
    let payload = &inputs["data"][0]["payloads"][0];
    assert_eq!(payload["size"], "512x512");
    assert_eq!(payload["quality"], "standard");
    assert_eq!(payload["response_format"], "b64_json");
    assert_eq!(payload["n"], 1);
    assert_eq!(payload["model"], "black-forest-labs/FLUX.1-dev");
    assert_eq!(server.requests_seen(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthetic_command_runs() {
    let server = mock().await;
    let dir = workdir();
    let url = server.base_url();
    let args = [
        "profile",
        "--model",
        "black-forest-labs/FLUX.1-dev",
        "--tokenizer",
        "gpt2",
        "--url",
        &url,
        "--endpoint-type",
        "image_generation",
        "--extra-inputs",
        "size:512x512",
        "--extra-inputs",
        "quality:standard",
        "--synthetic-input-tokens-mean",
        "150",
        "--synthetic-input-tokens-stddev",
        "30",
        "--concurrency",
        "1",
        "--request-count",
        "3",
    ];
    let out = imgperf_async(dir.path(), &args).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Image Generation Metrics"));
    let records = jsonl(
        &dir.path()
            .join(TUTORIAL_RUN_DIR)
            .join("profile_export.jsonl"),
    );
    assert_eq!(records.len(), 3);
    for r in &records {
        let isl = r["metrics"]["input_sequence_length"]["value"]
            .as_u64()
            .unwrap();
        assert!((30..=300).contains(&isl), "ISL {isl} far from N(150, 30)");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_export_feeds_extraction() {
    let server = mock().await;
    let dir = workdir();
    let url = server.base_url();
    let out = imgperf_async(dir.path(), &tutorial_args(&url, &["--export-level", "raw"])).await;
    assert!(out.status.success(), "{:?}", text(&out));
    let raw_path = dir
        .path()
        .join(TUTORIAL_RUN_DIR)
        .join("profile_export_raw.jsonl");
    let raw = jsonl(&raw_path);
    assert_eq!(raw.len(), 3);
    // The shape the tutorial's extract_images.py reads: responses[].text -> data[].b64_json.
    for line in &raw {
        let text = line["responses"][0]["text"]
            .as_str()
            .expect("responses[0].text is a string");
        let body: serde_json::Value = serde_json::from_str(text).expect("text is the JSON body");
        let b64 = body["data"][0]["b64_json"]
            .as_str()
            .expect("data[0].b64_json");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let img = image::load_from_memory(&bytes).expect("a decodable image");
        assert_eq!((img.width(), img.height()), (512, 512));
        assert!(line["payload"]["prompt"].is_string());
    }
    // `imgperf extract` with the tutorial's defaults, from the same directory.
    let out = imgperf_async(dir.path(), &["extract"]).await;
    assert!(out.status.success(), "{:?}", text(&out));
    let mut files: Vec<String> = std::fs::read_dir(dir.path().join("extracted_images"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "image_0001_00.png",
            "image_0002_00.png",
            "image_0003_00.png"
        ]
    );
    for f in &files {
        let img = image::open(dir.path().join("extracted_images").join(f)).unwrap();
        assert_eq!((img.width(), img.height()), (512, 512));
    }
}

/// The README's first command (after `cargo run --release -p imgperf --`),
/// read from the README itself so the two cannot drift apart.
#[test]
fn readme_first_command_runs_against_the_embedded_mock() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let prefix = "cargo run --release -p imgperf -- ";
    let line = readme
        .lines()
        .find(|l| l.starts_with(prefix))
        .expect("README has the mock command");
    let args: Vec<&str> = line[prefix.len()..].split_whitespace().collect();
    assert!(args.contains(&"--mock"));
    let dir = tempfile::tempdir().unwrap();
    let out = imgperf(dir.path(), &args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Image Generation Metrics"), "{stdout}");
    assert!(
        stderr.contains("EMBEDDED MOCK"),
        "the console must say the target is simulated: {stderr}"
    );
    let run = dir
        .path()
        .join("artifacts/mock-image-model-openai-image_generation-concurrency2");
    let records = jsonl(&run.join("profile_export.jsonl"));
    assert_eq!(records.len(), 20);
    assert!(records.iter().all(|r| r["error"].is_null()));
    assert!(run.join("profile_export_imgperf.json").is_file());
}

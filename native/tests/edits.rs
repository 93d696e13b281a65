//! `imgperf profile --endpoint-type image_edit` end to end against the
//! embedded mock in every dialect: synthetic references (batch 1 and 3),
//! an input file naming references by path, URL and data URI with a mask,
//! outputs validated, a wrong-size output flagged, a server's 400 recorded,
//! the exports describing each file part, and the run's records carrying
//! each input image.

mod common;
mod imgtest;

use common::*;
use imgperf::mock::{Dialect, FaultAt, MockArgs, MockServer, Task};
use imgperf_core::images::ImageFormat;
use imgtest::*;
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::Ordering;

const DIALECTS: [Dialect; 3] = [Dialect::Openai, Dialect::Sglang, Dialect::VllmOmni];

async fn mock(args: MockArgs) -> MockServer {
    MockServer::start(&MockArgs {
        port: 0,
        latency_ms: 5.0,
        slots: 0,
        ..args
    })
    .await
    .expect("mock starts")
}

fn dialect(d: Dialect) -> MockArgs {
    MockArgs {
        dialect: d,
        ..MockArgs::default()
    }
}

/// An edit run's command line with `extra` flags.
fn edit_args<'a>(url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "profile",
        "--model",
        "black-forest-labs/FLUX.2-klein-4B",
        "--tokenizer",
        "builtin",
        "--url",
        url,
        "--endpoint-type",
        "image_edit",
        "--ui",
        "none",
        "--random-seed",
        "7",
    ];
    v.extend_from_slice(extra);
    v
}

async fn run_ok(dir: &Path, args: &[&str]) -> String {
    let out = imgperf_async(dir, args).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{args:?}\n{stdout}\n{stderr}");
    stdout
}

/// Check a successful edit run's records: `n` requests, each validated
/// (no error, no image issue), outputs of `size`, inputs as `inputs(i)` says.
fn check_records(
    run: &Path,
    n: usize,
    size: (u64, u64),
    inputs: impl Fn(usize) -> Vec<(u64, u64)>,
) {
    let recs = records_in_order(run);
    assert_eq!(recs.len(), n, "{}", run.display());
    for (i, r) in recs.iter().enumerate() {
        assert!(r["error"].is_null(), "{r}");
        let items = r["images"]["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{r}");
        let got = (
            items[0]["width"].as_u64().unwrap(),
            items[0]["height"].as_u64().unwrap(),
        );
        assert_eq!(got, size, "{r}");
        assert!(r["images"]["issues"].as_array().unwrap().is_empty(), "{r}");
        let ins: Vec<(u64, u64)> = r["input_images"]
            .as_array()
            .expect("input_images")
            .iter()
            .map(|m| (m["width"].as_u64().unwrap(), m["height"].as_u64().unwrap()))
            .collect();
        assert_eq!(ins, inputs(i), "record {i}");
        for m in r["input_images"].as_array().unwrap() {
            assert!(m["bytes"].as_u64().unwrap() > 100);
            assert_eq!(m["sha256"].as_str().unwrap().len(), 16);
        }
        let count = metric(r, "input_image_count").unwrap() as usize;
        assert_eq!(count, ins.len());
        assert!(metric(r, "input_image_bytes").unwrap() > 100.0);
        assert!(metric(r, "http_req_sending").is_some(), "upload time: {r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthetic_references_batch_1_and_3_in_every_dialect() {
    for d in DIALECTS {
        let server = mock(dialect(d)).await;
        let url = server.base_url();
        for batch in ["1", "3"] {
            let dir = workdir();
            let flags = [
                "--image-batch-size",
                batch,
                "--image-width-mean",
                "96",
                "--image-height-mean",
                "64",
                "--image-format",
                "random",
                "--extra-inputs",
                "size:128x96",
                "--synthetic-input-tokens-mean",
                "12",
                "--num-dataset-entries",
                "3",
                "--request-count",
                "4",
                "--concurrency",
                "2",
                "--validate-images",
                "strict",
                "--export-level",
                "raw",
            ];
            let stdout = run_ok(dir.path(), &edit_args(&url, &flags)).await;
            assert!(stdout.contains("imgperf | Image Edit Metrics"), "{stdout}");
            for row in [
                "Input Images (images)",
                "Input Image Size (bytes)",
                "Upload Time (ms)",
                "Image Latency (ms/image)",
            ] {
                assert!(stdout.contains(row), "{d:?}: {row}\n{stdout}");
            }
            let run = run_dir(dir.path());
            assert_eq!(
                run.file_name().unwrap(),
                "black-forest-labs_FLUX.2-klein-4B-openai-image_edit-concurrency2"
            );
            let b: usize = batch.parse().unwrap();
            check_records(&run, 4, (128, 96), |_| vec![(96, 64); b]);
            // ISL counts the prompt's tokens only, as AIPerf's.
            for r in records_in_order(&run) {
                assert_eq!(metric(&r, "input_sequence_length"), Some(12.0));
            }
            // The raw export and inputs.json describe the file parts, without bytes.
            let raw = jsonl(&run.join("profile_export_raw.jsonl"));
            let files = raw[0]["payload"]["files"].as_array().unwrap();
            assert_eq!(files.len(), b);
            let name = if b == 1 { "image" } else { "image[]" };
            for f in files {
                assert_eq!(f["name"], name);
                assert!(f["content_type"] == "image/png" || f["content_type"] == "image/jpeg");
                assert_eq!(f["sha256"].as_str().unwrap().len(), 64);
                assert!(f.get("b64").is_none());
            }
            let ct = raw[0]["request_headers"]["Content-Type"].as_str().unwrap();
            assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
            let inputs = json_file(&run.join("inputs.json"));
            let entries = inputs["data"].as_array().unwrap();
            assert_eq!(entries.len(), 3);
            for line in &raw {
                let id = &line["metadata"]["conversation_id"];
                let entry = entries.iter().find(|e| &e["session_id"] == id).unwrap();
                assert_eq!(entry["payloads"][0], line["payload"]);
            }
            let summary = json_file(&run.join("profile_export_imgperf.json"));
            assert_eq!(summary["input_config"]["endpoint"]["type"], "image_edit");
            assert_eq!(
                summary["input_config"]["endpoint"]["custom_endpoint"],
                "/v1/images/edits"
            );
            assert_eq!(summary["input_config"]["input"]["tokenizer"], "builtin");
            assert_eq!(summary["input_image_count"]["avg"], b as f64);
        }
        assert_eq!(server.requests_served(), 8, "{d:?}");
        server.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_file_with_path_url_data_uri_and_mask_in_every_dialect() {
    let (refs_url, gets) = reference_server("/ref.png", encode(ImageFormat::Png, 80, 60)).await;
    let dir = workdir();
    // The input file sits in a sub-folder: paths are relative to it, not to the cwd.
    let sub = dir.path().join("data");
    std::fs::create_dir_all(sub.join("refs")).unwrap();
    std::fs::write(sub.join("refs/a.png"), encode(ImageFormat::Png, 48, 32)).unwrap();
    std::fs::write(sub.join("refs/mask.png"), encode(ImageFormat::Png, 48, 32)).unwrap();
    let data_uri = format!(
        "data:image/jpeg;base64,{}",
        b64(&encode(ImageFormat::Jpeg, 40, 40))
    );
    let url = format!("{refs_url}/ref.png");
    let rows = [
        serde_json::json!({"text": "Make the background a sunset", "image": "refs/a.png"}),
        serde_json::json!({"text": "Add snow to the trees", "image": url}),
        serde_json::json!({"text": "Convert this scene to a watercolor painting", "image": data_uri}),
        serde_json::json!({"text": "Blend them", "images": ["refs/a.png", url], "mask": "refs/mask.png"}),
    ];
    let file: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(sub.join("edits.jsonl"), file).unwrap();
    for d in DIALECTS {
        let server = mock(dialect(d)).await;
        let base = server.base_url();
        let work = dir.path().join(d.name());
        std::fs::create_dir_all(&work).unwrap();
        let input = sub.join("edits.jsonl");
        let flags = [
            "--input-file",
            input.to_str().unwrap(),
            "--custom-dataset-type",
            "single_turn",
            "--extra-inputs",
            "size:64x64",
            "--request-count",
            "6",
            "--validate-images",
            "strict",
        ];
        let stdout = run_ok(&work, &edit_args(&base, &flags)).await;
        assert!(stdout.contains("Image Edit Metrics"));
        let expect = |i: usize| match i % 4 {
            0 => vec![(48, 32)],
            1 => vec![(80, 60)],
            2 => vec![(40, 40)],
            _ => vec![(48, 32), (80, 60)],
        };
        check_records(&run_dir(&work), 6, (64, 64), expect);
        let recs = records_in_order(&run_dir(&work));
        assert_eq!(recs[2]["input_images"][0]["format"], "jpeg");
        assert_eq!(
            recs[0]["input_images"][0]["sha256"], recs[3]["input_images"][0]["sha256"],
            "the same file, the same digest"
        );
        server.shutdown().await;
    }
    assert_eq!(
        gets.load(Ordering::SeqCst),
        3,
        "the URL is fetched once per run, not per request"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_input_images_puts_the_bytes_in_the_exports_and_extract_saves_them() {
    let server = mock(dialect(Dialect::Openai)).await;
    let dir = workdir();
    let ref_png = encode(ImageFormat::Png, 40, 24);
    std::fs::write(dir.path().join("r.png"), &ref_png).unwrap();
    std::fs::write(
        dir.path().join("edits.jsonl"),
        "{\"text\": \"make it night\", \"image\": \"r.png\"}\n",
    )
    .unwrap();
    let url = server.base_url();
    let flags = [
        "--input-file",
        "edits.jsonl",
        "--extra-inputs",
        "size:32x32",
        "--request-count",
        "2",
        "--export-level",
        "raw",
        "--export-input-images",
    ];
    run_ok(dir.path(), &edit_args(&url, &flags)).await;
    let run = run_dir(dir.path());
    let raw = jsonl(&run.join("profile_export_raw.jsonl"));
    let f = &raw[0]["payload"]["files"][0];
    let bytes = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        f["b64"].as_str().expect("bytes exported on request"),
    )
    .unwrap();
    assert_eq!(bytes, ref_png);
    assert_eq!(f["source"], "r.png");
    // The tutorial's extract_images.py reads responses[].text -> data[].b64_json.
    let body: Value =
        serde_json::from_str(raw[1]["responses"][0]["text"].as_str().unwrap()).unwrap();
    assert!(body["data"][0]["b64_json"].is_string());
    let raw_path = run.join("profile_export_raw.jsonl");
    let out = imgperf_async(dir.path(), &["extract", raw_path.to_str().unwrap(), "out"]).await;
    assert!(out.status.success(), "{:?}", text(&out));
    let mut files: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "image_0001_00.png",
            "image_0002_00.png",
            "input_0001_00.png",
            "input_0002_00.png"
        ]
    );
    assert_eq!(
        std::fs::read(dir.path().join("out/input_0001_00.png")).unwrap(),
        ref_png
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_size_output_is_flagged() {
    let server = mock(MockArgs {
        fault_at: vec!["wrong-size:2".parse::<FaultAt>().unwrap()],
        ..dialect(Dialect::Openai)
    })
    .await;
    let dir = workdir();
    let url = server.base_url();
    let flags = [
        "--image-width-mean",
        "64",
        "--image-height-mean",
        "64",
        "--extra-inputs",
        "size:64x64",
        "--synthetic-input-tokens-mean",
        "8",
        "--num-dataset-entries",
        "2",
        "--request-count",
        "3",
    ];
    let stdout = run_ok(dir.path(), &edit_args(&url, &flags)).await;
    assert!(stdout.contains("Requests with Image Issues"), "{stdout}");
    let recs = records_in_order(&run_dir(dir.path()));
    let flagged: Vec<&Value> = recs
        .iter()
        .filter(|r| !r["images"]["issues"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0]["images"]["issues"][0]["kind"], "size_mismatch");
    assert_eq!(
        flagged[0]["images"]["issues"][0]["message"],
        "32x32 returned, 64x64 requested"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_400_for_an_edit_is_recorded_with_its_message() {
    let server = mock(MockArgs {
        task: Task::T2i,
        ..dialect(Dialect::Sglang)
    })
    .await;
    let dir = workdir();
    let url = server.base_url();
    let flags = [
        "--image-width-mean",
        "32",
        "--image-height-mean",
        "32",
        "--num-dataset-entries",
        "1",
        "--request-count",
        "2",
    ];
    let stdout = run_ok(dir.path(), &edit_args(&url, &flags)).await;
    assert!(
        stdout.contains("2 × [400] BadRequest: input_reference is not supported for T2I models."),
        "{stdout}"
    );
    let recs = records_in_order(&run_dir(dir.path()));
    assert_eq!(recs[0]["error"]["code"], 400);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bad_input_is_one_line_naming_the_row_or_flag_before_any_request() {
    let (refs_url, _) = reference_server("/ref.png", encode(ImageFormat::Png, 8, 8)).await;
    let server = mock(dialect(Dialect::Openai)).await;
    let url = server.base_url();
    let dir = workdir();
    let p = dir.path();
    std::fs::write(p.join("a.png"), encode(ImageFormat::Png, 32, 32)).unwrap();
    std::fs::write(p.join("small.png"), encode(ImageFormat::Png, 8, 8)).unwrap();
    std::fs::write(p.join("notes.txt"), "just words").unwrap();
    let ok = r#"{"text": "fine", "image": "a.png"}"#;
    let gone = format!(r#"{{"text": "x", "image": "{refs_url}/gone.png"}}"#);
    let cases: Vec<(String, &str)> = vec![
        (
            r#"{"text": "no picture"}"#.into(),
            "edits.jsonl:2: row has no \"image\"",
        ),
        (
            r#"{"text": "x", "image": "missing.png"}"#.into(),
            "edits.jsonl:2: image \"missing.png\": cannot read",
        ),
        (gone, "edits.jsonl:2: image \"http"),
        (
            r#"{"text": "x", "image": "notes.txt"}"#.into(),
            "edits.jsonl:2: image \"notes.txt\": is not a usable image",
        ),
        (
            r#"{"text": "x", "image": "a.png", "mask": "small.png"}"#.into(),
            "edits.jsonl:2: mask \"small.png\" is 8x8 but its image \"a.png\" is 32x32",
        ),
    ];
    for (row, want) in &cases {
        std::fs::write(p.join("edits.jsonl"), format!("{ok}\n{row}\n")).unwrap();
        let out = imgperf_async(p, &edit_args(&url, &["--input-file", "edits.jsonl"])).await;
        let (_, stderr) = text(&out);
        assert!(!out.status.success(), "{row}");
        let line = stderr
            .lines()
            .find(|l| l.starts_with("imgperf: error:"))
            .unwrap_or_else(|| panic!("no error line: {stderr}"));
        assert!(line.contains(want), "{line}\n  wanted: {want}");
    }
    let out = imgperf_async(p, &edit_args(&url, &["--image-batch-size", "0"])).await;
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("imgperf: error: --image-batch-size must be at least 1"),
        "{stderr}"
    );
    let gone_line = cases[2].0.clone();
    std::fs::write(p.join("edits.jsonl"), format!("{gone_line}\n")).unwrap();
    let out = imgperf_async(p, &edit_args(&url, &["--input-file", "edits.jsonl"])).await;
    assert!(
        text(&out).1.contains("HTTP 404 Not Found"),
        "{:?}",
        text(&out)
    );
    assert_eq!(
        server.requests_seen(),
        0,
        "no request before the inputs are good"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_sweep_and_run_against_the_embedded_mock() {
    let dir = workdir();
    let flags = [
        "profile",
        "--mock",
        "--endpoint-type",
        "image_edit",
        "--ui",
        "none",
        "--image-width-mean",
        "48",
        "--image-height-mean",
        "48",
        "--synthetic-input-tokens-mean",
        "8",
        "--num-dataset-entries",
        "2",
        "--request-count",
        "2",
        "--mock-latency-ms",
        "5",
        "--sweep",
        "size=32x32,64x48",
        "--goodput",
        "request_latency:60000",
    ];
    let stdout = run_ok(dir.path(), &flags).await;
    let sweep = dir
        .path()
        .join("artifacts/mock-image-model-openai-image_edit-sweep");
    let summary = json_file(&sweep.join("sweep_summary.json"));
    assert_eq!(summary["points"].as_array().unwrap().len(), 2, "{stdout}");
    for (point, size) in [("size32x32", (32, 32)), ("size64x48", (64, 48))] {
        check_records(&sweep.join(point), 2, size, |_| vec![(48, 48)]);
        let s = json_file(&sweep.join(point).join("profile_export_imgperf.json"));
        assert_eq!(s["good_request_count"]["avg"], 2.0);
    }
}

//! Image-to-video end to end against the mock in the openai and sglang
//! dialects: input rows naming a reference by path, URL and data: URI (and
//! one naming none, which stays text-to-video JSON), the multipart submit
//! the server saw (its truth log: `input_reference` of the right bytes), the
//! records' input images and Upload Time, the raw export's file parts, MP4s
//! that show their reference (first frame decoded by ffmpeg), synthetic
//! references, a text-to-video model's 400 and an image-to-video model's
//! 400, and each bad input refused before any request.

mod common;
mod imgtest;
mod videotest;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;

use base64::Engine as _;
use common::*;
use image::{ExtendedColorType, ImageEncoder, RgbImage};
use imgperf::mock::{Dialect, MockArgs, MockServer, Task};
use imgtest::{b64, metric, records_in_order, reference_server, run_dir};
use serde_json::{json, Value};
use sha2::Digest as _;
use videotest::*;

const RED: [u8; 3] = [230, 20, 20];
const GREEN: [u8; 3] = [20, 210, 40];
const BLUE: [u8; 3] = [20, 40, 220];

/// A PNG of one colour.
fn solid_png(rgb: [u8; 3], w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_pixel(w, h, image::Rgb(rgb));
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), w, h, ExtendedColorType::Rgb8)
        .unwrap();
    out
}

fn sha256(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A video run's command line (image-to-video model name) with `extra` flags.
fn i2v_args<'a>(url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "profile",
        "--model",
        "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers",
        "--tokenizer",
        "builtin",
        "--url",
        url,
        "--endpoint-type",
        "video_generation",
        "--video-poll-interval",
        "0.01",
        "--ui",
        "none",
        "--random-seed",
        "3",
    ];
    v.extend_from_slice(extra);
    v
}

/// Mean colour of an MP4's first frame, decoded by ffmpeg.
fn first_frame_mean(mp4: &[u8], dir: &Path) -> [f64; 3] {
    let path = dir.join(format!("{}.mp4", &sha256(mp4)[..12]));
    std::fs::write(&path, mp4).unwrap();
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .expect("ffmpeg not found: run `bash scripts/test.sh` (it installs Debian's ffmpeg)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let px = out.stdout.len() / 3;
    assert!(px > 0);
    let mut sum = [0f64; 3];
    for p in out.stdout.chunks_exact(3) {
        for c in 0..3 {
            sum[c] += f64::from(p[c]);
        }
    }
    sum.map(|s| s / px as f64)
}

fn near(mean: [f64; 3], want: [u8; 3]) -> bool {
    mean.iter()
        .zip(want)
        .all(|(m, w)| (m - f64::from(w)).abs() < 20.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_by_path_url_and_data_uri_in_both_dialects() {
    let red = solid_png(RED, 64, 48);
    let blue = solid_png(BLUE, 40, 30);
    let green = solid_png(GREEN, 24, 24);
    let (refs_url, gets) = reference_server("/red.png", red.clone()).await;
    let dir = workdir();
    // The input file sits in a sub-folder: paths are relative to it.
    let sub = dir.path().join("data");
    std::fs::create_dir_all(sub.join("refs")).unwrap();
    std::fs::write(sub.join("refs/blue.png"), &blue).unwrap();
    let url = format!("{refs_url}/red.png");
    let data_uri = format!("data:image/png;base64,{}", b64(&green));
    let rows = [
        json!({"text": "The camera pans across a calm blue sea", "image": "refs/blue.png"}),
        json!({"text": "A red lantern sways in the wind", "image": url}),
        json!({"text": "Grass waves in a green field", "image": data_uri}),
        json!({"text": "A fox runs through the snow"}),
    ];
    let file: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(sub.join("i2v.jsonl"), file).unwrap();
    let input = sub.join("i2v.jsonl");
    let want = [
        Some((&blue, BLUE)),
        Some((&red, RED)),
        Some((&green, GREEN)),
        None,
    ];
    for d in [Dialect::Openai, Dialect::Sglang] {
        let log = dir.path().join(format!("truth-{}.jsonl", d.name()));
        let server = MockServer::start(&MockArgs {
            truth_log: Some(log.clone()),
            ..mock(d, 5.0)
        })
        .await
        .unwrap();
        let base = server.base_url();
        let work = dir.path().join(d.name());
        std::fs::create_dir_all(&work).unwrap();
        let flags = [
            "--input-file",
            input.to_str().unwrap(),
            "--custom-dataset-type",
            "single_turn",
            "--extra-inputs",
            "size:64x48",
            "--extra-inputs",
            "num_frames:9",
            "--extra-inputs",
            "fps:8",
            "--request-count",
            "4",
            "--download-video-content",
            "--export-level",
            "raw",
            "--validate-images",
            "strict",
        ];
        let out = imgperf_async(&work, &i2v_args(&base, &flags)).await;
        let stdout = run_ok(&out);
        for row in [
            "Video Generation Metrics",
            "Input Images (images)",
            "Input Image Size (bytes)",
            "Input Megapixels (MP)",
            "Upload Time (ms)",
        ] {
            assert!(stdout.contains(row), "{d:?}: {row}\n{stdout}");
        }
        let run = run_dir(&work);
        let recs = records_in_order(&run);
        assert_eq!(recs.len(), 4);
        let raw = jsonl(&run.join("profile_export_raw.jsonl"));
        for (i, r) in recs.iter().enumerate() {
            assert!(r["error"].is_null(), "{d:?} {i}: {r}");
            let line = raw
                .iter()
                .find(|l| l["metadata"]["x_request_id"] == r["metadata"]["x_request_id"])
                .expect("a raw line per record");
            let ct = line["request_headers"]["Content-Type"].as_str().unwrap();
            match want[i] {
                Some((bytes, _)) => {
                    let ins = r["input_images"].as_array().unwrap();
                    assert_eq!(ins.len(), 1, "{r}");
                    assert_eq!(ins[0]["bytes"].as_u64(), Some(bytes.len() as u64));
                    assert_eq!(ins[0]["sha256"].as_str(), Some(&sha256(bytes)[..16]));
                    assert_eq!(metric(r, "input_image_count"), Some(1.0));
                    assert!(metric(r, "http_req_sending").is_some(), "{r}");
                    assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
                    let f = &line["payload"]["files"][0];
                    assert_eq!(f["name"], "input_reference");
                    assert_eq!(f["content_type"], "image/png");
                    assert_eq!(f["sha256"].as_str(), Some(sha256(bytes).as_str()));
                    assert!(
                        f.get("b64").is_none(),
                        "bytes only with --export-input-images"
                    );
                }
                None => {
                    assert!(
                        r["input_images"].as_array().is_none_or(Vec::is_empty),
                        "{r}"
                    );
                    assert_eq!(metric(r, "input_image_count"), None);
                    assert_eq!(ct, "application/json");
                    assert!(line["payload"].get("files").is_none());
                }
            }
            // The MP4 shows the reference (or the mock's scene without one).
            let responses = line["responses"].as_array().unwrap();
            let last: Value =
                serde_json::from_str(responses.last().unwrap()["text"].as_str().unwrap()).unwrap();
            let mp4 = base64::engine::general_purpose::STANDARD
                .decode(
                    last["b64_mp4"]
                        .as_str()
                        .expect("content counted and exported"),
                )
                .unwrap();
            let facts = imgperf_core::video::mp4::facts(&mp4).unwrap();
            assert_eq!((facts.width, facts.height, facts.frames), (64, 48, 9));
            let mean = first_frame_mean(&mp4, dir.path());
            match want[i] {
                Some((_, colour)) => assert!(near(mean, colour), "{d:?} {i}: {mean:?}"),
                None => {
                    for c in [RED, GREEN, BLUE] {
                        assert!(!near(mean, c), "{d:?}: scene, not a reference: {mean:?}");
                    }
                }
            }
        }
        // What the server saw: three multipart submits, each with
        // input_reference of the row's bytes, and one without.
        let truth = truth(&log);
        let posts: Vec<&Value> = truth.iter().filter(|l| l["method"] == "POST").collect();
        assert_eq!(posts.len(), 4, "{truth:?}");
        let seen: BTreeSet<String> = posts
            .iter()
            .filter_map(|l| l.get("uploads"))
            .map(|u| {
                assert_eq!(u.as_array().unwrap().len(), 1);
                assert_eq!(u[0]["name"], "input_reference");
                assert_eq!(u[0]["content_type"], "image/png");
                u[0]["sha256"].as_str().unwrap().to_owned()
            })
            .collect();
        let expected: BTreeSet<String> = [&blue, &red, &green].iter().map(|b| sha256(b)).collect();
        assert_eq!(seen, expected, "{d:?}");
        assert_eq!(
            posts.iter().filter(|l| l.get("uploads").is_none()).count(),
            1
        );
        server.shutdown().await;
    }
    assert_eq!(
        gets.load(Ordering::SeqCst),
        2,
        "the URL is fetched once per run"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthetic_references_with_image_batch_size_1_and_text_to_video_without() {
    let server = MockServer::start(&mock(Dialect::Sglang, 5.0))
        .await
        .unwrap();
    let url = server.base_url();
    let common = [
        "--synthetic-input-tokens-mean",
        "8",
        "--num-dataset-entries",
        "2",
        "--request-count",
        "2",
        "--extra-inputs",
        "size:64x48",
        "--extra-inputs",
        "num_frames:5",
    ];
    let dir = workdir();
    let mut flags = common.to_vec();
    flags.extend([
        "--image-batch-size",
        "1",
        "--image-width-mean",
        "40",
        "--image-height-mean",
        "32",
        "--export-level",
        "raw",
        "--export-input-images",
        "--download-video-content",
    ]);
    let stdout = run_ok(&imgperf_async(dir.path(), &i2v_args(&url, &flags)).await);
    assert!(stdout.contains("Input Images (images)"), "{stdout}");
    for r in records_in_order(&run_dir(dir.path())) {
        assert!(r["error"].is_null(), "{r}");
        assert_eq!(r["input_images"][0]["width"], 40);
        assert_eq!(r["input_images"][0]["height"], 32);
    }
    // extract saves each job's reference (its bytes exported on request) and its MP4.
    let raw = run_dir(dir.path()).join("profile_export_raw.jsonl");
    let out = imgperf_async(dir.path(), &["extract", raw.to_str().unwrap(), "out"]).await;
    run_ok(&out);
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let inputs: Vec<&String> = names.iter().filter(|n| n.starts_with("input_")).collect();
    assert_eq!(inputs.len(), 2, "{names:?}");
    assert_eq!(
        names.iter().filter(|n| n.ends_with(".mp4")).count(),
        2,
        "{names:?}"
    );
    let saved = std::fs::read(dir.path().join("out").join(inputs[0])).unwrap();
    let info = imgperf_core::images::probe(&saved).unwrap();
    assert_eq!((info.width, info.height), (40, 32));
    // Without image flags a synthetic video run is text-to-video.
    let dir = workdir();
    let stdout = run_ok(&imgperf_async(dir.path(), &i2v_args(&url, &common)).await);
    assert!(!stdout.contains("Input Images"), "{stdout}");
    for r in records_in_order(&run_dir(dir.path())) {
        assert!(
            r["input_images"].as_array().is_none_or(Vec::is_empty),
            "{r}"
        );
    }
    // A job takes one reference.
    let mut flags = common.to_vec();
    flags.extend(["--image-batch-size", "2"]);
    let out = imgperf_async(dir.path(), &i2v_args(&url, &flags)).await;
    assert!(!out.status.success());
    assert!(
        text(&out).1.contains(
            "imgperf: error: --image-batch-size 2: image-to-video sends one reference (input_reference) per job"
        ),
        "{:?}",
        text(&out)
    );
    assert_eq!(server.requests_seen(), 4);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_to_video_model_refuses_a_reference_and_an_image_to_video_model_needs_one() {
    let dir = workdir();
    let p = dir.path();
    std::fs::write(p.join("r.png"), solid_png(RED, 32, 32)).unwrap();
    std::fs::write(
        p.join("with.jsonl"),
        "{\"text\": \"a red kite\", \"image\": \"r.png\"}\n",
    )
    .unwrap();
    std::fs::write(p.join("without.jsonl"), "{\"text\": \"a red kite\"}\n").unwrap();
    let cases = [
        (
            Task::T2i,
            "with.jsonl",
            "input_reference is not supported for T2I models.",
        ),
        (
            Task::T2v,
            "with.jsonl",
            "input_reference is not supported for T2V models.",
        ),
        (
            Task::I2v,
            "without.jsonl",
            "Served model with task type 'I2V' requires an 'image_path' input, but none was provided",
        ),
    ];
    for (task, file, message) in cases {
        let server = MockServer::start(&MockArgs {
            task,
            ..mock(Dialect::Sglang, 5.0)
        })
        .await
        .unwrap();
        let url = server.base_url();
        let work = p.join(task.label());
        std::fs::create_dir_all(&work).unwrap();
        let input = p.join(file);
        let flags = [
            "--input-file",
            input.to_str().unwrap(),
            "--request-count",
            "2",
        ];
        let stdout = run_ok(&imgperf_async(&work, &i2v_args(&url, &flags)).await);
        assert!(
            stdout.contains(&format!("2 × [400] BadRequest: {message}")),
            "{task:?}\n{stdout}"
        );
        let recs = records_in_order(&run_dir(&work));
        assert_eq!(recs[0]["error"]["code"], 400);
        assert_eq!(recs[0]["error"]["message"], message);
        server.shutdown().await;
    }
    // SGLang's multipart route wants the file part.
    let server = MockServer::start(&mock(Dialect::Sglang, 5.0))
        .await
        .unwrap();
    let form = reqwest::multipart::Form::new().text("prompt", "a kite");
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/videos", server.base_url()))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body = String::from_utf8_lossy(&resp.bytes().await.unwrap()).into_owned();
    assert!(body.contains("input_reference file is required"), "{body}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bad_reference_is_one_line_before_any_request() {
    let (refs_url, _) = reference_server("/red.png", solid_png(RED, 8, 8)).await;
    let server = MockServer::start(&mock(Dialect::Openai, 5.0))
        .await
        .unwrap();
    let url = server.base_url();
    let dir = workdir();
    let p = dir.path();
    std::fs::write(p.join("a.png"), solid_png(BLUE, 16, 16)).unwrap();
    std::fs::write(p.join("notes.txt"), "just words").unwrap();
    let ok = r#"{"text": "fine", "image": "a.png"}"#;
    let cases: Vec<(String, String)> = vec![
        (
            r#"{"text": "x", "image": "missing.png"}"#.into(),
            "v.jsonl:2: image \"missing.png\": cannot read".into(),
        ),
        (
            format!(r#"{{"text": "x", "image": "{refs_url}/gone.png"}}"#),
            format!(
                "v.jsonl:2: image \"{refs_url}/gone.png\": the server answered HTTP 404 Not Found"
            ),
        ),
        (
            r#"{"text": "x", "image": "notes.txt"}"#.into(),
            "v.jsonl:2: image \"notes.txt\": is not a usable image".into(),
        ),
        (
            r#"{"text": "x", "images": ["a.png", "a.png"]}"#.into(),
            "v.jsonl:2: row names 2 images; image-to-video sends one reference".into(),
        ),
        (
            r#"{"text": "x", "image": "a.png", "mask": "a.png"}"#.into(),
            "v.jsonl:2: row has a \"mask\"; image-to-video takes none".into(),
        ),
    ];
    for (row, want) in &cases {
        std::fs::write(p.join("v.jsonl"), format!("{ok}\n{row}\n")).unwrap();
        let out = imgperf_async(p, &i2v_args(&url, &["--input-file", "v.jsonl"])).await;
        let (_, stderr) = text(&out);
        assert!(!out.status.success(), "{row}");
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("imgperf: error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{stderr}");
        assert!(
            errors[0].contains(want.as_str()),
            "{}\n  wanted: {want}",
            errors[0]
        );
    }
    assert_eq!(
        server.requests_seen(),
        0,
        "no request before the inputs are good"
    );
    server.shutdown().await;
}

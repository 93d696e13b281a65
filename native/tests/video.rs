//! Video generation end to end: AIPerf's tutorial command (program name
//! changed) against `serve-mock`, the raw export read the way AIPerf's
//! download_videos.py reads it, `imgperf extract`, and the mock's MP4 facts
//! compared with ffprobe's.

mod common;
mod imgtest;
mod videotest;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use imgperf::mock::{Dialect, MockServer};
use imgperf_core::video::mp4;
use imgtest::{json_file, metric, records_in_order, run_dir};
use serde_json::{json, Value};
use videotest::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aiperf_tutorial_command_runs_against_serve_mock() {
    let dir = video_dir();
    // `imgperf serve-mock` as a process, as a user would run it.
    let mut server = Command::new(bin())
        .args([
            "serve-mock",
            "--port",
            "0",
            "--dialect",
            "sglang",
            "--speedup",
            "400",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_owned();

    let out = imgperf_async(dir.path(), &tutorial(&url, &[])).await;
    let stdout = run_ok(&out);
    assert!(stdout.contains("Video Generation Metrics"), "{stdout}");
    assert!(
        stdout.contains("Queue Time (ms)") && stdout.contains("Poll Count (polls)"),
        "{stdout}"
    );
    let run = dir
        .path()
        .join("artifacts/Wan-AI_Wan2.1-T2V-1.3B-Diffusers-openai-video_generation-concurrency1");
    let records = records_in_order(&run);
    assert_eq!(records.len(), 3);
    for r in &records {
        assert!(r["error"].is_null(), "{r}");
        // SGLang's MP4: 96 frames asked at 24 fps become 93 (4k+1), 3.875 s.
        let m = &video(r)["mp4"];
        assert_eq!(
            (m["width"].as_u64(), m["height"].as_u64()),
            (Some(1280), Some(720))
        );
        assert_eq!(
            (m["frames"].as_u64(), m["codec"].as_str()),
            (Some(93), Some("h264"))
        );
        assert!(!video(r)["download_counted"].as_bool().unwrap());
        assert!(
            metric(r, "video_queue_time").is_some()
                && metric(r, "video_poll_count").unwrap() >= 1.0
        );
    }
    let summary = json_file(&run.join("profile_export_imgperf.json"));
    assert_eq!(
        summary["input_config"]["endpoint"]["type"],
        "video_generation"
    );
    assert!(summary["video_throughput"]["avg"].as_f64().unwrap() > 0.0);
    assert_eq!(summary["output_videos"][0]["frames"], 93);

    // With the download counted and the raw export: AIPerf's download_videos.py
    // reads every `responses[].text` as JSON and fetches each completed
    // answer that has a `url`; do exactly that.
    let dir2 = video_dir();
    let out = imgperf_async(
        dir2.path(),
        &tutorial(&url, &["--download-video-content", "--export-level", "raw"]),
    )
    .await;
    run_ok(&out);
    let run2 = run_dir(dir2.path());
    let raw = jsonl(&run2.join("profile_export_raw.jsonl"));
    let client = reqwest::Client::new();
    let mut fetched = 0;
    for line in &raw {
        for resp in line["responses"].as_array().unwrap() {
            let body: Value = serde_json::from_str(resp["text"].as_str().unwrap()).unwrap();
            if body["status"] == "completed" && body["url"].is_string() {
                let mp4_bytes = client
                    .get(body["url"].as_str().unwrap())
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                let f = mp4::facts(&mp4_bytes).unwrap();
                assert_eq!((f.width, f.frames), (1280, 93));
                assert_eq!(Some(mp4_bytes.len() as u64), body["bytes"].as_u64());
                assert!(body["id"].is_string());
                fetched += 1;
            }
        }
    }
    assert_eq!(fetched, 3, "one completed answer with a url per job");
    for r in records_in_order(&run2) {
        assert!(video(&r)["download_counted"].as_bool().unwrap());
        let (lat, dl) = (
            metric(&r, "request_latency").unwrap(),
            metric(&r, "video_download_time").unwrap(),
        );
        let (q, g) = (
            metric(&r, "video_queue_time").unwrap(),
            metric(&r, "video_generation_time").unwrap(),
        );
        assert!(
            lat >= q + g + dl - 0.01,
            "latency {lat} counts queue {q} + generation {g} + download {dl}"
        );
    }

    // `imgperf extract` (no arguments: the video tutorial's raw export)
    // writes the MP4s the export holds, named by job id.
    let out_dir = dir2.path().join("extracted_images");
    let out = imgperf_async(dir2.path(), &["extract"]).await;
    run_ok(&out);
    let files: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    for f in &files {
        assert_eq!(f.extension().unwrap(), "mp4");
        assert_eq!(mp4::facts(&std::fs::read(f).unwrap()).unwrap().frames, 93);
    }
    // Without the bytes in the export, extract fetches each job's content.
    let out_dir = dir.path().join("fetched");
    let raw_dir = video_dir();
    let out = imgperf_async(raw_dir.path(), &tutorial(&url, &["--export-level", "raw"])).await;
    run_ok(&out);
    let raw_path = run_dir(raw_dir.path()).join("profile_export_raw.jsonl");
    let out = imgperf_async(
        raw_dir.path(),
        &[
            "extract",
            raw_path.to_str().unwrap(),
            out_dir.to_str().unwrap(),
        ],
    )
    .await;
    run_ok(&out);
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 3);
    server.kill().unwrap();
    let _ = server.wait();
}

/// ffprobe's view of an MP4 file.
fn ffprobe(path: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_streams", "-of", "json"])
        .arg(path)
        .output()
        .expect("ffprobe not found: run `bash scripts/test.sh` (it installs Debian's ffmpeg) or `apt-get install ffmpeg`");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["streams"][0].clone()
}

fn ratio(s: &str) -> f64 {
    let (a, b) = s.split_once('/').unwrap();
    a.parse::<f64>().unwrap() / b.parse::<f64>().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mp4_facts_equal_what_ffprobe_reports() {
    let cases = [
        (Dialect::Sglang, json!({"size": "330x190", "seconds": 4})),
        (
            Dialect::Openai,
            json!({"size": "64x48", "num_frames": 10, "fps": 8}),
        ),
        (
            Dialect::Openai,
            json!({"size": "1280x720", "seconds": 2, "fps": 30}),
        ),
        (
            Dialect::Openai,
            json!({"size": "96x96", "seconds": 1, "fps": 23.976}),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    for (i, (dialect, ask)) in cases.into_iter().enumerate() {
        let server = MockServer::start(&mock(dialect, 10.0)).await.unwrap();
        let base = server.base_url();
        let mut body = ask.clone();
        body["prompt"] = json!("a lighthouse in a storm");
        let sent = client
            .post(format!("{base}/v1/videos"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let job: Value = serde_json::from_slice(&sent.bytes().await.unwrap()).unwrap();
        let id = job["id"].as_str().unwrap().to_owned();
        let mut status = String::new();
        for _ in 0..200 {
            let polled = client
                .get(format!("{base}/v1/videos/{id}"))
                .send()
                .await
                .unwrap();
            let j: Value = serde_json::from_slice(&polled.bytes().await.unwrap()).unwrap();
            status = j["status"].as_str().unwrap().to_owned();
            if status == "completed" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(status, "completed");
        let bytes = client
            .get(format!("{base}/v1/videos/{id}/content"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let path = dir.path().join(format!("v{i}.mp4"));
        std::fs::write(&path, &bytes).unwrap();
        let f = mp4::facts(&bytes).unwrap();
        let p = ffprobe(&path);
        assert_eq!(p["codec_name"].as_str(), Some(f.codec.as_str()), "{ask}");
        assert_eq!(p["width"].as_u64(), Some(u64::from(f.width)), "{ask}");
        assert_eq!(p["height"].as_u64(), Some(u64::from(f.height)), "{ask}");
        let decoded: u64 = p["nb_read_frames"].as_str().unwrap().parse().unwrap();
        assert_eq!(decoded, f.frames, "every frame decodes: {ask}");
        assert!(
            (ratio(p["avg_frame_rate"].as_str().unwrap()) - f.fps).abs() < 1e-6,
            "{ask}: {p}"
        );
        let duration: f64 = p["duration"].as_str().unwrap().parse().unwrap();
        assert!(
            (duration - f.duration_s).abs() < 1e-3,
            "{ask}: {duration} vs {}",
            f.duration_s
        );
        server.shutdown().await;
    }
}

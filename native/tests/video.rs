//! Video generation end to end against the mock, with known truth: AIPerf's
//! tutorial command (program name changed) against `serve-mock`, the time
//! split checked against the mock's truth log, the poll interval honoured,
//! failed, stuck and erroring jobs, cancellation that stops the polls, the
//! raw export read the way AIPerf's download_videos.py reads it, `imgperf
//! extract`, and the MP4 facts compared with ffprobe's.

mod common;
mod imgtest;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use imgperf::mock::{Dialect, FaultAt, MockArgs, MockServer};
use imgperf_core::video::mp4;
use imgtest::{json_file, metric, records_in_order, run_dir};
use serde_json::{json, Value};

const PROMPTS: &str = r#"{"text": "A serene lake at sunset with mountains in the background"}
{"text": "A cat playing with a ball of yarn in a cozy living room"}
{"text": "A futuristic city with flying cars and neon lights"}
"#;

fn video_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("video_prompts.jsonl"), PROMPTS).unwrap();
    dir
}

/// AIPerf's tutorial command with `--url` and extra flags.
fn tutorial<'a>(url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "profile",
        "--model",
        "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        "--tokenizer",
        "builtin",
        "--url",
        url,
        "--endpoint-type",
        "video_generation",
        "--input-file",
        "video_prompts.jsonl",
        "--custom-dataset-type",
        "single_turn",
        "--extra-inputs",
        "size:1280x720",
        "--extra-inputs",
        "seconds:4",
        "--concurrency",
        "1",
        "--request-count",
        "3",
    ];
    v.extend_from_slice(extra);
    v
}

fn mock(dialect: Dialect, latency_ms: f64) -> MockArgs {
    MockArgs {
        port: 0,
        dialect,
        latency_ms,
        slots: 0,
        jitter: 0.0,
        ..MockArgs::default()
    }
}

fn faults(spec: &[&str]) -> Vec<FaultAt> {
    spec.iter().map(|s| s.parse().unwrap()).collect()
}

/// A record's `video` object.
fn video(rec: &Value) -> &Value {
    &rec["video"]
}

fn run_ok(out: &std::process::Output) -> String {
    let (stdout, stderr) = text(out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    stdout
}

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

    // `imgperf extract` writes the MP4s the export holds, named by job id.
    let out_dir = dir2.path().join("videos");
    let raw_path = run2.join("profile_export_raw.jsonl");
    let out = imgperf_async(
        dir2.path(),
        &[
            "extract",
            raw_path.to_str().unwrap(),
            out_dir.to_str().unwrap(),
        ],
    )
    .await;
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

/// The truth log's lines.
fn truth(path: &Path) -> Vec<Value> {
    jsonl(path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_split_and_poll_count_agree_with_the_truth_log() {
    let dir = video_dir();
    let log = dir.path().join("truth.jsonl");
    let server = MockServer::start(&MockArgs {
        slots: 1,
        truth_log: Some(log.clone()),
        ..mock(Dialect::Sglang, 400.0)
    })
    .await
    .unwrap();
    let url = server.base_url();
    let interval = 0.05;
    let args = tutorial(
        &url,
        &[
            "--video-poll-interval",
            "0.05",
            "--extra-inputs",
            "size:64x48",
        ],
    );
    // Two jobs at once for one slot: the second one queues for ~400 ms.
    let mut args: Vec<&str> = args;
    let c = args.iter().position(|a| *a == "--concurrency").unwrap();
    args[c + 1] = "2";
    let r = args.iter().position(|a| *a == "--request-count").unwrap();
    args[r + 1] = "4";
    let out = imgperf_async(dir.path(), &args).await;
    run_ok(&out);
    server.shutdown().await;
    let records = records_in_order(&run_dir(dir.path()));
    let truth = truth(&log);
    let ms = |ns: i128| ns as f64 / 1e6;
    let slack = 40.0; // a shared 2-core machine: poll round trip and wake-ups
    let mut queued_long = 0;
    for r in &records {
        assert!(r["error"].is_null(), "{r}");
        let id = r["metadata"]["x_request_id"].as_str().unwrap();
        let submit = truth
            .iter()
            .find(|t| t["request_id"] == id && t["method"] == "POST")
            .unwrap();
        let start = r["metadata"]["request_start_ns"].as_i64().unwrap() as i128;
        let t = |k: &str| submit[k].as_i64().unwrap() as i128;
        let (svc_start, svc_end) = (t("service_start_ns"), t("service_end_ns"));
        let queue_truth = ms(svc_start - start);
        let generation_truth = ms(svc_end - svc_start);
        let queue = metric(r, "video_queue_time").unwrap();
        let generation = metric(r, "video_generation_time").unwrap();
        // The client sees each change at its next poll: late by at most an interval.
        assert!(
            queue >= queue_truth && queue <= queue_truth + interval * 1e3 + slack,
            "queue {queue} vs truth {queue_truth}"
        );
        assert!(
            (generation - generation_truth).abs() <= interval * 1e3 + slack,
            "generation {generation} vs truth {generation_truth}"
        );
        assert_eq!(metric(r, "server_inference_time"), Some(400.0));
        // The mock's peak memory: 21000 MB + 90 per megapixel-frame (64x48, 93 frames).
        assert_eq!(
            metric(r, "server_peak_memory"),
            Some((21_000.0f64 + 90.0 * 64.0 * 48.0 * 93.0 / 1e6).round())
        );
        // Submit and download: at least what the server took to answer them.
        let submit_ms = metric(r, "video_submit_latency").unwrap();
        assert!(
            submit_ms >= ms(t("written_ns") - start) - 0.5
                && submit_ms <= ms(t("written_ns") - start) + slack,
            "submit {submit_ms}"
        );
        let content = truth
            .iter()
            .find(|t| t["request_id"] == id && t["path"].as_str().unwrap().ends_with("/content"))
            .unwrap();
        let served = ms(content["written_ns"].as_i64().unwrap() as i128
            - content["arrival_ns"].as_i64().unwrap() as i128);
        let download = metric(r, "video_download_time").unwrap();
        assert!(
            download >= served && download <= served + slack,
            "download {download} vs {served}"
        );
        assert_eq!(metric(r, "video_bytes"), content["bytes"].as_f64());
        queued_long += usize::from(queue_truth > 300.0);
        // Poll count: one poll per interval from the submit's answer until
        // the first one after the end of service (within one).
        let submit_end = start as f64 / 1e6 + metric(r, "video_submit_latency").unwrap();
        let expected = ((ms(svc_end) - submit_end) / (interval * 1e3)).ceil();
        let polls = metric(r, "video_poll_count").unwrap();
        assert!(
            (polls - expected).abs() <= 1.0,
            "{polls} polls, ~{expected} expected"
        );
        // The server saw the polls one interval apart, never two at once.
        let job = video(r)["job_id"].as_str().unwrap();
        let mut arrivals: Vec<i128> = truth
            .iter()
            .filter(|t| t["path"] == format!("/v1/videos/{job}"))
            .map(|t| t["arrival_ns"].as_i64().unwrap() as i128)
            .collect();
        arrivals.sort();
        assert_eq!(arrivals.len() as f64, polls);
        let gaps: Vec<f64> = arrivals.windows(2).map(|w| ms(w[1] - w[0])).collect();
        if !gaps.is_empty() {
            // Each poll is sent one interval after the previous one was sent;
            // arrivals jitter with the machine's load, the mean does not.
            let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
            let want = interval * 1e3;
            assert!(
                mean >= want - 1.0 && mean <= want + 10.0,
                "mean poll gap {mean} ms: {gaps:?}"
            );
        }
        // One poll in flight: each arrives after the previous answer was written.
        let mut polls_of_job: Vec<(i128, i128)> = truth
            .iter()
            .filter(|t| t["path"] == format!("/v1/videos/{job}"))
            .map(|t| {
                let n = |k: &str| t[k].as_i64().unwrap() as i128;
                (n("arrival_ns"), n("written_ns"))
            })
            .collect();
        polls_of_job.sort();
        for w in polls_of_job.windows(2) {
            assert!(
                w[1].0 > w[0].1,
                "a poll arrived before the previous answer was written"
            );
        }
    }
    assert!(
        queued_long >= 1,
        "with one slot some job waited in the server's queue"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_stuck_and_erroring_jobs() {
    let dir = video_dir();
    let server = MockServer::start(&MockArgs {
        fault_at: faults(&[
            "failed:1",
            "stuck:2",
            "poll-500:3",
            "content-404:4",
            "wrong-size:5",
        ]),
        ..mock(Dialect::Openai, 100.0)
    })
    .await
    .unwrap();
    let url = server.base_url();
    let mut args = tutorial(
        &url,
        &[
            "--video-poll-interval",
            "0.03",
            "--request-timeout-seconds",
            "1.5",
            "--extra-inputs",
            "size:64x48",
        ],
    );
    let r = args.iter().position(|a| *a == "--request-count").unwrap();
    args[r + 1] = "6";
    let out = imgperf_async(dir.path(), &args).await;
    let stdout = run_ok(&out);
    let recs = records_in_order(&run_dir(dir.path()));
    let err = |i: usize| recs[i]["error"].clone();
    assert_eq!(err(0)["type"], "VideoGenerationFailed");
    assert!(
        err(0)["message"]
            .as_str()
            .unwrap()
            .contains("CUDA out of memory"),
        "{}",
        err(0)
    );
    assert_eq!(
        (err(1)["code"].as_u64(), err(1)["type"].as_str()),
        (Some(408), Some("RequestTimeout"))
    );
    let stuck_ms = metric(&recs[1], "request_latency");
    assert!(stuck_ms.is_none(), "a timed-out job has no latency row");
    assert!(
        err(1)["message"].as_str().unwrap().contains("in_progress"),
        "{}",
        err(1)
    );
    // A poll answered 500 is retried: the job still succeeds.
    assert!(err(2).is_null(), "{}", err(2));
    assert_eq!(metric(&recs[2], "video_poll_errors"), Some(1.0));
    // Content 404 (not counted in the latency): an issue, not an error.
    assert!(err(3).is_null());
    assert_eq!(video(&recs[3])["issues"][0]["kind"], "download_failed");
    assert!(err(4).is_null());
    assert_eq!(video(&recs[4])["issues"][0]["kind"], "size_mismatch");
    assert_eq!(video(&recs[4])["mp4"]["width"], 32);
    assert!(err(5).is_null() && video(&recs[5])["issues"].as_array().unwrap().is_empty());
    assert!(stdout.contains("Video issues (2)"), "{stdout}");

    // Strict, with the download counted: both become errors.
    let dir = video_dir();
    let server2 = MockServer::start(&MockArgs {
        fault_at: faults(&["content-404:1", "wrong-size:2"]),
        ..mock(Dialect::Openai, 50.0)
    })
    .await
    .unwrap();
    let url2 = server2.base_url();
    let mut args = tutorial(
        &url2,
        &[
            "--download-video-content",
            "--validate-output",
            "strict",
            "--video-poll-interval",
            "0.03",
        ],
    );
    let r = args.iter().position(|a| *a == "--request-count").unwrap();
    args[r + 1] = "2";
    let out = imgperf_async(dir.path(), &args).await;
    run_ok(&out);
    let recs = records_in_order(&run_dir(dir.path()));
    assert_eq!(recs[0]["error"]["type"], "ContentDownloadError");
    assert_eq!(recs[0]["error"]["code"], 404);
    assert_eq!(recs[1]["error"]["type"], "VideoValidationError");
    server.shutdown().await;
    server2.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_and_cut_jobs_stop_being_polled() {
    let dir = video_dir();
    let log = dir.path().join("truth.jsonl");
    let server = MockServer::start(&MockArgs {
        faults: vec!["stuck:1".parse().unwrap()],
        truth_log: Some(log.clone()),
        ..mock(Dialect::Sglang, 50.0)
    })
    .await
    .unwrap();
    let url = server.base_url();
    // Cancellation rate 100%: each job cancelled 0.3 s after its submit.
    let args = tutorial(
        &url,
        &[
            "--video-poll-interval",
            "0.05",
            "--request-cancellation-rate",
            "100",
            "--request-cancellation-delay",
            "0.3",
        ],
    );
    let out = imgperf_async(dir.path(), &args).await;
    run_ok(&out);
    let recs = records_in_order(&run_dir(dir.path()));
    for r in &recs {
        assert!(r["metadata"]["was_cancelled"].as_bool().unwrap(), "{r}");
        assert_eq!(r["error"]["code"], 499);
        assert!(r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("polling stopped"));
    }

    // In process: a duration-bounded open-loop run whose grace period ends
    // with jobs in flight; once the run returns, no more polls arrive.
    let dir2 = video_dir();
    let argv: Vec<String> = tutorial(
        &url,
        &[
            "--video-poll-interval",
            "0.05",
            "--request-rate",
            "10",
            "--request-rate-mode",
            "constant",
            "--benchmark-duration",
            "0.3",
            "--benchmark-grace-period",
            "0.2",
            "--artifact-dir",
            dir2.path().join("artifacts").to_str().unwrap(),
            "--ui",
            "none",
        ],
    )
    .into_iter()
    .map(String::from)
    .filter(|a| a != "--request-count" && a != "3")
    .map(|a| if a == "1" { "4".to_owned() } else { a }) // --concurrency 4
    .collect();
    let prompts = dir2.path().join("video_prompts.jsonl");
    let mut full = vec!["imgperf".to_owned()];
    full.extend(argv.iter().map(|a| match a.as_str() {
        "video_prompts.jsonl" => prompts.to_str().unwrap().to_owned(),
        _ => a.clone(),
    }));
    let cli = <imgperf::cli::Cli as clap::Parser>::parse_from(&full);
    let imgperf::cli::Command::Profile(p) = cli.command else {
        unreachable!()
    };
    let report = imgperf::profile::profile(&p, &full).await.unwrap();
    let ended = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i128;
    // Arrivals at 0, 0.1 and 0.2 s, stuck: all cut when the grace period ends.
    assert_eq!(report.summary.cancelled_count, 3, "{:?}", report.summary);
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.shutdown().await;
    let late: Vec<Value> = truth(&log)
        .into_iter()
        .filter(|t| t["method"] == "GET" && t["arrival_ns"].as_i64().unwrap() as i128 > ended)
        .collect();
    assert!(late.is_empty(), "polls after the run ended: {late:?}");
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

//! Video jobs against the mock with known truth: the time split and the
//! poll cadence checked against the mock's truth log, failed, stuck and
//! erroring jobs, and cancellation that stops the polls.

mod common;
mod imgtest;
mod videotest;

use std::time::Duration;

use common::*;
use imgperf::mock::{Dialect, MockArgs, MockServer};
use imgtest::{metric, records_in_order, run_dir};
use serde_json::Value;
use videotest::*;

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
    let slack = 100.0; // a shared, loaded 2-core machine: poll round trips and wake-ups
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
        if let (Some(first), Some(last)) = (arrivals.first(), arrivals.last()) {
            // Polls go on a fixed cadence (one interval apart from the
            // submit's answer): first to last spans (n - 1) intervals, give
            // or take how late those two arrived on this loaded machine.
            let span = ms(last - first);
            let want = (arrivals.len() - 1) as f64 * interval * 1e3;
            assert!(
                (span - want).abs() <= slack,
                "polls spread over {span} ms, {want} ms expected"
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
    // Still polling, the three stuck jobs would send 18 polls in 300 ms. A
    // poll already on the wire when the run ended may land just after it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.shutdown().await;
    let late: Vec<Value> = truth(&log)
        .into_iter()
        .filter(|t| {
            let at = t["arrival_ns"].as_i64().unwrap() as i128;
            t["method"] == "GET" && at > ended + 100_000_000
        })
        .collect();
    assert!(
        late.is_empty(),
        "polls 100 ms after the run ended: {late:?}"
    );
}

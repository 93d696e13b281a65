//! The poll loop on virtual time against a fake video server with exact
//! queue and generation times: the time split, the poll count and
//! cadence, failed and stuck jobs, failing polls, cancellation, strict
//! checks and the raw export's answers.

use super::*;
use crate::job::{new_record, ExportLines, Job};
use crate::record::Phase;
use crate::transport::{HttpResponse, Timing, TransportFailure};
use crate::video::mp4::tests::mp4;
use crate::virtual_clock::VirtualRuntime;
use serde_json::Value;
use std::sync::Mutex;

const MS: u64 = 1_000_000;

#[derive(Clone, Copy, PartialEq)]
enum Ending {
    Complete,
    Fail,
    Stuck,
}

/// A video server on virtual time: every exchange takes `rtt`; a job is
/// queued for `queue` after its submit, generates for `generate`, then ends.
struct FakeVideos {
    rt: VirtualRuntime,
    rtt: u64,
    queue: u64,
    generate: u64,
    ending: Ending,
    /// Poll numbers (1-based) answered with a 500.
    failing_polls: Vec<u32>,
    polls: Mutex<Vec<u64>>,
    submitted: Mutex<Option<u64>>,
}

impl FakeVideos {
    fn new(rt: &VirtualRuntime, queue: u64, generate: u64, ending: Ending) -> Self {
        FakeVideos {
            rt: rt.clone(),
            rtt: 2 * MS,
            queue,
            generate,
            ending,
            failing_polls: Vec::new(),
            polls: Mutex::new(Vec::new()),
            submitted: Mutex::new(None),
        }
    }

    fn answer(&self, req: &HttpRequest, at: u64) -> (u16, String) {
        let job = |status: &str, extra: &str| {
            format!(r#"{{"id":"video_1","object":"video","status":"{status}"{extra}}}"#)
        };
        if req.method == Method::Post {
            *self.submitted.lock().unwrap() = Some(at);
            return (200, job("queued", r#","progress":0"#));
        }
        if req.url.ends_with("/content") {
            return (200, String::new());
        }
        let n = {
            let mut polls = self.polls.lock().unwrap();
            polls.push(at);
            polls.len() as u32
        };
        if self.failing_polls.contains(&n) {
            return (500, "Internal Server Error".into());
        }
        let since = at - self.submitted.lock().unwrap().unwrap();
        if since < self.queue {
            (200, job("queued", ""))
        } else if since < self.queue + self.generate || self.ending == Ending::Stuck {
            (200, job("in_progress", r#","progress":50"#))
        } else if self.ending == Ending::Fail {
            let e = r#","error":{"code":"oom","message":"CUDA out of memory"}"#;
            (200, job("failed", e))
        } else {
            let figures = r#","progress":100,"inference_time_s":1.0,"peak_memory_mb":20000"#;
            (200, job("completed", figures))
        }
    }
}

impl Transport for FakeVideos {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, TransportFailure> {
        let start = self.rt.now_ns();
        let (status, text) = self.answer(&req, start);
        self.rt.sleep_until(start + self.rtt).await;
        let end = self.rt.now_ns();
        let body = if req.url.ends_with("/content") {
            Bytes::from(mp4(64, 48, 96, 24))
        } else {
            Bytes::from(text)
        };
        Ok(HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
            timing: Timing {
                first_byte_ns: Some(end),
                end_ns: end,
                ..Timing::starting_at(start)
            },
            chunks: Vec::new(),
        })
    }
}

fn job(payload: Value, settings: VideoSettings, validate: ValidateImages, raw: bool) -> Job {
    let record = new_record(0, Phase::Profiling, "c", "r", "u", None, 0, 0, 0);
    Job {
        record,
        request: HttpRequest {
            method: Method::Post,
            url: "http://127.0.0.1:9/v1/videos".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Bytes::from(payload.to_string()),
        },
        payload: Arc::new(payload),
        export: ExportLines { records: true, raw },
        wall_origin_ns: 0,
        cancel_after_ns: None,
        base_url: "http://127.0.0.1:9".into(),
        validate,
        video: Some(settings),
    }
}

fn settings(download: bool) -> VideoSettings {
    VideoSettings {
        poll_interval_ns: 100 * MS,
        download_content: download,
        timeout_ns: 60_000 * MS,
    }
}

fn run(server: FakeVideos, job: Job) -> (Completed, Arc<FakeVideos>) {
    let rt = server.rt.clone();
    let server = Arc::new(server);
    let settings = job.video.unwrap();
    let done = rt.block_on(execute(server.clone(), rt.clone(), job, settings));
    (done, server)
}

fn ask() -> Value {
    json!({"prompt": "p", "size": "64x48", "seconds": 4, "fps": 24})
}

#[test]
fn time_splits_into_submit_queue_generation_and_download() {
    let rt = VirtualRuntime::new();
    let server = FakeVideos::new(&rt, 300 * MS, 1000 * MS, Ending::Complete);
    let (done, server) = run(
        server,
        job(ask(), settings(false), ValidateImages::Warn, false),
    );
    let rec = &done.record;
    assert!(rec.is_valid(), "{:?}", rec.error);
    let v = rec.output.video.as_deref().unwrap();
    // Polls start 100 ms apart from the submit's answer (2 ms): 102, 202, ...
    let polls = server.polls.lock().unwrap().clone();
    assert_eq!(polls[..3], [102 * MS, 202 * MS, 302 * MS]);
    assert_eq!(v.polls, 13);
    assert_eq!(v.submit_end_ns, Some(2 * MS));
    assert_eq!(
        v.started_ns,
        Some(304 * MS),
        "first poll past the 300 ms queue"
    );
    assert_eq!(v.completed_ns, Some(1304 * MS));
    // Not asked to download: latency ends at the completed poll; the MP4
    // is still fetched and checked.
    assert_eq!(rec.request_end_ns, 1304 * MS);
    assert_eq!(v.download, Some((1304 * MS, 1306 * MS)));
    assert_eq!(v.mp4.as_ref().map(|m| m.frames), Some(96));
    assert!(rec.output.issues.is_empty(), "{:?}", rec.output.issues);
    assert_eq!(rec.output.server.inference_time_s, Some(1.0));
    let m = crate::metrics::record_metrics(rec);
    let get = |d: crate::metrics::MetricDef| m.iter().find(|(x, _)| *x == d).map(|(_, v)| *v);
    use crate::metrics::*;
    assert_eq!(get(VIDEO_QUEUE_TIME), Some(304.0));
    assert_eq!(get(VIDEO_GENERATION_TIME), Some(1000.0));
    assert_eq!(get(VIDEO_SUBMIT_LATENCY), Some(2.0));
    assert_eq!(get(VIDEO_DOWNLOAD_TIME), Some(2.0));
    assert_eq!(get(REQUEST_LATENCY), Some(1304.0));
    assert_eq!(get(VIDEO_POLL_COUNT), Some(13.0));
    assert_eq!(
        get(HTTP_REQ_WAITING),
        None,
        "no time to first byte for a job"
    );
}

#[test]
fn a_counted_download_ends_the_latency_and_the_raw_line_has_every_answer() {
    let rt = VirtualRuntime::new();
    let server = FakeVideos::new(&rt, 0, 200 * MS, Ending::Complete);
    let (done, _) = run(
        server,
        job(ask(), settings(true), ValidateImages::Warn, true),
    );
    // Polls at 102 (in progress) and 202 (completed, in hand at 204), then the MP4.
    assert_eq!(done.record.request_end_ns, 206 * MS);
    let raw: Value = serde_json::from_str(&done.raw_line.unwrap().to_string()).unwrap();
    let texts: Vec<Value> = raw["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(r["text"].as_str().unwrap()).unwrap())
        .collect();
    // Submit, 2 polls, the content's facts.
    assert_eq!(texts.len(), 4, "{texts:?}");
    assert_eq!(texts[0]["status"], "queued");
    assert_eq!(texts[2]["status"], "completed");
    let last = &texts[3];
    assert_eq!(last["url"], "http://127.0.0.1:9/v1/videos/video_1/content");
    assert_eq!(
        (last["status"].as_str(), last["id"].as_str()),
        (Some("completed"), Some("video_1"))
    );
    assert_eq!(last["mp4"]["frames"], 96);
    assert!(last["b64_mp4"].as_str().is_some_and(|b| b.len() > 100));
    assert_eq!(
        raw["responses"][1]["perf_ns"],
        104 * MS,
        "arrival of the first poll"
    );
}

#[test]
fn a_failed_job_is_an_error_with_the_servers_message() {
    let rt = VirtualRuntime::new();
    let server = FakeVideos::new(&rt, 0, 250 * MS, Ending::Fail);
    let (done, _) = run(
        server,
        job(ask(), settings(false), ValidateImages::Warn, false),
    );
    let e = done.record.error.unwrap();
    assert_eq!(e.kind, "VideoGenerationFailed");
    assert!(e.message.contains("CUDA out of memory"), "{}", e.message);
    assert_eq!(done.record.request_end_ns, 304 * MS);
}

#[test]
fn a_stuck_job_times_out_and_failing_polls_are_retried_then_given_up() {
    let rt = VirtualRuntime::new();
    let server = FakeVideos::new(&rt, 0, 0, Ending::Stuck);
    let mut s = settings(false);
    s.timeout_ns = 2000 * MS;
    let (done, server) = run(server, job(ask(), s, ValidateImages::Warn, false));
    let e = done.record.error.unwrap();
    assert_eq!((e.code, e.kind.as_str()), (Some(408), "RequestTimeout"));
    assert!(
        e.message.contains("in_progress") && e.message.contains("video_1"),
        "{}",
        e.message
    );
    assert_eq!(done.record.request_end_ns, 2000 * MS);
    // Polls at 102, 202, ..., 1902 ms; the next would be past the limit.
    assert_eq!(server.polls.lock().unwrap().len(), 19);

    let rt = VirtualRuntime::new();
    let mut server = FakeVideos::new(&rt, 0, 500 * MS, Ending::Complete);
    server.failing_polls = vec![2];
    let (done, _) = run(
        server,
        job(ask(), settings(false), ValidateImages::Warn, false),
    );
    assert!(done.record.is_valid(), "{:?}", done.record.error);
    let v = done.record.output.video.unwrap();
    assert_eq!(
        (v.polls, v.poll_errors),
        (5, 1),
        "102..502 ms, the 2nd answered 500"
    );

    let rt = VirtualRuntime::new();
    let mut server = FakeVideos::new(&rt, 0, 60_000 * MS, Ending::Complete);
    server.failing_polls = (1..=100).collect();
    let (done, _) = run(
        server,
        job(ask(), settings(false), ValidateImages::Warn, false),
    );
    let e = done.record.error.unwrap();
    assert!(
        e.message.contains("10 polls") && e.message.contains("Internal Server Error"),
        "{}",
        e.message
    );
}

#[test]
fn a_cancelled_job_stops_polling_and_is_recorded_cancelled() {
    let rt = VirtualRuntime::new();
    let server = FakeVideos::new(&rt, 0, 60_000 * MS, Ending::Complete);
    let mut j = job(ask(), settings(false), ValidateImages::Warn, false);
    j.cancel_after_ns = Some(450 * MS);
    let (done, server) = run(server, j);
    assert!(done.record.was_cancelled);
    assert_eq!(done.record.error.as_ref().map(|e| e.code), Some(Some(499)));
    assert_eq!(done.record.request_end_ns, 450 * MS);
    assert_eq!(server.polls.lock().unwrap().len(), 4);
    rt.run_until(5000 * MS);
    assert_eq!(
        server.polls.lock().unwrap().len(),
        4,
        "no poll after the cancel"
    );
}

#[test]
fn strict_makes_an_mp4_mismatch_an_error() {
    let rt = VirtualRuntime::new();
    let server = FakeVideos::new(&rt, 0, 100 * MS, Ending::Complete);
    let payload = json!({"prompt": "p", "size": "1280x720", "num_frames": 81});
    let (done, _) = run(
        server,
        job(payload, settings(false), ValidateImages::Strict, false),
    );
    let e = done.record.error.unwrap();
    assert_eq!(e.kind, "VideoValidationError");
    assert!(
        e.message.contains("64x48 returned, 1280x720 requested"),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("96 frames returned, 81 requested"),
        "{}",
        e.message
    );
}

#[test]
fn record_and_raw_lines_read_back_give_the_same_video_metrics() {
    use crate::import::parse_line;
    use crate::metrics::{record_metrics, VIDEO_DISTRIBUTION_METRICS};
    let rt = VirtualRuntime::new();
    let mut server = FakeVideos::new(&rt, 300 * MS, 500 * MS, Ending::Complete);
    server.failing_polls = vec![2];
    let payload = json!({"prompt": "p", "size": "80x48", "seconds": 4, "fps": 24});
    let (done, _) = run(
        server,
        job(payload, settings(false), ValidateImages::Warn, true),
    );
    let want: Vec<(&str, f64)> = record_metrics(&done.record)
        .into_iter()
        .filter(|(d, _)| VIDEO_DISTRIBUTION_METRICS.contains(d))
        .map(|(d, v)| (d.tag, v))
        .collect();
    assert_eq!(want.len(), 9, "{want:?}");
    for line in [
        done.record_line.clone().unwrap(),
        done.raw_line.as_ref().unwrap().to_string(),
    ] {
        let back = parse_line(&line).unwrap().record;
        let got: Vec<(&str, f64)> = record_metrics(&back)
            .into_iter()
            .filter(|(d, _)| VIDEO_DISTRIBUTION_METRICS.contains(d))
            .map(|(d, v)| (d.tag, v))
            .collect();
        assert_eq!(got.len(), want.len(), "{got:?}");
        for ((t, a), (u, b)) in want.iter().zip(&got) {
            assert_eq!(t, u);
            assert!((a - b).abs() < 1e-3, "{t}: {a} vs {b}");
        }
        // The size mismatch (64x48 served) comes back too.
        assert_eq!(back.output.issues.len(), 1, "{:?}", back.output.issues);
        assert_eq!(back.output.server.inference_time_s, Some(1.0));
    }
}

#[test]
fn a_video_record_line_reads_back_exactly_for_merge() {
    use crate::import::{exact_record, Requested};
    let rt = VirtualRuntime::new();
    let mut server = FakeVideos::new(&rt, 300 * MS, 500 * MS, Ending::Complete);
    server.failing_polls = vec![3];
    let payload = json!({"prompt": "p", "size": "80x48", "seconds": 4, "fps": 24});
    let (done, _) = run(
        server,
        job(payload, settings(true), ValidateImages::Warn, false),
    );
    let line = done.record_line.unwrap();
    let back = exact_record(&line, &Requested::default()).unwrap();
    assert_eq!(crate::export::record_line(&back, 0), line);
}

//! Video jobs read back: a record line's `video` object and metrics, or a
//! raw line's answers (submit, polls, the content's facts) replayed in
//! order, give the record its [`VideoOutput`] again, so the viewer's
//! summary of a video run has the CLI's video rows.

use super::ImportedResponse;
use crate::metrics;
use crate::output::{ImageIssue, Output, ServerFigures};
use crate::record::RequestRecord;
use crate::video::status::{self, Stage};
use crate::video::{self, Mp4Facts, VideoAsk, VideoOutput};
use serde_json::Value;

fn ms_ns(ms: f64) -> u64 {
    (ms * 1e6).round().max(0.0) as u64
}

/// From a record line: the `video` object, and times from the metrics.
pub(super) fn from_record(
    record: &RequestRecord,
    video: &Value,
    num: impl Fn(&str) -> Option<f64>,
) -> Output {
    let start = record.request_start_ns;
    let get = |k: &str| video.get(k).filter(|v| !v.is_null());
    let mut v = VideoOutput {
        ask: get("requested")
            .and_then(|a| serde_json::from_value::<VideoAsk>(a.clone()).ok())
            .unwrap_or_default(),
        job_id: get("job_id").and_then(Value::as_str).map(str::to_owned),
        status: get("status").and_then(Value::as_str).map(str::to_owned),
        progress: get("progress").and_then(Value::as_f64),
        polls: get("polls").and_then(Value::as_u64).unwrap_or(0) as u32,
        poll_errors: get("poll_errors").and_then(Value::as_u64).unwrap_or(0) as u32,
        content_url: get("content_url")
            .and_then(Value::as_str)
            .map(str::to_owned),
        download_counted: get("download_counted")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        bytes: get("bytes").and_then(Value::as_u64),
        mp4: get("mp4").and_then(|m| serde_json::from_value::<Mp4Facts>(m.clone()).ok()),
        ..VideoOutput::default()
    };
    v.submit_end_ns = num(metrics::VIDEO_SUBMIT_LATENCY.tag).map(|ms| start + ms_ns(ms));
    v.started_ns = num(metrics::VIDEO_QUEUE_TIME.tag).map(|ms| start + ms_ns(ms));
    v.completed_ns = match (v.started_ns, num(metrics::VIDEO_GENERATION_TIME.tag)) {
        (Some(s), Some(ms)) => Some(s + ms_ns(ms)),
        _ => None,
    };
    if let Some(ms) = num(metrics::VIDEO_DOWNLOAD_TIME.tag) {
        let d = ms_ns(ms);
        v.download = if v.download_counted {
            Some((
                record.request_end_ns.saturating_sub(d),
                record.request_end_ns,
            ))
        } else {
            v.completed_ns.map(|c| (c, c + d))
        };
    }
    let issues = get("issues")
        .and_then(|i| serde_json::from_value::<Vec<ImageIssue>>(i.clone()).ok())
        .unwrap_or_default();
    Output {
        issues,
        server: ServerFigures {
            inference_time_s: num(metrics::SERVER_INFERENCE_TIME.tag).map(|ms| ms / 1e3),
            peak_memory_mb: num(metrics::SERVER_PEAK_MEMORY.tag),
            ..ServerFigures::default()
        },
        video: Some(Box::new(v)),
        ..Output::default()
    }
}

/// Whether a raw line is a video job's: its first answer is a job object.
pub(super) fn is_video(payload: Option<&Value>, responses: &[ImportedResponse]) -> bool {
    let job = |r: &ImportedResponse| {
        r.text.contains("\"object\"")
            && serde_json::from_str::<Value>(&r.text)
                .is_ok_and(|v| matches!(v["object"].as_str(), Some("video" | "video.content")))
    };
    responses.first().is_some_and(job)
        || (responses.is_empty()
            && payload.is_some_and(|p| p.get("response_format").is_none() && p.get("n").is_none()))
}

/// From a raw line: the answers replayed, each at its arrival.
pub(super) fn from_raw(
    payload: Option<&Value>,
    responses: &[ImportedResponse],
    arrivals: &[u64],
) -> Output {
    let mut v = VideoOutput {
        ask: payload.map(VideoAsk::from_payload).unwrap_or_default(),
        ..VideoOutput::default()
    };
    let mut server = ServerFigures::default();
    let mut issues = Vec::new();
    for (i, (r, at)) in responses.iter().zip(arrivals).enumerate() {
        let parsed: Option<Value> = serde_json::from_str(&r.text).ok();
        if parsed
            .as_ref()
            .is_some_and(|p| p["object"] == "video.content")
        {
            let p = parsed.expect("checked");
            v.content_url = p["url"].as_str().map(str::to_owned);
            v.bytes = p["bytes"].as_u64();
            v.mp4 = serde_json::from_value(p["mp4"].clone()).ok();
            v.download = match p["download_ms"].as_f64() {
                Some(ms) => Some((at.saturating_sub(ms_ns(ms)), *at)),
                None => v.completed_ns.map(|c| (c, *at)),
            };
            v.download_counted = p.get("b64_mp4").is_some();
            if let Some(f) = &v.mp4 {
                issues = video::check(&v.ask, f);
            }
            continue;
        }
        if i == 0 {
            v.submit_end_ns = Some(*at);
        } else {
            v.polls += 1;
        }
        let Ok(job) = status::parse(r.text.as_bytes()) else {
            v.poll_errors += u32::from(i > 0);
            continue;
        };
        if i == 0 {
            v.job_id = job.id.clone();
        }
        let stage = job.stage().unwrap_or(Stage::Running);
        if stage != Stage::Queued && i > 0 {
            v.started_ns.get_or_insert(*at);
        }
        if stage == Stage::Completed {
            v.completed_ns.get_or_insert(*at);
        }
        v.status = job.status.or(v.status.take());
        v.progress = job.progress.or(v.progress);
        server = job.server.or(server);
    }
    Output {
        issues,
        server,
        video: Some(Box::new(v)),
        ..Output::default()
    }
}

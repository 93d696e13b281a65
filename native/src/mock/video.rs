//! The video routes (REFERENCE §11), in the openai and sglang dialects:
//! `POST /v1/videos` submits a job (numbered and given its fault like an
//! image request, then queued FIFO for the same generation slots as
//! images), `GET /v1/videos/{id}` reports its state, and
//! `GET /v1/videos/{id}/content` serves its MP4 (`Range` gives 206).
//!
//! Image-to-video: a multipart submit's `input_reference` ([`form`]) is
//! decoded once per distinct upload and the MP4 shows it, resized to the
//! video's size, instead of the mock's scene; `--task t2i`/`t2v` refuse it
//! and `i2i`/`i2v` refuse a job without it, in SGLang's words.
//!
//! Service time: (`--video-overhead-ms` + steps × `--video-step-ms` ×
//! (frames × W·H + the reference's pixels)/1024²) × jitter ÷ `--speedup`,
//! or `--latency-ms`. The
//! sglang dialect answers as SGLang 0.5.23 with Wan2.1: 832x480 by default,
//! `seconds` 4 at 24 fps, 4k+1 frames in the MP4 (96 asked → 93), sizes
//! rounded up to multiples of 16 in the MP4 while the job echoes the size
//! asked. The openai dialect makes exactly what was asked (odd sizes
//! rounded up to even, as 4:2:0 H.264 needs).
//!
//! Faults (`--fault`, `--fault-at`, numbered with image requests): the
//! status and connection faults (`500-close`, `close`) answer the submit;
//! `stall`, `drop` and `malformed-json` spoil the submit's answer; `failed` ends the job failed halfway,
//! `stuck` leaves it in progress for ever, `poll-500` answers its first
//! poll with a 500, `content-404` and `truncated-b64` (half an MP4) and
//! `wrong-size` (half the size) spoil its content.

mod encode;
mod form;
mod jobs;
mod spec;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Value};

use super::args::Dialect;
use super::body::Chunks;
use super::dialect;
use super::faults::{mix64, FaultKind};
use super::handlers::unix_now;
use super::request::Reject;
use super::serve::ConnControl;
use super::truth::TruthRecord;
use super::Shared;
pub(crate) use jobs::{Cache, Jobs};
use jobs::{Job, Stage};
use spec::parse;

fn reject(d: Dialect, message: String, param: &str) -> Response {
    dialect::reject(d, &Reject::invalid(message, Some(param)))
}

/// The job object, in the dialect's shape.
fn job_json(d: Dialect, job: &Job, stage: &Stage) -> Value {
    let (status, progress) = match stage {
        Stage::Queued => ("queued", 0),
        Stage::InProgress { progress } => ("in_progress", *progress),
        Stage::Completed { .. } => ("completed", 100),
        Stage::Failed { progress } => ("failed", *progress),
    };
    let s = &job.spec;
    let mut o = json!({
        "id": job.id, "object": "video", "model": s.model, "status": status,
        "progress": progress, "created_at": job.created_unix, "size": s.size_label,
        "seconds": s.seconds_label, "quality": "standard",
    });
    let error = matches!(stage, Stage::Failed { .. }).then(|| {
        json!({"code": "generation_failed",
            "message": "CUDA out of memory while decoding latents (mock fault 'failed')"})
    });
    let served = match stage {
        Stage::Completed { served } => Some(*served),
        _ => None,
    };
    let done_at = served.map(|_| unix_now());
    match d {
        Dialect::Sglang => {
            let file = format!("/tmp/imgperf-mock/outputs/{}.mp4", job.id);
            o["url"] = Value::Null;
            o["urls"] = served.map_or(Value::Null, |_| json!([null]));
            o["completed_at"] = json!(done_at);
            o["error"] = json!(error);
            o["file_path"] = json!(file);
            o["file_paths"] = json!([file]);
            o["num_outputs"] = json!(served.map(|_| 1));
            let k = &s.key;
            let mp_frames = f64::from(k.width) * f64::from(k.height) * f64::from(k.frames) / 1e6;
            o["peak_memory_mb"] = json!(served.map(|_| (21_000.0 + 90.0 * mp_frames).round()));
            o["inference_time_s"] =
                json!(served.map(|v| ((v.end - v.start).as_secs_f64() * 1e4).round() / 1e4));
        }
        _ => {
            if let Some(t) = done_at {
                o["completed_at"] = json!(t);
                o["expires_at"] = json!(t + 3600);
            }
            if let Some(e) = error {
                o["error"] = e;
            }
        }
    }
    o
}

fn json_answer(status: StatusCode, v: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// `POST /v1/videos`: a JSON body, or a multipart form with `input_reference`.
pub(crate) async fn submit(
    State(shared): State<Arc<Shared>>,
    record: Option<Extension<Arc<TruthRecord>>>,
    conn: Option<Extension<ConnControl>>,
    request: Request,
) -> Response {
    let record = record.map(|r| r.0);
    let seq = shared.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let fault = shared.faults.pick(seq);
    if let Some(r) = &record {
        r.image_request(seq, fault);
    }
    let d = shared.dialect;
    if let Some(kind) = fault.filter(|k| k.is_immediate() || *k == FaultKind::Internal) {
        return dialect::fault(d, kind, shared.args.retry_after_s);
    }
    // The connection faults, as for images: a 500 then the connection
    // closed, or the connection dropped without an answer.
    match (fault, conn.map(|c| c.0)) {
        (Some(FaultKind::InternalClose), Some(c)) => {
            c.close_after_answer();
            return dialect::fault(d, FaultKind::Internal, shared.args.retry_after_s);
        }
        (Some(FaultKind::Close), Some(c)) => {
            c.abort();
            return std::future::pending().await;
        }
        _ => {}
    }
    let submitted = match form::read(d, request).await {
        Ok(s) => s,
        Err(r) => return dialect::reject(d, &r),
    };
    let (digest, input_pixels) =
        match form::reference(&shared, submitted.reference.as_ref(), record.as_deref()).await {
            Ok(r) => r,
            Err(r) => return dialect::reject(d, &r),
        };
    let (mut spec, steps) = match parse(&shared, &submitted.fields) {
        Ok(p) => p,
        Err((message, param)) => return reject(d, message, param),
    };
    spec.key.reference = digest;
    if fault == Some(FaultKind::WrongSize) {
        let k = &mut spec.key;
        (k.width, k.height) = ((k.width / 4).max(1) * 2, (k.height / 4).max(1) * 2);
    }
    let prefix = if d == Dialect::Sglang { "" } else { "video_" };
    let id = format!(
        "{prefix}{:016x}{:08x}",
        mix64(mix64(shared.args.seed) ^ seq),
        mix64(seq) as u32
    );
    let k = spec.key;
    let service = shared
        .model
        .video_service(k.width, k.height, k.frames, input_pixels, steps, seq);
    let job = Arc::new(Job::new(id, spec, fault, unix_now()));
    shared.videos.insert(job.clone());
    let answer = json_answer(StatusCode::OK, &job_json(d, &job, &Stage::Queued));
    // Its MP4 is made meanwhile (cached), so the content route only sends.
    tokio::spawn({
        let shared = shared.clone();
        async move { shared.video_cache.get(k, &shared.cache).await.map(drop) }
    });
    // The job waits for a generation slot on its own task; the truth line
    // is written when its service ends (the record is held until then).
    tokio::spawn({
        let shared = shared.clone();
        let job = job.clone();
        async move {
            super::latency::wait_until(shared.gate).await;
            let served = shared.slots.begin(service).await;
            job.start(served);
            if let Some(r) = &record {
                r.served(served);
            }
            super::latency::wait_until(served.end).await;
            if job
                .fault
                .is_none_or(|f| !matches!(f, FaultKind::Failed | FaultKind::Stuck))
            {
                shared.served.fetch_add(1, Ordering::Relaxed);
            }
            drop(record);
        }
    });
    match fault {
        Some(FaultKind::Stall) => {
            tokio::time::sleep(Duration::from_secs_f64(shared.args.stall_s)).await;
            answer
        }
        Some(FaultKind::Drop | FaultKind::MalformedJson) => {
            let (parts, body) = answer.into_parts();
            let text = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            let mut chunks = Chunks::new(vec![text.slice(..text.len().saturating_sub(1))]);
            if fault == Some(FaultKind::Drop) {
                chunks = Chunks::new(vec![text]).drop_halfway();
            }
            Response::from_parts(parts, chunks.into_body())
        }
        _ => answer,
    }
}

/// `GET /v1/videos/{id}`.
pub(crate) async fn status(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let d = shared.dialect;
    let Some(job) = shared.videos.get(&id) else {
        return dialect::not_found(d, "Video not found");
    };
    if job.poll() == 1 && job.fault == Some(FaultKind::PollError) {
        return dialect::fault(d, FaultKind::Internal, shared.args.retry_after_s);
    }
    let stage = job.stage(tokio::time::Instant::now());
    json_answer(StatusCode::OK, &job_json(d, &job, &stage))
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` of a `len`-byte body.
fn range(headers: &HeaderMap, len: usize) -> Option<(usize, usize)> {
    if len == 0 {
        return None;
    }
    let spec = headers
        .get(header::RANGE)?
        .to_str()
        .ok()?
        .strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => (len.saturating_sub(n.parse().ok()?), len - 1),
        (a, "") => (a.parse().ok()?, len - 1),
        (a, b) => (a.parse().ok()?, b.parse::<usize>().ok()?.min(len - 1)),
    };
    (start <= end && end < len).then_some((start, end))
}

/// `GET /v1/videos/{id}/content`.
pub(crate) async fn content(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let d = shared.dialect;
    let Some(job) = shared.videos.get(&id) else {
        return dialect::not_found(d, "Video not found");
    };
    match job.stage(tokio::time::Instant::now()) {
        Stage::Completed { .. } if job.fault != Some(FaultKind::ContentMissing) => {}
        Stage::Completed { .. } => {
            return dialect::not_found(d, "Video file not found (mock fault 'content-404')")
        }
        Stage::Failed { .. } => {
            return dialect::not_found(d, "Video generation failed; no content")
        }
        _ => return dialect::not_found(d, "Generation is still in-progress"),
    }
    let mut mp4 = match shared.video_cache.get(job.spec.key, &shared.cache).await {
        Ok(b) => b,
        Err(e) => {
            let body = json!({"error": {"message": format!("{e:#}"), "type": "server_error"}});
            return json_answer(StatusCode::INTERNAL_SERVER_ERROR, &body);
        }
    };
    if job.fault == Some(FaultKind::TruncatedB64) {
        mp4 = mp4.slice(..mp4.len() / 2);
    }
    let len = mp4.len();
    let (status, body) = match range(&headers, len) {
        Some((a, b)) => (StatusCode::PARTIAL_CONTENT, mp4.slice(a..=b)),
        None => (StatusCode::OK, mp4.clone()),
    };
    let mut resp = (status, Chunks::new(vec![body]).into_body()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{id}.mp4\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!(
        "\"{:016x}\"",
        mix64(len as u64 ^ u64::from(job.spec.key.variant))
    )) {
        h.insert(header::ETAG, v);
    }
    if status == StatusCode::PARTIAL_CONTENT {
        if let Some((a, b)) = range(&headers, len) {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {a}-{b}/{len}")) {
                h.insert(header::CONTENT_RANGE, v);
            }
        }
    }
    resp
}

//! One video job, as a request with polls inside the runner's job model:
//! submit, then one poll at a time on a fixed cadence (due at the submit's
//! answer + k × the poll interval; a poll that outlasts the interval only
//! makes the next one go as soon as its answer is in), until the job says
//! `completed` or `failed`; then the MP4.
//! Every step races the job's limit (its cancellation time, or its submit
//! plus `--request-timeout-seconds`), so a cancelled job stops being polled
//! and a job that never ends times out; neither hangs.
//!
//! A poll that fails (connection error, 5xx, an answer that is not a job)
//! is counted and retried on the next tick; [`MAX_POLL_ERRORS_IN_A_ROW`] in
//! a row end the job with the last error. A 404 ends it at once (the server
//! forgot the job).

use super::status::{self, JobObject, Stage};
use super::{mp4, VideoAsk, VideoOutput, VideoSettings};
use crate::job::{cancelled, failure_error, Completed, Job, RawBody};
use crate::measure::{fetch, ValidateImages};
use crate::output::{ImageIssue, IssueKind};
use crate::platform::Runtime;
use crate::record::ErrorDetails;
use crate::response;
use crate::transport::{HttpRequest, HttpResponse, Method, Transport};
use base64::Engine as _;
use bytes::Bytes;
use futures_util::future::{select, Either};
use serde_json::json;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;

/// Failed polls in a row that end a job.
pub const MAX_POLL_ERRORS_IN_A_ROW: u32 = 10;

/// `Some(output)`, or `None` when `limit` (monotonic ns) came first.
async fn until<R: Runtime, F: Future>(rt: &R, fut: F, limit: u64) -> Option<F::Output> {
    match select(pin!(fut), pin!(rt.sleep_until(limit))).await {
        Either::Left((v, _)) => Some(v),
        Either::Right(_) => None,
    }
}

/// What the job has learnt so far.
struct State {
    job: Job,
    video: VideoOutput,
    /// Submit, poll and content answers for the raw export.
    raw: Option<Vec<(u64, Bytes, Option<String>)>>,
    bytes: u64,
    status: Option<u16>,
    last: JobObject,
    /// Arrival of the last job object.
    last_at: u64,
}

impl State {
    /// Account for one answer.
    fn note(&mut self, resp: &HttpResponse) {
        self.bytes += resp.body.len() as u64;
        self.status = Some(resp.status);
        if let Some(raw) = &mut self.raw {
            let ct = resp.header("content-type").map(str::to_owned);
            raw.push((resp.timing.end_ns, resp.body.clone(), ct));
        }
    }

    /// Take in a job object that arrived at `at`; the final stage, if it is one.
    fn observe(&mut self, obj: JobObject, at: u64) -> Option<Stage> {
        let stage = obj.stage().unwrap_or(Stage::Running);
        self.last_at = at;
        if stage != Stage::Queued {
            self.video.started_ns.get_or_insert(at);
        }
        if stage == Stage::Completed {
            self.video.completed_ns.get_or_insert(at);
        }
        self.video.status = obj.status.clone().or(self.video.status.take());
        self.video.progress = obj.progress.or(self.video.progress);
        self.last = JobObject {
            server: obj.server.or(self.last.server),
            ..obj
        };
        matches!(stage, Stage::Completed | Stage::Failed).then_some(stage)
    }

    /// The record, ended at `end` with `error`.
    fn finish(mut self, end: u64, error: Option<ErrorDetails>, was_cancelled: bool) -> Completed {
        let mut rec = self.job.record.clone();
        rec.request_end_ns = end.max(rec.request_start_ns);
        rec.status = self.status;
        rec.response_bytes = self.bytes;
        rec.was_cancelled = was_cancelled;
        rec.output.server = self.last.server;
        if self.job.validate == ValidateImages::Strict
            && error.is_none()
            && !rec.output.issues.is_empty()
        {
            let messages: Vec<String> = rec
                .output
                .issues
                .iter()
                .map(|i| format!("{}: {}", i.kind.name(), i.message))
                .collect();
            rec.error = Some(ErrorDetails {
                code: self.status,
                kind: "VideoValidationError".into(),
                message: response::clip(&messages.join("; ")),
            });
        } else {
            rec.error = error;
        }
        rec.output.video = Some(Box::new(std::mem::take(&mut self.video)));
        let raw = self.raw.take();
        let body = raw.as_deref().map(RawBody::Responses);
        self.job.finish(rec, body)
    }

    fn describe(&self) -> String {
        let id = self
            .video
            .job_id
            .as_deref()
            .unwrap_or("(not yet submitted)");
        let status = self.video.status.as_deref().unwrap_or("none");
        let progress = self
            .video
            .progress
            .map_or(String::new(), |p| format!(", progress {p}"));
        format!(
            "job {id}: last status {status}{progress}, {} polls",
            self.video.polls
        )
    }

    /// The record of a job stopped by its limit: cancelled, or timed out.
    fn stopped(self, now: u64, cancel_at: Option<u64>, settings: &VideoSettings) -> Completed {
        let what = self.describe();
        if cancel_at.is_some_and(|c| now >= c) {
            let after = self.job.cancel_after_ns.unwrap_or(0) as f64 / 1e9;
            let e = cancelled(format!(
                "cancelled by --request-cancellation-rate after {after:.3} s; polling stopped ({what})"
            ));
            return self.finish(now, Some(e), true);
        }
        let e = ErrorDetails {
            code: Some(408),
            kind: "RequestTimeout".into(),
            message: format!(
                "video not finished within --request-timeout-seconds {} ({what})",
                settings.timeout_ns as f64 / 1e9
            ),
        };
        self.finish(now, Some(e), false)
    }
}

fn invalid(status: u16, message: String) -> Option<ErrorDetails> {
    Some(ErrorDetails {
        code: Some(status),
        kind: "InvalidResponse".into(),
        message: response::clip(&message),
    })
}

/// Run one video job to its end (or its limit).
pub(crate) async fn execute<T: Transport, R: Runtime>(
    transport: Arc<T>,
    rt: R,
    job: Job,
    settings: VideoSettings,
) -> Completed {
    let started = rt.now_ns();
    let deadline = started.saturating_add(settings.timeout_ns);
    let cancel_at = job.cancel_after_ns.map(|a| started.saturating_add(a));
    let limit = cancel_at.map_or(deadline, |c| c.min(deadline));
    let mut st = State {
        video: VideoOutput {
            ask: VideoAsk::from_payload(&job.payload),
            download_counted: settings.download_content,
            ..VideoOutput::default()
        },
        raw: job.export.raw.then(Vec::new),
        job,
        bytes: 0,
        status: None,
        last: JobObject::default(),
        last_at: started,
    };
    st.job.record.request_start_ns = started;

    // Submit.
    let submit = transport.send(st.job.request.clone());
    let resp = match until(&rt, submit, limit).await {
        None => return st.stopped(rt.now_ns(), cancel_at, &settings),
        Some(Err(f)) => {
            st.job.record.request_start_ns = f.timing.start_ns;
            st.job.record.stale_attempt_ns = f.timing.stale_attempt_ns;
            st.job.record.upload_end_ns = f.timing.upload_end_ns;
            st.job.record.first_byte_ns = f.timing.first_byte_ns;
            st.status = f.status;
            let cancel = f.kind == crate::transport::FailureKind::Cancelled;
            return st.finish(f.timing.end_ns, Some(failure_error(&f)), cancel);
        }
        Some(Ok(r)) => r,
    };
    st.job.record.request_start_ns = resp.timing.start_ns;
    st.job.record.stale_attempt_ns = resp.timing.stale_attempt_ns;
    // An image-to-video submit uploads its reference: its Upload Time.
    st.job.record.upload_end_ns = resp.timing.upload_end_ns;
    st.job.record.first_byte_ns = resp.timing.first_byte_ns;
    st.note(&resp);
    let at = resp.timing.end_ns;
    st.video.submit_end_ns = Some(at);
    if !(200..300).contains(&resp.status) {
        let e = response::analyze(resp.status, &resp.body).error;
        return st.finish(at, e, false);
    }
    let obj = match status::parse(&resp.body) {
        Ok(o) => o,
        Err(m) => return st.finish(at, invalid(resp.status, m), false),
    };
    let Some(id) = obj.id.clone() else {
        let m = "the submit's answer has no job \"id\" to poll".to_owned();
        return st.finish(at, invalid(resp.status, m), false);
    };
    st.video.job_id = Some(id.clone());
    let mut stage = st.observe(obj, at);

    // Poll, one at a time.
    let poll_url = format!("{}/{id}", st.job.request.url.trim_end_matches('/'));
    let headers = fetch::download_headers(&st.job.request.headers, true);
    let interval = settings.poll_interval_ns.max(1);
    let mut next = at + interval;
    let mut in_a_row = 0u32;
    while stage.is_none() {
        if until(&rt, rt.sleep_until(next), limit).await.is_none() {
            return st.stopped(rt.now_ns(), cancel_at, &settings);
        }
        next += interval;
        let get = HttpRequest {
            method: Method::Get,
            url: poll_url.clone(),
            headers: headers.clone(),
            body: Bytes::new(),
        };
        st.video.polls += 1;
        let failure = match until(&rt, transport.send(get), limit).await {
            None => return st.stopped(rt.now_ns(), cancel_at, &settings),
            Some(Err(f)) => (f.timing.end_ns, failure_error(&f)),
            Some(Ok(resp)) => {
                st.note(&resp);
                let at = resp.timing.end_ns;
                let judged = if (200..300).contains(&resp.status) {
                    status::parse(&resp.body)
                        .map_err(|m| invalid(resp.status, m).expect("an error"))
                } else {
                    Err(response::analyze(resp.status, &resp.body)
                        .error
                        .expect("an error status is an error"))
                };
                match judged {
                    Ok(obj) => {
                        in_a_row = 0;
                        stage = st.observe(obj, at);
                        continue;
                    }
                    Err(mut e) if resp.status == 404 => {
                        e.message =
                            format!("video job {id} is gone (poll answered 404): {}", e.message);
                        return st.finish(at, Some(e), false);
                    }
                    Err(e) => (at, e),
                }
            }
        };
        st.video.poll_errors += 1;
        in_a_row += 1;
        if in_a_row >= MAX_POLL_ERRORS_IN_A_ROW {
            let (at, mut e) = failure;
            e.message = response::clip(&format!(
                "{in_a_row} polls of video job {id} failed in a row; last: {}",
                e.message
            ));
            return st.finish(at, Some(e), false);
        }
    }
    let done_at = st.video.completed_ns.or(st.video.started_ns).unwrap_or(at);
    if stage == Some(Stage::Failed) {
        let message = st
            .last
            .error
            .clone()
            .unwrap_or_else(|| "no error message".into());
        let e = ErrorDetails {
            code: None,
            kind: "VideoGenerationFailed".into(),
            message: response::clip(&format!("video job {id} failed: {message}")),
        };
        let at = st.last_at;
        return st.finish(at, Some(e), false);
    }

    // The MP4.
    let base = st.job.base_url.clone();
    let content_url = match st.last.url.as_deref() {
        Some(u) => fetch::resolve_url(&base, u),
        None => format!("{poll_url}/content"),
    };
    st.video.content_url = Some(content_url.clone());
    let counted = settings.download_content;
    if !counted && st.job.validate == ValidateImages::Off {
        return st.finish(done_at, None, false);
    }
    let same = fetch::origin(&content_url).eq_ignore_ascii_case(fetch::origin(&base));
    let get = HttpRequest {
        method: Method::Get,
        url: content_url.clone(),
        headers: fetch::download_headers(&st.job.request.headers, same),
        body: Bytes::new(),
    };
    let got = match until(&rt, transport.send(get), limit).await {
        None if counted => return st.stopped(rt.now_ns(), cancel_at, &settings),
        None => Err((
            "the content download was cut by the job's limit".to_owned(),
            None,
        )),
        Some(Err(f)) => {
            st.video.download = Some((f.timing.start_ns, f.timing.end_ns));
            Err((format!("content download failed: {}", f.message), f.status))
        }
        Some(Ok(resp)) => {
            st.video.download = Some((resp.timing.start_ns, resp.timing.end_ns));
            st.bytes += resp.body.len() as u64;
            st.status = Some(resp.status);
            if (200..300).contains(&resp.status) {
                Ok(resp)
            } else {
                let why = response::analyze(resp.status, &resp.body).error;
                let msg = why.map_or(String::new(), |e| format!(": {}", e.message));
                Err((
                    format!("content answered HTTP {}{msg}", resp.status),
                    Some(resp.status),
                ))
            }
        }
    };
    let end = match (counted, st.video.download) {
        (true, Some((_, e))) => e,
        _ => done_at,
    };
    let resp = match got {
        Ok(r) => r,
        Err((message, status)) => {
            if counted {
                let e = ErrorDetails {
                    code: status,
                    kind: "ContentDownloadError".into(),
                    message: response::clip(&message),
                };
                return st.finish(end, Some(e), false);
            }
            st.job.record.output.issues.push(ImageIssue {
                index: None,
                kind: IssueKind::DownloadFailed,
                message: response::clip(&message),
            });
            return st.finish(end, None, false);
        }
    };
    st.video.bytes = Some(resp.body.len() as u64);
    let facts = mp4::facts(&resp.body);
    if st.job.validate != ValidateImages::Off {
        let issues = match &facts {
            Ok(f) => super::check(&st.video.ask, f),
            Err(e) => vec![ImageIssue {
                index: None,
                kind: match e {
                    mp4::Mp4Error::Truncated(_) => IssueKind::Truncated,
                    _ => IssueKind::Undecodable,
                },
                message: e.to_string(),
            }],
        };
        st.job.record.output.issues.extend(issues);
    }
    if let Some(raw) = &mut st.raw {
        // A final answer in the shape of a completed job with its `url`
        // (SGLang leaves `url` null), the MP4's facts, and its bytes when
        // the content was asked for: AIPerf's download_videos.py finds it.
        let mut entry = json!({
            "id": id, "object": "video.content", "status": "completed",
            "url": content_url, "bytes": resp.body.len(),
            "download_ms": resp.timing.end_ns.saturating_sub(resp.timing.start_ns) as f64 / 1e6,
            "content_type": resp.header("content-type"),
            "mp4": facts.as_ref().ok(),
            "mp4_error": facts.as_ref().err().map(ToString::to_string),
        });
        if counted {
            entry["b64_mp4"] = json!(base64::engine::general_purpose::STANDARD.encode(&resp.body));
        }
        let text = Bytes::from(entry.to_string());
        raw.push((resp.timing.end_ns, text, Some("application/json".into())));
    }
    st.video.mp4 = facts.ok();
    st.finish(end, None, false)
}

#[cfg(test)]
mod tests;

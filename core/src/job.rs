//! One request as a task: send it through the transport (cancelling it after
//! `--request-cancellation-delay` when it was picked for cancellation), judge
//! the response and check its images ([`crate::measure`]; URL images are
//! fetched here too), and serialise its export lines, all off the scheduler,
//! so multi-MB bodies are handled on whichever worker runs the task.

use crate::export::{self, RawLine, RawResponse, RawText};
use crate::measure::{self, fetch, Expect, ValidateImages};
use crate::platform::Runtime;
use crate::record::{ErrorDetails, Phase, RequestRecord};
use crate::request::redact_headers;
use crate::transport::{FailureKind, HttpRequest, Timing, Transport, TransportFailure};
use crate::video::{self, VideoSettings};
use bytes::Bytes;
use futures_channel::oneshot;
use futures_util::future::{select, Either};
use std::borrow::Cow;
use std::pin::pin;
use std::sync::Arc;

/// A finished request: its record and its export lines, ready to write.
#[derive(Debug, Clone)]
pub struct Completed {
    /// What was measured.
    pub record: RequestRecord,
    /// `profile_export.jsonl` line (no newline), if records are exported.
    pub record_line: Option<String>,
    /// `profile_export_raw.jsonl` line (no newline), if raw is exported.
    pub raw_line: Option<RawLine>,
}

/// Which export lines to serialise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportLines {
    /// `profile_export.jsonl`.
    pub records: bool,
    /// `profile_export_raw.jsonl` (keeps the body until serialised).
    pub raw: bool,
}

/// Everything one request task needs.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub record: RequestRecord,
    pub request: HttpRequest,
    pub payload: Arc<serde_json::Value>,
    pub export: ExportLines,
    pub wall_origin_ns: u64,
    /// Cancel the request this long after it starts (`--request-cancellation-*`).
    pub cancel_after_ns: Option<u64>,
    /// The server's base URL (`--url`), for relative image URLs.
    pub base_url: String,
    /// `--validate-images`.
    pub validate: ValidateImages,
    /// A video job (submit, polls, content) instead of one exchange.
    pub video: Option<VideoSettings>,
}

/// What the raw export keeps of a response.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RawBody<'a> {
    /// A whole body (shared, not copied) and its content type.
    Whole(&'a Bytes, Option<&'a str>),
    /// The events of a stream: arrival ns and data.
    Events(&'a [(u64, Cow<'a, str>)]),
    /// Several whole answers (a video job's submit, polls and content
    /// facts): arrival ns, body, content type.
    Responses(&'a [(u64, Bytes, Option<String>)]),
}

impl Job {
    /// Turn a record into a [`Completed`], serialising the lines asked for.
    pub fn finish(&self, rec: RequestRecord, body: Option<RawBody<'_>>) -> Completed {
        finish(
            rec,
            &self.request.headers,
            &self.payload,
            self.export,
            self.wall_origin_ns,
            body,
        )
    }
}

/// Serialise the export lines of a record (shared with abandoned requests).
pub(crate) fn finish(
    rec: RequestRecord,
    headers: &[(String, String)],
    payload: &serde_json::Value,
    export: ExportLines,
    wall_origin_ns: u64,
    body: Option<RawBody<'_>>,
) -> Completed {
    let record_line = export
        .records
        .then(|| export::record_line(&rec, wall_origin_ns));
    let raw_line = export.raw.then(|| {
        let headers = redact_headers(headers);
        match body {
            None => export::raw_line(&rec, wall_origin_ns, payload, &headers, None),
            Some(RawBody::Whole(b, content_type)) => {
                let response = RawResponse {
                    perf_ns: rec.request_end_ns,
                    text: RawText::from_body(b.clone()),
                    content_type,
                };
                export::raw_line(&rec, wall_origin_ns, payload, &headers, Some(response))
            }
            Some(RawBody::Events(events)) => {
                let responses: Vec<RawResponse> = events
                    .iter()
                    .map(|(at, data)| RawResponse {
                        perf_ns: *at,
                        text: RawText::from(data.as_ref()),
                        content_type: Some("text/event-stream"),
                    })
                    .collect();
                export::raw_line_responses(&rec, wall_origin_ns, payload, &headers, responses)
            }
            Some(RawBody::Responses(all)) => {
                let responses: Vec<RawResponse> = all
                    .iter()
                    .map(|(at, body, ct)| RawResponse {
                        perf_ns: *at,
                        text: RawText::from_body(body.clone()),
                        content_type: ct.as_deref(),
                    })
                    .collect();
                export::raw_line_responses(&rec, wall_origin_ns, payload, &headers, responses)
            }
        }
    });
    Completed {
        record: rec,
        record_line,
        raw_line,
    }
}

/// The error recorded for a request cancelled on purpose.
pub(crate) fn cancelled(message: impl Into<String>) -> ErrorDetails {
    ErrorDetails {
        code: Some(499),
        kind: "RequestCancelled".into(),
        message: message.into(),
    }
}

pub(crate) fn failure_error(f: &TransportFailure) -> ErrorDetails {
    let (code, kind) = match f.kind {
        FailureKind::Connect => (None, "ConnectionError"),
        FailureKind::Timeout => (Some(408), "RequestTimeout"),
        FailureKind::BodyTooLarge => (f.status, "ResponseTooLarge"),
        FailureKind::Io => (f.status, "IOError"),
        FailureKind::Cancelled => return cancelled(f.message.clone()),
    };
    ErrorDetails {
        code,
        kind: kind.into(),
        message: f.message.clone(),
    }
}

/// Run one request until it ends, or until the runner drops `halt`'s
/// sender (the request was abandoned and recorded already): the request,
/// or a video job's polling, stops there.
pub(crate) async fn execute_until_halted<T: Transport, R: Runtime>(
    transport: Arc<T>,
    rt: R,
    job: Job,
    halt: oneshot::Receiver<()>,
) -> Completed {
    // Only for the type: once halted, the runner has recorded the request.
    let mut halted = job.record.clone();
    let work = async move {
        match job.video {
            Some(settings) => video::job::execute(transport, rt, job, settings).await,
            None => execute(transport, rt, job).await,
        }
    };
    match select(pin!(work), halt).await {
        Either::Left((done, _)) => done,
        Either::Right(_) => {
            halted.was_cancelled = true;
            halted.error = Some(cancelled("abandoned by the runner"));
            Completed {
                record: halted,
                record_line: None,
                raw_line: None,
            }
        }
    }
}

/// Run one request to completion (or cancellation).
pub(crate) async fn execute<T: Transport, R: Runtime>(
    transport: Arc<T>,
    rt: R,
    job: Job,
) -> Completed {
    let started = rt.now_ns();
    let send = transport.send(job.request.clone());
    let result = match job.cancel_after_ns {
        None => send.await,
        Some(after) => match select(pin!(send), pin!(rt.sleep_until(started + after))).await {
            Either::Left((r, _)) => r,
            Either::Right(((), _)) => Err(TransportFailure {
                kind: FailureKind::Cancelled,
                message: format!(
                    "cancelled by --request-cancellation-rate after {:.3} s",
                    after as f64 / 1e9
                ),
                status: None,
                timing: Timing {
                    end_ns: rt.now_ns(),
                    ..Timing::starting_at(started)
                },
            }),
        },
    };
    let mut rec = job.record.clone();
    match result {
        Ok(resp) => {
            let expect = Expect::from_payload(&job.payload);
            let mut m = measure::measure(&resp, &expect, job.validate);
            if m.verdict.error.is_none() && !m.urls.is_empty() {
                let downloads =
                    fetch::fetch_all(&*transport, &job.base_url, &job.request.headers, &m.urls)
                        .await;
                fetch::apply(&downloads, job.validate, &mut m.output);
            }
            measure::conclude(
                &mut m.verdict,
                &mut m.output,
                &expect,
                job.validate,
                resp.status,
            );
            rec.request_start_ns = resp.timing.start_ns;
            rec.stale_attempt_ns = resp.timing.stale_attempt_ns;
            rec.upload_end_ns = resp.timing.upload_end_ns;
            rec.first_byte_ns = resp.timing.first_byte_ns;
            rec.request_end_ns = resp.timing.end_ns;
            rec.status = Some(resp.status);
            rec.response_bytes = resp.body.len() as u64;
            rec.image_count = m.verdict.image_count;
            rec.error = m.verdict.error;
            rec.output = m.output;
            let raw = if m.events.is_empty() {
                RawBody::Whole(&resp.body, resp.header("content-type"))
            } else {
                RawBody::Events(&m.events)
            };
            job.finish(rec, Some(raw))
        }
        Err(failure) => {
            rec.request_start_ns = failure.timing.start_ns;
            rec.stale_attempt_ns = failure.timing.stale_attempt_ns;
            rec.upload_end_ns = failure.timing.upload_end_ns;
            rec.first_byte_ns = failure.timing.first_byte_ns;
            rec.request_end_ns = failure.timing.end_ns;
            rec.status = failure.status;
            rec.was_cancelled = failure.kind == FailureKind::Cancelled;
            rec.error = Some(failure_error(&failure));
            job.finish(rec, None)
        }
    }
}

/// A record for a request that has been scheduled but not yet sent.
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_record(
    session_num: u64,
    phase: Phase,
    conversation_id: &str,
    request_id: &str,
    url: &str,
    isl: Option<u64>,
    worker: usize,
    scheduled_ns: u64,
    slot_ns: u64,
) -> RequestRecord {
    RequestRecord {
        session_num,
        x_request_id: request_id.to_owned(),
        x_correlation_id: request_id.to_owned(),
        conversation_id: conversation_id.to_owned(),
        turn_index: 0,
        url: url.to_owned(),
        phase,
        credit_issued_ns: scheduled_ns,
        slot_acquired_ns: slot_ns,
        request_start_ns: slot_ns,
        stale_attempt_ns: None,
        upload_end_ns: None,
        first_byte_ns: None,
        request_end_ns: slot_ns,
        worker_id: if worker == usize::MAX {
            "queue".to_owned()
        } else {
            format!("worker_{worker}")
        },
        shard_index: None,
        was_cancelled: false,
        status: None,
        input_sequence_length: isl,
        response_bytes: 0,
        image_count: 0,
        error: None,
        input_images: std::sync::Arc::from([]),
        output: Default::default(),
    }
}

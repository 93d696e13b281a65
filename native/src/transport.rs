//! The reqwest implementation of core's `Transport`: a per-request timeout
//! covering the whole exchange, a body size cap enforced while streaming (a
//! huge body is an error, never an OOM), the arrival time of every body
//! chunk (what dates streamed SSE events), when the request body's last
//! byte was handed to the connection (an edit's upload time;
//! [`upload::TimedBody`]), and the stale-connection rule.
//!
//! Connections come from [`lanes`]: each exchange borrows a lane (a client
//! whose pool holds at most one keep-alive connection per host) that knows
//! which connection carried its previous exchange. A request sent on a reused
//! connection that the server had already closed (uvicorn closes after an
//! unhandled 500 without saying `Connection: close`) fails with a reset or
//! EOF before any response byte: it is sent again, once, on a fresh
//! connection, as browsers do, and its timing says so. A failure on a fresh
//! connection, or after response bytes arrived, stays an error.

mod lanes;
mod upload;

use crate::runtime::TokioRuntime;
use bytes::BytesMut;
use imgperf_core::platform::{MaybeSend, Runtime};
use imgperf_core::transport::{
    FailureKind, HttpRequest, HttpResponse, Method, Timing, Transport, TransportFailure,
};
use lanes::{Lane, Lanes};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Sends requests with reqwest, timing them on the run's clock.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    lanes: Arc<Lanes>,
    clock: TokioRuntime,
    timeout: Duration,
    max_body: usize,
}

impl ReqwestTransport {
    /// A transport with `concurrency` connection lanes ready (more are made
    /// when more exchanges run at once).
    pub fn new(
        clock: TokioRuntime,
        timeout: Duration,
        max_body: usize,
        concurrency: usize,
    ) -> anyhow::Result<Self> {
        Ok(ReqwestTransport {
            lanes: Arc::new(Lanes::new(concurrency.max(1))?),
            clock,
            timeout,
            max_body,
        })
    }
}

/// The error and its chain of causes, on one line.
pub(crate) fn describe(err: &reqwest::Error) -> String {
    let mut msg = err.to_string();
    let mut src = std::error::Error::source(err);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

/// A reset, an abort, a broken pipe or an EOF: what a connection the server
/// already closed answers to a request written on it.
fn is_closed_connection(err: &reqwest::Error) -> bool {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = src {
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() || h.is_closed() {
                return true;
            }
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(
                io.kind(),
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
            ) {
                return true;
            }
        }
        src = e.source();
    }
    false
}

/// One attempt's failure, and whether it was a stale pooled connection.
struct Failed {
    failure: TransportFailure,
    stale: bool,
}

impl ReqwestTransport {
    /// One attempt on `lane`, ending by `deadline` at the latest.
    async fn attempt(
        &self,
        lane: &mut Lane,
        request: &HttpRequest,
        deadline: Instant,
    ) -> Result<HttpResponse, Failed> {
        // Build first (URL parse, headers): the clock starts when the
        // request is handed to the connection, as the record says.
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
        };
        let client = lane.client().clone();
        let mut builder = client.request(method, &request.url);
        for (k, v) in &request.headers {
            builder = builder.header(k, v);
        }
        let uploaded = upload::Mark::default();
        let body = if upload::uploads_files(request) {
            upload::TimedBody::new(request.body.clone(), self.clock, uploaded.clone()).into_body()
        } else {
            reqwest::Body::from(request.body.clone())
        };
        let built = builder.body(body).build();
        let mut timing = Timing::starting_at(self.clock.now_ns());
        let mut status = None;
        let mut stale = false;
        let exchange = async {
            let built = built.map_err(|e| (FailureKind::Io, describe(&e)))?;
            let mut resp = client.execute(built).await.map_err(|e| {
                let kind = if e.is_connect() {
                    FailureKind::Connect
                } else {
                    // It went out on the connection of the lane's previous
                    // exchange, which the server had closed meanwhile.
                    stale = is_closed_connection(&e) && lane.failed_on_reused(&e);
                    FailureKind::Io
                };
                (kind, describe(&e))
            })?;
            lane.answered_on(&resp);
            timing.first_byte_ns = Some(self.clock.now_ns());
            status = Some(resp.status().as_u16());
            let headers: Vec<(String, String)> = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let expected = resp.content_length().unwrap_or(0) as usize;
            if expected > self.max_body {
                return Err((
                    FailureKind::BodyTooLarge,
                    format!(
                        "response body of {expected} bytes exceeds --max-response-bytes {}",
                        self.max_body
                    ),
                ));
            }
            let mut body = BytesMut::with_capacity(expected);
            let mut chunks = Vec::new();
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| (FailureKind::Io, describe(&e)))?
            {
                if body.len() + chunk.len() > self.max_body {
                    return Err((
                        FailureKind::BodyTooLarge,
                        format!(
                            "response body exceeds --max-response-bytes {}",
                            self.max_body
                        ),
                    ));
                }
                body.extend_from_slice(&chunk);
                chunks.push((self.clock.now_ns(), body.len()));
            }
            Ok((resp.status().as_u16(), headers, body.freeze(), chunks))
        };
        let result = tokio::time::timeout_at(deadline, exchange).await;
        timing.end_ns = self.clock.now_ns();
        timing.upload_end_ns = uploaded.get();
        match result {
            Ok(Ok((status, headers, body, chunks))) => Ok(HttpResponse {
                status,
                headers,
                body,
                timing,
                chunks,
            }),
            Ok(Err((kind, message))) => Err(Failed {
                failure: TransportFailure {
                    kind,
                    message,
                    status,
                    timing,
                },
                stale,
            }),
            Err(_) => Err(Failed {
                failure: TransportFailure {
                    kind: FailureKind::Timeout,
                    message: format!(
                        "no complete response within --request-timeout-seconds {}",
                        self.timeout.as_secs_f64()
                    ),
                    status,
                    timing,
                },
                stale: false,
            }),
        }
    }
}

impl Transport for ReqwestTransport {
    fn send(
        &self,
        request: HttpRequest,
    ) -> impl Future<Output = Result<HttpResponse, TransportFailure>> + MaybeSend {
        let this = self.clone();
        async move {
            let deadline = Instant::now() + this.timeout;
            let mut lane = match this.lanes.take() {
                Ok(lane) => lane,
                Err(e) => {
                    return Err(TransportFailure {
                        kind: FailureKind::Connect,
                        message: format!("cannot create an HTTP client: {e:#}"),
                        status: None,
                        timing: Timing::starting_at(this.clock.now_ns()),
                    });
                }
            };
            let result = match this.attempt(&mut lane, &request, deadline).await {
                Err(Failed { failure, stale }) if stale => {
                    // The dead connection left the lane's pool, so this
                    // attempt opens a fresh one; a failure now stands.
                    let lost_from = failure.timing.start_ns;
                    let with_mark = |mut t: Timing| {
                        t.stale_attempt_ns = Some(lost_from);
                        t
                    };
                    match this.attempt(&mut lane, &request, deadline).await {
                        Ok(mut r) => {
                            r.timing = with_mark(r.timing);
                            Ok(r)
                        }
                        Err(Failed { mut failure, .. }) => {
                            failure.timing = with_mark(failure.timing);
                            Err(failure)
                        }
                    }
                }
                other => other.map_err(|f| f.failure),
            };
            this.lanes.put_back(lane);
            result
        }
    }
}

//! The reqwest implementation of core's `Transport`: one shared connection
//! pool, a per-request timeout covering the whole exchange, a body size
//! cap enforced while streaming (a huge body is an error, never an OOM), and
//! the arrival time of every body chunk (what dates streamed SSE events).

use crate::runtime::TokioRuntime;
use bytes::BytesMut;
use imgperf_core::platform::{MaybeSend, Runtime};
use imgperf_core::transport::{
    FailureKind, HttpRequest, HttpResponse, Method, Timing, Transport, TransportFailure,
};
use std::future::Future;
use std::time::Duration;

/// Sends requests with reqwest, timing them on the run's clock.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    clock: TokioRuntime,
    timeout: Duration,
    max_body: usize,
}

impl ReqwestTransport {
    /// A transport with a connection pool sized for `concurrency`.
    pub fn new(
        clock: TokioRuntime,
        timeout: Duration,
        max_body: usize,
        concurrency: usize,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency.max(1))
            .tcp_nodelay(true)
            .no_proxy()
            .build()?;
        Ok(ReqwestTransport {
            client,
            clock,
            timeout,
            max_body,
        })
    }
}

fn describe(err: &reqwest::Error) -> String {
    let mut msg = err.to_string();
    let mut src = std::error::Error::source(err);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

impl Transport for ReqwestTransport {
    fn send(
        &self,
        request: HttpRequest,
    ) -> impl Future<Output = Result<HttpResponse, TransportFailure>> + MaybeSend {
        let this = self.clone();
        async move {
            // Build first (URL parse, headers): the clock starts when the
            // request is handed to the connection, as the record says.
            let method = match request.method {
                Method::Get => reqwest::Method::GET,
                Method::Post => reqwest::Method::POST,
            };
            let mut builder = this.client.request(method, &request.url);
            for (k, v) in &request.headers {
                builder = builder.header(k, v);
            }
            let built = builder.body(request.body).build();
            let start_ns = this.clock.now_ns();
            let mut timing = Timing {
                start_ns,
                first_byte_ns: None,
                end_ns: start_ns,
            };
            let mut status = None;
            let exchange = async {
                let built = built.map_err(|e| (FailureKind::Io, describe(&e)))?;
                let mut resp = this.client.execute(built).await.map_err(|e| {
                    let kind = if e.is_connect() {
                        FailureKind::Connect
                    } else {
                        FailureKind::Io
                    };
                    (kind, describe(&e))
                })?;
                timing.first_byte_ns = Some(this.clock.now_ns());
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
                if expected > this.max_body {
                    return Err((
                        FailureKind::BodyTooLarge,
                        format!(
                            "response body of {expected} bytes exceeds --max-response-bytes {}",
                            this.max_body
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
                    if body.len() + chunk.len() > this.max_body {
                        return Err((
                            FailureKind::BodyTooLarge,
                            format!(
                                "response body exceeds --max-response-bytes {}",
                                this.max_body
                            ),
                        ));
                    }
                    body.extend_from_slice(&chunk);
                    chunks.push((this.clock.now_ns(), body.len()));
                }
                Ok((resp.status().as_u16(), headers, body.freeze(), chunks))
            };
            let result = tokio::time::timeout(this.timeout, exchange).await;
            timing.end_ns = this.clock.now_ns();
            match result {
                Ok(Ok((status, headers, body, chunks))) => Ok(HttpResponse {
                    status,
                    headers,
                    body,
                    timing,
                    chunks,
                }),
                Ok(Err((kind, message))) => Err(TransportFailure {
                    kind,
                    message,
                    status,
                    timing,
                }),
                Err(_) => Err(TransportFailure {
                    kind: FailureKind::Timeout,
                    message: format!(
                        "no complete response within --request-timeout-seconds {}",
                        this.timeout.as_secs_f64()
                    ),
                    status,
                    timing,
                }),
            }
        }
    }
}

//! `FetchTransport`: core's `Transport` over the browser's `fetch`, with
//! `credentials: "omit"` (no cookies, so any server with
//! `Access-Control-Allow-Origin: *` works), `mode: "cors"`, an
//! `AbortController` that cancels the request when its future is dropped or
//! times out, and the body read chunk by chunk from the response stream (so
//! the size cap holds while reading, and chunk arrival times are at hand).
//!
//! The response is handed over in a later task than the one that read its
//! last byte (the end time is taken first), so the work of checking a body
//! never runs ahead of a send already due.
//!
//! A request that fails before any response is the browser's opaque network
//! error: it hides whether the server was down or sent no CORS headers, so
//! it is reported with [`CORS_HINT`].

use super::runtime::WebRuntime;
use imgperf_core::platform::{MaybeSend, Runtime};
use imgperf_core::transport::{
    FailureKind, HttpRequest, HttpResponse, Method, Timing, Transport, TransportFailure,
};
use js_sys::{Reflect, Uint8Array};
use std::future::Future;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// What a failure before any response means in a browser, and what to check.
pub const CORS_HINT: &str = "no CORS headers or server unreachable: the browser reports only \
\"Failed to fetch\" and hides which. Check that the URL is right and the server is running, \
and that it sends CORS headers (Access-Control-Allow-Origin): start the mock with \
`imgperf serve-mock --cors`; use an SGLang version that adds CORS headers (older ones send \
none, and a 500 carries none either); or put a proxy that adds them in front of the server";

/// Sends requests with `fetch`, timing them on the run's clock.
#[derive(Debug, Clone, Copy)]
pub struct FetchTransport {
    rt: WebRuntime,
    timeout_ns: u64,
    max_body: usize,
}

impl FetchTransport {
    /// A transport timing on `rt`, giving up after `timeout_s`, refusing
    /// bodies over `max_body` bytes.
    pub fn new(rt: WebRuntime, timeout_s: f64, max_body: usize) -> Self {
        FetchTransport {
            rt,
            timeout_ns: (timeout_s * 1e9) as u64,
            max_body,
        }
    }
}

/// Aborts the fetch when dropped (the run stopped, or the request was
/// cancelled or timed out): the browser then frees the connection.
struct AbortOnDrop(Option<web_sys::AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(c) = &self.0 {
            c.abort();
        }
    }
}

/// A failure while exchanging, before the timing is filled in.
type Failed = (FailureKind, String);

fn js_message(e: &JsValue) -> String {
    Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

fn build(
    request: &HttpRequest,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<web_sys::Request, Failed> {
    let bad = |e: JsValue| {
        (
            FailureKind::Io,
            format!("cannot build the request: {}", js_message(&e)),
        )
    };
    let init = web_sys::RequestInit::new();
    init.set_method(match request.method {
        Method::Get => "GET",
        Method::Post => "POST",
    });
    init.set_mode(web_sys::RequestMode::Cors);
    init.set_credentials(web_sys::RequestCredentials::Omit);
    init.set_cache(web_sys::RequestCache::NoStore);
    init.set_signal(signal);
    let headers = web_sys::Headers::new().map_err(bad)?;
    for (k, v) in &request.headers {
        // The browser sets its own User-Agent.
        if !k.eq_ignore_ascii_case("user-agent") {
            headers.append(k, v).map_err(bad)?;
        }
    }
    init.set_headers(&headers);
    if !request.body.is_empty() {
        init.set_body(&Uint8Array::from(&request.body[..]));
    }
    web_sys::Request::new_with_str_and_init(&request.url, &init).map_err(bad)
}

impl FetchTransport {
    async fn exchange(
        &self,
        request: &HttpRequest,
        timing: &mut Timing,
        status: &mut Option<u16>,
    ) -> Result<HttpResponse, Failed> {
        let controller = web_sys::AbortController::new().ok();
        let _abort = AbortOnDrop(controller.clone());
        let req = build(request, controller.as_ref().map(|c| c.signal()).as_ref())?;
        let fetch = Reflect::get(&js_sys::global(), &"fetch".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .ok_or((FailureKind::Io, "this browser has no fetch".to_owned()))?;
        timing.start_ns = self.rt.now_ns();
        let promise: js_sys::Promise = fetch
            .call1(&js_sys::global(), &req)
            .map_err(|e| (FailureKind::Connect, js_message(&e)))?
            .unchecked_into();
        let resp: web_sys::Response = JsFuture::from(promise)
            .await
            .map_err(|e| {
                (
                    FailureKind::Connect,
                    format!("{CORS_HINT} ({})", js_message(&e)),
                )
            })?
            .unchecked_into();
        timing.first_byte_ns = Some(self.rt.now_ns());
        *status = Some(resp.status());
        let mut headers = Vec::new();
        if let Ok(Some(iter)) = js_sys::try_iter(&resp.headers()) {
            for pair in iter.flatten() {
                let pair: js_sys::Array = pair.unchecked_into();
                if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                    headers.push((k.to_ascii_lowercase(), v));
                }
            }
        }
        let (body, chunks) = self.read_body(&resp).await?;
        Ok(HttpResponse {
            status: resp.status(),
            headers,
            body: body.into(),
            timing: *timing,
            chunks,
        })
    }

    /// The whole body, chunk by chunk, within the size cap, with the arrival
    /// of each chunk: `(ns, end offset in the body)`.
    async fn read_body(
        &self,
        resp: &web_sys::Response,
    ) -> Result<(Vec<u8>, Vec<(u64, usize)>), Failed> {
        let io = |e: JsValue| {
            (
                FailureKind::Io,
                format!("reading the response body failed: {}", js_message(&e)),
            )
        };
        let Some(stream) = resp.body() else {
            return Ok((Vec::new(), Vec::new()));
        };
        let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
        let (mut body, mut chunks) = (Vec::new(), Vec::new());
        loop {
            let chunk = JsFuture::from(reader.read()).await.map_err(io)?;
            let arrived = self.rt.now_ns();
            if Reflect::get(&chunk, &"done".into())
                .map_err(io)?
                .is_truthy()
            {
                return Ok((body, chunks));
            }
            let value: Uint8Array = Reflect::get(&chunk, &"value".into())
                .map_err(io)?
                .unchecked_into();
            let len = value.length() as usize;
            if body.len() + len > self.max_body {
                let _ = reader.cancel();
                return Err((
                    FailureKind::BodyTooLarge,
                    format!("response body exceeds the {} byte limit", self.max_body),
                ));
            }
            let at = body.len();
            body.resize(at + len, 0);
            value.copy_to(&mut body[at..]);
            chunks.push((arrived, body.len()));
        }
    }
}

impl FetchTransport {
    /// Go through everything a send does but the network: build the
    /// browser request for `request` and read a body of `body` bytes from
    /// a stream, so that the browser compiles this code (it compiles wasm
    /// functions on their first call) before the run's clock starts.
    /// `local` is a small file of the app's own (its first `fetch` in a
    /// worker costs milliseconds that would otherwise fall on a request).
    pub async fn prime(&self, request: &HttpRequest, body: &[u8], local: &str) {
        let controller = web_sys::AbortController::new().ok();
        let _ = build(request, controller.as_ref().map(|c| c.signal()).as_ref());
        if let Ok(p) = super::dom::fetch_promise(local) {
            if let Ok(resp) = JsFuture::from(p).await {
                let _ = self.read_body(&resp.unchecked_into()).await;
            }
        }
        let mut bytes = body.to_vec();
        if let Ok(resp) = web_sys::Response::new_with_opt_u8_array(Some(&mut bytes)) {
            let _ = self.read_body(&resp).await;
        }
        let _ = self.rt.now_ns();
    }
}

impl Transport for FetchTransport {
    fn send(
        &self,
        request: HttpRequest,
    ) -> impl Future<Output = Result<HttpResponse, TransportFailure>> + MaybeSend {
        let this = *self;
        async move {
            let start_ns = this.rt.now_ns();
            // Browsers resend a request that met a stale pooled connection
            // themselves, out of sight: no retry is ever reported here.
            let mut timing = Timing::starting_at(start_ns);
            let mut status = None;
            let deadline = start_ns + this.timeout_ns;
            let result = {
                let exchange = std::pin::pin!(this.exchange(&request, &mut timing, &mut status));
                let timer = std::pin::pin!(this.rt.sleep_until(deadline));
                match futures_util::future::select(exchange, timer).await {
                    futures_util::future::Either::Left((r, _)) => Some(r),
                    futures_util::future::Either::Right(_) => None,
                }
            };
            timing.end_ns = this.rt.now_ns();
            // Hand the response over in a task of its own: checking a
            // multi-MB body then runs after whatever the runner has queued
            // (the next request's send), never before it.
            super::runtime::sleep_ms(0.0).await;
            match result {
                Some(Ok(mut resp)) => {
                    resp.timing.end_ns = timing.end_ns;
                    Ok(resp)
                }
                Some(Err((kind, message))) => Err(TransportFailure {
                    kind,
                    message,
                    status,
                    timing,
                }),
                None => Err(TransportFailure {
                    kind: FailureKind::Timeout,
                    message: format!(
                        "no complete response within the {} s request timeout",
                        this.timeout_ns as f64 / 1e9
                    ),
                    status,
                    timing,
                }),
            }
        }
    }
}

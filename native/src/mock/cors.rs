//! CORS for browser clients (`--cors off|any|echo`, `--cors-trap`).
//!
//! `any` allows every origin with `*`; `echo` reflects the request's `Origin`
//! (with `vary: origin` and credentials allowed). Preflights are answered for
//! every path. `--cors-trap` leaves the headers off 500 answers, as SGLang
//! does: the browser then reports a network error, not the 500.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::args::CorsMode;
use super::Shared;

/// Response headers a browser script may read.
const EXPOSE: &str = "retry-after, retry-after-ms, x-request-id, content-length";

fn allow_origin(mode: CorsMode, req: &HeaderMap) -> Option<HeaderValue> {
    match mode {
        CorsMode::Off => None,
        CorsMode::Any => Some(HeaderValue::from_static("*")),
        CorsMode::Echo => req.get(header::ORIGIN).cloned(),
    }
}

fn decorate(mode: CorsMode, origin: Option<HeaderValue>, out: &mut HeaderMap) {
    let Some(origin) = origin else { return };
    out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    out.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE),
    );
    if mode == CorsMode::Echo {
        out.append(header::VARY, HeaderValue::from_static("origin"));
        out.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
}

/// The middleware (installed only when `--cors` is not `off`).
pub(crate) async fn layer(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let mode = shared.args.cors;
    let origin = allow_origin(mode, req.headers());
    if req.method() == Method::OPTIONS {
        let allow_headers = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned()
            .unwrap_or(HeaderValue::from_static("*"));
        let mut resp = (
            StatusCode::NO_CONTENT,
            [
                (
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET, POST, OPTIONS"),
                ),
                (header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers),
                (
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static("600"),
                ),
            ],
        )
            .into_response();
        decorate(mode, origin, resp.headers_mut());
        return resp;
    }
    let mut resp = next.run(req).await;
    let trapped = shared.args.cors_trap && resp.status() == StatusCode::INTERNAL_SERVER_ERROR;
    if !trapped {
        decorate(mode, origin, resp.headers_mut());
    }
    resp
}

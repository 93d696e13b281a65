//! The image routes: `POST /v1/images/generations`, `POST /v1/images/edits`
//! and `GET /v1/images/{id}/content`. A request gets its number and fault,
//! is validated, waits for the warm-up gate and a generation slot (its images
//! are fetched from the cache meanwhile), and is answered in the dialect's
//! shape with the fault applied.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::json;

use super::args::Dialect;
use super::body::Chunks;
use super::bounded::Bounded;
use super::dialect::{self, Image, Meta};
use super::edit;
use super::faults::{mix64, FaultKind};
use super::latency::Work;
use super::picture::{variant_for, Encoded, Key};
use super::request::{self, Reject, Respond, Wanted};
use super::serve::ConnControl;
use super::truth::TruthRecord;
use super::{stream, Shared};

/// Image ids remembered for `/v1/images/{id}/content`.
const STORE_ENTRIES: usize = 10_000;

type Record = Option<Extension<Arc<TruthRecord>>>;
type Conn = Option<Extension<ConnControl>>;

/// What `/v1/images/{id}/content` can serve.
#[derive(Debug, Clone)]
struct Stored {
    keys: Vec<Key>,
    truncated: bool,
}

/// Ids of `url` answers, the oldest forgotten past [`STORE_ENTRIES`].
pub(crate) struct Store(Bounded<String, Stored>);

impl Default for Store {
    fn default() -> Self {
        Store(Bounded::new(STORE_ENTRIES))
    }
}

impl Store {
    fn insert(&self, id: String, stored: Stored) {
        self.0.insert(id, stored);
    }

    fn get(&self, id: &str) -> Option<Stored> {
        self.0.get(id)
    }
}

/// `POST /v1/images/generations`.
pub(crate) async fn generations(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    record: Record,
    conn: Conn,
    body: Bytes,
) -> Response {
    let limits = &shared.limits;
    let parsed = async {
        if shared.args.task.requires_reference() {
            let message = shared.args.task.missing_reference();
            return Err(Reject::status(400, message, Some("image")));
        }
        request::parse_json(&body, limits)
    };
    let (record, conn) = (record.map(|r| r.0), conn.map(|c| c.0));
    image_request(&shared, &headers, record, conn, parsed).await
}

/// `POST /v1/images/edits` (multipart `image` / `image[]`, `mask`, `prompt`, ...).
pub(crate) async fn edits(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    record: Record,
    conn: Conn,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let limits = &shared.limits;
    let parsed = async {
        match form {
            Ok(form) => edit::parse_edit(form, limits, shared.args.task, &shared.cache).await,
            Err(e) => Err(Reject::invalid(
                format!("Expected a multipart/form-data body: {e}"),
                None,
            )),
        }
    };
    let (record, conn) = (record.map(|r| r.0), conn.map(|c| c.0));
    image_request(&shared, &headers, record, conn, parsed).await
}

#[derive(serde::Deserialize)]
pub(crate) struct VariantQuery {
    variant: Option<usize>,
}

/// `GET /v1/images/{id}/content[?variant=i]`: the image file of a `url` answer.
pub(crate) async fn content(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(q): Query<VariantQuery>,
) -> Response {
    let d = shared.dialect;
    let Some(stored) = shared.store.get(&id) else {
        return dialect::not_found(d, "Image not found");
    };
    let index = q.variant.unwrap_or(0);
    let Some(key) = stored.keys.get(index) else {
        return dialect::not_found(d, &format!("Image variant {index} not found"));
    };
    let picture = match shared.cache.get(*key).await {
        Ok(p) => p,
        Err(e) => return internal(&e),
    };
    let raw = if stored.truncated {
        picture.raw.slice(..picture.raw.len() / 2)
    } else {
        picture.raw.clone()
    };
    let mut resp = Chunks::new(vec![raw]).into_body().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(key.format.mime()),
    );
    resp
}

fn internal(e: &anyhow::Error) -> Response {
    let body = json!({"error": {"message": format!("{e:#}"), "type": "server_error",
        "param": null, "code": null}});
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

/// Unix seconds now.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The cache keys of a request's images (half size for a wrong-size fault).
pub(crate) fn image_keys(shared: &Shared, w: &Wanted, fault: Option<FaultKind>) -> Vec<Key> {
    let (width, height) = if fault == Some(FaultKind::WrongSize) {
        ((w.width / 2).max(1), (w.height / 2).max(1))
    } else {
        (w.width, w.height)
    };
    (0..w.n)
        .map(|i| Key {
            width,
            height,
            format: w.format,
            variant: variant_for(&w.prompt, w.seed, shared.args.image_variants, i),
            reference: w.reference,
        })
        .collect()
}

/// Every picture of `keys` (distinct keys encoded concurrently).
pub(crate) async fn load(shared: &Shared, keys: &[Key]) -> anyhow::Result<Vec<Arc<Encoded>>> {
    let all = futures_util::future::join_all(keys.iter().map(|k| shared.cache.get(*k))).await;
    all.into_iter().collect()
}

/// Base64 cut to an invalid length (one past a multiple of 4), about half.
pub(crate) fn truncate_b64(b64: &Bytes) -> Bytes {
    let cut = (b64.len() / 2) / 4 * 4 + 1;
    b64.slice(..cut.min(b64.len()))
}

async fn image_request(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    record: Option<Arc<TruthRecord>>,
    conn: Option<ConnControl>,
    parsed: impl std::future::Future<Output = Result<Wanted, Reject>>,
) -> Response {
    let seq = shared.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let fault = shared.faults.pick(seq);
    if let Some(r) = &record {
        r.image_request(seq, fault);
    }
    let parsed = parsed.await;
    let d = shared.dialect;
    if let Some(kind) = fault.filter(|k| k.is_immediate()) {
        return dialect::fault(d, kind, shared.args.retry_after_s);
    }
    let wanted = match parsed {
        Ok(w) => w,
        Err(r) => return dialect::reject(d, &r),
    };
    if wanted.respond == Respond::File && wanted.n > 1 {
        let r = Reject::invalid(
            "The imgperf mock serves response_format 'file' for n = 1 only (vLLM-Omni zips several).",
            Some("n"),
        );
        return dialect::reject(d, &r);
    }
    crate::mock::latency::wait_until(shared.gate).await;
    let work = Work {
        width: wanted.width,
        height: wanted.height,
        steps: wanted.steps,
        n: wanted.n,
        input_pixels: wanted.input_pixels,
    };
    let service = shared.model.service(&work, seq);
    let closes = matches!(
        fault,
        Some(FaultKind::Internal | FaultKind::InternalClose | FaultKind::Close)
    );
    if wanted.stream && !closes {
        return stream::respond(shared.clone(), wanted, service, fault, record);
    }

    let keys = image_keys(shared, &wanted, fault);
    let (pictures, served) = tokio::join!(load(shared, &keys), shared.slots.serve(service));
    if let Some(r) = &record {
        r.served(served);
    }
    let pictures = match pictures {
        Ok(p) => p,
        Err(e) => return internal(&e),
    };
    match (fault, &conn) {
        (Some(FaultKind::Internal), _) => {
            return dialect::fault(d, FaultKind::Internal, shared.args.retry_after_s);
        }
        (Some(FaultKind::InternalClose), _) => {
            if let Some(c) = &conn {
                c.close_after_answer();
            }
            return dialect::fault(d, FaultKind::Internal, shared.args.retry_after_s);
        }
        (Some(FaultKind::Close), Some(c)) => {
            c.abort();
            return std::future::pending().await;
        }
        _ => {}
    }
    if fault == Some(FaultKind::Stall) {
        tokio::time::sleep(Duration::from_secs_f64(shared.args.stall_s)).await;
    }
    shared.served.fetch_add(1, Ordering::Relaxed);

    let truncated = fault == Some(FaultKind::TruncatedB64);
    let id = format!(
        "{:016x}{:016x}",
        mix64(mix64(shared.args.seed) ^ seq),
        mix64(seq ^ 0xA5A5_A5A5)
    );
    let ext = wanted.format.extension();
    let (mut chunks, content_type, disposition) = match wanted.respond {
        Respond::File => {
            let raw = &pictures[0].raw;
            let raw = if truncated {
                raw.slice(..raw.len() / 2)
            } else {
                raw.clone()
            };
            let name = format!("attachment; filename=\"image_{}.{ext}\"", &id[..8]);
            (vec![raw], wanted.format.mime(), Some(name))
        }
        Respond::B64 | Respond::Url => {
            let base = match d {
                Dialect::Openai => headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .map_or(String::new(), |h| format!("http://{h}")),
                _ => String::new(),
            };
            let images: Vec<Image> = pictures
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let suffix = if wanted.n > 1 {
                        format!("_{i}")
                    } else {
                        String::new()
                    };
                    let query = if wanted.n > 1 {
                        format!("?variant={i}")
                    } else {
                        String::new()
                    };
                    Image {
                        b64: (wanted.respond == Respond::B64).then(|| {
                            if truncated {
                                truncate_b64(&p.b64)
                            } else {
                                p.b64.clone()
                            }
                        }),
                        url: (wanted.respond == Respond::Url)
                            .then(|| format!("{base}/v1/images/{id}/content{query}")),
                        file_path: format!("/tmp/imgperf-mock/outputs/{id}{suffix}.{ext}"),
                    }
                })
                .collect();
            if wanted.respond == Respond::Url {
                shared.store.insert(id.clone(), Stored { keys, truncated });
            }
            let meta = Meta {
                dialect: d,
                id: &id,
                created: unix_now(),
                inference_time_s: (served.end - served.start).as_secs_f64(),
            };
            (
                dialect::success(&meta, &wanted, &images),
                "application/json",
                None,
            )
        }
    };
    if fault == Some(FaultKind::MalformedJson) {
        if let Some(last) = chunks.last_mut() {
            *last = last.slice(..last.len().saturating_sub(1));
        }
    }
    let mut body = Chunks::new(chunks);
    if fault == Some(FaultKind::Drop) {
        body = body.drop_halfway();
    }
    let mut resp = body.into_body().into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(v) = disposition.and_then(|v| HeaderValue::from_str(&v).ok()) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

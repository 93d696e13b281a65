//! OpenAI streaming (`"stream": true`): a 200 `text/event-stream` at once,
//! then `partial_images` events `image_generation.partial_image` spread over
//! the service time and one `image_generation.completed` per image (with
//! `usage`) at its end; an edit's are `image_edit.*`. No `data: [DONE]`,
//! as OpenAI's image streams.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;
use tokio::sync::mpsc;

use super::dialect::{background, quality, usage};
use super::faults::FaultKind;
use super::handlers::{image_keys, load, truncate_b64, unix_now};
use super::request::Wanted;
use super::truth::TruthRecord;
use super::Shared;

type Item = Result<Bytes, std::io::Error>;

/// Starts the stream; the generation runs in a task feeding the body.
pub(crate) fn respond(
    shared: Arc<Shared>,
    wanted: Wanted,
    service: Duration,
    fault: Option<FaultKind>,
    record: Option<Arc<TruthRecord>>,
) -> Response {
    let (tx, rx) = mpsc::channel::<Item>(8);
    tokio::spawn(async move {
        produce(&shared, &wanted, service, fault, record, &tx).await;
    });
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut resp = Body::from_stream(events).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// The fields every event repeats, as JSON text after `b64_json`.
fn common(w: &Wanted, created: u64) -> String {
    let js = |s: &str| Value::String(s.to_owned()).to_string();
    format!(
        "\"created_at\":{created},\"size\":{},\"quality\":{},\"background\":{},\"output_format\":{}",
        js(&format!("{}x{}", w.width, w.height)),
        js(quality(w)),
        js(background(w)),
        js(w.format.name())
    )
}

/// `image_generation`, or `image_edit` for an edit (as OpenAI names them).
fn event_prefix(w: &Wanted) -> &'static str {
    if w.input_images > 0 {
        "image_edit"
    } else {
        "image_generation"
    }
}

async fn send_event(tx: &mpsc::Sender<Item>, kind: &str, b64: Bytes, tail: String) -> bool {
    let head = format!("event: {kind}\ndata: {{\"type\":\"{kind}\",\"b64_json\":\"");
    for part in [Bytes::from(head), b64, Bytes::from(tail)] {
        if tx.send(Ok(part)).await.is_err() {
            return false; // client gone
        }
    }
    true
}

async fn produce(
    shared: &Shared,
    w: &Wanted,
    service: Duration,
    fault: Option<FaultKind>,
    record: Option<Arc<TruthRecord>>,
    tx: &mpsc::Sender<Item>,
) {
    let keys = image_keys(shared, w, fault);
    let (pictures, served) = tokio::join!(load(shared, &keys), shared.slots.begin(service));
    if let Some(r) = &record {
        r.served(served);
    }
    let pictures = match pictures {
        Ok(p) => p,
        Err(e) => {
            let _ = tx.send(Err(std::io::Error::other(format!("{e:#}")))).await;
            return;
        }
    };
    let created = unix_now();
    let span = served.end - served.start;
    let parts = w.partial_images;
    for k in 0..parts {
        let at = served.start + span.mul_f64(f64::from(k + 1) / f64::from(parts + 1));
        tokio::time::sleep_until(at).await;
        let tail = format!(
            "\",{},\"partial_image_index\":{k}}}\n\n",
            common(w, created)
        );
        let kind = format!("{}.partial_image", event_prefix(w));
        if !send_event(tx, &kind, pictures[0].b64.clone(), tail).await {
            return;
        }
    }
    tokio::time::sleep_until(served.end).await;
    if fault == Some(FaultKind::Stall) {
        tokio::time::sleep(Duration::from_secs_f64(shared.args.stall_s)).await;
    }
    if fault == Some(FaultKind::Drop) {
        tokio::time::sleep(Duration::from_millis(20)).await; // let what was sent go out
        let e = std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "mock drop fault");
        let _ = tx.send(Err(e)).await;
        return;
    }
    shared
        .served
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    for p in &pictures {
        let b64 = if fault == Some(FaultKind::TruncatedB64) {
            truncate_b64(&p.b64)
        } else {
            p.b64.clone()
        };
        let close = if fault == Some(FaultKind::MalformedJson) {
            ""
        } else {
            "}"
        };
        let tail = format!(
            "\",{},\"usage\":{}{close}\n\n",
            common(w, created),
            usage(w)
        );
        let kind = format!("{}.completed", event_prefix(w));
        if !send_event(tx, &kind, b64, tail).await {
            return;
        }
    }
}

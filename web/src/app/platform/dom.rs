//! Small browser helpers: blobs and object URLs (images, downloads), a
//! download list that keeps large export lines in browser memory rather than
//! in the wasm heap, and the app's static assets.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A blob of `parts` (strings, byte arrays or blobs) with a MIME type.
pub fn blob_of(parts: &js_sys::Array, mime: &str) -> web_sys::Blob {
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    web_sys::Blob::new_with_u8_array_sequence_and_options(parts, &opts)
        .expect("a blob of strings and arrays")
}

/// An object URL for `bytes` (an image to show).
pub fn bytes_url(bytes: &[u8], mime: &str) -> String {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    web_sys::Url::create_object_url_with_blob(&blob_of(&parts, mime)).unwrap_or_default()
}

/// An object URL for a blob.
pub fn bytes_url_of_blob(blob: &web_sys::Blob) -> String {
    web_sys::Url::create_object_url_with_blob(blob).unwrap_or_default()
}

/// Release an object URL.
pub fn revoke_url(url: &str) {
    let _ = web_sys::Url::revoke_object_url(url);
}

/// Offer `blob` as a file download named `name`.
pub fn download(name: &str, blob: &web_sys::Blob) {
    let Ok(url) = web_sys::Url::create_object_url_with_blob(blob) else {
        return;
    };
    let document = web_sys::window().and_then(|w| w.document());
    if let Some(a) = document
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    // Revoke after the browser has started the download.
    let u = url.clone();
    wasm_bindgen_futures::spawn_local(async move {
        super::runtime::sleep_ms(60_000.0).await;
        revoke_url(&u);
    });
}

/// Lines of a JSONL export, kept as browser blobs (one per line) so that
/// multi-MB raw lines do not stay in the wasm heap.
#[derive(Debug, Clone)]
pub struct LineStore {
    parts: js_sys::Array,
    count: usize,
}

impl LineStore {
    /// An empty store.
    pub fn new() -> Self {
        LineStore {
            parts: js_sys::Array::new(),
            count: 0,
        }
    }

    /// Append one line (a newline is added).
    pub fn push(&mut self, line: &str) {
        let parts = js_sys::Array::of2(&JsValue::from_str(line), &JsValue::from_str("\n"));
        self.parts.push(&blob_of(&parts, "text/plain"));
        self.count += 1;
    }

    /// Append one line given as UTF-8 bytes (a newline is added).
    pub fn push_bytes(&mut self, line: &[u8]) {
        let parts = js_sys::Array::of2(&js_sys::Uint8Array::from(line), &JsValue::from_str("\n"));
        self.parts.push(&blob_of(&parts, "text/plain"));
        self.count += 1;
    }

    /// Lines stored.
    pub fn len(&self) -> usize {
        self.count
    }

    /// No line stored.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Everything as one JSONL blob.
    pub fn to_blob(&self) -> web_sys::Blob {
        blob_of(&self.parts, "application/jsonl")
    }
}

impl Default for LineStore {
    fn default() -> Self {
        Self::new()
    }
}

/// A blob holding one string.
pub fn text_blob(text: &str, mime: &str) -> web_sys::Blob {
    blob_of(&js_sys::Array::of1(&JsValue::from_str(text)), mime)
}

/// `fetch(path)` on the page or in a worker (relative to the page, or to
/// the worker's script, both at the app's root).
pub fn fetch_promise(path: &str) -> Result<js_sys::Promise, String> {
    match web_sys::window() {
        Some(w) => Ok(w.fetch_with_str(path)),
        None => js_sys::global()
            .dyn_into::<web_sys::WorkerGlobalScope>()
            .map(|s| s.fetch_with_str(path))
            .map_err(|_| "neither a page nor a worker".to_owned()),
    }
}

/// GET a static asset of the app as bytes.
pub async fn fetch_asset(path: &str) -> Result<Vec<u8>, String> {
    let resp: web_sys::Response = JsFuture::from(fetch_promise(path)?)
        .await
        .map_err(|e| format!("cannot fetch {path}: {e:?}"))?
        .unchecked_into();
    if !resp.ok() {
        return Err(format!("cannot fetch {path}: HTTP {}", resp.status()));
    }
    let promise = resp
        .array_buffer()
        .map_err(|e| format!("cannot read {path}: {e:?}"))?;
    let buf = JsFuture::from(promise)
        .await
        .map_err(|e| format!("cannot read {path}: {e:?}"))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

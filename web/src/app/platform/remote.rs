//! Files from URLs: a published site's run files (same origin) and runs
//! opened by link (`#/open?url=...`, any host that sends CORS headers).
//! The body becomes a browser `File` (held by the browser, not the wasm
//! heap), so it goes through the same reader as a file picked by hand.
//! A failure before any response is the browser's opaque network error,
//! explained with [`OPEN_CORS_HINT`].

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// What a failed cross-origin read means, and what to do.
pub const OPEN_CORS_HINT: &str = "the browser got no answer it may read: the host is \
unreachable, or it sends no CORS headers (Access-Control-Allow-Origin) for this page. A page \
reads files from another host only when that host allows it. Serve the files with that header \
(for example behind a proxy that adds it), publish them next to this app with \
`imgperf publish`, or download them and open them with \"choose files\"";

fn message(e: &wasm_bindgen::JsValue) -> String {
    js_sys::Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

/// The last path segment of a URL (without query), or `download`.
pub fn file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/')
        .find(|s| !s.is_empty())
        .map(crate::route::percent_decode)
        .unwrap_or_else(|| "download".into())
}

async fn response(url: &str) -> Result<web_sys::Response, String> {
    let init = web_sys::RequestInit::new();
    init.set_mode(web_sys::RequestMode::Cors);
    init.set_credentials(web_sys::RequestCredentials::Omit);
    let window = web_sys::window().ok_or("no window")?;
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|e| format!("Cannot read {url}: {OPEN_CORS_HINT} ({}).", message(&e)))?
        .unchecked_into();
    if !resp.ok() {
        return Err(format!(
            "Cannot read {url}: HTTP {} {} (check the address).",
            resp.status(),
            resp.status_text()
        ));
    }
    Ok(resp)
}

/// GET `url` as a browser file named after its last path segment.
pub async fn fetch_file(url: &str) -> Result<web_sys::File, String> {
    let resp = response(url).await?;
    let promise = resp
        .blob()
        .map_err(|e| format!("Cannot read {url}: {}", message(&e)))?;
    let blob: web_sys::Blob = JsFuture::from(promise)
        .await
        .map_err(|e| format!("Reading {url} failed: {}", message(&e)))?
        .unchecked_into();
    web_sys::File::new_with_blob_sequence(&js_sys::Array::of1(&blob), &file_name(url))
        .map_err(|e| format!("Cannot read {url}: {}", message(&e)))
}

/// GET `url` as JSON.
pub async fn fetch_json<T: serde::de::DeserializeOwned>(url: &str) -> Result<T, String> {
    let resp = response(url).await?;
    let promise = resp
        .text()
        .map_err(|e| format!("Cannot read {url}: {}", message(&e)))?;
    let text = JsFuture::from(promise)
        .await
        .map_err(|e| format!("Reading {url} failed: {}", message(&e)))?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| format!("{url} is not what was expected: {e}"))
}

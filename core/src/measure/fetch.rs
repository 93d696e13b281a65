//! Images delivered as URLs (`response_format: url`, SGLang's default):
//! resolve each against the server's base URL (`/v1/images/{id}/content` is
//! relative), GET them all at once through the same [`Transport`], time the
//! downloads apart from the generation request, and check the bytes like an
//! inline image. The API key and `-H` headers go only to the server's own
//! origin, never to a third-party (e.g. signed storage) URL.

use super::{record_image, ValidateImages};
use crate::output::{ImageIssue, IssueKind, Output};
use crate::response;
use crate::transport::{HttpRequest, HttpResponse, Method, Transport, TransportFailure};
use bytes::Bytes;
use futures_util::future::join_all;

fn has_scheme(s: &str) -> bool {
    let lower = |n: usize| s.get(..n).map(str::to_ascii_lowercase);
    lower(7).as_deref() == Some("http://") || lower(8).as_deref() == Some("https://")
}

/// `scheme://host[:port]` of an absolute URL.
pub(crate) fn origin(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    match url[after..].find(['/', '?', '#']) {
        Some(i) => &url[..after + i],
        None => url,
    }
}

/// Resolve `href` against the server's base URL (`--url`): absolute URLs
/// stay, `//host/x` takes the base's scheme, `/x` the base's origin, and a
/// relative path is taken relative to the base as a directory.
pub fn resolve_url(base: &str, href: &str) -> String {
    let href = href.trim();
    if has_scheme(href) {
        return href.to_owned();
    }
    if let Some(rest) = href.strip_prefix("//") {
        let scheme = base.split("://").next().unwrap_or("http");
        return format!("{scheme}://{rest}");
    }
    if href.starts_with('/') {
        return format!("{}{href}", origin(base));
    }
    let rel = href.strip_prefix("./").unwrap_or(href);
    format!("{}/{rel}", base.trim_end_matches('/'))
}

/// Headers of an image GET: the request's own, minus the body's type, and
/// minus credentials and user headers when the image lives elsewhere.
pub(crate) fn download_headers(
    headers: &[(String, String)],
    same_origin: bool,
) -> Vec<(String, String)> {
    const OWN: [&str; 3] = ["user-agent", "x-request-id", "x-correlation-id"];
    headers
        .iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            k != "content-type" && (same_origin || OWN.contains(&k.as_str()))
        })
        .cloned()
        .collect()
}

/// One image download.
pub(crate) struct Download {
    index: u32,
    result: Result<HttpResponse, TransportFailure>,
}

/// GET every URL at once.
pub(crate) async fn fetch_all<T: Transport>(
    transport: &T,
    base: &str,
    headers: &[(String, String)],
    urls: &[(u32, std::borrow::Cow<'_, str>)],
) -> Vec<Download> {
    let base_origin = origin(base).to_ascii_lowercase();
    let gets = urls.iter().map(|(index, href)| {
        let url = resolve_url(base, href);
        let same = origin(&url).to_ascii_lowercase() == base_origin;
        let request = HttpRequest {
            method: Method::Get,
            headers: download_headers(headers, same),
            url,
            body: Bytes::new(),
        };
        let send = transport.send(request);
        async move {
            Download {
                index: *index,
                result: send.await,
            }
        }
    });
    join_all(gets).await
}

/// Record the downloads: bytes checked, time span, failures as issues.
pub(crate) fn apply(downloads: &[Download], mode: ValidateImages, output: &mut Output) {
    let mut span: Option<(u64, u64)> = None;
    let (mut first_ok, mut all_ok) = (None::<u64>, true);
    for d in downloads {
        let timing = match &d.result {
            Ok(r) => r.timing,
            Err(f) => f.timing,
        };
        span = Some(span.map_or((timing.start_ns, timing.end_ns), |(a, b)| {
            (a.min(timing.start_ns), b.max(timing.end_ns))
        }));
        let failed = match &d.result {
            Ok(r) if (200..300).contains(&r.status) => {
                record_image(d.index, "", Some(&r.body), mode, output);
                first_ok = Some(first_ok.map_or(timing.end_ns, |t| t.min(timing.end_ns)));
                None
            }
            Ok(r) => {
                let why = response::analyze(r.status, &r.body).error;
                let msg = why.map_or(String::new(), |e| format!(": {}", e.message));
                Some(format!("image URL answered HTTP {}{msg}", r.status))
            }
            Err(f) => Some(format!(
                "image download failed ({:?}): {}",
                f.kind, f.message
            )),
        };
        if let Some(message) = failed {
            all_ok = false;
            if mode != ValidateImages::Off {
                output.issues.push(ImageIssue {
                    index: Some(d.index),
                    kind: IssueKind::DownloadFailed,
                    message: response::clip(&message),
                });
            }
        }
    }
    output.download = span;
    if let Some(t) = first_ok {
        output.first_image_ns = Some(output.first_image_ns.map_or(t, |p| p.min(t)));
    }
    if all_ok {
        output.final_image_ns = span.map(|(_, end)| end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_a_browser_against_the_base() {
        let base = "http://127.0.0.1:30000";
        let r = |h| resolve_url(base, h);
        assert_eq!(
            r("/v1/images/abc/content"),
            "http://127.0.0.1:30000/v1/images/abc/content"
        );
        assert_eq!(
            r("https://cdn.example/x.png?sig=1"),
            "https://cdn.example/x.png?sig=1"
        );
        assert_eq!(r("//cdn.example/x.png"), "http://cdn.example/x.png");
        assert_eq!(r("images/x.png"), "http://127.0.0.1:30000/images/x.png");
        assert_eq!(r("./x.png"), "http://127.0.0.1:30000/x.png");
        let prefixed = "https://h.example/api";
        assert_eq!(resolve_url(prefixed, "/v1/x"), "https://h.example/v1/x");
        assert_eq!(resolve_url(prefixed, "v1/x"), "https://h.example/api/v1/x");
        assert_eq!(origin("http://a:1/b?c"), "http://a:1");
        assert_eq!(origin("http://a:1"), "http://a:1");
    }

    #[test]
    fn credentials_stay_home() {
        let h: Vec<(String, String)> = [
            ("User-Agent", "imgperf"),
            ("X-Request-ID", "r"),
            ("Authorization", "Bearer k"),
            ("X-Team", "t"),
            ("Content-Type", "application/json"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .to_vec();
        let names = |v: Vec<(String, String)>| v.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(
            names(download_headers(&h, true)),
            ["User-Agent", "X-Request-ID", "Authorization", "X-Team"]
        );
        assert_eq!(
            names(download_headers(&h, false)),
            ["User-Agent", "X-Request-ID"]
        );
    }
}

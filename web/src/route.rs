//! Where a link points inside the app: the part of the URL after `#`.
//! `#run` and `#viewer` pick a tab; deep links open results directly:
//! `#/run/<name>` and `#/compare/<a>,<b>` (runs of a published site),
//! `#/sweep/<name>` (a published sweep), and `#/open?url=<URL>` (files on
//! any host: the same origin, or one that sends CORS headers; `url` may
//! repeat). Plain Rust, so the parsing is tested natively.

/// A place in the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// No fragment: the run list of a published site, else the run page.
    Home,
    /// `#run`.
    Run,
    /// `#viewer`.
    Viewer,
    /// `#/run/<name>`.
    ShowRun(String),
    /// `#/compare/<a>,<b>,...`.
    Compare(Vec<String>),
    /// `#/sweep/<name>`.
    Sweep(String),
    /// `#/open?url=<URL>&url=<URL>`.
    Open(Vec<String>),
}

/// `%XX` escapes decoded (`+` is kept: fragments are not forms).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `s` with everything but unreserved characters escaped.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn names(list: &str) -> Vec<String> {
    list.split(',')
        .map(percent_decode)
        .filter(|n| !n.is_empty())
        .collect()
}

/// The route of a fragment (`location.hash`, with or without its `#`).
pub fn parse(hash: &str) -> Route {
    let h = hash.strip_prefix('#').unwrap_or(hash);
    match h {
        "" => return Route::Home,
        "run" => return Route::Run,
        "viewer" => return Route::Viewer,
        _ => {}
    }
    if let Some(name) = h.strip_prefix("/run/") {
        return Route::ShowRun(percent_decode(name));
    }
    if let Some(list) = h.strip_prefix("/compare/") {
        return Route::Compare(names(list));
    }
    if let Some(name) = h.strip_prefix("/sweep/") {
        return Route::Sweep(percent_decode(name));
    }
    if let Some(query) = h.strip_prefix("/open?") {
        let urls = query
            .split('&')
            .filter_map(|kv| kv.strip_prefix("url="))
            .map(percent_decode)
            .filter(|u| !u.is_empty())
            .collect();
        return Route::Open(urls);
    }
    Route::Viewer
}

/// The fragment of a route (with its `#`).
pub fn to_hash(route: &Route) -> String {
    match route {
        Route::Home => String::new(),
        Route::Run => "#run".into(),
        Route::Viewer => "#viewer".into(),
        Route::ShowRun(n) => format!("#/run/{}", percent_encode(n)),
        Route::Compare(ns) => format!(
            "#/compare/{}",
            ns.iter()
                .map(|n| percent_encode(n))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Route::Sweep(n) => format!("#/sweep/{}", percent_encode(n)),
        Route::Open(urls) => format!(
            "#/open?{}",
            urls.iter()
                .map(|u| format!("url={}", percent_encode(u)))
                .collect::<Vec<_>>()
                .join("&")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_links_parse_and_print() {
        let cases = [
            ("", Route::Home),
            ("#run", Route::Run),
            ("#viewer", Route::Viewer),
            (
                "#/run/mock-concurrency2",
                Route::ShowRun("mock-concurrency2".into()),
            ),
            (
                "#/compare/a,b.c",
                Route::Compare(vec!["a".into(), "b.c".into()]),
            ),
            ("#/sweep/s1", Route::Sweep("s1".into())),
            (
                "#/open?url=http%3A%2F%2Fh%3A9%2Fr%2Fprofile_export.jsonl&url=x.json",
                Route::Open(vec![
                    "http://h:9/r/profile_export.jsonl".into(),
                    "x.json".into(),
                ]),
            ),
        ];
        for (hash, route) in cases {
            assert_eq!(parse(hash), route, "{hash}");
            assert_eq!(parse(&to_hash(&route)), route, "{hash}");
        }
        assert_eq!(
            parse("#/open?url=http://h/a b"),
            Route::Open(vec!["http://h/a b".into()])
        );
        assert_eq!(parse("#/compare/,a,"), Route::Compare(vec!["a".into()]));
        assert_eq!(parse("#something"), Route::Viewer);
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%E2%9C%93"), "✓");
    }
}

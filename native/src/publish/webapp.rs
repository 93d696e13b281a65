//! The browser app a published site carries: the copy built into this
//! binary (`native/build.rs`, from `IMGPERF_WEB_APP`), or a `trunk build
//! --release` output given with `--web-app`. Written at the site's root,
//! with `index.html` marked as a site (core's `site::SITE_META`) and
//! titled, and the GPT-2 tokenizer from the binary's own copy.

use anyhow::{bail, Context};
use imgperf_core::site::{INDEX, SITE_META};
use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web_app.rs"));
}

/// Where the tokenizer goes in the app (the run page fetches it).
const TOKENIZER: &str = "gpt2/tokenizer.json";

/// Whether this binary carries the app.
pub fn embedded() -> bool {
    !embedded::FILES.is_empty()
}

/// The app's files: from `dir`, else the embedded copy.
fn app_files(dir: Option<&Path>) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let Some(dir) = dir else {
        if !embedded() {
            bail!(
                "this imgperf binary was built without the browser app, which a site needs. \
                 Pass --web-app DIR with a `trunk build --release` output (dist/), or use a \
                 binary built by `bash scripts/build-web.sh` (it embeds the app)"
            );
        }
        return Ok(embedded::FILES
            .iter()
            .map(|(p, b)| ((*p).to_owned(), b.to_vec()))
            .collect());
    };
    if !dir.join("index.html").is_file() || !dir.join("worker.js").is_file() {
        bail!(
            "--web-app {}: not the browser app (no index.html and worker.js): pass the dist/ \
             folder that `trunk build --release` writes",
            dir.display()
        );
    }
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in
            std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))?
        {
            let path: PathBuf = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
            if rel == TOKENIZER || rel == INDEX {
                continue;
            }
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            out.push((rel, bytes));
        }
    }
    Ok(out)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

/// `index.html` marked as a published site, with `title`.
fn mark(index: &str, title: &str) -> String {
    let meta = format!("<meta name=\"{SITE_META}\" content=\"{INDEX}\" />");
    let mut out = match index.find("<head>") {
        Some(i) => format!("{}<head>\n    {meta}{}", &index[..i], &index[i + 6..]),
        None => format!("{meta}\n{index}"),
    };
    if let (Some(a), Some(b)) = (out.find("<title>"), out.find("</title>")) {
        out.replace_range(a + 7..b, &escape(title));
    }
    out
}

/// Write the app into `site`; returns how many files.
pub fn write(site: &Path, dir: Option<&Path>, title: &str) -> anyhow::Result<usize> {
    let files = app_files(dir)?;
    for (rel, bytes) in &files {
        let path = site.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let bytes = if rel == "index.html" {
            mark(&String::from_utf8_lossy(bytes), title).into_bytes()
        } else {
            bytes.clone()
        };
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let tok = site.join(TOKENIZER);
    std::fs::create_dir_all(tok.parent().expect("a parent"))?;
    std::fs::write(&tok, crate::tokenizer_source::VENDORED_GPT2)
        .with_context(|| format!("cannot write {}", tok.display()))?;
    Ok(files.len() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_marked_and_titled() {
        let html =
            "<!DOCTYPE html>\n<html><head>\n<title>imgperf</title></head><body></body></html>";
        let out = mark(html, "Team <results>");
        assert!(out.contains("<head>\n    <meta name=\"imgperf-site\" content=\"runs.json\" />"));
        assert!(out.contains("<title>Team &lt;results></title>"), "{out}");
    }
}

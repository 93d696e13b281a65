//! Videos in a raw export: each video job's last `responses[]` entry is
//! its content's facts (`"object": "video.content"`, `id`, `url`), with
//! the MP4 itself (`b64_mp4`) when the run had `--download-video-content`.
//! Embedded MP4s are written as they are read; the others are fetched from
//! their `url` afterwards (the server must still have them).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use base64::Engine as _;
use serde::Deserialize;

/// The content entry of a video job.
#[derive(Deserialize)]
struct Entry {
    object: String,
    id: Option<String>,
    url: Option<String>,
    #[serde(default)]
    b64_mp4: Option<String>,
}

/// A video to fetch: where to write it, and from where.
#[derive(Debug, Clone)]
pub struct Pending {
    /// Destination file.
    pub path: PathBuf,
    /// The content URL.
    pub url: String,
}

/// `{id}.mp4` (as AIPerf's download_videos.py names them), the id reduced
/// to safe characters; `video_{line}.mp4` without an id.
fn file_name(id: Option<&str>, line_no: usize) -> String {
    let safe: String = id
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    if safe.is_empty() {
        format!("video_{line_no:04}.mp4")
    } else {
        format!("{safe}.mp4")
    }
}

/// If `text` is a video content entry: write its MP4 (`Ok(Some(None))`) or
/// say what to fetch (`Ok(Some(Some(pending)))`); `Ok(None)` otherwise.
pub fn take(text: &str, out_dir: &Path, line_no: usize) -> anyhow::Result<Option<Option<Pending>>> {
    if !text.contains("\"video.content\"") {
        return Ok(None);
    }
    let Ok(e) = serde_json::from_str::<Entry>(text) else {
        return Ok(None);
    };
    if e.object != "video.content" {
        return Ok(None);
    }
    let path = out_dir.join(file_name(e.id.as_deref(), line_no));
    if let Some(b64) = e.b64_mp4 {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .with_context(|| format!("line {line_no}: b64_mp4 is not valid base64"))?;
        write(&path, &bytes)?;
        return Ok(Some(None));
    }
    Ok(Some(e.url.map(|url| Pending { path, url })))
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    let shown = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    println!("Extracted: {}", shown.display());
    Ok(())
}

/// Fetch every pending video; returns how many were written. A failed
/// fetch is a warning (the server may have forgotten the job).
pub async fn fetch(pending: &[Pending], api_key: Option<&str>) -> anyhow::Result<usize> {
    let client = reqwest::Client::builder().no_proxy().build()?;
    let mut written = 0;
    for p in pending {
        let mut req = client.get(&p.url);
        if let Some(k) = api_key {
            req = req.bearer_auth(k);
        }
        let got = async {
            let resp = req.send().await?.error_for_status()?;
            resp.bytes().await
        }
        .await;
        match got {
            Ok(bytes) => {
                write(&p.path, &bytes)?;
                written += 1;
            }
            Err(e) => eprintln!("warning: cannot fetch {}: {e}", p.url),
        }
    }
    Ok(written)
}

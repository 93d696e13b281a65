//! The reference images of an edit run (or an image-to-video run), all in
//! hand before the first request: an input file's rows loaded through core's
//! [`load_references`] (paths read from disk relative to the file's folder,
//! http(s) URLs fetched once with a GET, not timed), or synthetic ones
//! planned and rendered by core and encoded here with the `image` crate on
//! the blocking pool.

use crate::cli::ProfileArgs;
use anyhow::Context;
use bytes::Bytes;
use imgperf_core::endpoint::EndpointKind;
use imgperf_core::reference::synthetic::{synthetic_references, SyntheticImages};
use imgperf_core::reference::{
    check_video_rows, load_references, require_images, ImageSource, ReferenceImage, References,
    RowReferences,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest wait for one reference URL.
const URL_TIMEOUT: Duration = Duration::from_secs(120);

/// The references of every dataset entry: `rows` (one per input-file row)
/// when there is an input file, else `entries` synthetic sets from `spec`.
/// An edit needs them in every row; a video row takes one at most (rows
/// without one stay text-to-video).
pub(crate) async fn edit_references(
    args: &ProfileArgs,
    kind: EndpointKind,
    synthetic: Option<&SyntheticImages>,
    rows: &[RowReferences],
    entries: usize,
    seed: u64,
) -> anyhow::Result<Vec<References>> {
    let started = Instant::now();
    let refs = match (&args.input_file, synthetic) {
        (Some(file), _) => from_file(args, kind, file, rows).await?,
        (None, Some(spec)) => synthetic_set(spec, entries, seed).await?,
        (None, None) => anyhow::bail!(
            "an edit run needs --input-file rows with \"image\", or synthetic reference images"
        ),
    };
    let mut seen = std::collections::HashSet::new();
    let distinct: Vec<&Arc<ReferenceImage>> = refs
        .iter()
        .flat_map(|r| r.images.iter().chain(&r.mask))
        .filter(|img| seen.insert(Arc::as_ptr(img)))
        .collect();
    let bytes: usize = distinct.iter().map(|i| i.bytes.len()).sum();
    eprintln!(
        "imgperf: {} reference images ready ({:.1} MB, {} entries) in {:.2} s",
        distinct.len(),
        bytes as f64 / 1e6,
        refs.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(refs)
}

async fn from_file(
    args: &ProfileArgs,
    kind: EndpointKind,
    file: &Path,
    rows: &[RowReferences],
) -> anyhow::Result<Vec<References>> {
    let name = file.display().to_string();
    if kind.is_video() {
        check_video_rows(&name, rows)?;
    } else {
        require_images(
            &name,
            rows,
            "--endpoint-type image_edit needs a reference image in every row",
        )?;
    }
    let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let client = reqwest::Client::builder()
        .timeout(URL_TIMEOUT)
        .no_proxy()
        .build()?;
    let max = args.max_response_bytes;
    let fetch = |source: ImageSource| {
        let client = client.clone();
        let base = base.clone();
        async move {
            match source {
                ImageSource::Path(p) => read_file(&base, &p).await,
                ImageSource::Url(u) => get(&client, &u, max).await,
                ImageSource::Data(_) => Err("data: URIs are decoded by core".into()),
            }
        }
    };
    Ok(load_references(&name, rows, fetch).await?)
}

/// A path as written, relative to the input file's folder unless absolute.
fn resolve(base: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

async fn read_file(base: &Path, path: &str) -> Result<Bytes, String> {
    let full = resolve(base, path);
    match tokio::fs::read(&full).await {
        Ok(b) => Ok(Bytes::from(b)),
        Err(e) if full.as_os_str() != path => Err(format!("cannot read {}: {e}", full.display())),
        Err(e) => Err(format!("cannot read it: {e}")),
    }
}

async fn get(client: &reqwest::Client, url: &str, max: usize) -> Result<Bytes, String> {
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("cannot fetch it: {e}"))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("the server answered HTTP {status}"));
    }
    if resp.content_length().is_some_and(|n| n as usize > max) {
        return Err(format!("larger than --max-response-bytes {max}"));
    }
    let body = resp
        .bytes()
        .await
        .map_err(|e| format!("cannot fetch it: {e}"))?;
    if body.len() > max {
        return Err(format!("larger than --max-response-bytes {max}"));
    }
    Ok(body)
}

async fn synthetic_set(
    spec: &SyntheticImages,
    entries: usize,
    seed: u64,
) -> anyhow::Result<Vec<References>> {
    let plan = spec.plan(entries, seed);
    let encode = |pic| async move {
        tokio::task::spawn_blocking(move || crate::encode::encode_picture(pic))
            .await
            .map_err(|e| format!("encoder task failed: {e}"))?
            .map(Bytes::from)
            .map_err(|e| format!("{e:#}"))
    };
    synthetic_references(&plan, encode)
        .await
        .map_err(anyhow::Error::msg)
        .context("synthetic reference images")
}

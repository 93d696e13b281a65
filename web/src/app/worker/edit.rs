//! An edit run (or an image-to-video run) in the worker: its reference images, the picked files
//! (blobs posted with the form) or synthetic ones, loaded and checked by
//! core ([`load_references`], [`synthetic_references`]: synthetic pixels
//! from core, encoded with an `OffscreenCanvas`), the workload of
//! multipart bodies, and each entry's first input for the gallery (one
//! blob per distinct image, posted beside its outputs).

use crate::app::platform::canvas::encode_rgb;
use crate::app::platform::dom::blob_of;
use crate::app::platform::files::read_range;
use crate::protocol::{InputFacts, ReferenceForm};
use bytes::Bytes;
use imgperf_core::edit::edit_workload;
use imgperf_core::plan::{PromptSpec, Workload};
use imgperf_core::reference::synthetic::{
    synthetic_references, PictureSpec, SyntheticFormat, SyntheticImages,
};
use imgperf_core::reference::{
    load_references, ImageSource, ReferenceImage, References, RowReferences,
};
use imgperf_core::request::EndpointConfig;
use std::collections::HashMap;
use std::sync::Arc;

/// An entry's first input image: its blob and facts.
pub type InputPreview = (web_sys::Blob, InputFacts);

/// The picked files' names, made unique (`a.png`, `a.png #2`).
fn unique_names(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for base in names {
        let mut name = base.clone();
        let mut k = 1;
        while out.contains(&name) {
            k += 1;
            name = format!("{base} #{k}");
        }
        out.push(name);
    }
    out
}

async fn from_files(
    r: &ReferenceForm,
    files: &[web_sys::Blob],
    entries: usize,
) -> Result<Vec<References>, String> {
    if files.is_empty() || files.len() != r.files.len() {
        return Err("Pick at least one reference image, or choose synthetic ones.".into());
    }
    let names = unique_names(&r.files);
    let n = r.per_request;
    let rows: Vec<RowReferences> = (0..entries)
        .map(|i| RowReferences {
            line: i + 1,
            images: (0..n)
                .map(|k| names[(i * n + k) % names.len()].clone())
                .collect(),
            mask: None,
        })
        .collect();
    let fetch = |source: ImageSource| {
        let file = match &source {
            ImageSource::Path(name) => names
                .iter()
                .position(|x| x == name)
                .map(|i| files[i].clone()),
            _ => None,
        };
        async move {
            let file = file.ok_or("not a picked file")?;
            read_range(&file, 0, file.size() as u64)
                .await
                .map(Bytes::from)
        }
    };
    load_references("picked files", &rows, fetch)
        .await
        .map_err(|e| format!("Prompt {}: {}", e.line, e.problem))
}

async fn synthetic(
    r: &ReferenceForm,
    s: &crate::protocol::SyntheticRefs,
    entries: usize,
    seed: u64,
) -> Result<Vec<References>, String> {
    let spec = SyntheticImages {
        width_mean: s.width,
        width_stddev: 0.0,
        height_mean: s.height,
        height_stddev: 0.0,
        batch_size: r.per_request,
        format: SyntheticFormat::parse(&s.format)?,
    };
    spec.validate().map_err(|e| {
        e.replace("--image-width-mean", "Width")
            .replace("--image-height-mean", "Height")
            .replace("--image-batch-size", "Images per request")
    })?;
    let plan = spec.plan(entries, seed);
    let encode = |pic: PictureSpec| async move {
        encode_rgb(&pic.render(), pic.width, pic.height, pic.format)
            .await
            .map(Bytes::from)
    };
    synthetic_references(&plan, encode).await
}

/// The workload of an edit run (ISL left to the caller), and each entry's
/// input preview by conversation id.
pub async fn edit_run(
    r: &ReferenceForm,
    files: &[web_sys::Blob],
    specs: &[PromptSpec],
    endpoint: &EndpointConfig,
    seed: u64,
) -> Result<(Workload, HashMap<String, InputPreview>), String> {
    if r.per_request == 0 {
        return Err("Images per request must be at least 1.".into());
    }
    if endpoint.kind.is_video() && r.per_request != 1 {
        return Err(
            "Image-to-video sends one reference image per job: set Images per request to 1.".into(),
        );
    }
    let refs = match &r.synthetic {
        None => from_files(r, files, specs.len()).await?,
        Some(s) => synthetic(r, s, specs.len(), seed).await?,
    };
    let workload = edit_workload(specs, &refs, endpoint, None, seed, false);
    let mut blobs: HashMap<*const ReferenceImage, web_sys::Blob> = HashMap::new();
    let mut previews = HashMap::new();
    for (item, r) in workload.items.iter().zip(&refs) {
        let Some(first) = r.images.first() else {
            continue;
        };
        let blob = blobs
            .entry(Arc::as_ptr(first))
            .or_insert_with(|| {
                let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(&first.bytes[..]));
                blob_of(&parts, first.info.format.mime())
            })
            .clone();
        let facts = InputFacts {
            width: first.info.width,
            height: first.info.height,
            count: r.images.len(),
        };
        previews.insert(item.conversation_id.clone(), (blob, facts));
    }
    Ok((workload, previews))
}

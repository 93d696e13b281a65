//! `imgperf extract [RAW_FILE] [OUT_DIR]`: writes the images inside a raw
//! export (`profile_export_raw.jsonl`) to files, like the tutorial's
//! `extract_images.py`, but naming the extension from the image's magic bytes.
//!
//! Files are `image_{line:04}_{index:02}.{png|jpg|webp}`: `line` is the 1-based
//! line of the export, `index` the image's position in the body's `data`
//! array. (Should a record hold several responses with images, the second and
//! later ones are written as `image_{line:04}_r{response:02}_{index:02}.ext`.)
//! The input images of an edit run exported with `--export-input-images`
//! (`payload.files[].b64`) are written beside them as
//! `input_{line:04}_{index:02}.ext` (and `mask_{line:04}.ext`).
//! The export is read one line at a time, so multi-GB files are fine.
//!
//! Video runs (`--endpoint-type video_generation`): each job's MP4 is saved
//! as `{id}.mp4`, from the export when it holds the bytes
//! (`--download-video-content`), else fetched from the job's content URL
//! ([`video`]).

pub mod video;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use imgperf_core::images::{b64_images_in_body, decode_base64, sniff_format, ImageError};
use serde::Deserialize;

/// Where `imgperf profile --export-level raw` writes with the tutorial's options.
pub const DEFAULT_RAW_FILE: &str =
    "artifacts/black-forest-labs_FLUX.1-dev-openai-image_generation-concurrency1/profile_export_raw.jsonl";
/// Where AIPerf's video tutorial (and `download_videos.py`) expects the raw
/// export; used when [`DEFAULT_RAW_FILE`] does not exist.
pub const DEFAULT_VIDEO_RAW_FILE: &str =
    "artifacts/Wan-AI_Wan2.1-T2V-1.3B-Diffusers-openai-video_generation-concurrency1/profile_export_raw.jsonl";
/// Default output directory, as in the tutorial.
pub const DEFAULT_OUT_DIR: &str = "extracted_images";

/// Arguments of `imgperf extract`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExtractArgs {
    /// Raw export to read [default:
    /// artifacts/black-forest-labs_FLUX.1-dev-openai-image_generation-concurrency1/profile_export_raw.jsonl,
    /// or when it is missing the video tutorial's
    /// artifacts/Wan-AI_Wan2.1-T2V-1.3B-Diffusers-openai-video_generation-concurrency1/profile_export_raw.jsonl]
    #[arg(value_name = "RAW_FILE")]
    pub raw_file: Option<PathBuf>,
    /// Directory to write the images to (created if missing) [default: extracted_images]
    #[arg(value_name = "OUT_DIR")]
    pub out_dir: Option<PathBuf>,
    /// API key for fetching videos whose bytes the export does not hold.
    #[arg(long, env = "IMGPERF_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
}

/// One line of the raw export; only what extraction needs.
#[derive(Deserialize)]
struct RawRecord {
    #[serde(default)]
    responses: Option<Vec<RawResponse>>,
    #[serde(default)]
    payload: Option<RawPayload>,
}

/// An edit's payload: its file parts, with bytes when they were exported.
#[derive(Deserialize)]
struct RawPayload {
    #[serde(default)]
    files: Vec<RawFile>,
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(default)]
    name: String,
    #[serde(default)]
    b64: Option<String>,
}

#[derive(Deserialize)]
struct RawResponse {
    #[serde(default)]
    text: Option<String>,
}

/// Extracts every image and video of the raw export, fetching the videos
/// whose bytes it does not hold; returns how many files were written.
pub async fn run_extract_all(args: &ExtractArgs) -> anyhow::Result<usize> {
    let (written, pending) = scan(args)?;
    let fetched = video::fetch(&pending, args.api_key.as_deref()).await?;
    Ok(written + fetched)
}

/// Extracts every `b64_json` image (and every MP4 held in the export) of the
/// raw export; returns how many files were written. Prints
/// `Extracted: <absolute path>` per file. Videos to fetch are left out: see
/// [`run_extract_all`].
pub fn run_extract(args: &ExtractArgs) -> anyhow::Result<usize> {
    let (written, pending) = scan(args)?;
    if !pending.is_empty() {
        eprintln!(
            "note: {} videos are not in the export and were not fetched",
            pending.len()
        );
    }
    Ok(written)
}

fn scan(args: &ExtractArgs) -> anyhow::Result<(usize, Vec<video::Pending>)> {
    let raw_file = args.raw_file.clone().unwrap_or_else(|| {
        let image = PathBuf::from(DEFAULT_RAW_FILE);
        let video = PathBuf::from(DEFAULT_VIDEO_RAW_FILE);
        if !image.exists() && video.exists() {
            video
        } else {
            image
        }
    });
    let out_dir = args
        .out_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUT_DIR));
    let file = match File::open(&raw_file) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "raw export {} not found: run `imgperf profile ... --export-level raw` first \
             (it writes profile_export_raw.jsonl in the run's artifact directory), \
             or pass its path: `imgperf extract RAW_FILE [OUT_DIR]`",
            raw_file.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", raw_file.display())),
    };
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create output directory {}", out_dir.display()))?;

    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut line = String::new();
    let mut line_no = 0usize;
    let mut written = 0usize;
    let mut pending = Vec::new();
    loop {
        line.clear();
        line_no += 1;
        let read = reader
            .read_line(&mut line)
            .with_context(|| format!("{}:{line_no}: cannot read line", raw_file.display()))?;
        if read == 0 {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let record: RawRecord = serde_json::from_str(&line).with_context(|| {
            format!("{}:{line_no}: not a raw export record", raw_file.display())
        })?;
        if let Some(payload) = &record.payload {
            written += extract_inputs(payload, &out_dir, line_no, &raw_file)?;
        }
        for (resp_no, resp) in record.responses.unwrap_or_default().iter().enumerate() {
            let Some(text) = resp.text.as_deref() else {
                continue;
            };
            match video::take(text, &out_dir, line_no)? {
                Some(None) => written += 1,
                Some(Some(p)) => pending.push(p),
                None => written += extract_body(text, &out_dir, line_no, resp_no, &raw_file)?,
            }
        }
    }
    if written == 0 && pending.is_empty() {
        eprintln!(
            "warning: no b64_json images found in {} (were the images returned as URLs?)",
            raw_file.display()
        );
    }
    Ok((written, pending))
}

/// Writes the exported input images of an edit; returns how many.
fn extract_inputs(
    payload: &RawPayload,
    out_dir: &Path,
    line_no: usize,
    raw_file: &Path,
) -> anyhow::Result<usize> {
    let mut written = 0;
    let mut index = 0;
    for f in &payload.files {
        let Some(b64) = &f.b64 else { continue };
        let bytes = match decode_base64(b64) {
            Ok(b) => b,
            Err(e) => {
                eprintln!(
                    "warning: {}:{line_no}: input {} skipped: {e}",
                    raw_file.display(),
                    f.name
                );
                continue;
            }
        };
        let ext = sniff_format(&bytes).map_or("bin", |f| f.extension());
        let name = if f.name == "mask" {
            format!("mask_{line_no:04}.{ext}")
        } else {
            index += 1;
            format!("input_{line_no:04}_{:02}.{ext}", index - 1)
        };
        save(&out_dir.join(name), &bytes)?;
        written += 1;
    }
    Ok(written)
}

fn save(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    let shown = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    println!("Extracted: {}", shown.display());
    Ok(())
}

/// Writes the images of one response body; returns how many.
fn extract_body(
    text: &str,
    out_dir: &Path,
    line_no: usize,
    resp_no: usize,
    raw_file: &Path,
) -> anyhow::Result<usize> {
    let images = match b64_images_in_body(text) {
        Ok(images) => images,
        // Error bodies ({"error":...}) and non-JSON answers carry no images.
        Err(ImageError::NoData(_)) => return Ok(0),
        Err(e) => {
            eprintln!(
                "warning: {}:{line_no}: response {resp_no} skipped: {e}",
                raw_file.display()
            );
            return Ok(0);
        }
    };
    let mut written = 0;
    for image in images {
        let image = match image {
            Ok(image) => image,
            Err(e) => {
                eprintln!("warning: {}:{line_no}: {e}; skipped", raw_file.display());
                continue;
            }
        };
        let ext = match sniff_format(&image.bytes) {
            Some(format) => format.extension(),
            None => {
                eprintln!(
                    "warning: {}:{line_no}: data[{}] is not a PNG, JPEG or WebP image; saved as .bin",
                    raw_file.display(),
                    image.index
                );
                "bin"
            }
        };
        let name = if resp_no == 0 {
            format!("image_{line_no:04}_{:02}.{ext}", image.index)
        } else {
            format!("image_{line_no:04}_r{resp_no:02}_{:02}.{ext}", image.index)
        };
        save(&out_dir.join(name), &image.bytes)?;
        written += 1;
    }
    Ok(written)
}

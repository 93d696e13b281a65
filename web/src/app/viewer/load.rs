//! Opening one file: tell a summary JSON (or a sweep's) from a JSONL
//! export by its first line, then read JSONL line by line ([`FileLines`]): each line becomes a
//! record for the summary and the plots, and each image of a raw export a
//! gallery entry that remembers where its line is (the image itself is not
//! kept). Progress is reported as bytes read; the loop yields to the page
//! between lines.

use crate::app::platform::files::{keep_file, read_range, FileLines, CHUNK};
use crate::app::platform::runtime::sleep_ms;
use crate::app::platform::tokens;
use crate::model::{
    body_images, GalleryImage, ImageSource, InputPreview, RunBuilder, RunView, SweepView,
};
use imgperf_core::export::{format_wall_time, parse_wall_time};
use imgperf_core::import::{
    is_sweep_summary, parse_line, parse_summary, parse_sweep_summary, LineKind,
};
use imgperf_core::shard::{part_of_config, part_of_records};

/// Largest summary JSON read whole.
const MAX_SUMMARY: u64 = 64 << 20;

/// A label or run key with the part of a scaled-out benchmark it is
/// (`shard 2`, `merged`), so a shard and the merge never pair up.
fn with_part(text: String, part: &Option<String>) -> String {
    match part {
        Some(p) => format!("{text} · {p}"),
        None => text,
    }
}

/// Whether the first line of the file looks like an export line.
fn is_jsonl(head: &[u8]) -> bool {
    let first = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let text = String::from_utf8_lossy(first);
    text.trim_start().starts_with('{') && text.contains("\"metadata\"")
}

/// What a file holds.
pub enum Loaded {
    /// (Part of) a run.
    Run(Box<RunView>),
    /// A sweep's summary.
    Sweep(SweepView),
}

/// Read `file` into a run view with id `id` (or a sweep); `progress` gets
/// the share read (0..=1).
pub async fn load_file(
    file: &web_sys::File,
    id: u32,
    progress: impl Fn(f64),
) -> Result<Loaded, String> {
    let name = file.name();
    let size = file.size() as u64;
    let head = read_range(file, 0, size.min(64 << 10)).await?;
    let first = String::from_utf8_lossy(head.split(|b| *b == b'\n').next().unwrap_or_default());
    if let Some(kind) = crate::telemetry::telemetry_kind(&first) {
        return super::load_telemetry::load_telemetry(file, id, name, kind, progress)
            .await
            .map(|v| Loaded::Run(Box::new(v)));
    }
    if is_jsonl(&head) {
        return load_jsonl(file, id, name, progress)
            .await
            .map(|v| Loaded::Run(Box::new(v)));
    }
    if size > MAX_SUMMARY {
        return Err(format!("{name}: not an export (no \"metadata\" in its first line) and too large for a summary JSON"));
    }
    let bytes = read_range(file, 0, size).await?;
    let json: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{name}: neither JSONL export lines nor a summary JSON ({e})"))?;
    if is_sweep_summary(&json) {
        let points = parse_sweep_summary(&json).map_err(|e| format!("{name}: {e}"))?;
        progress(1.0);
        return Ok(Loaded::Sweep(SweepView {
            label: format!("sweep {name}"),
            points,
            runs: Vec::new(),
        }));
    }
    let s = parse_summary(&json).map_err(|e| format!("{name}: {e}"))?;
    progress(1.0);
    let part = part_of_config(&s.input_config);
    let label = with_part(
        imgperf_core::site::run_label(&s.input_config, s.start_time.as_deref())
            .unwrap_or_else(|| name.clone()),
        &part,
    );
    let span_ns = s.start_time.as_deref().and_then(parse_wall_time).map(|a| {
        let end = json["end_time"].as_str().and_then(parse_wall_time);
        (a, end.unwrap_or(a))
    });
    let mut notes = Vec::new();
    if s.was_cancelled {
        notes.push("The run was stopped early (was_cancelled).".to_owned());
    }
    Ok(Loaded::Run(Box::new(RunView {
        id,
        label,
        files: vec![name],
        start_key: s.start_time.map(|t| with_part(t, &part)),
        summary: Some(s.summary),
        summary_from: "summary JSON".into(),
        points: Vec::new(),
        images: Vec::new(),
        config: Some(s.input_config),
        notes,
        per_size: s.per_size,
        span_ns,
        telemetry: crate::telemetry::TelemetryView::from_summary_json(&json),
    })))
}

async fn load_jsonl(
    file: &web_sys::File,
    id: u32,
    name: String,
    progress: impl Fn(f64),
) -> Result<RunView, String> {
    let file_id = keep_file(file);
    let mut lines = FileLines::new(file, CHUNK);
    let mut run = RunBuilder::new();
    let mut images = Vec::new();
    // The tokenizer loads on the first raw line (it stays off if it fails).
    let mut can_count = true;
    let (mut kind, mut bad, mut counted_isl, mut n) = (None, 0u64, false, 0u64);
    let mut shards = std::collections::BTreeSet::new();
    let mut last_yield = 0u64;
    while let Some(line) = lines.next_line().await? {
        n += 1;
        if line.bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Ok(text) = std::str::from_utf8(&line.bytes) else {
            bad += 1;
            continue;
        };
        let Ok(mut parsed) = parse_line(text) else {
            bad += 1;
            continue;
        };
        kind.get_or_insert(parsed.kind);
        if parsed.kind == LineKind::Raw && parsed.record.input_sequence_length.is_none() {
            if let (Some(prompt), true) = (&parsed.prompt, can_count) {
                match tokens::count_tokens(std::slice::from_ref(prompt)).await {
                    Ok(n) => {
                        parsed.record.input_sequence_length = n.first().map(|n| u64::from(*n));
                        counted_isl = true;
                    }
                    Err(e) => {
                        can_count = false;
                        web_sys::console::warn_1(&e.into());
                    }
                }
            }
        }
        shards.extend(parsed.record.shard_index);
        run.add(&parsed.record);
        if parsed.kind == LineKind::Raw && parsed.record.is_valid() {
            if let Some(resp) = parsed.responses.last() {
                for img in body_images(&resp.text, false) {
                    images.push(GalleryImage {
                        source: ImageSource::File {
                            file: file_id,
                            offset: line.offset,
                            len: line.bytes.len() as u64,
                            index: img.index,
                        },
                        prompt: parsed.prompt.clone().unwrap_or_default(),
                        latency_ms: parsed.record.latency_ms(),
                        width: img.width,
                        height: img.height,
                        format: img.format,
                        bytes: img.len,
                        input: InputPreview::of_payload(parsed.payload.as_ref()),
                    });
                }
            }
        }
        // Let the page draw: after every large line, or every 2,000 small ones.
        if line.bytes.len() > 256 << 10 || n - last_yield >= 2000 {
            last_yield = n;
            progress(lines.position() as f64 / lines.size().max(1) as f64);
            sleep_ms(0.0).await;
        }
    }
    progress(1.0);
    if run.is_empty() {
        return Err(format!(
            "{name}: no export lines could be read ({bad} unreadable)"
        ));
    }
    let kind = kind.unwrap_or(LineKind::Records);
    let mut notes = Vec::new();
    if bad > 0 {
        notes.push(format!(
            "{bad} lines of {name} could not be read and were skipped."
        ));
    }
    if counted_isl {
        notes.push(
            "Input sequence length counted with the bundled GPT-2 tokenizer (raw exports do not \
             record it; open profile_export.jsonl too for the CLI's own counts)."
                .to_owned(),
        );
    }
    let part = part_of_records(&shards);
    Ok(RunView {
        id,
        label: with_part(name.clone(), &part),
        files: vec![name],
        start_key: run
            .first_start_ns()
            .map(|t| with_part(format_wall_time(t), &part)),
        summary: Some(run.finish()),
        summary_from: match kind {
            LineKind::Records => "records".into(),
            LineKind::Raw => "raw export".into(),
        },
        points: run.points(),
        images,
        config: None,
        notes,
        per_size: run.per_size(),
        span_ns: run.span_ns(),
        telemetry: None,
    })
}

//! Opening `gpu_telemetry_export.jsonl` or `server_metrics_export.jsonl`:
//! every scrape line folded by core (the CLI's figures, recomputed) and
//! kept as plot series; the run it belongs to is found by time
//! ([`crate::store::merge_into`]).

use crate::app::platform::files::{FileLines, CHUNK};
use crate::app::platform::runtime::sleep_ms;
use crate::model::RunView;
use crate::telemetry::{TelemetryBuilder, TelemetryKind};

/// Read a telemetry export of `kind` into a run view with id `id`.
pub async fn load_telemetry(
    file: &web_sys::File,
    id: u32,
    name: String,
    kind: TelemetryKind,
    progress: impl Fn(f64),
) -> Result<RunView, String> {
    let mut lines = FileLines::new(file, CHUNK);
    let mut b = TelemetryBuilder::new(kind);
    let (mut bad, mut n) = (0u64, 0u64);
    while let Some(line) = lines.next_line().await? {
        n += 1;
        if line.bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let ok = std::str::from_utf8(&line.bytes)
            .map_err(|e| e.to_string())
            .and_then(|t| b.add(t));
        bad += u64::from(ok.is_err());
        if n % 2000 == 0 {
            progress(lines.position() as f64 / lines.size().max(1) as f64);
            sleep_ms(0.0).await;
        }
    }
    progress(1.0);
    if b.lines() == 0 {
        return Err(format!(
            "{name}: no telemetry lines could be read ({bad} unreadable)"
        ));
    }
    let view = b.finish();
    let mut notes = Vec::new();
    if bad > 0 {
        notes.push(format!(
            "{bad} lines of {name} could not be read and were skipped."
        ));
    }
    Ok(RunView {
        id,
        label: name.clone(),
        files: vec![name],
        start_key: None,
        summary: None,
        summary_from: String::new(),
        points: Vec::new(),
        images: Vec::new(),
        config: None,
        notes,
        per_size: Vec::new(),
        span_ns: view.timeline.span,
        telemetry: Some(view),
    })
}

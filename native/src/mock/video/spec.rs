//! A video submit's fields read into what its job makes ([`Spec`]), as
//! the dialect's server reads them: sizes checked and defaulted, frames
//! from `seconds` × `fps` or `num_frames`, and SGLang's Wan2.1 shapes
//! (4k+1 frames, sides rounded up to multiples of 16).

use imgperf_core::images::parse_size;
use serde_json::{Map, Value};

use super::super::args::Dialect;
use super::super::picture::variant_for;
use super::super::Shared;
use super::jobs::{Key, Spec};

/// Most frames one job may ask for.
const MAX_FRAMES: f64 = 10_000.0;

fn number(o: &Map<String, Value>, k: &str) -> Result<Option<f64>, String> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| format!("'{k}' must be a number, got {s:?}")),
        Some(v) => Err(format!("'{k}' must be a number, got {v}")),
    }
    .and_then(|v| match v {
        Some(x) if !(x.is_finite() && x > 0.0) => Err(format!("'{k}' must be positive, got {x}")),
        v => Ok(v),
    })
}

/// Read a submit's fields into what the job makes, as the dialect's server would.
pub(super) fn parse(
    shared: &Shared,
    obj: &Map<String, Value>,
) -> Result<(Spec, Option<u32>), (String, &'static str)> {
    let d = shared.dialect;
    let prompt = match obj.get("prompt") {
        Some(Value::String(p)) => p.clone(),
        _ => return Err(("Missing required parameter: 'prompt'.".into(), "prompt")),
    };
    let default_size = if d == Dialect::Sglang {
        "832x480"
    } else {
        "720x1280"
    };
    let size_label = match obj.get("size") {
        None | Some(Value::Null) => default_size.to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => {
            return Err((
                format!("'size' must be a string like \"1280x720\", got {v}"),
                "size",
            ))
        }
    };
    let (w, h) = parse_size(&size_label).ok_or_else(|| {
        (
            format!("size must be formatted as positive WIDTHxHEIGHT, got {size_label:?}"),
            "size",
        )
    })?;
    let max = shared.args.max_dimension;
    if w > max || h > max {
        return Err((
            format!("Size {w}x{h} is too large: this mock serves at most {max}x{max}."),
            "size",
        ));
    }
    let bad = |k: &'static str| move |m: String| (m, k);
    let seconds = number(obj, "seconds")
        .map_err(bad("seconds"))?
        .unwrap_or(4.0);
    let fps = number(obj, "fps").map_err(bad("fps"))?.unwrap_or(24.0);
    let asked = match number(obj, "num_frames").map_err(bad("num_frames"))? {
        Some(n) => n.round(),
        None => (seconds * fps).round().max(1.0),
    };
    if asked > MAX_FRAMES {
        return Err((
            format!("{asked} frames asked; this mock makes at most {MAX_FRAMES}"),
            "num_frames",
        ));
    }
    let asked = asked as u32;
    let steps = number(obj, "num_inference_steps")
        .map_err(bad("num_inference_steps"))?
        .map(|s| s.round() as u32);
    let seed = obj.get("seed").and_then(Value::as_i64);
    let (width, height, frames) = match d {
        // Wan's VAE makes 4k+1 frames; the MP4 is scaled to multiples of 16.
        Dialect::Sglang => (
            w.div_ceil(16) * 16,
            h.div_ceil(16) * 16,
            (asked - 1) / 4 * 4 + 1,
        ),
        _ => (w.div_ceil(2) * 2, h.div_ceil(2) * 2, asked),
    };
    let seconds_label = match obj.get("seconds") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "4".to_owned(),
    };
    let spec = Spec {
        model: obj
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(&shared.args.model)
            .to_owned(),
        size_label,
        seconds_label,
        key: Key {
            width,
            height,
            frames,
            fps_milli: (fps * 1000.0).round() as u32,
            variant: variant_for(&prompt, seed, shared.args.image_variants, 0),
            reference: 0,
        },
    };
    Ok((spec, steps))
}

//! A published results site (`imgperf publish`): its index `runs.json`,
//! which the native side writes and the browser app reads, the gallery
//! index of each run, and the names and labels both sides agree on.
//!
//! Layout, relative to the site's `index.html`: `runs.json`, then
//! `runs/<name>/` with the run's summary JSON and CSV, its
//! `profile_export.jsonl`, optionally its raw export, and `images/` with
//! `images.json`; a sweep's summary under `sweeps/<name>/`. Every path in
//! the index is relative to the site's root, so the folder can be served
//! from any path of any static host.

use crate::metrics::{MetricValue, Summary, OUTPUT_IMAGE_COUNT};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// File name of the index, next to `index.html`.
pub const INDEX: &str = "runs.json";
/// `<meta name=...>` that `imgperf publish` adds to `index.html`, so the
/// app knows to read [`INDEX`] (an app served on its own does not ask).
pub const SITE_META: &str = "imgperf-site";

/// `runs.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteIndex {
    /// `imgperf 0.1.0`.
    pub generator: String,
    /// Shown atop the run list.
    #[serde(default)]
    pub title: Option<String>,
    /// When the site was written (`2025-10-17T20:22:08.939332`).
    pub created: String,
    /// Every run, in the order given to `publish`.
    pub runs: Vec<SiteRun>,
    /// Sweeps, whose points are runs above.
    #[serde(default)]
    pub sweeps: Vec<SiteSweep>,
}

/// One published run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteRun {
    /// Unique in the site, used in links (`#/run/<name>`).
    pub name: String,
    /// What the run list shows.
    pub label: String,
    /// `start_time` of the summary JSON.
    #[serde(default)]
    pub start_time: Option<String>,
    /// Successful requests.
    #[serde(default)]
    pub request_count: u64,
    /// Failed requests.
    #[serde(default)]
    pub error_count: u64,
    /// Images the server made (successful requests).
    #[serde(default)]
    pub image_count: u64,
    /// The sweep it is a point of.
    #[serde(default)]
    pub sweep: Option<String>,
    /// The point's parameters, for a sweep's point.
    #[serde(default)]
    pub parameters: Option<Map<String, Value>>,
    /// Its files.
    pub files: RunFiles,
}

/// Paths (from the site's root) of a run's files; `None`: not published.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunFiles {
    /// `profile_export_imgperf.json`.
    #[serde(default)]
    pub summary: Option<String>,
    /// `profile_export_imgperf.csv`.
    #[serde(default)]
    pub csv: Option<String>,
    /// `profile_export.jsonl`.
    #[serde(default)]
    pub records: Option<String>,
    /// `profile_export_raw.jsonl` (with `--raw`).
    #[serde(default)]
    pub raw: Option<String>,
    /// The gallery index ([`GalleryEntry`] list).
    #[serde(default)]
    pub images: Option<String>,
}

/// One published sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteSweep {
    /// Unique among sweeps (`#/sweep/<name>`).
    pub name: String,
    /// What the list shows.
    pub label: String,
    /// Its `sweep_summary.json`.
    pub summary: String,
    /// Run names of its points, in grid order.
    pub points: Vec<String>,
}

/// One image of a run's gallery (`images.json` is a list of these).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GalleryEntry {
    /// What the card shows (a thumbnail, or the image), from the site's root.
    pub src: String,
    /// The image as the server sent it, when published.
    #[serde(default)]
    pub full: Option<String>,
    /// The request's prompt.
    pub prompt: String,
    /// The request's latency.
    pub latency_ms: f64,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// `png`, `jpeg`, `webp`.
    pub format: String,
    /// Size of the image the server sent.
    pub bytes: u64,
}

/// A name safe in a URL fragment and a file path: ASCII letters, digits,
/// `.`, `_` and `-`; anything else becomes `-`.
pub fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('.').to_owned();
    if s.is_empty() {
        "run".to_owned()
    } else {
        s
    }
}

/// Images the run's successful requests brought back (the sum of Output
/// Images), as run lists show it.
pub fn images_made(summary: &Summary) -> u64 {
    match summary.get(OUTPUT_IMAGE_COUNT.tag).map(|m| &m.value) {
        Some(MetricValue::Distribution(d)) => d.sum.round() as u64,
        _ => 0,
    }
}

/// A run's label from its summary's `input_config`: model, load, start time.
pub fn run_label(config: &Value, start_time: Option<&str>) -> Option<String> {
    let model = config["endpoint"]["model_names"][0].as_str()?;
    let load = &config["loadgen"];
    let mut parts = vec![model.to_owned()];
    if let Some(c) = load["concurrency"].as_u64() {
        parts.push(format!("concurrency {c}"));
    }
    if let Some(r) = load["request_rate"].as_f64() {
        parts.push(format!("rate {r}/s"));
    }
    if let Some(s) = start_time {
        parts.push(s.replace('T', " ").chars().take(19).collect());
    }
    Some(parts.join(" · "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slugs_are_safe_in_links_and_paths() {
        assert_eq!(
            slug("black-forest-labs_FLUX.1-dev-openai-image_generation-concurrency1"),
            "black-forest-labs_FLUX.1-dev-openai-image_generation-concurrency1"
        );
        assert_eq!(slug("a/b c#d"), "a-b-c-d");
        assert_eq!(slug(".."), "run");
        assert_eq!(slug(""), "run");
    }

    #[test]
    fn labels_and_index_round_trip() {
        let config = json!({"endpoint": {"model_names": ["m"]}, "loadgen": {"concurrency": 2}});
        assert_eq!(
            run_label(&config, Some("2025-10-17T20:22:08.939332")).as_deref(),
            Some("m · concurrency 2 · 2025-10-17 20:22:08")
        );
        assert_eq!(run_label(&json!({}), None), None);
        let index = SiteIndex {
            generator: "imgperf 0.1.0".into(),
            title: None,
            created: "2025-10-17T20:22:08.939332".into(),
            runs: vec![SiteRun {
                name: "r".into(),
                label: "m".into(),
                start_time: None,
                request_count: 3,
                error_count: 0,
                image_count: 3,
                sweep: None,
                parameters: None,
                files: RunFiles {
                    records: Some("runs/r/profile_export.jsonl".into()),
                    ..RunFiles::default()
                },
            }],
            sweeps: Vec::new(),
        };
        let text = serde_json::to_string(&index).unwrap();
        assert_eq!(serde_json::from_str::<SiteIndex>(&text).unwrap(), index);
    }
}

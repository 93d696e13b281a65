//! Helpers of the video tests: AIPerf's tutorial prompts and command, mock
//! settings, faults, and reading a record's `video` object.
#![allow(dead_code)]

use serde_json::Value;
use std::path::Path;

use imgperf::mock::{Dialect, FaultAt, MockArgs};

pub const PROMPTS: &str = r#"{"text": "A serene lake at sunset with mountains in the background"}
{"text": "A cat playing with a ball of yarn in a cozy living room"}
{"text": "A futuristic city with flying cars and neon lights"}
"#;

pub fn video_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("video_prompts.jsonl"), PROMPTS).unwrap();
    dir
}

/// AIPerf's tutorial command with `--url` and extra flags.
pub fn tutorial<'a>(url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "profile",
        "--model",
        "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        "--tokenizer",
        "builtin",
        "--url",
        url,
        "--endpoint-type",
        "video_generation",
        "--input-file",
        "video_prompts.jsonl",
        "--custom-dataset-type",
        "single_turn",
        "--extra-inputs",
        "size:1280x720",
        "--extra-inputs",
        "seconds:4",
        "--concurrency",
        "1",
        "--request-count",
        "3",
    ];
    v.extend_from_slice(extra);
    v
}

pub fn mock(dialect: Dialect, latency_ms: f64) -> MockArgs {
    MockArgs {
        port: 0,
        dialect,
        latency_ms,
        slots: 0,
        jitter: 0.0,
        ..MockArgs::default()
    }
}

pub fn faults(spec: &[&str]) -> Vec<FaultAt> {
    spec.iter().map(|s| s.parse().unwrap()).collect()
}

/// A record's `video` object.
pub fn video(rec: &Value) -> &Value {
    &rec["video"]
}

pub fn run_ok(out: &std::process::Output) -> String {
    let (stdout, stderr) = crate::common::text(out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    stdout
}

/// The truth log's lines.
pub fn truth(path: &Path) -> Vec<Value> {
    crate::common::jsonl(path)
}

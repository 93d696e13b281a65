//! The official `openai` Python SDK's `client.images.edit(...)` against
//! `imgperf serve-mock` in every dialect (the script is
//! `tests/sdk/openai_images_edit.py`): one image, several (`image[]`), a
//! mask, and on the OpenAI dialect a stream of partial images.
//!
//! The SDK lives in a venv that `scripts/setup-python.sh` makes (CI:
//! `scripts/test.sh` runs it and passes the venv's python in
//! `IMGPERF_TEST_PYTHON`). Without one, the test says so and passes.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("IMGPERF_TEST_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let venv =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/openai-sdk-venv/bin/python");
    venv.is_file().then_some(venv)
}

#[test]
fn the_openai_sdk_edits_images_against_serve_mock() {
    let Some(python) = python() else {
        eprintln!(
            "SKIPPED: no Python with the openai SDK; run scripts/setup-python.sh (scripts/test.sh does)"
        );
        return;
    };
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/openai_images_edit.py");
    for dialect in ["openai", "sglang", "vllm-omni"] {
        let mut mock = Command::new(bin())
            .args([
                "serve-mock",
                "--port",
                "0",
                "--latency-ms",
                "5",
                "--slots",
                "0",
            ])
            .args(["--dialect", dialect])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start serve-mock");
        let mut first = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(mock.stdout.take().unwrap()),
            &mut first,
        )
        .unwrap();
        let url = first[first.find("http://").expect("listening line")..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned();
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(&python)
            .arg(&script)
            .args([url.as_str(), dialect, dir.path().to_str().unwrap()])
            .output()
            .expect("run python");
        let _ = mock.kill();
        let _ = mock.wait();
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{dialect}:\n{stdout}\n{stderr}");
        assert!(stdout.contains("edit: one image ->"), "{stdout}");
        assert!(stdout.contains("edit: with a mask ->"), "{stdout}");
        if dialect == "openai" {
            assert!(stdout.contains("image_edit.completed"), "{stdout}");
        }
    }
}

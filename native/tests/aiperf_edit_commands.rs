//! AIPerf's image-edit commands (its SGLang image-edit tutorial), with only
//! the program name changed, against `imgperf serve-mock` started as a user
//! starts it (`--port 30000 --dialect sglang`): synthetic references, then an
//! input file of `{"text", "image"}` rows (a local path and an http URL),
//! then the raw export and extracting the edited images. Each prints
//! "Image Edit Metrics".
//!
//! Should port 30000 be taken on this machine, the mock listens on a free
//! port and `--url` names that one: the only other change.

mod common;
mod imgtest;

use common::*;
use imgperf_core::images::ImageFormat;
use imgtest::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// `imgperf serve-mock`, killed when dropped.
struct ServeMock {
    child: Child,
    url: String,
}

impl Drop for ServeMock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `imgperf serve-mock` on `port`; `None` if it could not listen.
fn serve_mock(port: u16) -> Option<ServeMock> {
    let mut child = Command::new(bin())
        .args(["serve-mock", "--port", &port.to_string()])
        .args(["--dialect", "sglang", "--speedup", "20", "--slots", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start serve-mock");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let Some(at) = first.find("http://") else {
        let _ = child.wait();
        return None;
    };
    let url = first[at..].split_whitespace().next().unwrap().to_owned();
    Some(ServeMock { child, url })
}

/// The tutorial's URL if serve-mock got port 30000, else the one it got.
fn url_for(mock: &ServeMock) -> String {
    if mock.url.ends_with(":30000") {
        "http://localhost:30000".to_owned()
    } else {
        mock.url.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aiperfs_image_edit_commands_run_with_only_the_program_name_changed() {
    let mock = tokio::task::spawn_blocking(|| serve_mock(30000).or_else(|| serve_mock(0)))
        .await
        .unwrap()
        .expect("serve-mock listens");
    let url = url_for(&mock);
    let dir = workdir();

    // Synthetic reference images.
    let out = imgperf_async(
        dir.path(),
        &[
            "profile",
            "--model",
            "black-forest-labs/FLUX.2-klein-4B",
            "--tokenizer",
            "builtin",
            "--url",
            &url,
            "--endpoint-type",
            "image_edit",
            "--image-batch-size",
            "1",
            "--image-width-mean",
            "512",
            "--image-height-mean",
            "512",
            "--extra-inputs",
            "size:512x512",
            "--extra-inputs",
            "num_inference_steps:4",
            "--extra-inputs",
            "guidance_scale:1.0",
            "--warmup-request-count",
            "5",
            "--request-count",
            "50",
            "--concurrency",
            "2",
        ],
    )
    .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Image Edit Metrics"), "{stdout}");
    assert!(
        stdout.contains("Output images: 50 × jpeg 512x512"),
        "{stdout}"
    );
    let run = dir
        .path()
        .join("artifacts/black-forest-labs_FLUX.2-klein-4B-openai-image_edit-concurrency2");
    assert_eq!(jsonl(&run.join("profile_export.jsonl")).len(), 50);
    assert_eq!(
        jsonl(&run.join("profile_export_warmup.jsonl")).len(),
        5,
        "warm-up kept apart"
    );

    // An input file: a local path and an http(s) URL per row.
    let refs = serve(axum::Router::new().route(
        "/ref3.png",
        axum::routing::get(|| async { encode(ImageFormat::Png, 320, 240) }),
    ))
    .await;
    let p = dir.path();
    std::fs::write(p.join("ref1.png"), encode(ImageFormat::Png, 512, 384)).unwrap();
    std::fs::write(p.join("ref2.png"), encode(ImageFormat::Jpeg, 256, 256)).unwrap();
    let rows = [
        serde_json::json!({"text": "Convert this scene to a watercolor painting", "image": p.join("ref1.png")}),
        serde_json::json!({"text": "Make the background a sunset", "image": p.join("ref2.png")}),
        serde_json::json!({"text": "Add snow to the trees", "image": format!("{refs}/ref3.png")}),
    ];
    let file: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(p.join("edit_prompts.jsonl"), file).unwrap();
    let command = |extra: &[&'static str]| {
        let mut v: Vec<String> = [
            "profile",
            "--model",
            "black-forest-labs/FLUX.2-klein-4B",
            "--tokenizer",
            "builtin",
            "--url",
            &url,
            "--endpoint-type",
            "image_edit",
            "--input-file",
            "edit_prompts.jsonl",
            "--custom-dataset-type",
            "single_turn",
            "--extra-inputs",
            "size:512x512",
            "--extra-inputs",
            "num_inference_steps:4",
            "--concurrency",
            "1",
            "--request-count",
            "3",
        ]
        .map(String::from)
        .to_vec();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    for extra in [&[][..], &["--export-level", "raw"][..]] {
        let args = command(extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = imgperf_async(p, &refs).await;
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        assert!(stdout.contains("Image Edit Metrics"), "{stdout}");
        assert!(
            stdout.contains("Output images: 3 × jpeg 512x512"),
            "{stdout}"
        );
    }
    // The tutorial then extracts the edited images from the raw export.
    let raw = "artifacts/black-forest-labs_FLUX.2-klein-4B-openai-image_edit-concurrency1/profile_export_raw.jsonl";
    let out = imgperf_async(p, &["extract", raw, "extracted_edits"]).await;
    assert!(out.status.success(), "{:?}", text(&out));
    let n = std::fs::read_dir(p.join("extracted_edits"))
        .unwrap()
        .count();
    assert_eq!(n, 3);
    drop(mock);
}

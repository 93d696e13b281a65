//! Helpers shared by the end-to-end tests: the built binary, a temp working
//! directory with the tutorial's prompts file, and running the CLI.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The tutorial's input file.
pub const TUTORIAL_PROMPTS: &str = r#"{"text": "A serene mountain landscape at sunset"}
{"text": "A futuristic city with flying cars"}
{"text": "A cute robot playing with a kitten"}
"#;

/// The directory AIPerf (and imgperf) name for the tutorial's run.
pub const TUTORIAL_RUN_DIR: &str =
    "artifacts/black-forest-labs_FLUX.1-dev-openai-image_generation-concurrency1";

/// Path of the `imgperf` binary built for these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_imgperf"))
}

/// A temp dir holding `image_prompts.jsonl`.
pub fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("image_prompts.jsonl"), TUTORIAL_PROMPTS).unwrap();
    dir
}

/// Run the binary in `cwd` (blocking; call from spawn_blocking inside async tests).
pub fn imgperf(cwd: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .env_remove("IMGPERF_API_KEY")
        .output()
        .expect("run imgperf")
}

/// Start the binary in `cwd` with piped output, without waiting for it.
pub fn spawn_imgperf(cwd: &Path, args: &[&str]) -> std::process::Child {
    Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .env_remove("IMGPERF_API_KEY")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start imgperf")
}

/// Send SIGINT (Ctrl-C) to a process.
pub fn sigint(pid: u32) {
    let ok = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill -INT {pid} failed");
}

/// Run the binary off the async runtime.
pub async fn imgperf_async(cwd: &Path, args: &[&str]) -> Output {
    let cwd = cwd.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        imgperf(&cwd, &refs)
    })
    .await
    .unwrap()
}

/// stdout and stderr as text.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The tutorial's first command, with `--url` and extra or overriding flags.
pub fn tutorial_args<'a>(url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "profile",
        "--model",
        "black-forest-labs/FLUX.1-dev",
        "--tokenizer",
        "gpt2",
        "--url",
        url,
        "--endpoint-type",
        "image_generation",
        "--input-file",
        "image_prompts.jsonl",
        "--custom-dataset-type",
        "single_turn",
        "--extra-inputs",
        "size:512x512",
        "--extra-inputs",
        "quality:standard",
        "--concurrency",
        "1",
        "--request-count",
        "3",
    ];
    // Flags already present are overridden (clap rejects a repeated single-value flag).
    let mut i = 0;
    while i < extra.len() {
        let flag = extra[i];
        let takes_value = i + 1 < extra.len() && !extra[i + 1].starts_with("--");
        match v.iter().position(|a| *a == flag) {
            Some(pos) if takes_value && flag != "--extra-inputs" => v[pos + 1] = extra[i + 1],
            _ => {
                v.push(flag);
                if takes_value {
                    v.push(extra[i + 1]);
                }
            }
        }
        i += if takes_value { 2 } else { 1 };
    }
    v
}

/// Every line of a JSONL file, parsed.
pub fn jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
        .collect()
}

/// Serve `app` on a free 127.0.0.1 port in the background; its base URL.
pub async fn serve_app(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

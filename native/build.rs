//! Embeds the browser app in the binary, for `imgperf publish`, when
//! `IMGPERF_WEB_APP` names a `trunk build --release` output (`dist/`):
//! `scripts/build-web.sh` sets it. Without it the binary carries no app
//! and `imgperf publish` asks for `--web-app DIR`. (An opt-in variable
//! rather than "dist/ if present": Cargo reruns a build script on every
//! build while a watched path is missing.)
//!
//! The GPT-2 tokenizer is left out: the binary has it already
//! (`data/gpt2/tokenizer.json`), and publish writes that copy.

use std::path::{Path, PathBuf};

const VAR: &str = "IMGPERF_WEB_APP";
/// Files of the app that are written from elsewhere.
const SKIPPED: &[&str] = &["gpt2/tokenizer.json"];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{VAR}: cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    println!("cargo:rerun-if-changed={}", dir.display());
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn main() {
    println!("cargo:rerun-if-env-changed={VAR}");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("web_app.rs");
    let mut code = String::from(
        "/// The browser app's files: (path, bytes).\npub static FILES: &[(&str, &[u8])] = &[\n",
    );
    if let Some(dir) = std::env::var_os(VAR).filter(|v| !v.is_empty()) {
        let root = std::fs::canonicalize(&dir)
            .unwrap_or_else(|e| panic!("{VAR}={}: {e}", Path::new(&dir).display()));
        for needed in ["index.html", "worker.js", "imgperf-web_bg.wasm"] {
            assert!(
                root.join(needed).is_file(),
                "{VAR}={}: no {needed} there; build the app first (`trunk build --release`, \
                 see scripts/build-web.sh)",
                root.display()
            );
        }
        let mut all = Vec::new();
        files(&root, &mut all);
        for p in all {
            let rel = p.strip_prefix(&root).expect("under the root");
            let rel = rel.to_string_lossy().replace('\\', "/");
            if SKIPPED.contains(&rel.as_str()) {
                continue;
            }
            println!("cargo:rerun-if-changed={}", p.display());
            code.push_str(&format!(
                "    ({rel:?}, include_bytes!({:?})),\n",
                p.display().to_string()
            ));
        }
    }
    code.push_str("];\n");
    std::fs::write(&out, code).expect("write web_app.rs");
}

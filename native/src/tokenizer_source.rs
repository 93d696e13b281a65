//! Resolving `--tokenizer NAME` to a tokenizer, offline.
//!
//! In order: a path to a `tokenizer.json` (or a directory holding one); a
//! model already in the Hugging Face cache (`models--ORG--NAME`, revision
//! from `refs/main`); the GPT-2 tokenizer compiled into the binary for `gpt2`
//! and `openai-community/gpt2`. imgperf never downloads anything: anything
//! else is an error that says what to pass instead.

use anyhow::Context;
use imgperf_core::tokenizer::Tokenizer;
use std::path::{Path, PathBuf};

/// The GPT-2 `tokenizer.json` shipped with imgperf (see `data/gpt2/README.md`).
pub const VENDORED_GPT2: &[u8] = include_bytes!("../../data/gpt2/tokenizer.json");

/// Names served by the vendored GPT-2 tokenizer.
/// `builtin` is AIPerf's name for its own bundled tokenizer (tiktoken
/// o200k_base; its video and image-edit tutorials use it); imgperf counts
/// with its bundled GPT-2 BPE for it.
const VENDORED_NAMES: [&str; 3] = ["gpt2", "openai-community/gpt2", "builtin"];

/// The environment that locates the Hugging Face cache.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenizerEnv {
    /// `$HF_HOME` (the cache is `$HF_HOME/hub`).
    pub hf_home: Option<PathBuf>,
    /// `$HF_HUB_CACHE`: the hub cache itself; wins over `hf_home`.
    pub hf_hub_cache: Option<PathBuf>,
    /// The home directory (the default cache is `~/.cache/huggingface/hub`).
    pub home: Option<PathBuf>,
}

impl TokenizerEnv {
    /// Read the process environment: `HF_HUB_CACHE` (or the older
    /// `HUGGINGFACE_HUB_CACHE`), `HF_HOME` (or `$XDG_CACHE_HOME/huggingface`)
    /// and `HOME` (or `USERPROFILE`). Empty variables count as unset.
    pub fn from_process() -> Self {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        TokenizerEnv {
            hf_home: var("HF_HOME")
                .or_else(|| var("XDG_CACHE_HOME").map(|x| x.join("huggingface"))),
            hf_hub_cache: var("HF_HUB_CACHE").or_else(|| var("HUGGINGFACE_HUB_CACHE")),
            home: var("HOME").or_else(|| var("USERPROFILE")),
        }
    }

    /// The Hugging Face hub cache directory, if it can be known.
    pub fn hub_dir(&self) -> Option<PathBuf> {
        if let Some(dir) = &self.hf_hub_cache {
            return Some(dir.clone());
        }
        if let Some(home) = &self.hf_home {
            return Some(home.join("hub"));
        }
        let home = self.home.as_ref()?;
        Some(home.join(".cache").join("huggingface").join("hub"))
    }
}

/// Where a tokenizer comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenizerLocation {
    /// The GPT-2 tokenizer compiled into imgperf.
    Vendored,
    /// A `tokenizer.json` on disk.
    File(PathBuf),
}

/// Load the tokenizer `--tokenizer NAME` names (see [`resolve_tokenizer_path`]).
pub fn load_tokenizer(name: &str) -> anyhow::Result<Tokenizer> {
    let location =
        resolve_tokenizer_path(name, &TokenizerEnv::from_process()).map_err(anyhow::Error::msg)?;
    match location {
        TokenizerLocation::Vendored => Tokenizer::from_bytes(VENDORED_GPT2)
            .context("the built-in GPT-2 tokenizer could not be loaded"),
        TokenizerLocation::File(path) => {
            let bytes = std::fs::read(&path)
                .with_context(|| format!("cannot read tokenizer file {}", path.display()))?;
            Tokenizer::from_bytes(&bytes)
                .with_context(|| format!("--tokenizer {name}: cannot load {}", path.display()))
        }
    }
}

/// Find the tokenizer `--tokenizer NAME` names, without loading it. The
/// error is a complete message for the user.
pub fn resolve_tokenizer_path(name: &str, env: &TokenizerEnv) -> Result<TokenizerLocation, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(not_found_help("--tokenizer is empty."));
    }
    let path = Path::new(name);
    if path.is_file() {
        return Ok(TokenizerLocation::File(path.to_path_buf()));
    }
    if path.is_dir() {
        let file = path.join("tokenizer.json");
        if file.is_file() {
            return Ok(TokenizerLocation::File(file));
        }
        return Err(not_found_help(&format!(
            "--tokenizer {name}: the directory has no tokenizer.json{}.",
            subfolder_hint(path)
        )));
    }
    if looks_like_path(name) {
        return Err(not_found_help(&format!(
            "--tokenizer {name}: no such file or directory."
        )));
    }
    let hub = env.hub_dir();
    if let Some(hub) = &hub {
        let repo = hub.join(format!("models--{}", name.replace('/', "--")));
        if let Some(file) = cached_tokenizer(&repo) {
            return Ok(TokenizerLocation::File(file));
        }
        if repo.is_dir() && !is_vendored(name) {
            return Err(not_found_help(&format!(
                "--tokenizer {name}: the model is in the Hugging Face cache ({}) but has no \
                 tokenizer.json at its root{}.",
                repo.display(),
                snapshot_dirs(&repo)
                    .first()
                    .map(|s| subfolder_hint(s))
                    .unwrap_or_default()
            )));
        }
    }
    if is_vendored(name) {
        return Ok(TokenizerLocation::Vendored);
    }
    let looked = match &hub {
        Some(hub) => format!("looked in {}", hub.display()),
        None => "no Hugging Face cache found: HF_HUB_CACHE, HF_HOME and HOME are unset".to_string(),
    };
    Err(not_found_help(&format!(
        "tokenizer {name:?} not found: it is not a file or directory, not in the Hugging Face \
         cache ({looked}), and not built in (only gpt2 is). imgperf never downloads."
    )))
}

fn is_vendored(name: &str) -> bool {
    VENDORED_NAMES.contains(&name)
}

/// Names that can only be meant as paths (a hub id is `NAME` or `ORG/NAME`).
fn looks_like_path(name: &str) -> bool {
    name.starts_with(['.', '/', '~', '\\'])
        || name.ends_with(".json")
        || name.matches('/').count() > 1
        || name.contains('\\')
        || name.get(1..2) == Some(":")
}

/// The tokenizer.json of a cached hub repo: the snapshot `refs/main` points
/// at, else the newest snapshot that has one.
fn cached_tokenizer(repo: &Path) -> Option<PathBuf> {
    if let Ok(rev) = std::fs::read_to_string(repo.join("refs").join("main")) {
        let file = repo
            .join("snapshots")
            .join(rev.trim())
            .join("tokenizer.json");
        if file.is_file() {
            return Some(file);
        }
    }
    snapshot_dirs(repo)
        .into_iter()
        .map(|dir| dir.join("tokenizer.json"))
        .find(|file| file.is_file())
}

/// Snapshot directories of a cached repo, newest first (ties by name).
fn snapshot_dirs(repo: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(repo.join("snapshots")) else {
        return Vec::new();
    };
    let mut dirs: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .map(|p| {
            let modified = p.metadata().and_then(|m| m.modified());
            (modified.unwrap_or(std::time::UNIX_EPOCH), p)
        })
        .collect();
    dirs.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    dirs.into_iter().map(|(_, p)| p).collect()
}

/// " (but tokenizer_2/ has one: pass --tokenizer DIR/tokenizer_2)" when a
/// subfolder (as in diffusion repos) holds a tokenizer.json.
fn subfolder_hint(dir: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return String::new();
    };
    let mut subs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("tokenizer.json").is_file())
        .collect();
    subs.sort();
    match subs.first() {
        Some(sub) => format!(
            " (a subfolder has one: --tokenizer {} would use it)",
            sub.display()
        ),
        None => String::new(),
    }
}

fn not_found_help(problem: &str) -> String {
    format!(
        "{problem} Pass --tokenizer gpt2 (built in, works offline), a path to a tokenizer.json \
         or a directory holding one, or put the model in the Hugging Face cache first (e.g. \
         `huggingface-cli download ORG/NAME tokenizer.json`). Diffusion repos such as \
         black-forest-labs/FLUX.1-dev have no tokenizer.json at their root and need an \
         explicit --tokenizer; gpt2 is what the reference tool's tutorial uses."
    )
}

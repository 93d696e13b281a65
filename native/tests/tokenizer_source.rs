//! Tests of `--tokenizer NAME` resolution: files, directories, the Hugging
//! Face cache layout, the built-in GPT-2 tokenizer and the error message.

use imgperf::tokenizer_source::{
    load_tokenizer, resolve_tokenizer_path, TokenizerEnv, TokenizerLocation,
};
use std::fs;
use std::path::{Path, PathBuf};

const GPT2: &[u8] = include_bytes!("../../data/gpt2/tokenizer.json");

/// An environment with nothing in it: no Hugging Face cache anywhere.
fn empty_env() -> TokenizerEnv {
    TokenizerEnv::default()
}

/// `<hub>/models--<repo>/snapshots/<rev>/` with the given files.
fn snapshot(hub: &Path, repo: &str, rev: &str, files: &[&str]) -> PathBuf {
    let dir = hub
        .join(format!("models--{}", repo.replace('/', "--")))
        .join("snapshots")
        .join(rev);
    fs::create_dir_all(&dir).unwrap();
    for f in files {
        let path = dir.join(f);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, GPT2).unwrap();
    }
    dir
}

fn set_main(hub: &Path, repo: &str, rev: &str) {
    let refs = hub
        .join(format!("models--{}", repo.replace('/', "--")))
        .join("refs");
    fs::create_dir_all(&refs).unwrap();
    fs::write(refs.join("main"), format!("{rev}\n")).unwrap();
}

fn counts(tok: &imgperf_core::tokenizer::Tokenizer) -> Vec<usize> {
    [
        "A serene mountain landscape at sunset",
        "A futuristic city with flying cars",
        "A cute robot playing with a kitten",
    ]
    .iter()
    .map(|p| tok.count_tokens(p))
    .collect()
}

#[test]
fn existing_file_is_used_and_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("my-tokenizer.json");
    fs::write(&file, GPT2).unwrap();
    let name = file.to_str().unwrap();
    assert_eq!(
        resolve_tokenizer_path(name, &empty_env()),
        Ok(TokenizerLocation::File(file.clone()))
    );
    assert_eq!(counts(&load_tokenizer(name).unwrap()), [7, 6, 7]);
}

#[test]
fn directory_means_its_tokenizer_json() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("tokenizer.json"), GPT2).unwrap();
    let name = tmp.path().to_str().unwrap();
    assert_eq!(
        resolve_tokenizer_path(name, &empty_env()),
        Ok(TokenizerLocation::File(tmp.path().join("tokenizer.json")))
    );
    assert_eq!(counts(&load_tokenizer(name).unwrap()), [7, 6, 7]);
}

#[test]
fn directory_without_tokenizer_json_is_an_error_with_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("tokenizer_2")).unwrap();
    fs::write(tmp.path().join("tokenizer_2").join("tokenizer.json"), GPT2).unwrap();
    let err = resolve_tokenizer_path(tmp.path().to_str().unwrap(), &empty_env()).unwrap_err();
    assert!(err.contains("has no tokenizer.json"), "{err}");
    assert!(err.contains("tokenizer_2"), "{err}");
    assert!(err.contains("--tokenizer gpt2"), "{err}");
}

#[test]
fn missing_path_is_an_error() {
    let err = resolve_tokenizer_path("./no/such/tokenizer.json", &empty_env()).unwrap_err();
    assert!(err.contains("no such file or directory"), "{err}");
}

#[test]
fn hf_cache_follows_refs_main() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = tmp.path().join("hub");
    snapshot(&hub, "acme/painter", "aaaa", &["tokenizer.json"]);
    let wanted = snapshot(&hub, "acme/painter", "bbbb", &["tokenizer.json"]);
    set_main(&hub, "acme/painter", "bbbb");
    let env = TokenizerEnv {
        hf_home: Some(tmp.path().to_path_buf()),
        ..empty_env()
    };
    assert_eq!(
        resolve_tokenizer_path("acme/painter", &env),
        Ok(TokenizerLocation::File(wanted.join("tokenizer.json")))
    );
}

#[test]
fn hf_cache_locations_and_snapshot_without_refs() {
    let tmp = tempfile::tempdir().unwrap();
    // ~/.cache/huggingface/hub, no refs/main: any snapshot with a tokenizer.json
    let hub = tmp.path().join(".cache").join("huggingface").join("hub");
    snapshot(&hub, "solo", "0001", &["config.json"]);
    let with = snapshot(&hub, "solo", "0002", &["tokenizer.json"]);
    let env = TokenizerEnv {
        home: Some(tmp.path().to_path_buf()),
        ..empty_env()
    };
    assert_eq!(env.hub_dir(), Some(hub.clone()));
    assert_eq!(
        resolve_tokenizer_path("solo", &env),
        Ok(TokenizerLocation::File(with.join("tokenizer.json")))
    );
    // HF_HUB_CACHE wins over HF_HOME and HOME
    let other = tmp.path().join("elsewhere");
    let env = TokenizerEnv {
        hf_hub_cache: Some(other.clone()),
        hf_home: Some(tmp.path().join("nope")),
        home: Some(tmp.path().to_path_buf()),
    };
    assert_eq!(env.hub_dir(), Some(other));
    assert!(resolve_tokenizer_path("solo", &env).is_err());
}

#[test]
fn cached_gpt2_wins_over_vendored_and_vendored_is_the_fallback() {
    let tmp = tempfile::tempdir().unwrap();
    let env = TokenizerEnv {
        hf_hub_cache: Some(tmp.path().to_path_buf()),
        ..empty_env()
    };
    for name in ["gpt2", "openai-community/gpt2"] {
        assert_eq!(
            resolve_tokenizer_path(name, &env),
            Ok(TokenizerLocation::Vendored)
        );
    }
    let snap = snapshot(tmp.path(), "gpt2", "main1", &["tokenizer.json"]);
    set_main(tmp.path(), "gpt2", "main1");
    assert_eq!(
        resolve_tokenizer_path("gpt2", &env),
        Ok(TokenizerLocation::File(snap.join("tokenizer.json")))
    );
}

#[test]
fn diffusion_repo_in_cache_without_root_tokenizer_is_explained() {
    let tmp = tempfile::tempdir().unwrap();
    snapshot(
        tmp.path(),
        "black-forest-labs/FLUX.1-dev",
        "r1",
        &["tokenizer_2/tokenizer.json", "model_index.json"],
    );
    set_main(tmp.path(), "black-forest-labs/FLUX.1-dev", "r1");
    let env = TokenizerEnv {
        hf_hub_cache: Some(tmp.path().to_path_buf()),
        ..empty_env()
    };
    let err = resolve_tokenizer_path("black-forest-labs/FLUX.1-dev", &env).unwrap_err();
    assert!(err.contains("no tokenizer.json at its root"), "{err}");
    assert!(err.contains("tokenizer_2"), "{err}");
}

#[test]
fn unknown_model_error_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let env = TokenizerEnv {
        hf_hub_cache: Some(tmp.path().to_path_buf()),
        ..empty_env()
    };
    let err = resolve_tokenizer_path("black-forest-labs/FLUX.1-dev", &env).unwrap_err();
    for part in [
        "\"black-forest-labs/FLUX.1-dev\" not found",
        &tmp.path().display().to_string(),
        "--tokenizer gpt2",
        "a path to a tokenizer.json",
        "Hugging Face cache",
        "explicit --tokenizer",
    ] {
        assert!(err.contains(part), "missing {part:?} in: {err}");
    }
    let err = resolve_tokenizer_path("some-model", &empty_env()).unwrap_err();
    assert!(err.contains("no Hugging Face cache found"), "{err}");
    assert!(resolve_tokenizer_path("  ", &empty_env()).is_err());
}

#[test]
fn gpt2_loads_the_vendored_tokenizer() {
    // Either the vendored copy or a cached gpt2: the same tokenizer.
    let tok = load_tokenizer("gpt2").unwrap();
    assert_eq!(counts(&tok), [7, 6, 7]);
    assert_eq!(tok.encode("Hello world"), [15496, 995]);
}

#[test]
fn a_file_that_is_not_a_tokenizer_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("vocab.json");
    fs::write(&file, br#"{"hello": 1}"#).unwrap();
    let err = format!("{:#}", load_tokenizer(file.to_str().unwrap()).unwrap_err());
    assert!(err.contains("vocab.json"), "{err}");
    assert!(err.contains("tokenizer.json"), "{err}");
}

//! A fast loader for the most common `tokenizer.json` shape: byte-level BPE
//! (GPT-2 and its many descendants) with no normalizer, padding or
//! truncation. `tokenizers`' own loader reads the whole model through
//! serde's buffered `Content` (an untagged enum), which costs ~80 ms for
//! GPT-2's 50k-entry vocabulary; reading the same fields into plain structs
//! and building the model directly takes ~35 ms, and that is most of
//! imgperf's time from process start to the first request.
//!
//! Anything outside the shape (an unknown field, another model, a
//! normalizer, an added token whose id would differ) returns `None`, and the
//! caller falls back to `tokenizers`' own loader, so no tokenizer loads
//! differently: a test checks that both loaders serialise the bundled GPT-2
//! identically.

use std::collections::HashMap;

use serde::Deserialize;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::AddedToken;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    version: Option<String>,
    truncation: Option<serde::de::IgnoredAny>,
    padding: Option<serde::de::IgnoredAny>,
    added_tokens: Vec<Added>,
    normalizer: Option<serde::de::IgnoredAny>,
    pre_tokenizer: Level,
    post_processor: Option<Level>,
    decoder: Option<Level>,
    model: Model,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, tag = "type")]
enum Level {
    ByteLevel {
        add_prefix_space: bool,
        trim_offsets: bool,
        use_regex: bool,
    },
}

impl Level {
    fn build(&self) -> ByteLevel {
        let Level::ByteLevel {
            add_prefix_space,
            trim_offsets,
            use_regex,
        } = *self;
        ByteLevel::new(add_prefix_space, trim_offsets, use_regex)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Added {
    id: u32,
    content: String,
    single_word: bool,
    lstrip: bool,
    rstrip: bool,
    normalized: bool,
    special: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, tag = "type")]
enum Model {
    #[allow(clippy::upper_case_acronyms)]
    BPE {
        dropout: Option<f32>,
        unk_token: Option<String>,
        continuing_subword_prefix: Option<String>,
        end_of_word_suffix: Option<String>,
        fuse_unk: bool,
        byte_fallback: bool,
        #[serde(default)]
        ignore_merges: bool,
        vocab: HashMap<String, u32>,
        merges: Vec<(String, String)>,
    },
}

/// The tokenizer in `json`, if it has the byte-level BPE shape.
pub(super) fn load(json: &[u8]) -> Option<tokenizers::Tokenizer> {
    let file: File = serde_json::from_slice(json).ok()?;
    let plain = file.version.as_deref().is_none_or(|v| v == "1.0")
        && file.truncation.is_none()
        && file.padding.is_none()
        && file.normalizer.is_none();
    let Model::BPE {
        dropout,
        unk_token,
        continuing_subword_prefix,
        end_of_word_suffix,
        fuse_unk,
        byte_fallback,
        ignore_merges,
        vocab,
        merges,
    } = file.model;
    let plain_model = dropout.is_none()
        && unk_token.is_none()
        && continuing_subword_prefix.is_none()
        && end_of_word_suffix.is_none()
        && !fuse_unk
        && !byte_fallback
        && !ignore_merges;
    if !(plain && plain_model) {
        return None;
    }
    let vocab: Vocab = vocab.into_iter().collect();
    let model = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .build()
        .ok()?;
    let mut tok = tokenizers::Tokenizer::new(model);
    tok.with_pre_tokenizer(Some(file.pre_tokenizer.build()));
    tok.with_post_processor(file.post_processor.as_ref().map(Level::build));
    tok.with_decoder(file.decoder.as_ref().map(Level::build));
    for a in &file.added_tokens {
        let token = AddedToken::from(a.content.clone(), a.special)
            .single_word(a.single_word)
            .lstrip(a.lstrip)
            .rstrip(a.rstrip)
            .normalized(a.normalized);
        if a.special {
            tok.add_special_tokens(&[token]);
        } else {
            tok.add_tokens(&[token]);
        }
        // The id the file gives must be the id the tokenizer assigned.
        if tok.token_to_id(&a.content) != Some(a.id) {
            return None;
        }
    }
    Some(tok)
}

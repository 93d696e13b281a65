//! Token counting for input sequence lengths and synthetic prompts.
//!
//! A thin wrapper around a Hugging Face `tokenizers` tokenizer loaded from the
//! bytes of a `tokenizer.json`. Where those bytes come from (a file, the
//! Hugging Face cache, the GPT-2 copy compiled into the binary) is the front
//! end's business; this module never touches the filesystem, so it works in
//! the browser too. Counts never include special tokens, like the reference
//! tool's input sequence length.
//!
//! Without the crate's `tokenizers` feature (the browser app's main
//! module, which loads a tokenizer module of its own only when needed),
//! [`Tokenizer`] can have no values: code taking one compiles, and
//! [`Tokenizer::from_bytes`] says why none loads.

#[cfg(feature = "tokenizers")]
mod byte_level;

use std::fmt;

/// Why a `tokenizer.json` could not be loaded.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TokenizerError {
    /// The bytes are not a tokenizer in Hugging Face `tokenizer.json` format.
    #[error(
        "not a valid Hugging Face tokenizer.json ({0}); pass a tokenizer.json file \
         (not vocab.json or tokenizer.model), or use the built-in `gpt2`"
    )]
    Invalid(String),
}

/// A loaded tokenizer: counts, encodes and decodes text.
#[derive(Clone)]
pub struct Tokenizer {
    #[cfg(feature = "tokenizers")]
    inner: tokenizers::Tokenizer,
    #[cfg(not(feature = "tokenizers"))]
    never: std::convert::Infallible,
}

#[cfg(feature = "tokenizers")]
impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokenizer")
            .field("vocab_size", &self.inner.get_vocab_size(true))
            .finish_non_exhaustive()
    }
}

#[cfg(not(feature = "tokenizers"))]
impl fmt::Debug for Tokenizer {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.never {}
    }
}

#[cfg(not(feature = "tokenizers"))]
impl Tokenizer {
    /// No tokenizer loads in a build without the `tokenizers` feature.
    pub fn from_bytes(_json: &[u8]) -> Result<Tokenizer, TokenizerError> {
        Err(TokenizerError::Invalid(
            "this build has no tokenizer engine (imgperf-core without its `tokenizers` feature)"
                .into(),
        ))
    }

    /// Number of tokens in `text` (no value of this type exists here).
    pub fn count_tokens(&self, _text: &str) -> usize {
        match self.never {}
    }

    /// Token ids of `text` (no value of this type exists here).
    pub fn encode(&self, _text: &str) -> Vec<u32> {
        match self.never {}
    }

    /// Text of token ids (no value of this type exists here).
    pub fn decode(&self, _ids: &[u32]) -> String {
        match self.never {}
    }
}

#[cfg(feature = "tokenizers")]
impl Tokenizer {
    /// Load a tokenizer from the contents of a Hugging Face `tokenizer.json`.
    /// Byte-level BPE files (GPT-2's shape) take a direct path twice as fast
    /// as `tokenizers`' generic loader, with the same result.
    pub fn from_bytes(json: &[u8]) -> Result<Tokenizer, TokenizerError> {
        if let Some(inner) = byte_level::load(json) {
            return Ok(Tokenizer { inner });
        }
        tokenizers::Tokenizer::from_bytes(json)
            .map(|inner| Tokenizer { inner })
            .map_err(|e| TokenizerError::Invalid(e.to_string()))
    }

    /// Number of tokens in `text`, without special tokens (BOS/EOS etc.).
    pub fn count_tokens(&self, text: &str) -> usize {
        self.encode(text).len()
    }

    /// Token ids of `text`, without special tokens. A text the tokenizer
    /// cannot encode (which does not happen with byte-level BPE) gives no ids.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        match self.inner.encode_fast(text, false) {
            Ok(encoding) => encoding.get_ids().to_vec(),
            Err(_) => Vec::new(),
        }
    }

    /// Text of a sequence of token ids (special tokens are kept). Ids outside
    /// the vocabulary are skipped.
    pub fn decode(&self, ids: &[u32]) -> String {
        self.inner.decode(ids, false).unwrap_or_default()
    }
}

/// The vendored GPT-2 tokenizer, parsed once for all unit tests of the crate.
#[cfg(all(test, feature = "tokenizers"))]
pub(crate) fn test_gpt2() -> &'static Tokenizer {
    static TOK: std::sync::OnceLock<Tokenizer> = std::sync::OnceLock::new();
    TOK.get_or_init(|| {
        Tokenizer::from_bytes(include_bytes!("../../data/gpt2/tokenizer.json")).unwrap()
    })
}

#[cfg(all(test, feature = "tokenizers"))]
mod tests {
    use super::*;

    fn gpt2() -> &'static Tokenizer {
        test_gpt2()
    }

    #[test]
    fn hello_world_ids() {
        assert_eq!(gpt2().encode("Hello world"), vec![15496, 995]);
    }

    #[test]
    fn tutorial_prompt_counts() {
        let t = gpt2();
        assert_eq!(t.count_tokens("A serene mountain landscape at sunset"), 7);
        assert_eq!(t.count_tokens("A futuristic city with flying cars"), 6);
        assert_eq!(t.count_tokens("A cute robot playing with a kitten"), 7);
    }

    #[test]
    fn no_special_tokens_and_empty_text() {
        let t = gpt2();
        assert_eq!(t.count_tokens(""), 0);
        assert!(!t.encode("a cat").contains(&50256));
    }

    #[test]
    fn decode_round_trips() {
        let t = gpt2();
        let text = "A cute robot playing with a kitten, f/1.8, 35mm — ünïcode";
        assert_eq!(t.decode(&t.encode(text)), text);
    }

    const GPT2: &[u8] = include_bytes!("../../data/gpt2/tokenizer.json");

    #[test]
    fn the_fast_loader_builds_exactly_what_tokenizers_builds() {
        let fast = byte_level::load(GPT2).expect("GPT-2 has the byte-level BPE shape");
        let slow = tokenizers::Tokenizer::from_bytes(GPT2).unwrap();
        assert_eq!(
            fast.to_string(false).unwrap(),
            slow.to_string(false).unwrap()
        );
        let text = format!(
            "{} <|endoftext|> Ünïcödé  123\n\t{}",
            [
                crate::corpus::SUBJECTS,
                crate::corpus::SETTINGS,
                crate::corpus::DETAILS
            ]
            .concat()
            .join(", "),
            "🙂 東京"
        );
        let ids =
            |t: &tokenizers::Tokenizer| t.encode(text.as_str(), false).unwrap().get_ids().to_vec();
        assert_eq!(ids(&fast), ids(&slow));
    }

    #[test]
    fn other_shapes_take_the_generic_loader() {
        let mut v: serde_json::Value = serde_json::from_slice(GPT2).unwrap();
        v["normalizer"] = serde_json::json!({"type": "Lowercase"});
        let bytes = serde_json::to_vec(&v).unwrap();
        assert!(byte_level::load(&bytes).is_none());
        let t = Tokenizer::from_bytes(&bytes).unwrap();
        assert_eq!(t.encode("HELLO world"), gpt2().encode("hello world"));
        v["normalizer"] = serde_json::Value::Null;
        v["model"]["unk_token"] = serde_json::json!("<unk>");
        assert!(byte_level::load(&serde_json::to_vec(&v).unwrap()).is_none());
        v["model"]["unk_token"] = serde_json::Value::Null;
        v["added_tokens"][0]["id"] = serde_json::json!(7);
        assert!(byte_level::load(&serde_json::to_vec(&v).unwrap()).is_none());
    }

    #[test]
    fn invalid_json_is_an_error() {
        let err = Tokenizer::from_bytes(b"{\"not\": \"a tokenizer\"}").unwrap_err();
        assert!(err.to_string().contains("tokenizer.json"), "{err}");
        assert!(Tokenizer::from_bytes(b"").is_err());
    }

    #[test]
    fn shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<Tokenizer>();
    }

    #[test]
    fn debug_is_short() {
        let s = format!("{:?}", gpt2());
        assert!(s.contains("50257") && s.len() < 80, "{s}");
    }
}

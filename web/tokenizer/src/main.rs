//! The browser app's tokenizer module, built by trunk as a wasm module of
//! its own (`imgperf-tokenizer.js` and `_bg.wasm`). The app's main module
//! leaves the tokenizer engine out (a third of its size) and imports this
//! one only when synthetic prompts or input token counts need it: it is
//! given the bytes of a `tokenizer.json`, then counts tokens and writes
//! synthetic prompts with core's own code, exactly as the CLI does.

#[cfg(target_arch = "wasm32")]
mod exports {
    use imgperf_core::synthetic::generate_prompts;
    use imgperf_core::tokenizer::Tokenizer;
    use std::cell::RefCell;
    use wasm_bindgen::prelude::*;

    thread_local! {
        static TOKENIZER: RefCell<Option<Tokenizer>> = const { RefCell::new(None) };
    }

    fn with<T>(f: impl FnOnce(&Tokenizer) -> T) -> Result<T, String> {
        TOKENIZER.with(|t| {
            t.borrow()
                .as_ref()
                .map(f)
                .ok_or_else(|| "no tokenizer loaded: call load_tokenizer first".to_owned())
        })
    }

    /// Load a `tokenizer.json` (its bytes).
    #[wasm_bindgen]
    pub fn load_tokenizer(json: &[u8]) -> Result<(), String> {
        let t = Tokenizer::from_bytes(json).map_err(|e| e.to_string())?;
        TOKENIZER.with(|slot| *slot.borrow_mut() = Some(t));
        Ok(())
    }

    /// Tokens of each text (no special tokens).
    #[wasm_bindgen]
    pub fn count_tokens(texts: Vec<String>) -> Result<Vec<u32>, String> {
        with(|t| texts.iter().map(|s| t.count_tokens(s) as u32).collect())
    }

    /// `entries` synthetic prompts of `mean` ± `stddev` tokens; `seed` in
    /// decimal (a u64 does not fit a JS number).
    #[wasm_bindgen]
    pub fn synthetic_prompts(
        mean: f64,
        stddev: f64,
        entries: usize,
        seed: &str,
    ) -> Result<Vec<String>, String> {
        let seed: u64 = seed.parse().map_err(|_| format!("bad seed {seed:?}"))?;
        with(|t| generate_prompts(t, mean, stddev, entries, seed))
    }
}

fn main() {}

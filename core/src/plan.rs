//! The `Workload`: dataset entries turned into ready-to-send payloads (with
//! their input sequence lengths and stable conversation ids), and the
//! `Sampler` that picks which entry each request uses
//! (`--dataset-sampling-strategy`). Everything is derived from the run seed,
//! so the same seed gives a byte-identical `inputs.json`. Generations send
//! JSON; edits a multipart form built once per entry ([`crate::edit`]).

use crate::reference::InputImageMeta;
use crate::request::EndpointConfig;
use crate::tokenizer::Tokenizer;
use bytes::Bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};
use std::sync::Arc;

/// One dataset entry, ready to send.
#[derive(Debug, Clone)]
pub struct WorkItem {
    /// Stable id of the entry (`session_id` in `inputs.json`).
    pub conversation_id: String,
    /// The prompt text.
    pub prompt: String,
    /// Input sequence length (prompt tokens), when a tokenizer was given.
    pub isl: Option<u64>,
    /// Request body as JSON (for `inputs.json` and the raw export); for a
    /// multipart body, its text fields and a description of its files.
    pub payload: Arc<Value>,
    /// The body serialised once, sent as is by every request of the entry.
    pub body: Bytes,
    /// `Content-Type` of `body` (a multipart one carries its boundary).
    pub content_type: Arc<str>,
    /// The input images the body uploads (none for a generation).
    pub inputs: Arc<[InputImageMeta]>,
}

/// The body of one entry, as a body builder makes it.
#[derive(Debug, Clone)]
pub struct EntryBody {
    /// See [`WorkItem::payload`].
    pub payload: Value,
    /// See [`WorkItem::body`].
    pub body: Bytes,
    /// See [`WorkItem::content_type`].
    pub content_type: Arc<str>,
    /// See [`WorkItem::inputs`].
    pub inputs: Arc<[InputImageMeta]>,
}

impl EntryBody {
    /// A JSON body.
    pub fn json(payload: Value) -> EntryBody {
        let body = Bytes::from(serde_json::to_vec(&payload).expect("a JSON value serialises"));
        EntryBody {
            payload,
            body,
            content_type: Arc::from("application/json"),
            inputs: Arc::from([]),
        }
    }
}

/// A prompt plus its optional per-row `extra` body fields.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptSpec {
    /// Prompt text.
    pub prompt: String,
    /// Merged into the payload last.
    pub extra: Option<Map<String, Value>>,
}

/// All entries a run can draw from.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Entries in dataset order.
    pub items: Vec<WorkItem>,
}

impl Workload {
    /// Build payloads for every prompt; ids come from `seed`.
    pub fn build(
        prompts: &[PromptSpec],
        endpoint: &EndpointConfig,
        tokenizer: Option<&Tokenizer>,
        seed: u64,
    ) -> Workload {
        Self::build_with(prompts, tokenizer, seed, |_, p| {
            EntryBody::json(endpoint.payload(&p.prompt, p.extra.as_ref()))
        })
    }

    /// Entries whose bodies `body` makes (from the entry's index and
    /// prompt); ids come from `seed`, ISLs count the prompt only.
    pub fn build_with(
        prompts: &[PromptSpec],
        tokenizer: Option<&Tokenizer>,
        seed: u64,
        mut body: impl FnMut(usize, &PromptSpec) -> EntryBody,
    ) -> Workload {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x1d5e_55a1_0000_0001);
        let items = prompts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let b = body(i, p);
                WorkItem {
                    conversation_id: uuid_from(&mut rng),
                    prompt: p.prompt.clone(),
                    isl: tokenizer.map(|t| t.count_tokens(&p.prompt) as u64),
                    payload: Arc::new(b.payload),
                    body: b.body,
                    content_type: b.content_type,
                    inputs: b.inputs,
                }
            })
            .collect();
        Workload { items }
    }

    /// `(session_id, payload)` pairs for `inputs.json`.
    pub fn inputs(&self) -> Vec<(String, Value)> {
        self.items
            .iter()
            .map(|i| (i.conversation_id.clone(), (*i.payload).clone()))
            .collect()
    }
}

/// `--dataset-sampling-strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamplingStrategy {
    /// In order, wrapping around.
    Sequential,
    /// Uniformly at random, with replacement.
    Random,
    /// A fresh random permutation for each pass over the dataset.
    Shuffle,
}

impl SamplingStrategy {
    /// Parse the flag value.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "sequential" => Ok(Self::Sequential),
            "random" => Ok(Self::Random),
            "shuffle" => Ok(Self::Shuffle),
            other => Err(format!(
                "unknown --dataset-sampling-strategy {other:?}: use sequential, random or shuffle"
            )),
        }
    }
}

/// Picks the entry of each successive request, reproducibly.
#[derive(Debug, Clone)]
pub struct Sampler {
    strategy: SamplingStrategy,
    len: usize,
    next: usize,
    perm: Vec<usize>,
    rng: ChaCha8Rng,
}

impl Sampler {
    /// A sampler over `len` entries (`len` > 0).
    pub fn new(strategy: SamplingStrategy, len: usize, seed: u64) -> Sampler {
        assert!(len > 0, "a workload has at least one entry");
        Sampler {
            strategy,
            len,
            next: 0,
            perm: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5a3b_1e00),
        }
    }

    /// Index of the next entry.
    pub fn next_index(&mut self) -> usize {
        match self.strategy {
            SamplingStrategy::Sequential => {
                let i = self.next % self.len;
                self.next += 1;
                i
            }
            SamplingStrategy::Random => self.rng.random_range(0..self.len),
            SamplingStrategy::Shuffle => {
                if self.next.is_multiple_of(self.len) {
                    self.perm = (0..self.len).collect();
                    for i in (1..self.len).rev() {
                        let j = self.rng.random_range(0..=i);
                        self.perm.swap(i, j);
                    }
                }
                let i = self.perm[self.next % self.len];
                self.next += 1;
                i
            }
        }
    }
}

/// A random (version 4) UUID drawn from `rng`.
pub fn uuid_from(rng: &mut impl Rng) -> String {
    let mut b: [u8; 16] = rng.random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shape() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let u = uuid_from(&mut rng);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, uuid_from(&mut rng));
    }

    #[test]
    fn sequential_wraps() {
        let mut s = Sampler::new(SamplingStrategy::Sequential, 3, 0);
        let v: Vec<usize> = (0..7).map(|_| s.next_index()).collect();
        assert_eq!(v, [0, 1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn shuffle_covers_each_pass_and_is_seeded() {
        let run = |seed| {
            let mut s = Sampler::new(SamplingStrategy::Shuffle, 5, seed);
            (0..10).map(|_| s.next_index()).collect::<Vec<_>>()
        };
        let a = run(7);
        let mut first: Vec<usize> = a[..5].to_vec();
        first.sort();
        assert_eq!(first, [0, 1, 2, 3, 4]);
        assert_eq!(a, run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn random_stays_in_range() {
        let mut s = Sampler::new(SamplingStrategy::Random, 4, 3);
        assert!((0..100).all(|_| s.next_index() < 4));
    }
}

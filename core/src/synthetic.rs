//! Synthetic prompts: `--synthetic-input-tokens-mean` / `-stddev`.
//!
//! Each prompt's target length is drawn from Normal(mean, stddev), rounded
//! and clamped to at least 1, and the prompt tokenizes to exactly that many
//! tokens with the benchmark's tokenizer. Prompts read like image prompts:
//! a subject and a setting, then styles, lighting, camera, palette, mood and
//! scene details from [`crate::corpus`]. Everything is drawn from a ChaCha8
//! generator seeded with the run's seed, so a seed always gives the same
//! prompts, on every platform.
//!
//! Speed: phrase token counts are measured once per call; a prompt is then
//! assembled from whole phrases whose counts add up to the target and is
//! checked with one encode. Tokenizers whose counts do not add up (merges
//! across phrase boundaries) fall back to cutting the token ids and
//! re-checking until the count is exact.

use crate::corpus;
use crate::tokenizer::Tokenizer;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Draw `count` prompt lengths from Normal(`mean`, `stddev`), rounded and
/// clamped to at least 1. A zero, negative or non-finite `stddev` gives
/// `count` copies of the rounded mean.
pub fn sample_lengths<R: Rng + ?Sized>(
    mean: f64,
    stddev: f64,
    count: usize,
    rng: &mut R,
) -> Vec<usize> {
    let mean = if mean.is_finite() { mean } else { 1.0 };
    match Normal::new(mean, stddev) {
        Ok(normal) if stddev > 0.0 => (0..count).map(|_| to_length(normal.sample(rng))).collect(),
        _ => vec![to_length(mean); count],
    }
}

fn to_length(x: f64) -> usize {
    let x = x.round();
    if x >= 1.0 {
        x as usize
    } else {
        1
    }
}

/// Generate `count` image prompts whose lengths follow Normal(`mean`,
/// `stddev`) and each of which tokenizes with `tokenizer` to exactly its
/// drawn length. The same arguments always give the same prompts.
pub fn generate_prompts(
    tokenizer: &Tokenizer,
    mean: f64,
    stddev: f64,
    count: usize,
    seed: u64,
) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let lengths = sample_lengths(mean, stddev, count, &mut rng);
    if lengths.is_empty() {
        return Vec::new();
    }
    let builder = Builder::new(tokenizer);
    lengths
        .into_iter()
        .map(|target| builder.prompt(target, &mut rng))
        .collect()
}

/// A phrase with its joiner (", ", ". ", " ") and its token count.
struct Piece {
    text: String,
    tokens: usize,
}

/// The corpus measured with one tokenizer.
struct Builder<'t> {
    tok: &'t Tokenizer,
    subjects: Vec<Piece>,
    settings: Vec<Piece>,
    /// Clause groups: descriptors (after ", ") and details (after ". ").
    groups: Vec<Vec<Piece>>,
    /// `by_len[n]`: (group, index) of every clause of n tokens.
    by_len: Vec<Vec<(usize, usize)>>,
}

const STYLE_GROUP: usize = 0;

impl<'t> Builder<'t> {
    fn new(tok: &'t Tokenizer) -> Self {
        let measure = |joiner: &str, list: &[&str]| -> Vec<Piece> {
            list.iter()
                .map(|p| {
                    let text = format!("{joiner}{p}");
                    let tokens = tok.count_tokens(&text);
                    Piece { text, tokens }
                })
                .collect()
        };
        let descriptors = [
            corpus::STYLES,
            corpus::LIGHTING,
            corpus::CAMERA,
            corpus::PALETTES,
            corpus::MOODS,
            corpus::MOVEMENTS,
            corpus::QUALITY,
        ];
        let mut groups: Vec<Vec<Piece>> = descriptors.iter().map(|l| measure(", ", l)).collect();
        groups.push(measure(". ", corpus::DETAILS));
        let mut by_len: Vec<Vec<(usize, usize)>> = Vec::new();
        for (g, group) in groups.iter().enumerate() {
            for (i, piece) in group.iter().enumerate() {
                if piece.tokens == 0 {
                    continue;
                }
                if by_len.len() <= piece.tokens {
                    by_len.resize_with(piece.tokens + 1, Vec::new);
                }
                by_len[piece.tokens].push((g, i));
            }
        }
        Builder {
            tok,
            subjects: measure("", corpus::SUBJECTS),
            settings: measure(" ", corpus::SETTINGS),
            groups,
            by_len,
        }
    }

    /// One prompt of exactly `target` tokens (when the tokenizer allows it).
    fn prompt(&self, target: usize, rng: &mut ChaCha8Rng) -> String {
        let subject = pick(&self.subjects, rng);
        if subject.tokens >= target {
            // Too short for a whole subject: cut one down token by token.
            return self.exact(subject.text.clone(), target, rng);
        }
        let mut text = subject.text.clone();
        let mut est = subject.tokens;
        let setting = pick(&self.settings, rng);
        if est + setting.tokens <= target {
            text.push_str(&setting.text);
            est += setting.tokens;
        }
        // Visit the clause groups in a shuffled order, a style first.
        let mut order: Vec<usize> = (0..self.groups.len()).collect();
        let mut turn = order.len();
        let mut first_round = true;
        while est < target {
            let left = target - est;
            if turn == order.len() {
                order.shuffle(rng);
                if first_round {
                    let s = order.iter().position(|&g| g == STYLE_GROUP).unwrap_or(0);
                    order.swap(0, s);
                    first_round = false;
                }
                turn = 0;
            }
            let group = &self.groups[order[turn]];
            turn += 1;
            let piece = pick(group, rng);
            let piece = if piece.tokens > 0 && piece.tokens <= left {
                piece
            } else {
                match self.filler(left, rng) {
                    Some(p) => p,
                    None => {
                        text.push('.');
                        break;
                    }
                }
            };
            text.push_str(&piece.text);
            est += piece.tokens;
        }
        if self.tok.count_tokens(&text) == target {
            return text;
        }
        self.exact(text, target, rng)
    }

    /// A clause of exactly `left` tokens if there is one, else a shorter one;
    /// `None` when no clause is short enough (then a final "." fills 1 token).
    fn filler(&self, left: usize, rng: &mut ChaCha8Rng) -> Option<&Piece> {
        let exact = self.by_len.get(left).filter(|v| !v.is_empty());
        let candidates: Vec<(usize, usize)> = match exact {
            Some(v) => v.clone(),
            None => self.by_len[..left.min(self.by_len.len())]
                .iter()
                .flatten()
                .copied()
                .collect(),
        };
        if candidates.is_empty() {
            return None;
        }
        let (g, i) = candidates[rng.random_range(0..candidates.len())];
        Some(&self.groups[g][i])
    }

    /// Any random clause.
    fn any_clause(&self, rng: &mut ChaCha8Rng) -> &Piece {
        pick(&self.groups[rng.random_range(0..self.groups.len())], rng)
    }

    /// Make `text` exactly `target` tokens by cutting its token ids near the
    /// target and re-checking the decoded prefix (re-tokenizing a decoded
    /// prefix can differ by a token), growing it with clauses when it is too
    /// short. Returns the closest candidate if nothing exact turns up.
    fn exact(&self, mut text: String, target: usize, rng: &mut ChaCha8Rng) -> String {
        let mut best: Option<(usize, String)> = None;
        let consider = |cand: String, n: usize, best: &mut Option<(usize, String)>| {
            let diff = n.abs_diff(target);
            if best.as_ref().is_none_or(|(d, _)| diff < *d) {
                *best = Some((diff, cand));
            }
        };
        for _ in 0..32 {
            let ids = self.tok.encode(&text);
            if ids.len() == target {
                return text;
            }
            if ids.len() < target {
                consider(text.clone(), ids.len(), &mut best);
                let mut need = target - ids.len() + 4;
                for _ in 0..4 * need {
                    let piece = self.any_clause(rng);
                    text.push_str(&piece.text);
                    need = need.saturating_sub(piece.tokens);
                    if need == 0 {
                        break;
                    }
                }
                continue;
            }
            for cut in cuts_near(target, ids.len()) {
                let cand = self.tok.decode(&ids[..cut]);
                let n = self.tok.count_tokens(&cand);
                if n == target {
                    return cand;
                }
                consider(cand, n, &mut best);
            }
            // No cut fits: keep a shorter prefix and grow it differently.
            let keep = target.saturating_sub(3).max(1).min(ids.len());
            text = self.tok.decode(&ids[..keep]);
            text.push_str(&self.any_clause(rng).text);
        }
        best.map(|(_, s)| s).unwrap_or(text)
    }
}

/// Prefix lengths to try: target, target-1, target+1, ... within 1..=len.
fn cuts_near(target: usize, len: usize) -> impl Iterator<Item = usize> {
    (0..=4usize)
        .flat_map(move |d| [target.checked_sub(d), (d > 0).then_some(target + d)])
        .flatten()
        .filter(move |&c| c >= 1 && c <= len)
}

fn pick<'a>(list: &'a [Piece], rng: &mut ChaCha8Rng) -> &'a Piece {
    &list[rng.random_range(0..list.len())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::test_gpt2;

    fn lengths(mean: f64, stddev: f64, count: usize, seed: u64) -> Vec<usize> {
        sample_lengths(mean, stddev, count, &mut ChaCha8Rng::seed_from_u64(seed))
    }

    #[test]
    fn exact_counts_for_random_targets() {
        let tok = test_gpt2();
        for (mean, stddev, seed) in [(150.0, 30.0, 1), (40.0, 35.0, 2), (8.0, 6.0, 3)] {
            let prompts = generate_prompts(tok, mean, stddev, 200, seed);
            let targets = lengths(mean, stddev, 200, seed);
            assert_eq!(prompts.len(), 200);
            for (p, &t) in prompts.iter().zip(&targets) {
                assert_eq!(tok.count_tokens(p), t, "target {t}: {p:?}");
            }
        }
    }

    #[test]
    fn exact_counts_for_every_small_target_and_a_long_one() {
        let tok = test_gpt2();
        for t in 1..=60 {
            for p in generate_prompts(tok, t as f64, 0.0, 6, t as u64) {
                assert_eq!(tok.count_tokens(&p), t, "{p:?}");
            }
        }
        for p in generate_prompts(tok, 550.0, 0.0, 3, 9) {
            assert_eq!(tok.count_tokens(&p), 550);
        }
    }

    #[test]
    fn cutting_fallback_is_exact_for_awkward_text() {
        let b = Builder::new(test_gpt2());
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let awkward =
            "A   cat!!?...  ,,, 1234567 déjà vu — \u{1F98A}\u{1F98A} ((f/1.8))".to_string();
        for target in [1, 2, 5, 9, 14, 30, 80] {
            let out = b.exact(awkward.clone(), target, &mut rng);
            assert_eq!(b.tok.count_tokens(&out), target, "{out:?}");
        }
    }

    #[test]
    fn same_seed_same_prompts_other_seed_other_prompts() {
        let tok = test_gpt2();
        let a = generate_prompts(tok, 150.0, 30.0, 20, 42);
        assert_eq!(a, generate_prompts(tok, 150.0, 30.0, 20, 42));
        let b = generate_prompts(tok, 150.0, 30.0, 20, 43);
        assert_ne!(a, b);
        assert!(a.iter().zip(&b).filter(|(x, y)| x == y).count() <= 1);
        // prompts within one run differ from each other
        let distinct: std::collections::HashSet<_> = a.iter().collect();
        assert_eq!(distinct.len(), a.len());
    }

    #[test]
    fn length_distribution() {
        let v = lengths(150.0, 30.0, 2000, 7);
        let n = v.len() as f64;
        let mean = v.iter().sum::<usize>() as f64 / n;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        assert!((mean - 150.0).abs() < 3.0, "mean {mean}");
        assert!((var.sqrt() - 30.0).abs() < 2.5, "std {}", var.sqrt());
        assert!(lengths(2.0, 50.0, 2000, 1).iter().all(|&x| x >= 1));
    }

    #[test]
    fn zero_or_bad_stddev_gives_equal_lengths() {
        assert_eq!(lengths(150.0, 0.0, 5, 1), vec![150; 5]);
        assert_eq!(lengths(149.6, -3.0, 3, 1), vec![150; 3]);
        assert_eq!(lengths(0.0, 0.0, 2, 1), vec![1; 2]);
        assert_eq!(lengths(f64::NAN, f64::NAN, 2, 1), vec![1; 2]);
        let tok = test_gpt2();
        let prompts = generate_prompts(tok, 150.0, 0.0, 10, 3);
        assert!(prompts.iter().all(|p| tok.count_tokens(p) == 150));
        assert!(generate_prompts(tok, 150.0, 30.0, 0, 3).is_empty());
    }

    #[test]
    fn reads_like_an_image_prompt() {
        let tok = test_gpt2();
        for p in generate_prompts(tok, 150.0, 30.0, 50, 11) {
            assert!(p.starts_with(|c: char| c.is_ascii_uppercase()), "{p:?}");
            assert!(p.contains(", "), "{p:?}");
            assert!(!p.contains("  ") && !p.contains(",,") && !p.contains(".."));
            let lower = p.to_lowercase();
            for old in [" thou ", " thee ", " hath ", " doth ", "shakespeare"] {
                assert!(!lower.contains(old), "{p:?}");
            }
        }
        let sample = generate_prompts(tok, 300.0, 0.0, 20, 12)
            .join(" ")
            .to_lowercase();
        let hits = [
            "light", "lens", "palette", "shot", "color", "style", "painting",
        ]
        .iter()
        .filter(|w| sample.contains(*w))
        .count();
        assert!(hits >= 5, "{sample}");
    }
}

//! The global request sequence, seen by one shard: which timed arrivals
//! are its own ([`Source`]: the global number `i` of each, kept when
//! `i mod N = I`), and the seeded choices of each request by its global
//! position in the run ([`Draws`]): the dataset row
//! (`--dataset-sampling-strategy`) and whether it is cancelled on purpose
//! (`--request-cancellation-rate`). A shard skips the draws of the other
//! shards' requests, so its request at position `p` gets exactly what a
//! single process gives request `p`.
//!
//! Positions run over the whole run: the warm-up's requests first, then
//! the profiling phase's (from [`Draws::next_phase`]).

use super::{Arrivals, Cancellation};
use crate::plan::{Sampler, SamplingStrategy};
use crate::shard::Shard;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::iter::Peekable;

/// Timed arrivals: `(global number, dataset row if fixed, offset ns)`.
pub(super) type Timed = Peekable<Box<dyn Iterator<Item = (u64, Option<usize>, u64)> + Send>>;

/// Where a phase's requests come from.
pub(super) enum Source {
    /// As slots free up (numbered by the runner).
    Closed,
    /// This shard's arrivals of a schedule or trace.
    Timed(Timed),
}

impl Source {
    pub fn of(arrivals: Arrivals, shard: Shard) -> Source {
        let all: Box<dyn Iterator<Item = (Option<usize>, u64)> + Send> = match arrivals {
            Arrivals::Closed => return Source::Closed,
            Arrivals::Open(s) => Box::new(s.map(|o| (None, o))),
            Arrivals::Fixed(v) => Box::new(v.into_iter().map(|(i, o)| (Some(i), o))),
        };
        let mine = all
            .enumerate()
            .map(|(i, (row, offset))| (i as u64, row, offset))
            .filter(move |(i, _, _)| shard.keeps(*i));
        Source::Timed((Box::new(mine) as Box<dyn Iterator<Item = _> + Send>).peekable())
    }
}

pub(super) struct Draws {
    sampler: Sampler,
    /// Sampler draws made so far.
    sampled: u64,
    picks: ChaCha8Rng,
    /// Cancellation draws made so far.
    picked: u64,
    cancellation: Option<Cancellation>,
    /// Position of the current phase's request 0.
    base: u64,
}

impl Draws {
    pub fn new(
        sampling: SamplingStrategy,
        entries: usize,
        seed: u64,
        cancellation: Option<Cancellation>,
    ) -> Draws {
        Draws {
            sampler: Sampler::new(sampling, entries, seed),
            sampled: 0,
            picks: ChaCha8Rng::seed_from_u64(seed ^ 0xc0ffee),
            picked: 0,
            cancellation,
            base: 0,
        }
    }

    /// The phase's request `i` (global number within the phase) is at
    /// position `base + i`; the next phase starts `used` positions later.
    pub fn next_phase(&mut self, used: u64) {
        self.base += used;
    }

    /// Dataset row of the phase's global request `i`.
    pub fn row(&mut self, i: u64) -> usize {
        let position = self.base + i;
        let mut row = self.sampler.next_index();
        self.sampled += 1;
        while self.sampled <= position {
            row = self.sampler.next_index();
            self.sampled += 1;
        }
        row
    }

    /// Cancellation delay of the phase's global request `i`, if it was picked.
    pub fn cancel_after(&mut self, i: u64) -> Option<u64> {
        let c = self.cancellation?;
        let position = self.base + i;
        let mut hit = self.picks.random::<f64>() < c.fraction;
        self.picked += 1;
        while self.picked <= position {
            hit = self.picks.random::<f64>() < c.fraction;
            self.picked += 1;
        }
        hit.then_some(c.delay_ns)
    }
}

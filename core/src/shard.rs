//! Scale-out: one benchmark sent by N processes (shards) as if by one.
//!
//! Every shard builds the same global plan (dataset order, prompts,
//! sampling, the arrival schedule, cancellation picks) and keeps the global
//! requests `i` with `i mod N = I` ([`Shard::keeps`]), so the union of the
//! shards' requests is the single-process run exactly: the runner
//! ([`crate::runner::run_scoped`]) numbers each phase's requests globally
//! and draws every seeded choice for the requests it skips too. A single
//! process is shard 0 of 1. Counts and concurrency split so that the parts
//! sum to the totals ([`Shard::share`]: 10 over 3 is 4, 3, 3).
//!
//! The index and count come from `--shard I/N` or, with `--shard auto`,
//! from the engine that started the process ([`Shard::from_env`]):
//! a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, count in
//! `IMGPERF_SHARDS`) or Slurm (`SLURM_PROCID`, `SLURM_NTASKS`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// Why a shard could not be determined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// `--shard` was neither `I/N` nor `auto`.
    #[error("--shard {0:?}: expected I/N with 0 <= I < N (e.g. 0/4), or auto")]
    Syntax(String),
    /// `--shard auto` found no engine's variables.
    #[error("--shard auto: no engine found: in a Kubernetes Indexed Job set IMGPERF_SHARDS to the Job's completions (JOB_COMPLETION_INDEX is set by Kubernetes); under Slurm run with srun (SLURM_PROCID, SLURM_NTASKS); else give --shard I/N")]
    NoEngine,
    /// A Kubernetes pod without the shard count.
    #[error("--shard auto: JOB_COMPLETION_INDEX={0} is set (a Kubernetes Indexed Job) but IMGPERF_SHARDS is not: set it in the pod template to the Job's completions")]
    MissingCount(String),
    /// An engine variable that is not a number in range.
    #[error("--shard auto: {var}={value:?} is not valid ({why})")]
    BadEnv {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What was expected.
        why: &'static str,
    },
}

/// Which engine named the shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// `--shard I/N` on the command line.
    Flag,
    /// A Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, `IMGPERF_SHARDS`).
    Kubernetes,
    /// Slurm (`SLURM_PROCID`, `SLURM_NTASKS`).
    Slurm,
}

/// This process's part of a scaled-out run: shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Default for Shard {
    fn default() -> Self {
        Shard::WHOLE
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The whole run in one process: shard 0 of 1.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count`; `None` unless `index < count`.
    pub fn new(index: u32, count: u32) -> Option<Shard> {
        (index < count).then_some(Shard { index, count })
    }

    /// 0-based index.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Number of shards.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// More than one shard.
    pub fn is_split(&self) -> bool {
        self.count > 1
    }

    /// Parse `I/N`.
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let bad = || ShardError::Syntax(text.to_owned());
        let (i, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let i: u32 = i.trim().parse().map_err(|_| bad())?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        Shard::new(i, n).ok_or_else(bad)
    }

    /// The shard the engine that started this process assigned, read
    /// through `var` (the environment): Kubernetes first, then Slurm.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<(Shard, Engine), ShardError> {
        let number = |name: &'static str, value: String, min: u32| match value.trim().parse::<u32>()
        {
            Ok(v) if v >= min => Ok(v),
            _ => Err(ShardError::BadEnv {
                var: name,
                value,
                why: if min == 0 {
                    "a whole number >= 0"
                } else {
                    "a whole number >= 1"
                },
            }),
        };
        let within = |var: &'static str, shard: Option<Shard>, value: u32| {
            shard.ok_or(ShardError::BadEnv {
                var,
                value: value.to_string(),
                why: "the index must be below the shard count",
            })
        };
        if let Some(index) = var("JOB_COMPLETION_INDEX") {
            let count = var("IMGPERF_SHARDS").ok_or(ShardError::MissingCount(index.clone()))?;
            let i = number("JOB_COMPLETION_INDEX", index, 0)?;
            let n = number("IMGPERF_SHARDS", count, 1)?;
            return Ok((
                within("JOB_COMPLETION_INDEX", Shard::new(i, n), i)?,
                Engine::Kubernetes,
            ));
        }
        if let (Some(index), Some(count)) = (var("SLURM_PROCID"), var("SLURM_NTASKS")) {
            let i = number("SLURM_PROCID", index, 0)?;
            let n = number("SLURM_NTASKS", count, 1)?;
            return Ok((within("SLURM_PROCID", Shard::new(i, n), i)?, Engine::Slurm));
        }
        Err(ShardError::NoEngine)
    }

    /// Whether global request `i` (0-based, within its phase) is this shard's.
    pub fn keeps(&self, i: u64) -> bool {
        i % u64::from(self.count) == u64::from(self.index)
    }

    /// The global number of this shard's `k`-th request.
    pub fn global(&self, k: u64) -> u64 {
        u64::from(self.index) + k * u64::from(self.count)
    }

    /// How many of the global requests `0..total` are this shard's: the
    /// parts of all shards sum to `total` (10 over 3: 4, 3, 3).
    pub fn share(&self, total: u64) -> u64 {
        let n = u64::from(self.count);
        total / n + u64::from(u64::from(self.index) < total % n)
    }

    /// Suffix of the shard's run directory: `-shard<I>of<N>`.
    pub fn dir_suffix(&self) -> String {
        format!("-shard{}of{}", self.index, self.count)
    }
}

/// Which part of a scaled-out benchmark a run's records are, from their
/// shard indexes: `shard I` (one shard), `merged` (several), `None` (a
/// single process). Viewers use it to keep a shard apart from the merge.
pub fn part_of_records(indexes: &BTreeSet<u32>) -> Option<String> {
    match indexes.len() {
        0 => None,
        1 => indexes.first().map(|i| format!("shard {i}")),
        _ => Some("merged".to_owned()),
    }
}

/// The same from a summary JSON's `input_config` (its `scale_out` object).
pub fn part_of_config(input_config: &Value) -> Option<String> {
    let s = input_config.get("scale_out")?;
    if s.get("merged").is_some() {
        return Some("merged".to_owned());
    }
    s.get("shard_index")
        .and_then(Value::as_u64)
        .map(|i| format!("shard {i}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn parts_agree_between_records_and_summaries() {
        let set = |v: &[u32]| v.iter().copied().collect::<BTreeSet<u32>>();
        assert_eq!(part_of_records(&set(&[])), None);
        assert_eq!(part_of_records(&set(&[2])).as_deref(), Some("shard 2"));
        assert_eq!(part_of_records(&set(&[0, 1])).as_deref(), Some("merged"));
        let shard = serde_json::json!({"scale_out": {"shard_index": 2, "shard_count": 4}});
        assert_eq!(part_of_config(&shard).as_deref(), Some("shard 2"));
        let merged = serde_json::json!({"scale_out": {"merged": [0, 1], "shard_count": 2}});
        assert_eq!(part_of_config(&merged).as_deref(), Some("merged"));
        assert_eq!(part_of_config(&serde_json::json!({})), None);
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn parse_accepts_i_of_n_only() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(Shard::parse(" 0 / 1 "), Ok(Shard::WHOLE));
        for bad in ["4/4", "1", "a/2", "-1/2", "0/0", "1/2/3"] {
            assert_eq!(
                Shard::parse(bad),
                Err(ShardError::Syntax(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn shares_sum_to_the_total_and_match_keeps() {
        for n in 1..=5u32 {
            for total in 0..=23u64 {
                let shards: Vec<Shard> = (0..n).map(|i| Shard::new(i, n).unwrap()).collect();
                let sum: u64 = shards.iter().map(|s| s.share(total)).sum();
                assert_eq!(sum, total);
                for s in &shards {
                    let kept = (0..total).filter(|&i| s.keeps(i)).count() as u64;
                    assert_eq!(kept, s.share(total));
                    assert!((0..s.share(total)).all(|k| s.keeps(s.global(k))));
                }
            }
        }
        let parts: Vec<u64> = (0..3)
            .map(|i| Shard::new(i, 3).unwrap().share(10))
            .collect();
        assert_eq!(parts, [4, 3, 3]);
    }

    #[test]
    fn engines_from_the_environment() {
        let k8s = env(&[("JOB_COMPLETION_INDEX", "3"), ("IMGPERF_SHARDS", "8")]);
        assert_eq!(
            Shard::from_env(k8s),
            Ok((Shard::new(3, 8).unwrap(), Engine::Kubernetes))
        );
        let slurm = env(&[("SLURM_PROCID", "1"), ("SLURM_NTASKS", "4")]);
        assert_eq!(
            Shard::from_env(slurm),
            Ok((Shard::new(1, 4).unwrap(), Engine::Slurm))
        );
        assert_eq!(Shard::from_env(env(&[])), Err(ShardError::NoEngine));
        assert_eq!(
            Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "0")])),
            Err(ShardError::MissingCount("0".into()))
        );
        let out_of_range = env(&[("SLURM_PROCID", "4"), ("SLURM_NTASKS", "4")]);
        assert!(matches!(
            Shard::from_env(out_of_range),
            Err(ShardError::BadEnv {
                var: "SLURM_PROCID",
                ..
            })
        ));
        let zero = env(&[("JOB_COMPLETION_INDEX", "0"), ("IMGPERF_SHARDS", "0")]);
        assert!(matches!(
            Shard::from_env(zero),
            Err(ShardError::BadEnv {
                var: "IMGPERF_SHARDS",
                ..
            })
        ));
    }
}

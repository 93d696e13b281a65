//! `imgperf profile --shard I/N|auto --start-at TIME`: this process's part
//! of a benchmark sent from several machines (core's [`Shard`] picks the
//! requests), the common start on the wall clock, and what the shard
//! leaves for `imgperf merge`: a run directory named `...-shard<I>of<N>`
//! with a [`manifest`].

pub mod clock;
pub mod manifest;

use crate::artifacts::ArtifactPaths;
use crate::cli::{ExportLevel, ProfileArgs};
use crate::runtime::TokioRuntime;
use anyhow::{bail, Context};
use clap::Args;
use clock::ClockOffset;
use imgperf_core::runner::{RunOutcome, Scope};
use imgperf_core::shard::{Engine, Shard};
use manifest::{PlanId, ShardInfo, ShardManifest};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The scale-out flags of `imgperf profile`.
#[derive(Debug, Clone, Default, Args)]
pub struct ScaleArgs {
    /// Send part I of N of the benchmark (0-based): the global requests i with i mod N = I,
    /// so N shards together send exactly the single-process run. `auto` reads the engine's
    /// variables: JOB_COMPLETION_INDEX with IMGPERF_SHARDS (Kubernetes Indexed Job), or
    /// SLURM_PROCID with SLURM_NTASKS (srun). Needs --random-seed. --concurrency and the
    /// request counts are totals, split so the parts sum to them (10 over 3 is 4, 3, 3); a
    /// shard left with no concurrency slot refuses to start. Merge the shards with `imgperf merge`.
    #[arg(long, value_name = "I/N|auto", help_heading = "Scale-out")]
    pub shard: Option<String>,
    /// When the profiling phase starts, on every shard: RFC 3339 (2025-06-01T12:00:00Z) or Unix
    /// epoch seconds. The schedule counts from it, so shards started at different moments send
    /// on one timeline; a shard that starts late sends its overdue requests at once (their lag
    /// shows in Schedule Lag). Warm-up requests go before it. Clocks should agree (NTP).
    #[arg(long, value_name = "TIME", help_heading = "Scale-out")]
    pub start_at: Option<String>,
}

/// This process's place in the benchmark, resolved from the flags and the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleOut {
    /// Which part.
    pub shard: Shard,
    /// Who said so.
    pub engine: Engine,
    /// `--start-at`, Unix epoch ns.
    pub start_at_ns: Option<u64>,
}

impl ScaleOut {
    /// Read `--shard` and `--start-at`; `env` is the process environment.
    pub fn resolve(args: &ScaleArgs, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let (shard, engine) = match args.shard.as_deref().map(str::trim) {
            None => (Shard::WHOLE, Engine::Flag),
            Some(a) if a.eq_ignore_ascii_case("auto") => Shard::from_env(env)?,
            Some(text) => (Shard::parse(text)?, Engine::Flag),
        };
        let start_at_ns = args.start_at.as_deref().map(parse_start_at).transpose()?;
        Ok(ScaleOut {
            shard,
            engine,
            start_at_ns,
        })
    }

    /// Refuse what a sharded run cannot merge.
    pub fn check(&self, args: &ProfileArgs) -> anyhow::Result<()> {
        if !self.shard.is_split() {
            return Ok(());
        }
        if args.random_seed.is_none() {
            bail!(
                "--shard {} needs --random-seed: every shard must build the same plan (prompts, \
                 sampling, schedule) from the same seed",
                self.shard
            );
        }
        if args.export_level == ExportLevel::Summary {
            bail!(
                "--shard needs the per-request records to merge: drop --export-level summary \
                 (records or raw)"
            );
        }
        Ok(())
    }

    /// Suffix of the run directory's name: `-shard<I>of<N>` when split.
    pub fn dir_suffix(&self) -> String {
        if self.shard.is_split() {
            self.shard.dir_suffix()
        } else {
            String::new()
        }
    }

    /// The manifest of this shard's finished run.
    pub fn manifest(
        &self,
        plan: PlanId,
        paths: &ArtifactPaths,
        outcome: &RunOutcome,
        server_clock: Option<ClockOffset>,
    ) -> ShardManifest {
        ShardManifest {
            format: manifest::FORMAT.to_owned(),
            imgperf_version: env!("CARGO_PKG_VERSION").to_owned(),
            plan,
            shard: ShardInfo {
                index: self.shard.index(),
                count: self.shard.count(),
                engine: self.engine,
            },
            host: manifest::host_name(),
            start_at_ns: self.start_at_ns,
            server_clock,
            export_prefix: paths.prefix.clone(),
            requests_released: outcome.released,
            was_cancelled: outcome.was_cancelled,
        }
    }

    /// The summary's `input_config` with this shard's facts (`scale_out`).
    pub fn annotate(&self, mut config: serde_json::Value) -> serde_json::Value {
        if let (true, serde_json::Value::Object(map)) = (self.shard.is_split(), &mut config) {
            map.insert(
                "scale_out".into(),
                serde_json::json!({
                    "shard_index": self.shard.index(),
                    "shard_count": self.shard.count(),
                    "engine": self.engine,
                    "start_at_ns": self.start_at_ns,
                }),
            );
        }
        config
    }

    /// This shard's concurrency cap out of the total (`None`: no cap).
    pub fn concurrency(&self, total: Option<usize>) -> anyhow::Result<Option<usize>> {
        let Some(total) = total else { return Ok(None) };
        let mine = self.shard.share(total as u64) as usize;
        if mine == 0 {
            bail!(
                "--concurrency {total} split over {} shards leaves shard {} without a slot: give \
                 every shard one (--concurrency {} or more) or run fewer shards",
                self.shard.count(),
                self.shard.index(),
                self.shard.count()
            );
        }
        Ok(Some(mine))
    }

    /// The run's clock: its zero is `--start-at` when that has passed (a
    /// late shard), else now; and the runner's scope.
    pub fn clock(&self) -> anyhow::Result<(TokioRuntime, Scope)> {
        let now = TokioRuntime::new();
        let Some(at) = self.start_at_ns else {
            return Ok((now, self.scope(None)));
        };
        let wall = imgperf_core::platform::Runtime::wall_origin_ns(&now);
        if at >= wall {
            return Ok((now, self.scope(Some(at - wall))));
        }
        let late = Duration::from_nanos(wall - at);
        let rt = TokioRuntime::anchored(late, at).with_context(|| {
            format!(
                "--start-at is {:.0} s in the past, before this machine started: give a time to come",
                late.as_secs_f64()
            )
        })?;
        eprintln!(
            "imgperf: warning: shard {} starts {:.3} s after --start-at; its overdue requests go at once (see Schedule Lag)",
            self.shard,
            late.as_secs_f64()
        );
        Ok((rt, self.scope(Some(0))))
    }

    fn scope(&self, start_ns: Option<u64>) -> Scope {
        Scope {
            shard: self.shard,
            start_ns,
        }
    }
}

/// `--start-at`: RFC 3339, or Unix epoch seconds (fractions allowed).
pub fn parse_start_at(text: &str) -> anyhow::Result<u64> {
    let text = text.trim();
    if text.parse::<f64>().is_ok() {
        return epoch_seconds(text).ok_or_else(|| {
            anyhow::anyhow!(
                "--start-at {text}: epoch seconds must be a positive number (like 1767225600.5)"
            )
        });
    }
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| {
            anyhow::anyhow!(
                "--start-at {text:?}: not RFC 3339 (2025-06-01T12:00:00Z) nor epoch seconds ({e})"
            )
        })?;
    u64::try_from(t.unix_timestamp_nanos())
        .map_err(|_| anyhow::anyhow!("--start-at {text}: before 1970"))
}

/// Decimal epoch seconds to ns, exactly (every shard must read the same ns).
fn epoch_seconds(text: &str) -> Option<u64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 9 {
        return None;
    }
    let secs: u64 = whole
        .parse()
        .ok()
        .filter(|s| *s > 0 && *s < 100_000_000_000)?;
    let nanos: u64 = format!("{frac:0<9}").parse().ok()?;
    Some(secs * 1_000_000_000 + nanos)
}

/// Unix epoch ns now.
pub fn epoch_now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The command line without the flags that differ between shards
/// (`--shard` and its value), for the plan fingerprint.
pub fn plan_command(argv: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip = false;
    for a in argv.iter().skip(1) {
        if std::mem::take(&mut skip) {
            continue;
        }
        if a == "--shard" {
            skip = true;
        } else if !a.starts_with("--shard=") {
            out.push(a.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_at_forms() {
        assert_eq!(
            parse_start_at("2025-06-01T12:00:00Z").unwrap(),
            1_748_779_200_000_000_000
        );
        assert_eq!(
            parse_start_at("2025-06-01T14:00:00.5+02:00").unwrap(),
            1_748_779_200_500_000_000
        );
        assert_eq!(
            parse_start_at("1748779200.25").unwrap(),
            1_748_779_200_250_000_000
        );
        assert_eq!(
            parse_start_at("1748779200").unwrap(),
            1_748_779_200_000_000_000
        );
        for bad in [
            "tomorrow",
            "-5",
            "2025-06-01 12:00",
            "1e9",
            "0",
            "1.0000000001",
        ] {
            let e = parse_start_at(bad).unwrap_err().to_string();
            assert!(e.contains("--start-at"), "{e}");
        }
    }

    #[test]
    fn plan_command_drops_only_the_shard() {
        let argv: Vec<String> = [
            "/usr/bin/imgperf",
            "profile",
            "--shard",
            "auto",
            "-m",
            "x",
            "--shard=1/2",
            "--start-at",
            "5",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            plan_command(&argv),
            ["profile", "-m", "x", "--start-at", "5"]
        );
    }

    #[test]
    fn concurrency_splits_and_refuses_an_empty_share() {
        let s = |i, n| ScaleOut {
            shard: Shard::new(i, n).unwrap(),
            engine: Engine::Flag,
            start_at_ns: None,
        };
        assert_eq!(s(0, 3).concurrency(Some(10)).unwrap(), Some(4));
        assert_eq!(s(2, 3).concurrency(Some(10)).unwrap(), Some(3));
        assert_eq!(s(2, 3).concurrency(None).unwrap(), None);
        let e = s(2, 3).concurrency(Some(2)).unwrap_err().to_string();
        assert!(e.contains("shard 2 without a slot"), "{e}");
    }
}

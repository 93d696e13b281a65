//! Finding the shards to merge and checking that they make up one plan:
//! each shard of the plan exactly once, all of one fingerprint and count.

use crate::shard::manifest::{ShardManifest, MANIFEST};
use anyhow::{bail, Context};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Shards are missing, or none is there yet: what waiting may mend.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Incomplete(pub String);

/// One shard's run directory and its manifest.
#[derive(Debug, Clone)]
pub struct ShardDir {
    /// The run directory.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: ShardManifest,
}

/// The shard directories named on the command line: a directory with a
/// manifest is a shard; one without is searched one level down.
pub fn discover(dirs: &[PathBuf]) -> anyhow::Result<Vec<ShardDir>> {
    let mut out = Vec::new();
    for dir in dirs {
        if !dir.is_dir() {
            return Err(Incomplete(format!("{} is not a directory", dir.display())).into());
        }
        if let Some(manifest) = ShardManifest::read(dir)? {
            out.push(ShardDir {
                dir: dir.clone(),
                manifest,
            });
            continue;
        }
        let mut found = Vec::new();
        let entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
        for entry in entries {
            let sub = entry?.path();
            if sub.is_dir() {
                if let Some(manifest) = ShardManifest::read(&sub)? {
                    found.push(ShardDir { dir: sub, manifest });
                }
            }
        }
        if found.is_empty() {
            let msg = format!(
                "{} holds no shard run ({MANIFEST} neither in it nor in its sub-directories): \
                 was it written by `imgperf profile --shard`?",
                dir.display()
            );
            return Err(Incomplete(msg).into());
        }
        found.sort_by(|a, b| a.dir.cmp(&b.dir));
        out.extend(found);
    }
    Ok(out)
}

fn list(dirs: &[&Path]) -> String {
    dirs.iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Check that `shards` are one plan, each shard once and (unless
/// `allow_partial`) all there; returns them in shard order and the
/// missing indexes.
pub fn check(
    mut shards: Vec<ShardDir>,
    allow_partial: bool,
) -> anyhow::Result<(Vec<ShardDir>, Vec<u32>)> {
    let mut plans: BTreeMap<(String, u32), Vec<&ShardDir>> = BTreeMap::new();
    for s in &shards {
        let key = (s.manifest.plan.fingerprint.clone(), s.manifest.shard.count);
        plans.entry(key).or_default().push(s);
    }
    if plans.len() > 1 {
        let parts: Vec<String> = plans
            .iter()
            .map(|((fp, n), dirs)| {
                let dirs: Vec<&Path> = dirs.iter().map(|s| s.dir.as_path()).collect();
                format!(
                    "plan {} split in {n} ({}): {}",
                    &fp[..12.min(fp.len())],
                    dirs_command(&shards, fp),
                    list(&dirs)
                )
            })
            .collect();
        bail!(
            "these directories belong to {} different benchmarks; merge one at a time:\n  {}",
            plans.len(),
            parts.join("\n  ")
        );
    }
    shards.sort_by_key(|s| s.manifest.shard.index);
    for w in shards.windows(2) {
        if w[0].manifest.shard.index == w[1].manifest.shard.index {
            bail!(
                "shard {} of {} appears twice: {} and {}; pass each shard's directory once",
                w[0].manifest.shard.index,
                w[0].manifest.shard.count,
                w[0].dir.display(),
                w[1].dir.display()
            );
        }
    }
    let count = shards[0].manifest.shard.count;
    let have: Vec<u32> = shards.iter().map(|s| s.manifest.shard.index).collect();
    let missing: Vec<u32> = (0..count).filter(|i| !have.contains(i)).collect();
    if !missing.is_empty() && !allow_partial {
        let names: Vec<String> = missing.iter().map(u32::to_string).collect();
        let had: Vec<String> = have.iter().map(u32::to_string).collect();
        let msg = format!(
            "shard{} {} of {count} missing (found {}): pass {} directory too, or --allow-partial \
             to merge the shards that are here",
            if missing.len() > 1 { "s" } else { "" },
            names.join(", "),
            had.join(", "),
            if missing.len() > 1 { "their" } else { "its" }
        );
        return Err(Incomplete(msg).into());
    }
    Ok((shards, missing))
}

/// The plan command of the first shard with fingerprint `fp`.
fn dirs_command(shards: &[ShardDir], fp: &str) -> String {
    shards
        .iter()
        .find(|s| s.manifest.plan.fingerprint == fp)
        .map(|s| {
            format!(
                "seed {}, `{}`",
                s.manifest.plan.seed, s.manifest.plan.command
            )
        })
        .unwrap_or_default()
}

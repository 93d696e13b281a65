//! `shard_manifest.json`: what `imgperf merge` needs to know about a shard's
//! run directory. Which plan it belongs to (a fingerprint of the command
//! line less `--shard`, the seed and the dataset), which shard it is, on
//! which host, when the run was to start, and how far this host's clock was
//! from the server's (from its `Date` headers).

use super::clock::ClockOffset;
use anyhow::Context;
use imgperf_core::shard::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// File name of the manifest inside a shard's run directory.
pub const MANIFEST: &str = "shard_manifest.json";

/// What identifies one benchmark plan across its shards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanId {
    /// SHA-256 of the command, seed and dataset hash below.
    pub fingerprint: String,
    /// The command line after the program name, less `--shard` (secrets redacted).
    pub command: String,
    /// `--random-seed`.
    pub seed: u64,
    /// SHA-256 of the run's `inputs.json` content (every payload and entry id).
    pub dataset_sha256: String,
}

impl PlanId {
    /// The plan of `command` with `seed`, over the dataset serialised as `inputs`.
    pub fn new(command: String, seed: u64, inputs: &[u8]) -> PlanId {
        let dataset_sha256 = hex(&Sha256::digest(inputs));
        let mut h = Sha256::new();
        for part in [
            command.as_bytes(),
            &seed.to_le_bytes(),
            dataset_sha256.as_bytes(),
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        PlanId {
            fingerprint: hex(&h.finalize()),
            command,
            seed,
            dataset_sha256,
        }
    }

    /// The fingerprint's first 12 hex digits, for messages.
    pub fn short(&self) -> &str {
        &self.fingerprint[..self.fingerprint.len().min(12)]
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Which shard a directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// 0-based index.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
    /// Where index and count came from.
    pub engine: Engine,
}

/// The manifest of one shard's run directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardManifest {
    /// `imgperf-shard/1`.
    pub format: String,
    /// Version of imgperf that ran the shard.
    pub imgperf_version: String,
    /// The plan.
    pub plan: PlanId,
    /// This shard.
    pub shard: ShardInfo,
    /// Host name of the machine.
    pub host: String,
    /// `--start-at` as epoch ns, if given.
    pub start_at_ns: Option<u64>,
    /// Server clock − this host's clock, from `Date` headers, if any came.
    pub server_clock: Option<ClockOffset>,
    /// Export file prefix (`profile_export`).
    pub export_prefix: String,
    /// Profiling requests this shard released.
    pub requests_released: u64,
    /// The shard was stopped early.
    pub was_cancelled: bool,
}

/// The value of [`ShardManifest::format`].
pub const FORMAT: &str = "imgperf-shard/1";

impl ShardManifest {
    /// Write it into `dir`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        let v = serde_json::to_value(self)?;
        crate::artifacts::write_json(&dir.join(MANIFEST), &v)
    }

    /// Read `dir`'s manifest; `Ok(None)` when it has none.
    pub fn read(dir: &Path) -> anyhow::Result<Option<ShardManifest>> {
        let path = dir.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let m: ShardManifest = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a shard manifest", path.display()))?;
        Ok(Some(m))
    }
}

/// This machine's host name.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_covers_command_seed_and_dataset() {
        let a = PlanId::new("profile -m x".into(), 1, b"{}");
        assert_eq!(a, PlanId::new("profile -m x".into(), 1, b"{}"));
        assert_ne!(
            a.fingerprint,
            PlanId::new("profile -m y".into(), 1, b"{}").fingerprint
        );
        assert_ne!(
            a.fingerprint,
            PlanId::new("profile -m x".into(), 2, b"{}").fingerprint
        );
        assert_ne!(
            a.fingerprint,
            PlanId::new("profile -m x".into(), 1, b"[]").fingerprint
        );
        assert_eq!(a.fingerprint.len(), 64);
        assert_eq!(a.short().len(), 12);
    }
}

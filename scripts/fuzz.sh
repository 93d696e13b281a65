#!/usr/bin/env bash
# Run every fuzz target for a set time (default 60 s each): bash scripts/fuzz.sh [SECONDS]
# Uses cargo-fuzz (libFuzzer). The project's toolchain is stable, so nightly-only
# sanitizer flags are unlocked with RUSTC_BOOTSTRAP=1, for this script only.
# A crash leaves its input under fuzz/artifacts/<target>/: turn it into a
# regression test in the module it broke.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for target in $(cargo fuzz list); do
  echo "== $target: ${secs}s"
  cargo fuzz run -O "$target" -- -max_total_time="$secs" -rss_limit_mb=2048 2>&1 | grep -E "^Done|ERROR|SUMMARY|panicked" || true
done

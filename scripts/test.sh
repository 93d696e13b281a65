#!/usr/bin/env bash
# The project's one test command (README: "Run every test"). Installs what a
# fresh machine lacks, then runs every test. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s ==\n' "$*"; }

log "toolchain"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
cargo --version

log "core builds for wasm32-unknown-unknown"
cargo build --locked -p imgperf-core --target wasm32-unknown-unknown

log "native and core tests"
cargo test --locked --workspace

log "formatting"
cargo fmt --all -- --check

#!/usr/bin/env bash
# Builds the browser app and an imgperf binary that carries it (for
# `imgperf publish`, so that publishing needs no trunk): installs what is
# missing (scripts/setup-web.sh), runs `trunk build --release` into dist/,
# then `cargo build` with IMGPERF_WEB_APP=dist (native/build.rs embeds it).
#   bash scripts/build-web.sh           # release binary: target/release/imgperf
#   bash scripts/build-web.sh --debug   # debug binary:   target/debug/imgperf
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-web.sh
# binaryen's wasm-opt (Debian's is too old for trunk's output).
export PATH="$PWD/web/e2e/node_modules/.bin:$PATH"
trunk build --release
profile=(--release)
if [ "${1:-}" = "--debug" ]; then
  profile=()
fi
IMGPERF_WEB_APP="$PWD/dist" cargo build --locked "${profile[@]}" -p imgperf

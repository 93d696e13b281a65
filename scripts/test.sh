#!/usr/bin/env bash
# The project's one test command (README: "Run every test"). Installs what a
# fresh machine lacks (scripts/setup-web.sh: trunk, wasm-bindgen-cli,
# Chromium, npm packages; scripts/setup-python.sh: a venv with the openai
# SDK), then runs every test: native and core, the web
# app's wasm-bindgen tests in headless Chromium, and its browser end-to-end
# tests (with an imgperf that embeds the app, as scripts/build-web.sh
# builds it). Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s ==\n' "$*"; }

log "toolchain"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
cargo --version
bash scripts/setup-web.sh
# ffprobe, the oracle of the video tests' MP4 facts (Debian's ffmpeg).
if ! command -v ffprobe >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg
fi
ffprobe -version | head -1
# binaryen's wasm-opt (Debian's is too old for trunk's output).
export PATH="$PWD/web/e2e/node_modules/.bin:$PATH"

log "core builds for wasm32-unknown-unknown"
cargo build --locked -p imgperf-core --target wasm32-unknown-unknown

log "python: the openai SDK for the image-edit SDK test"
IMGPERF_TEST_PYTHON=$(bash scripts/setup-python.sh | tail -1)
export IMGPERF_TEST_PYTHON

log "native and core tests"
cargo test --locked --workspace

log "formatting"
cargo fmt --all -- --check

log "web: release build (trunk, offline), and imgperf with the app inside"
trunk build --release
wasm=dist/imgperf-web_bg.wasm
gz=$(gzip -9 -c "$wasm" | wc -c)
echo "web: $wasm is $(wc -c <"$wasm") bytes, $gz bytes gzipped (limit 1,000,000)"
tok=dist/imgperf-tokenizer_bg.wasm
echo "web: $tok (fetched only when synthetic prompts or token counts need it) is" \
  "$(gzip -9 -c "$tok" | wc -c) bytes gzipped"
if [ "$gz" -gt 1000000 ]; then
  echo "web: the app's gzipped wasm is over 1.0 MB" >&2
  exit 1
fi
# The binary the browser tests use embeds dist/ (imgperf publish needs no trunk).
IMGPERF_WEB_APP="$PWD/dist" cargo build --locked -p imgperf

# Mock servers for the browser tests, on free ports; stopped on exit.
logs=$(mktemp -d)
target/debug/imgperf serve-mock --port 0 --latency-ms 10 --slots 0 --cors >"$logs/cors.log" 2>&1 &
cors_pid=$!
target/debug/imgperf serve-mock --port 0 --latency-ms 10 --slots 0 >"$logs/no-cors.log" 2>&1 &
no_cors_pid=$!
trap 'kill $cors_pid $no_cors_pid 2>/dev/null || true' EXIT
mock_url() { # the URL a serve-mock printed in its log
  for _ in $(seq 100); do
    if grep -qo 'http://127\.0\.0\.1:[0-9]*' "$1"; then
      grep -o 'http://127\.0\.0\.1:[0-9]*' "$1" | head -1
      return
    fi
    sleep 0.1
  done
  echo "serve-mock did not start: $(cat "$1")" >&2
  return 1
}
IMGPERF_TEST_MOCK_URL=$(mock_url "$logs/cors.log")
IMGPERF_TEST_NO_CORS_URL=$(mock_url "$logs/no-cors.log")
export IMGPERF_TEST_MOCK_URL IMGPERF_TEST_NO_CORS_URL
echo "mocks: $IMGPERF_TEST_MOCK_URL (CORS), $IMGPERF_TEST_NO_CORS_URL (no CORS)"

log "web: wasm-bindgen tests in headless Chromium"
CHROMEDRIVER=/usr/bin/chromedriver cargo test --locked -p imgperf-web --target wasm32-unknown-unknown --test web

log "web: browser end-to-end tests (screenshots in web/e2e/artifacts/)"
(cd web/e2e && IMGPERF_BIN="$PWD/../../target/debug/imgperf" node --test --test-concurrency=1 tests/)

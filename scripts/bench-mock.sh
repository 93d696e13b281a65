#!/usr/bin/env bash
# Throughput of the embedded mock image server (issue 5). Not part of CI.
# Starts a release-built `imgperf serve-mock` with zero latency and no slot
# limit, warms its cache with one 512x512 JPEG request, then has wrk POST the
# same generations request for DURATION seconds over CONNECTIONS connections
# and prints requests/s (target: >= 5,000 req/s on the 2-core dev machine,
# wrk included). Each answer carries the cached ~60 KiB base64 image.
# Usage: bash scripts/bench-mock.sh [DURATION_S] [CONNECTIONS] [WRK_THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNECTIONS=${2:-32}
THREADS=${3:-1}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release -q -p imgperf
BIN=target/release/imgperf
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" serve-mock --port "$PORT" --latency-ms 0 --slots 0 >"$WORK/mock.log" 2>&1 &
URL="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf "$URL/health" >/dev/null && break; sleep 0.1; done

BODY='{"model":"bench","prompt":"A serene mountain landscape at sunset","n":1,"size":"512x512","output_format":"jpeg","response_format":"b64_json"}'
cat >"$WORK/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$BODY'
EOF
# Warm the image cache (first encode) and check the answer.
BYTES=$(curl -sf -H 'Content-Type: application/json' -d "$BODY" "$URL/v1/images/generations" | wc -c)
echo "response body: $BYTES bytes (512x512 JPEG as b64_json)"

wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/post.lua" \
  "$URL/v1/images/generations" | tee "$WORK/wrk.txt"
RPS=$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.txt")
if grep -q "Non-2xx" "$WORK/wrk.txt"; then echo "error: some answers were not 200" >&2; exit 1; fi
echo "mock throughput: $RPS req/s (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $(nproc) cores)"

#!/usr/bin/env bash
# Schedule fidelity benchmark (issue 3). Not part of CI's pass/fail.
# Starts `imgperf serve-mock` on 127.0.0.1, runs imgperf open-loop against it
# and prints the achieved send rate against the rate the schedule drew (a
# count-bounded Poisson schedule is conditioned on its count, so it draws
# exactly the target rate) and against the target
# and against the target, and schedule lag (send - scheduled) percentiles:
#   1. Poisson 50 req/s, 1,000 requests, mock latency 100 ms
#   2. constant 500 req/s, 5,000 requests, mock latency 0
# Usage: bash scripts/bench-schedule.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p imgperf
BIN=target/release/imgperf
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

scenario() { # name latency_ms mode rate count
  local name=$1 latency=$2 mode=$3 rate=$4 count=$5 port
  port=$(free_port)
  "$BIN" serve-mock --port "$port" --latency-ms "$latency" --slots 0 --image-format jpeg >"$WORK/mock-$name.log" 2>&1 &
  local mock=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  "$BIN" profile -m bench --tokenizer gpt2 -u "127.0.0.1:$port" \
    --request-rate "$rate" --request-rate-mode "$mode" --request-count "$count" \
    --synthetic-input-tokens-mean 20 --extra-inputs size:256x256 --random-seed 1 \
    --export-level records --artifact-dir "$WORK/$name" --ui none >/dev/null
  kill "$mock"; wait "$mock" 2>/dev/null || true
  python3 - "$WORK/$name" "$name" "$rate" <<'PY'
import json, glob, sys
run = glob.glob(sys.argv[1] + "/*/")[0]
s = json.load(open(run + "profile_export_imgperf.json")); name, target = sys.argv[2], float(sys.argv[3])
sched = [json.loads(l)["metadata"]["credit_issued_ns"] for l in open(run + "profile_export.jsonl")]
planned = (len(sched) - 1) / ((max(sched) - min(sched)) / 1e9)
ach = s["achieved_request_rate"]["avg"]; lag = s["schedule_lag"]
print(f"{name:<22} target {target:6.1f}/s  schedule drew {planned:7.2f}/s  sent {ach:7.2f}/s "
      f"= {100*ach/planned:6.2f}% of schedule, {100*ach/target:6.2f}% of target | "
      f"lag p50 {lag['p50']:.3f} p99 {lag['p99']:.3f} max {lag['max']:.3f} ms | "
      f"ok {s['request_count']['avg']:.0f} err {s['error_request_count']['avg']:.0f}")
PY
}

scenario poisson-50rps-100ms 100 poisson 50 1000
scenario constant-500rps-0ms 0 constant 500 5000

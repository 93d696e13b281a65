#!/usr/bin/env bash
# How fast `imgperf merge` is and how much memory it takes as the run grows:
# a real 4-shard run against serve-mock, each shard's records then
# replicated (new request numbers and ids, times spread out) to SIZES total
# records, merged with /usr/bin/time. Not part of CI.
#
#   bash scripts/bench-merge.sh                 # 100k and 400k records
#   SIZES="1000000" bash scripts/bench-merge.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"100000 400000"}
IMGPERF=${IMGPERF:-}
if [ -z "$IMGPERF" ]; then
  cargo build --locked --release -q -p imgperf
  IMGPERF=$PWD/target/release/imgperf
fi
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
work=$(mktemp -d /tmp/imgperf-bench-merge.XXXXXX)
"$IMGPERF" serve-mock --port 0 --latency-ms 5 --slots 0 >"$work/mock.log" 2>&1 &
mock=$!
trap 'kill $mock 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening "$work/mock.log" && break; sleep 0.1; done
url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/mock.log" | head -1)
printf '{"text": "a red fox in snow"}\n{"text": "a lighthouse at dusk"}\n' >"$work/p.jsonl"
start=$(( $(date +%s) + 2 ))
for i in 0 1 2 3; do
  (cd "$work" && "$IMGPERF" profile -m m --tokenizer gpt2 --url "$url" --input-file p.jsonl \
    --extra-inputs size:64x64 --request-rate 200 --request-count 80 --random-seed 1 \
    --shard "$i/4" --start-at "$start" --artifact-dir base --ui none >/dev/null) &
done
wait $(jobs -p | grep -v "^$mock$") 2>/dev/null || true
for n in $SIZES; do
  rm -rf "$work/big"
  python3 - "$work/base" "$work/big" "$n" <<'EOF'
import json, os, shutil, sys
base, big, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
dirs = sorted(d for d in os.listdir(base) if "-shard" in d)
for d in dirs:
    src, dst = os.path.join(base, d), os.path.join(big, d)
    shutil.copytree(src, dst)
    lines = [json.loads(l) for l in open(os.path.join(src, "profile_export.jsonl"))]
    per = n // len(dirs)
    with open(os.path.join(dst, "profile_export.jsonl"), "w") as out:
        for k in range(per):
            r = lines[k % len(lines)]
            m = dict(r["metadata"])
            shift = (k // len(lines)) * 1_000_000
            for t in ("credit_issued_ns", "slot_acquired_ns", "request_start_ns", "request_ack_ns", "request_end_ns"):
                if m.get(t) is not None:
                    m[t] += shift
            m["session_num"] = k
            m["x_request_id"] = m["x_correlation_id"] = f"{d}-{k}"
            out.write(json.dumps({**r, "metadata": m}, separators=(",", ":")) + "\n")
EOF
  records=$(cat "$work"/big/*/profile_export.jsonl | wc -l)
  bytes=$(cat "$work"/big/*/profile_export.jsonl | wc -c)
  /usr/bin/time -f "%e %M" -o "$work/time" "$IMGPERF" merge "$work/big" -o "$work/big/merged" >/dev/null 2>"$work/merge.err"
  read -r secs rss <"$work/time"
  printf 'merge of %d records (%d MB of records): %.2f s, %.0f records/s, peak RSS %d MB\n' \
    "$records" $((bytes / 1000000)) "$secs" "$(echo "$records / $secs" | bc -l)" $((rss / 1024))
done
rm -rf "$work"

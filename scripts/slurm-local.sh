#!/usr/bin/env bash
# A real one-node Slurm on this machine, and a sharded imgperf benchmark on
# it: the proof that `srun -n N imgperf profile --shard auto` and
# `imgperf merge` work under Slurm. Not part of CI (it starts daemons and
# needs root).
#
#   sudo bash scripts/slurm-local.sh            # 4 tasks
#   TASKS=8 REQUESTS=400 sudo -E bash scripts/slurm-local.sh
#
# What it does: installs Debian's slurm-wlm and munge when missing; creates a
# munge key and a slurm.conf in a temporary directory (nothing under /etc is
# touched, ports 16817/16818); starts munged, slurmctld and slurmd; starts
# `imgperf serve-mock` with a truth log; runs `srun -n $TASKS imgperf profile
# --shard auto --start-at <in 5 s>`; merges the shards with `imgperf merge`;
# checks that the server saw every request exactly once; stops everything it
# started.
set -euo pipefail
cd "$(dirname "$0")/.."

TASKS=${TASKS:-4}
REQUESTS=${REQUESTS:-200}
RATE=${RATE:-40}
PORT=${PORT:-18931}

if [ "$(id -u)" -ne 0 ]; then
  echo "slurm-local.sh starts munged, slurmctld and slurmd as root: run it with sudo" >&2
  exit 1
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
IMGPERF=${IMGPERF:-}
if [ -z "$IMGPERF" ]; then
  cargo build --locked -q -p imgperf
  IMGPERF=$PWD/target/debug/imgperf
fi

work=$(mktemp -d /tmp/imgperf-slurm.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/slurmd.pid" ] && kill "$(cat "$work/slurmd.pid")" 2>/dev/null || true
  [ -f "$work/slurmctld.pid" ] && kill "$(cat "$work/slurmctld.pid")" 2>/dev/null || true
  [ -f "$work/munged.pid" ] && kill "$(cat "$work/munged.pid")" 2>/dev/null || true
  echo "== left in $work (logs, shards, merged run) =="
}
trap cleanup EXIT

echo "== munge: a fresh key, its own socket =="
mkdir -p "$work/munge" && chmod 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.socket" \
  --pid-file="$work/munged.pid" --log-file="$work/munged.log" --seed-file="$work/munge/seed"
for _ in $(seq 50); do [ -S "$work/munge/munge.socket" ] && break; sleep 0.1; done
munge -S "$work/munge/munge.socket" -n | unmunge -S "$work/munge/munge.socket" | grep STATUS

echo "== slurm: slurmctld + slurmd, one node =="
node=$(hostname -s)
mkdir -p "$work/state" "$work/spool"
cat >"$work/slurm.conf" <<EOF
ClusterName=imgperf-local
SlurmctldHost=$node
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=$node CPUs=$TASKS State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
export SLURM_CONF=$work/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 100); do
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)
  [ "$state" = idle ] && break
  sleep 0.2
done
sinfo -N -o '%N %T %c'
[ "$state" = idle ] || { echo "node not idle ($state):"; tail -20 "$work/slurmd.log" "$work/slurmctld.log"; exit 1; }

echo "== serve-mock with a truth log on 127.0.0.1:$PORT =="
"$IMGPERF" serve-mock --port "$PORT" --latency-ms 20 --slots 0 --truth-log "$work/truth.jsonl" \
  >"$work/mock.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/mock.log" && break; sleep 0.1; done
cat "$work/mock.log"

cat >"$work/prompts.jsonl" <<EOF
{"text": "A serene mountain landscape at sunset"}
{"text": "A futuristic city with flying cars"}
{"text": "A cute robot playing with a kitten"}
{"text": "A lighthouse on a cliff in a storm"}
EOF
start=$(( $(date +%s) + 5 ))
echo "== srun -n $TASKS imgperf profile --shard auto --start-at $start =="
(cd "$work" && srun -n "$TASKS" --job-name imgperf-shards "$IMGPERF" profile \
  --model black-forest-labs/FLUX.1-dev --tokenizer gpt2 --url "127.0.0.1:$PORT" \
  --input-file prompts.jsonl --extra-inputs size:512x512 \
  --request-rate "$RATE" --request-rate-mode poisson --request-count "$REQUESTS" \
  --random-seed 42 --shard auto --start-at "$start" \
  --artifact-dir "$work/artifacts" --ui none >"$work/srun.out" 2>"$work/srun.err")
grep -h "Artifacts:" "$work/srun.out"
for m in "$work"/artifacts/*-shard*/shard_manifest.json; do
  python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print("shard %d/%d engine=%s host=%s released=%d server_clock=%s" % (m["shard"]["index"], m["shard"]["count"], m["shard"]["engine"], m["host"], m["requests_released"], m["server_clock"]))' "$m"
done

echo "== imgperf merge =="
"$IMGPERF" merge "$work/artifacts" -o "$work/merged"

echo "== the server's truth log =="
python3 - "$work" "$REQUESTS" <<'EOF'
import json, sys, collections
work, n = sys.argv[1], int(sys.argv[2])
truth = [json.loads(l) for l in open(f"{work}/truth.jsonl")]
seen = collections.Counter(t["request_id"] for t in truth if t["path"] == "/v1/images/generations")
recs = [json.loads(l) for l in open(f"{work}/merged/profile_export.jsonl")]
ids = [r["metadata"]["x_request_id"] for r in recs]
nums = sorted(r["metadata"]["session_num"] for r in recs)
shards = collections.Counter(r["metadata"]["shard_index"] for r in recs)
ok = len(ids) == n and set(ids) == set(seen) and all(c == 1 for c in seen.values()) and nums == list(range(n))
print(f"merged records: {len(ids)}, per shard: {dict(sorted(shards.items()))}")
print(f"server saw {sum(seen.values())} requests, {len(seen)} distinct; session numbers 0..{n-1} each once: {nums == list(range(n))}")
print("OK: every request exactly once" if ok else "MISMATCH")
sys.exit(0 if ok else 1)
EOF

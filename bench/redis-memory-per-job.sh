#!/usr/bin/env bash
# Redis memory per finished echo job: N water echo jobs through noxd --redis-url, then, with
# every job completed, for each of two ways of submitting them (bench/roundtrip.py):
#  - in batches (POST /jobs/batch of 1000): each job carries its batch's id, indexed as the
#    reserved tag batch:<id> (GET /batches/{id}), an index entry of its own;
#  - one by one (POST /jobs): no batch, no tag;
#  - the key of one job (MEMORY USAGE ... SAMPLES 0: its record, layout 2), mean of a sample;
#  - its share of the shared keys: each index zset (idx:<state>:<engine>, idx:tag:*) and the
#    event stream (capped at --events-capacity), total / N;
#  - used_memory after - before, / N (everything, allocator overhead included).
# Goal (issue 7): <= 600 B per finished echo job.
#   bench/redis-memory-per-job.sh     env: N (100000), SAMPLE (200), NOXD
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${N:-100000} SAMPLE=${SAMPLE:-200}
start_redis
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
echo "redis-server $(redis-server --version | grep -o 'v=[0-9.]*') on 127.0.0.1:$REDIS_PORT; N=$N"
used() { rcli INFO memory | awk -F: '/^used_memory:/{print $2+0}'; }
usage() { rcli MEMORY USAGE "$1" SAMPLES 0 | awk '{print $1+0}'; }
prefix='nox:{nox}:'

measure() { # label batch-size
  local label=$1 batch=$2 before after out id record kinds shared shared_total b share total per_used
  rcli FLUSHALL >/dev/null
  start_noxd --slots 2 --redis-url "redis://127.0.0.1:$REDIS_PORT/0"
  before=$(used)
  out=$(REDIS_PORT=$REDIS_PORT python3 "$BENCH_DIR/roundtrip.py" "$NOX_URL" "$N" "$batch")
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d["states"].get("completed")==d["jobs"] else 1)' "$out" ||
    { echo "not all jobs completed: $out" >&2; exit 1; }
  after=$(used)
  # A sample of job ids from the index of completed echo jobs.
  mapfile -t ids < <(rcli ZRANGE "${prefix}idx:completed:echo" 0 $((SAMPLE - 1)))
  record=0
  for id in "${ids[@]}"; do
    record=$((record + $(usage "${prefix}job:$id")))
  done
  record=$((record / ${#ids[@]}))
  # Per-job keys we do not know of yet (a regression shows here): count keys by kind.
  kinds=$(rcli --scan --pattern "${prefix}*" | sed -E "s/^${prefix//\{/\\{}//; s/[:].*//" | sort | uniq -c | sort -rn | head -12 | awk '{printf "%s=%s ", $2, $1}')
  # The shared keys' bytes per job, the batches' tag indexes summed as one.
  shared=$(for key in $(rcli --scan --pattern "${prefix}*" | grep -v -E ":(job|artifacts|artifact|answer|op):"); do
    echo "$(sed -E 's/^idx:tag:batch:.*/idx:tag:batch:*/' <<<"${key#"$prefix"}") $(usage "$key")"
  done | awk -v n="$N" '{b[$1] += $2; t += $2} END{for (k in b) if (b[k] / n >= 0.5) printf "%s=%.0f ", k, b[k] / n; printf "| %.0f", t / n}')
  share=${shared##*| }
  shared=${shared%| *}
  total=$((record + share))
  per_used=$(awk -v a="$after" -v b="$before" -v n="$N" 'BEGIN{printf "%.0f", (a - b) / n}')
  echo "== $label: keys by kind: $kinds"
  echo "   per job, B: record $record + shared $share (${shared% }) = $total; used_memory delta / N: $per_used"
  figure "Redis bytes per finished echo job, $label (keys + share of indexes and events | used_memory/N)" \
    "$total | $per_used" "<= 600" "$(awk -v t="$total" 'BEGIN{print (t <= 600) ? "met" : "MISSED"}')"
  stop_pid "$NOX_PID"
}

measure "submitted one by one (POST /jobs)" 0
measure "submitted in batches of 1000 (POST /jobs/batch)" 1000

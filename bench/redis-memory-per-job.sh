#!/usr/bin/env bash
# Redis memory per finished echo job: N water echo jobs through noxd --redis-url (POST
# /jobs/batch of 1000, bench/roundtrip.py), then, with every job completed:
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
start_noxd --slots 2 --redis-url "redis://127.0.0.1:$REDIS_PORT/0"
used() { rcli INFO memory | awk -F: '/^used_memory:/{print $2+0}'; }
before=$(used)
out=$(REDIS_PORT=$REDIS_PORT python3 "$BENCH_DIR/roundtrip.py" "$NOX_URL" "$N" 1000)
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d["states"].get("completed")==d["jobs"] else 1)' "$out" ||
  { echo "not all jobs completed: $out" >&2; exit 1; }
after=$(used)

prefix='nox:{nox}:'
usage() { rcli MEMORY USAGE "$1" SAMPLES 0 | awk '{print $1+0}'; }
# A sample of job ids from the index of completed echo jobs.
mapfile -t ids < <(rcli ZRANGE "${prefix}idx:completed:echo" 0 $((SAMPLE - 1)))
record=0
for id in "${ids[@]}"; do
  record=$((record + $(usage "${prefix}job:$id")))
done
record=$((record / ${#ids[@]}))
# Per-job keys we do not know of yet (a regression shows here): count keys by kind.
kinds=$(rcli --scan --pattern "${prefix}*" | sed -E "s/^${prefix//\{/\\{}//; s/[:].*//" | sort | uniq -c | sort -rn | head -12 | awk '{printf "%s=%s ", $2, $1}')
shared=""
shared_total=0
for key in $(rcli --scan --pattern "${prefix}*" | grep -v -E ":(job|artifacts|artifact|answer|op):" ); do
  b=$(usage "$key")
  shared_total=$((shared_total + b))
  shared+="${key#"$prefix"}=$(awk -v b="$b" -v n="$N" 'BEGIN{printf "%.0f", b / n}') "
done
share=$(awk -v b="$shared_total" -v n="$N" 'BEGIN{printf "%.0f", b / n}')
total=$((record + share))
per_used=$(awk -v a="$after" -v b="$before" -v n="$N" 'BEGIN{printf "%.0f", (a - b) / n}')
echo "keys by kind: $kinds"
echo "per job, B: record $record + shared $share ($shared) = $total; used_memory delta / N: $per_used"
figure "Redis bytes per finished echo job (keys + share of indexes and events | used_memory/N)" "$total | $per_used" "<= 600" \
  "$(awk -v t="$total" 'BEGIN{print (t <= 600) ? "met" : "MISSED"}')"

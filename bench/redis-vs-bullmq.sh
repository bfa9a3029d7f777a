#!/usr/bin/env bash
# Redis store: echo round trip (HTTP submit -> completed) of noxd --redis-url against BullMQ
# on the same redis-server (a temp instance on a free port, no persistence), side by side,
# alternating ROUNDS times, medians. Goal: Nox >= 2x BullMQ's round-trip jobs/s.
#  - BullMQ: ../shared/anchors/bullmq/bench.mjs N C, copied to a cache dir outside the repo
#    (the anchor folder is read-only) and `npm install`ed there once: addBulk of 1000
#    sequentially, then one Worker of concurrency C drains.
#  - Nox: bench/roundtrip.py: POST /jobs/batch of 1000 water echo specs, sequentially on
#    one keep-alive connection, until /health shows the queue empty (Nox's two slots run
#    while submits go on; echo jobs complete in-process).
# Also, for Nox: Redis commands per job (INFO commandstats delta / jobs; commands run inside
# Lua scripts count too; noxd's idle background rate is measured and subtracted), top-level
# commands per job (MONITOR over a 200-job batch), bytes per job record (MEMORY USAGE ... SAMPLES 0 of
# nox:{nox}:job:<id> keys, mean of a sample) and used_memory per job (all keys), Redis CPU per job.
#   bench/redis-vs-bullmq.sh     env: N (10000), C (50), ROUNDS (3)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${N:-10000} C=${C:-50} ROUNDS=${ROUNDS:-3}
if ! redis_available; then
  echo "this noxd build has no Redis store yet"
  figure "Redis round trip nox/bullmq" "n/a (no Redis store in build)" ">= 2.0" "not measured"
  exit 0
fi

# BullMQ, installed once into a cache dir outside the repo and outside ../shared
bull=${BULLMQ_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nox-bench/bullmq}
if [ ! -d "$bull/node_modules/bullmq" ] || ! cmp -s "$ANCHORS/bullmq/bench.mjs" "$bull/bench.mjs"; then
  mkdir -p "$bull"
  cp "$ANCHORS/bullmq/bench.mjs" "$ANCHORS/bullmq/package.json" "$ANCHORS/bullmq/package-lock.json" "$bull/"
  chmod u+w "$bull"/*
  (cd "$bull" && npm install --no-audit --no-fund >"$BENCH_TMP/npm.log" 2>&1) ||
    { echo "npm install of the BullMQ anchor failed: $(tail -5 "$BENCH_TMP/npm.log")" >&2; exit 1; }
fi

start_redis
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
cmd_total() { rcli INFO commandstats | awk -F'[=,:]' '/^cmdstat_/{s += $3} END{print s}'; }
echo "redis-server $(redis-server --version | grep -o 'v=[0-9.]*') on 127.0.0.1:$REDIS_PORT; load average $(cut -d' ' -f1 /proc/loadavg)"

start_noxd --slots 2 --redis-url "redis://127.0.0.1:$REDIS_PORT/0"
echo "$(head -1 "$(dirname "$NOX_LOG")/stdout")"

bull_rt=() nox_rt=() nox_add=() bull_add=()
for ((i = 1; i <= ROUNDS; i++)); do
  out=$(cd "$bull" && REDIS_PORT=$REDIS_PORT timeout 300 node bench.mjs "$N" "$C")
  echo "   round $i bullmq: $out"
  bull_rt+=("$(grep -o 'round trip [0-9]*' <<<"$out" | awk '{print $3}')")
  bull_add+=("$(grep -o 'add [0-9]*' <<<"$out" | awk '{print $2}')")

  out=$(REDIS_PORT=$REDIS_PORT NOX_PID=$NOX_PID python3 "$BENCH_DIR/roundtrip.py" "$NOX_URL" "$N" 1000)
  echo "   round $i nox:    $out"
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d["states"].get("completed")==d["jobs"] else 1)' "$out" ||
    { echo "not all Nox jobs completed" >&2; exit 1; }
  nox_rt+=("$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["roundtrip_per_s"]))' "$out")")
  nox_add+=("$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["add_per_s"]))' "$out")")
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["redis_commands"], d["redis_cpu_s"], d["redis_used_memory"], d["roundtrip_s"], d["noxd_cpu_s"])' \
    "$out" >>"$BENCH_TMP/nox-redis-stats"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
B=$(median "${bull_rt[@]}") X=$(median "${nox_rt[@]}")
ratio=$(awk -v x="$X" -v b="$B" 'BEGIN{printf "%.2f", x/b}')
echo "== round trip, median of $ROUNDS: nox $X jobs/s (add ${nox_add[*]}), bullmq $B jobs/s (add ${bull_add[*]}), ratio $ratio"
figure "Redis echo round trip jobs/s, N=$N (nox | bullmq C=$C)" "$X | $B" "" ""
figure "Redis round trip ratio nox/bullmq" "$ratio" ">= 2.0" "$(awk -v r="$ratio" 'BEGIN{print (r >= 2) ? "met" : "MISSED"}')"

# noxd's background commands when idle (heartbeats, lease checks, blocking reads)
c0=$(cmd_total); sleep 5; c1=$(cmd_total)
idle_rate=$(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.1f", (b - a - 1) / 5}')   # minus our INFO
read -r cmds cpu mem secs noxcpu < <(tail -1 "$BENCH_TMP/nox-redis-stats")
noxcpu_job=$(awk -v c="$noxcpu" -v n="$N" 'BEGIN{printf "%.1f", c * 1e6 / n}')
busy=$(awk -v c="$cpu" -v x="$noxcpu" -v s="$secs" 'BEGIN{printf "redis-server %.0f%%, noxd %.0f%% of a core", 100 * c / s, 100 * x / s}')
per_job=$(awk -v c="$cmds" -v n="$N" -v r="$idle_rate" -v s="$secs" 'BEGIN{printf "%.1f", (c - r * s) / n}')
cpu_job=$(awk -v c="$cpu" -v n="$N" 'BEGIN{printf "%.1f", c * 1e6 / n}')
mem_job=$(awk -v m="$mem" -v n="$N" 'BEGIN{printf "%.0f", m / n}')
echo "== Redis per Nox job (last round, first POST -> queue empty, /health polls every 5 ms included): $per_job commands" \
  "(commandstats, incl. inside Lua; idle background $idle_rate/s subtracted), redis CPU $cpu_job us, noxd CPU $noxcpu_job us," \
  "used_memory +$mem_job bytes; busy over the round trip: $busy"

# top-level commands per job: MONITOR while one batch of 200 jobs runs
rcli MONITOR >"$BENCH_TMP/monitor.txt" 2>/dev/null &
mon=$!
track_pid "$mon"
sleep 0.3
REDIS_PORT=$REDIS_PORT python3 "$BENCH_DIR/roundtrip.py" "$NOX_URL" 200 200 >/dev/null
sleep 0.3
stop_pid "$mon"
# only what lies between roundtrip.py's two INFO commands (submit -> queue empty)
awk '/"(INFO|info)" "all"/{n++; next} n==1' "$BENCH_TMP/monitor.txt" >"$BENCH_TMP/monitor-run.txt"
top=$(grep -c '\[0 127\.0\.0\.1:' "$BENCH_TMP/monitor-run.txt" || true)
lua=$(grep -c '\[0 lua\]' "$BENCH_TMP/monitor-run.txt" || true)
evalsha=$(grep '\[0 127\.0\.0\.1:' "$BENCH_TMP/monitor-run.txt" | grep -ci '"evalsha"' || true)
echo "== MONITOR over one batch of 200 jobs (submit -> queue empty, incl. /health polls): $top client commands ($evalsha EVALSHA), $lua inside Lua"
grep '\[0 127\.0\.0\.1:' "$BENCH_TMP/monitor-run.txt" | awk '{print tolower($4)}' | sort | uniq -c | sort -rn | head -12 | sed 's/^/     /'

# bytes per job record
keys=$(rcli --scan --pattern 'nox:{nox}:job:*' | awk 'NR <= 200')
nkeys=$(wc -l <<<"$keys")
bytes=$(while read -r k; do rcli MEMORY USAGE "$k" SAMPLES 0; done <<<"$keys" | awk '{s += $1} END{printf "%.0f", s / NR}')
slen=$(while read -r k; do rcli STRLEN "$k"; done <<<"$keys" | awk '{s += $1} END{printf "%.0f", s / NR}')
echo "== MEMORY USAGE (SAMPLES 0) of $nkeys job records (nox:{nox}:job:<id>, layout 2): mean $bytes bytes, of which the MessagePack value is $slen"

figure "Redis commands per echo job (commandstats, incl. Lua-internal)" "$per_job" "" ""
figure "Redis client commands per echo job (MONITOR, 200-job batch)" "$(awk -v t="$top" 'BEGIN{printf "%.2f", t/200}') ($(awk -v e="$evalsha" 'BEGIN{printf "%.2f", e/200}') EVALSHA)" "" ""
figure "Redis bytes per job record (MEMORY USAGE job:<id>)" "$bytes B" "" ""
figure "Redis used_memory per echo job (all keys incl. events stream)" "$mem_job B" "" ""
figure "Redis CPU per echo job | noxd CPU per echo job (Redis store)" "$cpu_job us | $noxcpu_job us ($busy)" "" ""

#!/usr/bin/env bash
# Runs every Nox benchmark side by side in one run on this machine and prints one table of
# figures (Markdown). Loopback only; each step is bounded by a timeout and stops what it
# started (each script has its own EXIT trap; this one stops the running step on INT/TERM).
# The full output goes to $LOG (default /tmp/nox-bench-<time>.log).
#   bench/run-all.sh                env: STEPS="status https echo xtb redis sse" (any subset),
#                                   NOXD (default build/server/noxd); each script's own env too
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
LOG=${LOG:-/tmp/nox-bench-$(date +%Y%m%d-%H%M%S).log}
STEPS=${STEPS:-status https echo xtb redis sse}
: >"$LOG"

current=
stop_current() { [ -n "$current" ] && kill -TERM "$current" 2>/dev/null && wait "$current" 2>/dev/null; }
trap 'stop_current; exit 130' INT TERM

step() { # name timeout-seconds command...
  local name=$1 limit=$2 rc
  shift 2
  echo "### $name: $* (at most ${limit}s, started $(date +%T), load average $(cut -d' ' -f1 /proc/loadavg))" | tee -a "$LOG"
  timeout --signal=TERM --kill-after=15 "$limit" "$@" > >(tee -a "$LOG") 2>&1 &
  current=$!
  wait "$current"
  rc=$?
  current=
  [ "$rc" = 0 ] || printf 'FIGURE\t%s\tstep failed (exit %s%s)\t\tERROR\n' "$name" "$rc" \
    "$([ "$rc" = 124 ] && echo ', timed out')" | tee -a "$LOG"
  sleep 1
}

echo "Nox benchmarks $(date -u +%FT%TZ); $(nproc) cores; $(git -C "$here/.." log -1 --format='commit %h' 2>/dev/null);" \
  "noxd $(stat -c '%y' "${NOXD:-$here/../build/server/noxd}" | cut -d. -f1)" | tee -a "$LOG"
for s in $STEPS; do
  case $s in
    status) step "status vs nginx" 400 "$here/status-vs-nginx.sh" ;;
    https) step "status over https" 200 "$here/status-https.sh" ;;
    echo) step "echo throughput" 400 python3 "$here/echo-throughput.py" ;;
    xtb) step "xtb vs direct" 900 "$here/xtb-vs-direct.sh" ;;
    redis) step "redis vs bullmq" 600 "$here/redis-vs-bullmq.sh" ;;
    sse) step "sse fan-out" 620 "$here/sse-fanout/run.sh" ;;
    *) echo "unknown step $s" >&2 ;;
  esac
done

echo
echo "| figure | value | goal | verdict |"
echo "|---|---|---|---|"
awk -F"\t" '$1 == "FIGURE" {gsub(/\|/, "\\|"); printf "| %s | %s | %s | %s |\n", $2, $3, $4, $5}' "$LOG"
echo
echo "full output: $LOG"

#!/usr/bin/env bash
# SSE fan-out: N subscribers on GET /events of one noxd (memory store, --max-connections
# 19000), ramped over LEVELS, under a stream of ~100 job transitions/s (33.3 echo jobs/s x 3
# transitions); delay p50/p99 per event, noxd RSS per idle subscriber, noxd/loop CPU, client CPU.
# The load client is Node (fanout.mjs + subscriber.mjs: raw sockets, one event loop per
# process, up to 4500 streams per process from 127.0.0.2..). Bounded: at most about SECS + 2 DRAIN + 10 s per level.
#   bench/sse-fanout/run.sh     env: LEVELS (1000,5000,18000), RATE (33.3), SECS (15), DRAIN (15)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ulimit -n "$(ulimit -Hn)"   # the hard limit (20000 here) for noxd and each client process
exec timeout --signal=TERM --kill-after=10 600 node "$here/fanout.mjs" \
  --noxd "${NOXD:-$here/../../build/server/noxd}" --levels "${LEVELS:-1000,5000,18000}" \
  --rate "${RATE:-33.3}" --secs "${SECS:-15}" --drain "${DRAIN:-15}"

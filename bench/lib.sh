# Shared helpers for the bench/ scripts (source it; not run on its own).
# - start_noxd ARGS...   starts noxd on a free loopback port with its own temp data dir;
#                        sets NOX_PID, NOX_URL; every process started here is stopped by
#                        the EXIT trap (SIGTERM, then SIGKILL after 5 s).
# - start_redis          starts redis-server on a free port (never 6379) in a temp dir,
#                        no persistence; sets REDIS_PID, REDIS_PORT.
# - redis_available      true when this noxd build has the Redis store wired in.
# - figure NAME VALUE GOAL VERDICT   prints one machine-readable result line (run-all.sh
#                        collects them into the table).
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
NOXD=${NOXD:-$REPO_DIR/build/server/noxd}
ANCHORS=${ANCHORS:-$REPO_DIR/../shared/anchors}
WATER_XYZ_JSON='3\nwater\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n'

BENCH_TMP=$(mktemp -d /tmp/nox-bench.XXXXXX)
_bench_pids=()

bench_cleanup() {
  local pid
  for pid in "${_bench_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${_bench_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

track_pid() { _bench_pids+=("$1"); }

# Stops one process started here (SIGTERM, SIGKILL after 5 s) and forgets it.
stop_pid() {
  local pid=$1 keep=() p
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${_bench_pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  _bench_pids=("${keep[@]}")
}

start_noxd() {
  local dir
  dir=$(mktemp -d "$BENCH_TMP/noxd.XXXX")
  "$NOXD" --listen 127.0.0.1:0 --data-dir "$dir/data" --scratch-dir "$dir" --log-level warn "$@" \
    >"$dir/stdout" 2>"$dir/stderr" &
  NOX_PID=$!
  track_pid "$NOX_PID"
  NOX_LOG=$dir/stderr
  for _ in $(seq 100); do
    NOX_URL=$(head -1 "$dir/stdout" 2>/dev/null | grep -o 'https\?://127\.0\.0\.1:[0-9]*' || true)
    [ -n "$NOX_URL" ] && return 0
    kill -0 "$NOX_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "noxd did not start: $(cat "$dir/stdout" "$dir/stderr")" >&2
  return 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_redis() {
  local dir
  dir=$(mktemp -d "$BENCH_TMP/redis.XXXX")
  REDIS_PORT=$(free_port)
  [ "$REDIS_PORT" = 6379 ] && REDIS_PORT=$(free_port)
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$dir" --save '' --appendonly no \
    --logfile "$dir/redis.log" --daemonize no &
  REDIS_PID=$!
  track_pid "$REDIS_PID"
  for _ in $(seq 50); do
    redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.1
  done
  echo "redis-server did not start" >&2
  return 1
}

# The Redis store is usable when noxd does not refuse the URL outright (a build without it
# says "not part of this build"); a closed port must give a connection error instead.
redis_available() {
  local out
  out=$(timeout 5 "$NOXD" --listen 127.0.0.1:0 --redis-url redis://127.0.0.1:1/0 2>&1 </dev/null || true)
  ! grep -qi 'not part of this build' <<<"$out"
}

# Submits one echo job and prints its id.
# With AUTH_HEADER set ("X-API-Key: nox_..."), it and wait_finished send that credential.
submit_echo() {
  curl -sf -X POST "$1/jobs" -H 'content-type: application/json' ${AUTH_HEADER:+-H "$AUTH_HEADER"} \
    -d "{\"engine\":\"echo\",\"task\":\"energy\",\"method\":\"gfn2\",\"molecule\":{\"xyz\":\"$WATER_XYZ_JSON\"}}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])'
}

# Waits until a job reaches a finished state (10 s at most).
wait_finished() {
  local state
  for _ in $(seq 200); do
    state=$(curl -sf ${AUTH_HEADER:+-H "$AUTH_HEADER"} "$1/jobs/$2/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
    case $state in completed | failed | cancelled) return 0 ;; esac
    sleep 0.05
  done
  return 1
}

figure() { printf 'FIGURE\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4"; }

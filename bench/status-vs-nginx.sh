#!/usr/bin/env bash
# GET /jobs/{id}/status on noxd against nginx serving the same bytes as a static file,
# side by side (../shared/anchors/nginx-static/compare.sh: wrk -t1 -c32, ROUNDS rounds of
# SECS seconds each, alternating, medians). Memory store (goal >= 1.0x nginx); the memory
# store as a lab would run it, with an API key on every request, the access log written and
# /metrics scraped every second (issue 8's goal: >= 1.2x); then the Redis store when this
# build has it (goal >= 0.7x). Loopback only.
#   bench/status-vs-nginx.sh            env: ROUNDS (3), SECS (10), SKIP_REDIS=1
set -euo pipefail
source "$(dirname "$0")/lib.sh"
export ROUNDS=${ROUNDS:-3} SECS=${SECS:-10} CONNS=32
compare=$ANCHORS/nginx-static/compare.sh

run_one() { # label goal noxd-args...
  local label=$1 goal=$2 id out n g r verdict
  shift 2
  start_noxd --slots 2 "$@"
  id=$(submit_echo "$NOX_URL")
  wait_finished "$NOX_URL" "$id"
  echo "== $label: $NOX_URL/jobs/$id/status ($(curl -s ${AUTH_HEADER:+-H "$AUTH_HEADER"} "$NOX_URL/jobs/$id/status" | wc -c) bytes)"
  local script=$compare
  if ! curl -sfI ${AUTH_HEADER:+-H "$AUTH_HEADER"} "$NOX_URL/jobs/$id/status" >/dev/null; then
    # compare.sh reads the content type with a HEAD request; noxd answers HEAD with 405, so
    # run a temp copy that reads the headers of a GET instead (nothing else changed).
    echo "   (noxd refuses HEAD: $(curl -sI "$NOX_URL/jobs/$id/status" | head -1 | tr -d '\r'); using a copy of compare.sh that GETs the headers)"
    script=$BENCH_TMP/compare-get.sh
    sed 's/curl -sfI "\$url"/curl -sf -o \/dev\/null -D - "$url"/' "$compare" >"$script"
    chmod +x "$script"
    grep -q -- '-D - "$url"' "$script" || { echo "could not adapt compare.sh" >&2; return 1; }
  fi
  local scraper=""
  if [ -n "${SCRAPE:-}" ]; then  # a Prometheus scraping every second (its default is 15 s)
    (while sleep 1; do curl -sf ${AUTH_HEADER:+-H "$AUTH_HEADER"} "$NOX_URL/metrics" >/dev/null || true; done) &
    scraper=$!
    track_pid "$scraper"
  fi
  if [ -n "${NGINX_ACCESS_LOG:-}" ]; then
    # Context, not the goal: nginx writing its own access log too (the anchor turns it off).
    sed 's|http { access_log off;|http { access_log $dir/logs/access.log;|' "$script" >"$BENCH_TMP/compare-logged.sh"
    chmod +x "$BENCH_TMP/compare-logged.sh"
    grep -q 'logs/access.log' "$BENCH_TMP/compare-logged.sh" || { echo "could not adapt compare.sh" >&2; return 1; }
    script=$BENCH_TMP/compare-logged.sh
  fi
  out=$(HEADER="${AUTH_HEADER:-}" NGINX_PORT=$(free_port) "$script" "$NOX_URL/jobs/$id/status")
  [ -n "$scraper" ] && stop_pid "$scraper"
  echo "$out"
  n=$(awk '/^nox /{print $NF}' <<<"$out" | tr -d ')')
  g=$(awk '/^nginx /{print $NF}' <<<"$out" | tr -d ')')
  r=$(awk '/^ratio/{print $NF}' <<<"$out")
  verdict=$(awk -v r="$r" -v g="$goal" 'BEGIN{print (r >= g) ? "met" : "MISSED"}')
  figure "status req/s, $label (nox | nginx)" "$n | $g" "" ""
  figure "status ratio nox/nginx, $label" "$r" ">= $goal" "$verdict"
  stop_pid "$NOX_PID"
}

run_one "memory store" 1.0
if [ "${SKIP_SECURED:-0}" != 1 ]; then
  "$NOXD" keys add bench --scopes compute:read,compute:write,admin --keys-file "$BENCH_TMP/keys" \
    >"$BENCH_TMP/key" 2>/dev/null
  AUTH_HEADER="X-API-Key: $(cat "$BENCH_TMP/key")" SCRAPE=1 \
    run_one "memory store, API key + access log + /metrics" 1.2 --keys-file "$BENCH_TMP/keys"
  AUTH_HEADER="X-API-Key: $(cat "$BENCH_TMP/key")" SCRAPE=1 NGINX_ACCESS_LOG=1 \
    run_one "memory store, API key + access log + /metrics, nginx logging too (context)" 1.2 \
    --keys-file "$BENCH_TMP/keys"
fi
if [ "${SKIP_REDIS:-0}" = 1 ]; then
  figure "status ratio nox/nginx, redis store" "skipped" ">= 0.7" "not run"
elif redis_available; then
  start_redis
  run_one "redis store" 0.7 --redis-url "redis://127.0.0.1:$REDIS_PORT/0"
else
  echo "== redis store: this noxd build has no Redis store yet"
  figure "status ratio nox/nginx, redis store" "n/a (no Redis store in build)" ">= 0.7" "not measured"
fi

#!/usr/bin/env bash
# GET /jobs/{id}/status over HTTPS against plain HTTP: two noxd of the same build side by
# side, wrk -t1 -c32 on each in turn, ROUNDS rounds of SECS seconds, medians. Connections are
# kept alive, so a handshake is paid once per connection: this is the price of TLS records
# (AES-GCM on TLS 1.3) on a small response, and of the handshake when it is not amortized
# (curl, a new connection per request, N times). Loopback only.
#   bench/status-https.sh            env: ROUNDS (3), SECS (8), HANDSHAKES (200)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-3} SECS=${SECS:-8} HANDSHAKES=${HANDSHAKES:-200}

tls=$BENCH_TMP/tls
mkdir -p "$tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=nox-bench \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$tls/key.pem" -out "$tls/cert.pem" 2>/dev/null
export CURL_CA_BUNDLE=$tls/cert.pem  # curl (submit_echo, wait_finished) trusts the test certificate

start_noxd --slots 2
plain=$NOX_URL
plain_id=$(submit_echo "$plain")
wait_finished "$plain" "$plain_id"
start_noxd --slots 2 --tls-cert-file "$tls/cert.pem" --tls-key-file "$tls/key.pem"
secure=$NOX_URL
secure_id=$(submit_echo "$secure")
wait_finished "$secure" "$secure_id"
echo "== $plain/jobs/$plain_id/status against $secure/jobs/$secure_id/status"

rps() { wrk -t1 -c32 -d"${SECS}s" "$1" | awk '/Requests\/sec/{print $2}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
http=() https=()
for ((i = 0; i < ROUNDS; i++)); do
  http+=("$(rps "$plain/jobs/$plain_id/status")")
  https+=("$(rps "$secure/jobs/$secure_id/status")")
done
h=$(median "${http[@]}")
s=$(median "${https[@]}")
echo "http  req/s: ${http[*]} (median $h)"
echo "https req/s: ${https[*]} (median $s)"
ratio=$(awk -v s="$s" -v h="$h" 'BEGIN{printf "%.2f", s/h}')
figure "status req/s over keep-alive, http | https" "$h | $s" "" ""
figure "status https/http throughput" "$ratio" "" ""

# A new connection (and, over TLS, a full handshake) per request.
per_request() { # url
  local began ended
  began=$(date +%s.%N)
  for ((i = 0; i < HANDSHAKES; i++)); do curl -sf -o /dev/null "$1"; done
  ended=$(date +%s.%N)
  awk -v b="$began" -v e="$ended" -v n="$HANDSHAKES" 'BEGIN{printf "%.2f", (e - b) * 1000 / n}'
}
ph=$(per_request "$plain/health")
ps=$(per_request "$secure/health")
echo "one curl per request: http ${ph} ms, https ${ps} ms (curl's own start-up included)"
figure "GET /health, new connection each (curl), http | https ms" "$ph | $ps" "" ""

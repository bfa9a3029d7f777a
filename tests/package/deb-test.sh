#!/usr/bin/env bash
# The .deb, end to end (issue 8): build it with cpack, install it with dpkg -i, run the
# installed noxd (--version, --check-config), start it with a keys file and submit a job with
# a key, then remove the package. Needs root (dpkg); exits 77 (ctest: skipped) otherwise.
#   tests/package/deb-test.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: deb-test.sh BUILD_DIR}
[ "$(id -u)" = 0 ] || { echo "not root: the package is not installed here (skipped)"; exit 77; }
command -v dpkg >/dev/null || { echo "no dpkg (skipped)"; exit 77; }
tmp=$(mktemp -d)
noxd_pid=""
cleanup() {
  [ -n "$noxd_pid" ] && kill "$noxd_pid" 2>/dev/null && wait "$noxd_pid" 2>/dev/null || true
  dpkg -r nox >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

(cd "$build" && cpack -G DEB -B "$tmp/pkg" >/dev/null) || fail "cpack did not build the package"
deb=$(ls "$tmp"/pkg/nox_*.deb)
echo "built $(basename "$deb") ($(du -h "$deb" | cut -f1))"
[[ $(dpkg-deb -f "$deb" Depends) == *xtb* ]] || fail "the package does not depend on xtb"
[[ $(dpkg-deb -f "$deb" Suggests) == redis-server ]] || fail "the package does not suggest redis-server"
dpkg -i "$deb" >/dev/null || fail "dpkg -i failed"
[[ $(dpkg-query -W -f='${Conffiles}' nox) == *"/etc/nox/noxd.conf"* ]] || fail "/etc/nox/noxd.conf is not a conffile"
for f in /usr/bin/noxd /usr/lib/systemd/system/noxd.service /usr/lib/systemd/system/noxd.socket \
         /usr/share/nox/www/index.html /usr/lib/sysusers.d/nox.conf /usr/lib/tmpfiles.d/nox.conf; do
  [ -e "$f" ] || fail "$f is not installed"
done
grep -q "ExecStart=/usr/bin/noxd" /usr/lib/systemd/system/noxd.service || fail "the unit does not run /usr/bin/noxd"
getent passwd nox >/dev/null || fail "postinst did not create the nox user"

[[ $(/usr/bin/noxd --version) == "noxd "* ]] || fail "noxd --version"
/usr/bin/noxd --check-config --config /etc/nox/noxd.conf >"$tmp/check" || fail "noxd --check-config: $(cat "$tmp/check")"
grep -q "configuration OK" "$tmp/check" || fail "--check-config did not say OK"

key=$(/usr/bin/noxd keys add lab --scopes compute:read,compute:write --keys-file "$tmp/keys" 2>/dev/null)
/usr/bin/noxd --listen 127.0.0.1:0 --keys-file "$tmp/keys" --data-dir "$tmp/data" --scratch-dir "$tmp" \
  --slots 1 >"$tmp/stdout" 2>"$tmp/stderr" &
noxd_pid=$!
url=""
for _ in $(seq 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$tmp/stdout" 2>/dev/null | head -1 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || fail "the installed noxd did not start: $(cat "$tmp/stdout" "$tmp/stderr")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/jobs")" = 401 ] || fail "the installed noxd answers without a key"
id=$(curl -sf -X POST "$url/jobs" -H "X-API-Key: $key" -H 'content-type: application/json' \
  -d '{"engine":"echo","task":"energy","molecule":{"xyz":"3\nwater\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n"}}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])') || fail "submitting with the key failed"
state=""
for _ in $(seq 100); do
  state=$(curl -sf -H "X-API-Key: $key" "$url/jobs/$id/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
  [ "$state" = completed ] && break
  sleep 0.1
done
[ "$state" = completed ] || fail "the job is $state, not completed"
[[ $(curl -sf "$url/") == *"<title>"* ]] || fail "the dashboard is not served from /usr/share/nox/www"
echo "ok: installed, checked its config, ran job $id with a key, served the dashboard"

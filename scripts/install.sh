#!/usr/bin/env bash
# Installs a built noxd as a systemd service on this host (run as root):
# binary, dashboard files, config (kept if present), the nox user, the unit.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x build/server/noxd ]] || scripts/build.sh
install -m 0755 build/server/noxd /usr/local/bin/noxd
mkdir -p /usr/local/share/nox/www/node_modules/3dmol/build /usr/local/share/nox/www/node_modules/redoc/bundles
cp -r www/*.html www/*.js www/*.css www/openapi.json /usr/local/share/nox/www/ 2>/dev/null || true
[[ -f www/node_modules/3dmol/build/3Dmol-min.js ]] && \
  install -m 0644 www/node_modules/3dmol/build/3Dmol-min.js /usr/local/share/nox/www/node_modules/3dmol/build/
[[ -f www/node_modules/redoc/bundles/redoc.standalone.js ]] && \
  install -m 0644 www/node_modules/redoc/bundles/redoc.standalone.js /usr/local/share/nox/www/node_modules/redoc/bundles/
install -m 0644 README.md /usr/local/share/nox/README.md
mkdir -p /etc/nox
[[ -f /etc/nox/noxd.conf ]] || install -m 0644 conf/noxd.conf /etc/nox/noxd.conf
install -m 0644 systemd/nox.sysusers.conf /usr/lib/sysusers.d/nox.conf
install -m 0644 systemd/nox.tmpfiles.conf /usr/lib/tmpfiles.d/nox.conf
systemd-sysusers /usr/lib/sysusers.d/nox.conf 2>/dev/null ||
  id nox >/dev/null 2>&1 || useradd --system --home-dir /var/lib/nox --shell /usr/sbin/nologin nox
systemd-tmpfiles --create /usr/lib/tmpfiles.d/nox.conf 2>/dev/null || true
install -m 0644 systemd/noxd.service /etc/systemd/system/noxd.service
install -m 0644 systemd/noxd.socket /etc/systemd/system/noxd.socket
systemctl daemon-reload
echo "installed; start with: systemctl enable --now noxd (or noxd.socket for socket activation)"

#!/usr/bin/env bash
# Installs what Nox needs to build, run and test on Debian 12 (only what is missing).
#   scripts/install-deps.sh          build + run (compiler, Boost 1.81, hiredis, xtb, mopac, redis)
#   scripts/install-deps.sh --test   also test tools: chromium, nginx, wrk, node packages
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake ninja-build ccache pkg-config dpkg-dev libboost1.81-dev libboost-json1.81-dev
          libboost-test1.81-dev libhiredis-dev libssl-dev libjwt-dev libsystemd-dev libzstd-dev libjemalloc-dev libopenbabel-dev python3-rdkit redis-server xtb mopac curl)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(chromium nginx-light wrk prometheus openssl)  # promtool checks /metrics; openssl makes test certificates
  # Node may come from elsewhere than Debian (it does on these machines): keep it then.
  command -v npm >/dev/null || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=(); [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The dashboard's 3Dmol.js (served by noxd) and the browser tests' node packages.
if command -v npm >/dev/null && [[ -f www/package.json ]] && [[ ! -d www/node_modules || www/package.json -nt www/node_modules ]]; then
  (cd www && npm install --no-audit --no-fund --loglevel=error)
fi

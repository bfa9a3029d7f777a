#!/usr/bin/env bash
# Installs what is missing, builds, and starts noxd (in-memory store, 127.0.0.1:8080).
# Any argument is passed to noxd, e.g. scripts/run.sh --listen 127.0.0.1:9000 --slots 4
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/server/noxd "$@"

#!/usr/bin/env bash
# Four concurrent 50 MiB artifact downloads on each store: probe p99 and noxd RSS growth
# (goals < 20 ms and < 20 MiB). See bench/artifact-downloads.py for what is measured.
#   bench/artifact-downloads.sh        env: NOXD, SIZE_MIB (50), ROUNDS (3), SKIP_REDIS=1
set -euo pipefail
exec python3 "$(dirname "$0")/artifact-downloads.py" "$@"

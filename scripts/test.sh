#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest:
# unit tests, integration tests (real noxd, redis-server, xtb) and the browser tests.
#   NOX_SANITIZE=address scripts/test.sh   the same under ASan+UBSan (build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
sanitize=${NOX_SANITIZE:-}
build_dir=${NOX_BUILD_DIR:-build${sanitize:+-$sanitize}}
NOX_BUILD_DIR=$build_dir scripts/build.sh -DNOX_SANITIZE="$sanitize"
# Leaks inside Open Babel are its own (scripts/lsan-suppressions.txt says which).
if [[ -n "$sanitize" ]]; then
  export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan-suppressions.txt${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fi
cd "$build_dir"
ctest --output-on-failure --timeout 1800 "$@"

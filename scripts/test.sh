#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest:
# unit tests, integration tests (real noxd, redis-server, xtb) and the browser tests.
#   NOX_SANITIZE=address scripts/test.sh   the same under ASan+UBSan (build-address/)
#   NOX_INTEGRATION_TESTS_BINARY=build/tests/nox_integration_tests NOX_SANITIZE=address scripts/test.sh
#     runs that (plain) integration binary against the sanitized noxd instead of building one
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
sanitize=${NOX_SANITIZE:-}
build_dir=${NOX_BUILD_DIR:-build${sanitize:+-$sanitize}}
integration_binary=${NOX_INTEGRATION_TESTS_BINARY:+$(realpath "$NOX_INTEGRATION_TESTS_BINARY")}
NOX_BUILD_DIR=$build_dir scripts/build.sh -DNOX_SANITIZE="$sanitize" -DNOX_INTEGRATION_TESTS_BINARY="$integration_binary"
# Leaks inside Open Babel are its own (scripts/lsan-suppressions.txt says which).
if [[ -n "$sanitize" ]]; then
  export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan-suppressions.txt${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fi
cd "$build_dir"
status=0
ctest --output-on-failure --timeout 1800 "$@" || status=$?
if ((status != 0)); then
  # CI shows a long log's head and tail only: repeat the failed checks at the end.
  echo "== failed checks (Testing/Temporary/LastTest.log) =="
  grep -aE "error: in |fatal error|critical error|memory access violation|ERROR: .*Sanitizer|runtime error:|^not ok|✖" \
    Testing/Temporary/LastTest.log | sed 's/\x1b\[[0-9;]*m//g' | tail -n 40 || true
  exit "$status"
fi

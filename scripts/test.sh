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
ctest --output-on-failure --timeout 1800 "$@"

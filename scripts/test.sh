#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test
# (unit tests, then integration tests with real clients in network namespaces),
# and, with EDGEPLANE_ASAN=1, the unit suite again built with ASan + UBSan
# (./build-asan).
# The closing line counts test cases (GoogleTest and pytest cases from their
# XML reports; a meson test without one counts as one case) and the lines
# before it name every skipped case. Under CI=true nothing skips: the tests
# fail instead when a tool, package, browser or trace is missing.
# Usage: scripts/test.sh [meson test args, e.g. --suite unit]
#   EDGEPLANE_ASAN=1 adds the sanitizer pass. Not on by default (nor in CI)
#   yet: its first build and run have not been timed green on the CI machine.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
BUILD=${EDGEPLANE_BUILD:-build}
ASAN_BUILD=${EDGEPLANE_ASAN_BUILD:-build-asan}
asan=${EDGEPLANE_ASAN:-0}

# Every GoogleTest binary writes its cases to meson-logs/cases/gtest/<binary>.xml
# (a directory of their own: the unit binary test_http and the pytest file
# test_http would share a name); pytest files
# write theirs to meson-logs/cases/<test>.xml (see tests/integration/meson.build).
run_suite() {  # build dir, meson test args...
  local b
  b=$(realpath "$1")  # tests run in their own directories
  shift
  rm -rf "$b/meson-logs/cases"
  mkdir -p "$b/meson-logs/cases/gtest"
  GTEST_OUTPUT="xml:$b/meson-logs/cases/gtest/" \
    meson test -C "$b" --print-errorlogs --timeout-multiplier 2 "$@"
}

rc=0
run_suite "$BUILD" "$@" || rc=$?
counted=("$BUILD")
if [[ $asan == 1 ]]; then
  t0=$(date +%s)
  if [[ ! -f $ASAN_BUILD/build.ninja ]]; then
    meson setup "$ASAN_BUILD" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
  fi
  # meson test builds only what the unit suite needs. Leak checking stays on.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
  run_suite "$ASAN_BUILD" --suite unit || rc=$?
  echo "sanitizer pass (build + unit suite): $(($(date +%s) - t0)) s"
  counted+=("$ASAN_BUILD")
fi

/usr/bin/python3 scripts/count_cases.py "${counted[@]}" || rc=$?
exit $rc

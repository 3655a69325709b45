#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test
# (unit tests, then integration tests with real clients in network namespaces),
# and a sanitizer pass: unit tests again built with ASan + UBSan at -O0
# (./build-asan, docs/testing.md "Sanitizers").
# The closing line counts test cases (GoogleTest and pytest cases from their
# XML reports; a meson test without one counts as one case) and the lines
# before it name every skipped case. Under CI=true nothing skips: the tests
# fail instead when a tool, package, browser or trace is missing.
# Usage: scripts/test.sh [meson test args, e.g. --suite unit]
#   EDGEPLANE_ASAN=pure: the sanitizer pass over every unit test that can run
#     in that build (all but cache_edgebench_cli and compare_math, which need
#     edgebench, and chunkstore_concurrency_asan, the same test again) and
#     the corpus replays (every parser and state machine); the default under
#     CI=true (build steps and CPU time in docs/testing.md).
#   EDGEPLANE_ASAN=1: the sanitizer pass over the whole unit suite (those
#     three too: cache_edgebench_cli skips there, a failure under CI=true).
#   EDGEPLANE_ASAN=0: none (the default outside CI).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
BUILD=${EDGEPLANE_BUILD:-build}
ASAN_BUILD=${EDGEPLANE_ASAN_BUILD:-build-asan}
if [[ ${CI:-} == true ]]; then asan=${EDGEPLANE_ASAN:-pure}; else asan=${EDGEPLANE_ASAN:-0}; fi

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
if [[ $asan == 1 || $asan == pure ]]; then
  t0=$(date +%s)
  if [[ ! -f $ASAN_BUILD/build.ninja ]]; then
    # -O0 (buildtype debug): a gtest file that takes 27 CPU-seconds under
    # ASan+UBSan at -O2 takes 6 at -O0; the sanitizers check the same.
    # No benchmarks: edgebench and Google Benchmark are not unit tests.
    meson setup "$ASAN_BUILD" --buildtype=debug -Db_sanitize=address,undefined \
      -Db_lundef=false -Dbenchmarks=disabled >/dev/null
  fi
  # meson test builds only what the chosen tests need. Leak checking stays on.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
  if [[ $asan == pure ]]; then
    # Every unit test and corpus replay (fuzz suite) that can run in this
    # build (docs/testing.md "Sanitizers"): the DPDK-free ones (cache, TCP,
    # HTTP, DNS, swarm, stream pins), the EAL tests (--no-huge --no-pci;
    # leak checking stays on for them: EAL frees what it allocates at
    # rte_eal_cleanup, and what it keeps is reachable), those on the control
    # library (unit_tests, dns_tables) and edgebench's.
    mapfile -t pure < <(meson introspect --tests "$ASAN_BUILD" | /usr/bin/python3 -c '
import json, sys
# compare_math is Python (compare.py) and needs edgebench, which this build
# (benchmarks off) does not make; cache_edgebench_cli runs that binary too
# (and would skip, a failure under CI=true).
# chunkstore_concurrency_asan is chunkstore_concurrency built with ASan for
# the main pass: here it would be the same test twice.
left_out = ("cache_edgebench_cli", "compare_math", "chunkstore_concurrency_asan")
for t in json.load(sys.stdin):
    if ("edgeplane:unit" in t["suite"] or "edgeplane:fuzz" in t["suite"]) and not t["name"].startswith(left_out):
        print(t["name"])' | sort -u)
    run_suite "$ASAN_BUILD" "${pure[@]}" || rc=$?
  else
    run_suite "$ASAN_BUILD" --suite unit || rc=$?
  fi
  echo "sanitizer pass (build + unit suite): $(($(date +%s) - t0)) s"
  counted+=("$ASAN_BUILD")
fi

/usr/bin/python3 scripts/count_cases.py "${counted[@]}" || rc=$?
exit $rc

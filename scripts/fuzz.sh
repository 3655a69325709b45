#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang, ASan and UBSan in
# ./build-fuzz and runs each for SECONDS (default 60) on its committed corpus
# plus a scratch corpus in build-fuzz/corpus/. Prints executions per target.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  # Every target of tests/fuzz/meson.build's table, in its order (a list
  # written out here went stale: 12 of 23).
  mapfile -t targets < <(sed -n "s/^  '\(fuzz_[a-z0-9_]*\)' *:.*/\1/p" tests/fuzz/meson.build)
fi
B=build-fuzz
if [[ ! -f $B/build.ninja ]]; then
  CC=clang CXX=clang++ meson setup "$B" -Dfuzz=true -Db_sanitize=address,undefined \
    -Db_lundef=false -Dbenchmarks=disabled >/dev/null
fi
ninja -C "$B" "${targets[@]/#/tests/fuzz/}"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for t in "${targets[@]}"; do
  mkdir -p "$B/corpus/$t" "$B/artifacts/$t"
  log="$B/corpus/$t.log"
  rc=0
  "$B/tests/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$B/artifacts/$t/" "$B/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  last=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
  echo "$t: ${execs:-?} executions in ${secs} s (${rate:-?}/s, ${last:-no cov line}), exit $rc$( ((rc)) && echo " (see $log)")"
done

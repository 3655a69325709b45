#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang, ASan and UBSan in
# ./build-fuzz and runs each for SECONDS (default 60) on its committed corpus
# plus a scratch corpus in build-fuzz/corpus/. Prints executions per target.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
# SECONDS 0 means no time limit; FUZZ_RUNS=N stops each target after N
# executions instead (the 10^8 campaign: FUZZ_RUNS=100000000 scripts/fuzz.sh 0 T).
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
# Per-target libFuzzer options. fuzz_fetch_session: its seeds of 130-200 KiB
# (whole pieces on the wire) made libFuzzer mutate inputs that size, at
# 430/s; with the harness serving requests itself (mode bit 6) 1 KiB inputs
# reach further (cov 1155 against 1008 in 40 s) at 4,200/s (docs/testing.md).
declare -A extra=([fuzz_fetch_session]="-max_len=1024")
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for t in "${targets[@]}"; do
  mkdir -p "$B/corpus/$t" "$B/artifacts/$t"
  log="$B/corpus/$t.log"
  rc=0
  t0=$(date +%s) start=$(date -u +%H:%M) load0=$(cut -d' ' -f1 /proc/loadavg)
  "$B/tests/fuzz/$t" -max_total_time="$secs" ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} ${extra[$t]:-} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$B/artifacts/$t/" "$B/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  last=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
  secs_run=$(($(date +%s) - t0))
  echo "$t: start $start UTC, load $load0-$(cut -d' ' -f1 /proc/loadavg), ${execs:-?} executions in ${secs_run} s (${rate:-?}/s, ${last:-no cov line}), exit $rc$( ((rc)) && echo " (see $log)")"
done

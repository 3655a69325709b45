#!/usr/bin/env bash
# Disk-tier chunk reads (BM_DiskPromote: io_uring O_DIRECT reads of whole
# records into RAM slots, XXH3-verified, inserted in the index) against fio
# O_DIRECT random reads of the same records of the same file, in the same run,
# alternating so both see the same disk weather.
# Usage: bench/chunkstore_disk_vs_fio.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
ROUNDS=${2:-3}
BENCH=${BENCH:-$BUILD/bench/chunkstore/chunkstore_bench}
EPSTORE=${EPSTORE:-$BUILD/chunkstore/epstore}
DIR=$(mktemp -d /var/tmp/cs-fio.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
command -v fio >/dev/null || { echo "fio missing: apt-get install fio" >&2; exit 1; }

# 512 records (8 objects x 16 MiB), one 268 KiB record.
mkdir -p "$DIR/src"
for i in 0 1 2 3 4 5 6 7; do head -c 16M /dev/urandom >"$DIR/src/obj$i"; done
"$EPSTORE" ingest --store "$DIR/store.eps" --capacity 136M "$DIR/src" >/dev/null
REC=274432  # kRecordSize: 4 KiB header + 8 KiB checksum prefixes + 256 KiB payload
SIZE=$((512 * REC))

fio_iops() {
  fio --name=chunks --filename="$DIR/store.eps" --rw=randread --bs=$REC --size=$SIZE \
      --direct=1 --ioengine=io_uring --iodepth=32 --runtime=4 --time_based \
      --output-format=json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"][0]["read"]["iops"])'
}
store_rate() {
  CS_BENCH_STORE="$DIR/store.eps" "$BENCH" --benchmark_filter=BM_DiskPromote \
      --benchmark_min_time=4 --benchmark_format=json 2>/dev/null |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["benchmarks"][0]["chunks/s"])'
}

printf "%-6s %14s %14s %8s\n" round "fio rec/s" "store chunk/s" ratio
for r in $(seq 1 "$ROUNDS"); do
  f=$(fio_iops)
  s=$(store_rate)
  /usr/bin/python3 -c "import sys; f,s=float('$f'),float('$s'); print(f'%-6s %14.0f %14.0f %7.1f%%  (%.0f vs %.0f MB/s of records)' % ('$r', f, s, 100*s/f, f*$REC/1e6, s*$REC/1e6))"
done

#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test
# (unit tests, then integration tests with real clients in network namespaces).
# Usage: scripts/test.sh [meson test args, e.g. --suite unit]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
BUILD=${EDGEPLANE_BUILD:-build}
rc=0
meson test -C "$BUILD" --print-errorlogs --timeout-multiplier 2 "$@" || rc=$?
# One closing line that CI and people can read, counted from meson's own log.
/usr/bin/python3 - "$BUILD/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): passed += 1
    elif r == "SKIP": skipped += 1
    else: failed += 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $rc

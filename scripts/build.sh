#!/usr/bin/env bash
# Configures (once) and builds edgeplane into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${EDGEPLANE_BUILD:-build}
if [[ ! -f $BUILD/build.ninja ]]; then
  meson setup "$BUILD" >/dev/null
fi
ninja -C "$BUILD" "$@"

#!/usr/bin/env bash
# Builds the player bundle to ingest into the appliance: installs the pinned
# dash.js from package-lock.json and copies the pages beside it.
# Usage: web/build.sh [OUT_DIR]   (default web/dist)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "${1:-$here/dist}")  # before the cd below
cd "$here"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
mkdir -p "$out"
cp node_modules/dashjs/dist/dash.all.min.js node_modules/dashjs/dist/dash.all.min.js.LICENSE.txt "$out/"
cp index.html player.html player.js player.css "$out/"
echo "player bundle in $out: $(ls "$out" | tr '\n' ' ')"

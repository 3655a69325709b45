#!/usr/bin/env bash
# Installs what edgeplane needs and prepares hugepages. Safe to run again:
# it only installs missing packages and only raises the hugepage count.
# Usage: scripts/setup.sh [--hugepages N]
set -euo pipefail
cd "$(dirname "$0")/.."

HUGEPAGES=${EDGEPLANE_HUGEPAGES:-1024}
if [[ "${1:-}" == "--hugepages" ]]; then HUGEPAGES=$2; fi

SUDO=""
if [[ $EUID -ne 0 ]]; then SUDO="sudo"; fi

mapfile -t wanted < <(grep -vE '^\s*(#|$)' scripts/packages.txt)
missing=()
for p in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm for the player bundle and the browser tests (dash.js, puppeteer-core,
# pinned by their package-lock.json files). Only when there is none at all.
if ! command -v npm >/dev/null; then
  echo "setup: installing nodejs npm"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends nodejs npm >/dev/null
fi

# webtorrent-cli for tests/integration/test_clients.py, pinned by the lock
# file beside it (the test runs the same when it is missing).
if command -v npm >/dev/null && [[ ! -e tests/integration/webtorrent/node_modules/webtorrent-cli ]]; then
  echo "setup: npm install in tests/integration/webtorrent (webtorrent-cli, pinned by its lock)"
  # `npm install --no-save`, not `npm ci`: the lock pins every version, but
  # webtorrent lists an optional airplay-js@^0.3.0 the registry no longer
  # has, and npm 11's `ci` refuses a lock without it; install skips the
  # missing optional dependency and leaves the lock as it is.
  (cd tests/integration/webtorrent && npm install --no-save --ignore-scripts --no-audit --no-fund --loglevel=error) ||
    echo "setup: npm install for webtorrent-cli failed (registry?)"
fi

# Hugepages: best effort. edgeplane falls back to --no-huge when none are free.
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
if [[ -w /proc/sys/vm/nr_hugepages ]] && [[ -d $hp ]]; then
  cur=$(cat $hp/nr_hugepages)
  if ((cur < HUGEPAGES)); then
    echo "$HUGEPAGES" > /proc/sys/vm/nr_hugepages || true
  fi
  if ! grep -qs ' /dev/hugepages hugetlbfs' /proc/mounts; then
    mkdir -p /dev/hugepages
    mount -t hugetlbfs nodev /dev/hugepages || true
  fi
fi
echo "setup: ok ($(cat $hp/free_hugepages 2>/dev/null || echo 0) free 2 MiB hugepages)"

#!/usr/bin/env bash
# The run command: installs what is missing, builds, and starts edgeplane on a
# TAP device named edge0 (appliance 10.77.0.2/24, this host 10.77.0.1/24).
# Runs until Ctrl-C, then stops the daemon and cleans up.
#
# A guard route (unreachable 10.77.0.0/16, metric 4000) is installed and kept:
# while edgeplane is down, traffic for the demo network is refused locally and
# never leaves through another interface.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $EUID -ne 0 ]]; then exec sudo -E "$0" "$@"; fi

scripts/setup.sh
scripts/build.sh >/dev/null
BUILD=${EDGEPLANE_BUILD:-build}

IFACE=edge0
APPLIANCE=10.77.0.2
HOST=10.77.0.1
PREFIX=edgeplane-demo
SOCK=/run/edgeplane/demo.sock

ip route replace unreachable 10.77.0.0/16 metric 4000

pid=""
cleanup() {
  trap - INT TERM EXIT
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -f /dev/hugepages/${PREFIX}* 2>/dev/null || true
  rm -rf /var/run/dpdk/${PREFIX}
}
trap cleanup INT TERM EXIT

"$BUILD/control/edgeplane" --port "net_tap0,iface=$IFACE" --ip "$APPLIANCE/24" \
  --gateway "$HOST" --data-lcores 1 --control-lcore 0 \
  --admin-socket "$SOCK" --file-prefix "$PREFIX" "$@" &
pid=$!

for _ in $(seq 200); do
  ip link show "$IFACE" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "demo: edgeplane exited early" >&2; exit 1; }
  sleep 0.05
done
ip addr replace "$HOST/24" dev "$IFACE"
ip link set "$IFACE" up
for _ in $(seq 200); do
  "$BUILD/control/edgectl" -s "$SOCK" ping >/dev/null 2>&1 && break
  sleep 0.05
done

cat <<MSG

edgeplane is up on $IFACE.
  appliance:   $APPLIANCE   (this host is $HOST)
  try:         ping $APPLIANCE
  counters:    $BUILD/control/edgectl -s $SOCK stats
Press Ctrl-C to stop.
MSG
wait "$pid"

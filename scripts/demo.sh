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

CONTENT=$(realpath -m "${EDGEPLANE_CONTENT:-$BUILD/demo-content}")
IFACE=edge0
APPLIANCE=10.77.0.2
HOST=10.77.0.1
PREFIX=edgeplane-demo
SOCK=/run/edgeplane/demo.sock

ip route replace unreachable 10.77.0.0/16 metric 4000

# Demo content, made once and kept in the build folder: a 30 s multi-bitrate
# DASH test pattern (ffmpeg) and the dash.js player page (npm, pinned).
if [[ ! -f $CONTENT/demo/manifest.mpd ]]; then
  echo "demo: packaging a 30 s test pattern as DASH (ffmpeg, about a minute)"
  rm -rf "$CONTENT/demo"
  control/package/package.sh --duration 30 --out "$CONTENT/demo" >/dev/null
fi
if [[ ! -f $CONTENT/site/player.html ]]; then
  web/build.sh "$CONTENT/site" >/dev/null || echo "demo: player page unavailable (npm registry unreachable?)"
fi
[[ -f $CONTENT/site/player.html ]] && echo '[{"id": "demo", "name": "Test pattern (30 s, 4 bitrates)"}]' > "$CONTENT/site/titles.json"

pid=""
cleanup() {
  trap - EXIT
  trap "" INT TERM  # a second Ctrl-C must not cut the clean-up short
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    # `wait` can return early inside a signal trap: poll until it is gone,
    # so its hugepage files are closed before they are removed.
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f /dev/hugepages/${PREFIX}* 2>/dev/null || true
  rm -rf /var/run/dpdk/${PREFIX}
}
trap cleanup INT TERM EXIT
METRICS_PORT=${METRICS_PORT:-9100}

"$BUILD/control/edgeplane" --port "net_tap0,iface=$IFACE" --ip "$APPLIANCE/24" \
  --gateway "$HOST" --data-lcores 1 --control-lcore 0 \
  --admin-socket "$SOCK" --file-prefix "$PREFIX" --udp-echo-port 7 \
  --metrics-listen "127.0.0.1:$METRICS_PORT" \
  --dns-port 53 --dns-zone docs/examples/dns/edgeplane.test.zone \
  --dns-zone docs/examples/dns/kingcdn.test.zone "$@" &
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

# Ingest also makes the .torrent files (docs/swarm.md): show the totals only.
"$BUILD/control/edgectl" -s "$SOCK" ingest "$CONTENT/demo" --name demo | grep '^stored'
[[ -d $CONTENT/site ]] && "$BUILD/control/edgectl" -s "$SOCK" ingest "$CONTENT/site" | grep '^stored'
MAGNET=$("$BUILD/control/edgectl" -s "$SOCK" torrent demo 2>/dev/null | sed -n 's/^magnet //p' || true)

cat <<MSG

edgeplane is up on $IFACE.
  appliance:   $APPLIANCE   (this host is $HOST)
  player:      http://$APPLIANCE/player.html?title=demo
  manifest:    http://$APPLIANCE/demo/manifest.mpd
  titles:      http://$APPLIANCE/
  try:         ping $APPLIANCE;  curl -I http://$APPLIANCE/demo/manifest.mpd
  torrent:     http://$APPLIANCE/demo.torrent   (the title as one v1 torrent, web seed = this appliance)
  magnet:      ${MAGNET:-none}
  tracker:     udp://$APPLIANCE:6969/announce   (BEP 15; the HTTP announce is not served yet)
  dns:         kdig @$APPLIANCE video.edgeplane.test   (or dig; CNAME into the CDN's zone video.kingcdn.test; zones: docs/examples/dns)
  udp echo:    echo hello | socat -t1 - UDP:$APPLIANCE:7   (RFC 862; any other UDP port: ICMP port unreachable)
  counters:    $BUILD/control/edgectl -s $SOCK stats   (one section: ... stats cache)
  metrics:     curl http://127.0.0.1:$METRICS_PORT/metrics   (Prometheus text format)
  telemetry:   dpdk-telemetry.py -f $PREFIX   (then /edgeplane/stats,http)
Press Ctrl-C to stop.
MSG
wait "$pid"

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
origin_pid=""
cleanup() {
  trap - EXIT
  trap "" INT TERM  # a second Ctrl-C must not cut the clean-up short
  [[ -n $origin_pid ]] && kill "$origin_pid" 2>/dev/null || true
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
  --dns-zone docs/examples/dns/kingcdn.test.zone \
  --clusters docs/examples/clusters/clusters.toml \
  --origin "/origin=$HOST:8080" --origin-health-interval-ms 2000 --access-log "$CONTENT/access.log" \
  --push-list /origin/popular.json --push-window 00:00-23:59 --push-mbps 40 "$@" &
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
# The demo's origin (pull on miss, docs/origin.md): nginx on this host's side
# of the TAP, serving a 4 MiB file the appliance has never stored. Started
# once edge0 exists so it binds only to 10.77.0.1.
ORIGIN=$CONTENT/origin
mkdir -p "$ORIGIN/www/origin" "$ORIGIN/logs"
[[ -f $ORIGIN/www/origin/sample.bin ]] || head -c $((4 << 20)) /dev/urandom > "$ORIGIN/www/origin/sample.bin"
# The off-peak push (docs/origin.md "Push"): a ranked list of two titles the
# appliance prefills; the demo's window is the whole day but its last minute.
for i in 1 2; do
  [[ -f $ORIGIN/www/origin/popular-$i.bin ]] || head -c $((2 << 20)) /dev/urandom > "$ORIGIN/www/origin/popular-$i.bin"
done
echo '["/origin/popular-1.bin", "/origin/popular-2.bin"]' > "$ORIGIN/www/origin/popular.json"
cat > "$ORIGIN/nginx.conf" <<NGINX
daemon off;
worker_processes 1;
error_log $ORIGIN/logs/error.log;
pid $ORIGIN/nginx.pid;
events { worker_connections 64; }
http {
  access_log $ORIGIN/logs/access.log;
  server { listen $HOST:8080; root $ORIGIN/www; }
}
NGINX
if command -v nginx >/dev/null; then
  nginx -p "$ORIGIN" -c "$ORIGIN/nginx.conf" 2>/dev/null &
  origin_pid=$!
  # The push read its list at start, before nginx was up: read it again.
  sleep 0.5
  "$BUILD/control/edgectl" -s "$SOCK" fill again >/dev/null 2>&1 || true
fi
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
  tracker:     udp://$APPLIANCE:6969/announce  and  http://$APPLIANCE/announce   (BEP 15; BEP 3/23, scrape at /scrape)
  peer wire:   aria2c --seed-time=0 --enable-dht=true --enable-dht6=false http://$APPLIANCE/demo.torrent
               (aria2 sends UDP announces only with DHT on; pieces come from TCP $APPLIANCE:6881)
  dns:         kdig @$APPLIANCE video.edgeplane.test   (or dig; CNAME into the CDN's zone video.kingcdn.test; zones: docs/examples/dns)
  steering:    kdig @$APPLIANCE +subnet=198.51.100.7 video.kingcdn.test   (answered by cluster selection;
               $BUILD/control/edgectl -s $SOCK why 198.51.100.7 explains it; clusters: docs/examples/clusters)
  origin:      curl -o /dev/null -w '%{http_code} %{size_download}\\n' http://$APPLIANCE/origin/sample.bin
               (never ingested: pulled from nginx on $HOST:8080 in 256 KiB ranges, see $ORIGIN/logs/access.log)
  origins:     $BUILD/control/edgectl -s $SOCK origins   (health: a HEAD every 2 s, down after 3 failures, up after 2;
               stop the demo's nginx and watch it go down)
  store:       $BUILD/control/edgectl -s $SOCK store   (RAM and disk use, filled vs ingested, one line per object)
  push:        $BUILD/control/edgectl -s $SOCK fill   (popular-1.bin and popular-2.bin prefilled from
               /origin/popular.json at 40 Mbit/s before anyone asks; then curl http://$APPLIANCE/origin/popular-1.bin)
  swarm fill:  $BUILD/control/edgectl -s $SOCK swarm fetch FILE.torrent|'MAGNET'  [--peer ADDR:6881]   (the appliance as a
               leecher: peers from the torrent's trackers or --peer, a magnet's metadata from a peer;
               every piece SHA-1 checked, uploads to the swarm while it fetches; per-peer state: ... swarm)
  probes:      $BUILD/control/edgectl -s $SOCK probes   (active RTT probes: off here, they run only with
               the measured policy and --cluster-self, and the example networks are not on this link)
  access log:  tail -f $CONTENT/access.log;  live view: $BUILD/control/edgectl -s $SOCK top
  udp echo:    echo hello | socat -t1 - UDP:$APPLIANCE:7   (RFC 862; any other UDP port: ICMP port unreachable)
  counters:    $BUILD/control/edgectl -s $SOCK stats   (one section: ... stats cache)
  metrics:     curl http://127.0.0.1:$METRICS_PORT/metrics   (Prometheus text format)
  telemetry:   dpdk-telemetry.py -f $PREFIX   (then /edgeplane/stats,http)
Press Ctrl-C to stop.
MSG
wait "$pid"

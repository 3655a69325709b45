#!/usr/bin/env bash
# The textbook's six steps as a live world (the same one
# tests/integration/test_six_steps.py tests, drawn in
# tests/integration/sixstep_world.py): a client namespace, its LDNS
# (unbound), NetCinema's authoritative server (Knot DNS) with a CNAME into
# kingcdn.example, and KingCDN's three clusters of edgeplane appliances
# (paris-1; london-1, london-2; newyork-1) registered in etcd, each one
# authoritative for kingcdn.example. Prints what to try, then runs until
# Ctrl-C and removes everything it made (namespaces, /etc/netns/<client>,
# servers, appliances, hugepage files).
#
# Usage: scripts/six_steps.sh        (as root; builds first)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $EUID -ne 0 ]]; then exec sudo -E "$0" "$@"; fi
scripts/setup.sh
scripts/build.sh control/edgeplane control/edgectl >/dev/null
export EDGEPLANE_BUILD=$(realpath "${EDGEPLANE_BUILD:-build}")
CONTENT=$(realpath -m "${EDGEPLANE_CONTENT:-$EDGEPLANE_BUILD/six-steps}")
mkdir -p "$CONTENT"
# The title and the player page are made once and kept in the build folder.
cd tests/integration
exec /usr/bin/python3 - "$CONTENT" <<'EOF'
import signal, sys, time
from harness import EDGECTL
from sixstep_world import DNS_TTL, TITLE, SixSteps

stop = []
signal.signal(signal.SIGINT, lambda *a: stop.append(1))
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
print("six steps: packaging the title, starting etcd, 4 appliances, Knot and unbound ...",
      flush=True)
w = SixSteps(workdir=sys.argv[1])
try:
    w.start()
    c = f"ip netns exec {w.client}"
    eps = w.eps
    print(f"""
The world (tag {w.tag}):
  client     {w.client_ip:<12} namespace {w.client} (resolv.conf: its LDNS)
  LDNS       {w.ldns_ip:<12} unbound in {w.ldns}, ECS toward KingCDN
  NetCinema  {w.netcinema_ip:<12} Knot DNS in {w.netcinema}: video.netcinema.example CNAME video.kingcdn.example""")
    for ep in eps.values():
        print(f"  {ep.name:<10} {ep.ip:<12} cluster {ep.cluster:<8} admin socket {ep.sock}")
    paris = eps["paris-1"]
    print(f"""
Try (in another shell, as root):
  {c} kdig @{w.ldns_ip} video.netcinema.example A        # steps 1-5
  {c} curl -sS -o /dev/null -w '%{{http_code}} %{{size_download}}\\n' http://video.netcinema.example/{TITLE}/manifest.mpd
  {c} ffmpeg -v error -i http://video.netcinema.example/{TITLE}/manifest.mpd -f null -   # step 6
  {c} curl -sS http://{paris.ip}/steer                    # the DASH steering manifest
  {EDGECTL} --socket {paris.sock} why {w.client_ip}
  {EDGECTL} --socket {paris.sock} clusters
Make the client's cluster worse, then ask again (new answers after the {DNS_TTL} s TTL):
  kill -9 {paris.proc.pid}                                  # paris-1 dies; etcd drops it after its lease
  {EDGECTL} --socket {eps['london-1'].sock} why {w.client_ip}
Or make it slower instead (the measured policy: what the TCP connections measured decides):
  sed -i 's/^policy = .*/policy = "measured"/; s/^recompute_s = .*/recompute_s = 1/' {w.dir}/clusters.toml
  for s in {' '.join(ep.sock for ep in eps.values())}; do {EDGECTL} --socket $s reload; done
  echo 'fault = "delay=1,delay-us=40000,dir=tx"' > {paris.conf}; {EDGECTL} --socket {paris.sock} reload
  {c} curl -sS -o /dev/null http://{paris.ip}/{TITLE}/manifest.mpd     # a few times, and to london-1's {eps['london-1'].ip}
  {EDGECTL} --socket {eps['london-2'].sock} why {w.client_ip}   # paris's RTT from paris-1's etcd record
A browser: {c} chromium --headless ... http://video.netcinema.example/player.html?title={TITLE}
Ctrl-C stops everything and cleans up.""", flush=True)
    while not stop:
        time.sleep(0.5)
finally:
    print("six steps: cleaning up", flush=True)
    w.cleanup()
EOF

#!/usr/bin/env bash
# Goodput of edgeplane's TCP and of Linux's TCP under the same injected loss,
# side by side in one run.
#
#   sudo [REPS=5] bench/tcp/goodput_vs_linux.sh [SIZE_MIB] [LOSS_PERCENT...]
#   default: 128 MiB at 0 1 5 % loss (both directions, seeded/random drops),
#   REPS downloads from each server per loss rate, alternating, medians shown
#   (one 200 ms RTO moves a single run by tens of percent on either side).
#
# edgeplane: the appliance on net_tap inside a namespace serves the object
#   from its chunk store; loss comes from its own fault stage (--fault).
# Linux: nginx (sendfile) in one namespace, curl in another, joined by a veth
#   pair; loss comes from nftables `numgen random` drops on both ends.
# In both cases the client is Linux curl in a namespace; the figure is
# payload bytes over curl's transfer time. Results go to results/tcp-goodput.csv.
# Each row also gives both senders' retransmitted segments and D-SACKs
# received over its REPS downloads (spurious retransmissions, RFC 3708:
# edgeplane tcp.retransmits / tcp.dsack_rx, Linux TcpRetransSegs /
# TcpExtTCPDSACKRecv of the server's namespace). A last row repeats the
# lossless run with the veth's offloads on for Linux (TSO/GSO/GRO, its normal
# configuration; no nftables loss then, so nothing needs per-segment frames).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${EDGEPLANE_BUILD:-build}
SIZE=${1:-128}; shift || true
REPS=${REPS:-5}
LOSSES=("$@"); [[ ${#LOSSES[@]} -gt 0 ]] || LOSSES=(0 1 5)
TAG=gp$$
# tmpfs: the client's writes must not wait on a disk.
WORK=$(mktemp -d /dev/shm/edgeplane-goodput.XXXXXX)
mkdir -p results
cleanup() {
  [[ -n ${EP_PID:-} ]] && kill "$EP_PID" 2>/dev/null && wait "$EP_PID" 2>/dev/null || true
  [[ -n ${NGX_PID:-} ]] && kill "$NGX_PID" 2>/dev/null || true
  for ns in ${TAG}e ${TAG}s ${TAG}c; do ip netns del "$ns" 2>/dev/null || true; done
  rm -f /dev/hugepages/${TAG}* ; rm -rf "/var/run/dpdk/${TAG}" "$WORK"
}
trap cleanup EXIT INT TERM

head -c $((SIZE << 20)) /dev/urandom > "$WORK/blob.bin"
SHA=$(sha256sum "$WORK/blob.bin" | cut -d' ' -f1)

measure() {  # ns url -> MB/s (fails if the bytes differ)
  local out
  out=$(ip netns exec "$1" curl -sS -m 600 -o "$WORK/got.bin" -w '%{size_download} %{time_total}' "$2")
  [[ $(sha256sum "$WORK/got.bin" | cut -d' ' -f1) == "$SHA" ]] || { echo "download from $2 differs from the source" >&2; exit 1; }
  awk -v o="$out" 'BEGIN { split(o, a, " "); printf "%.1f", a[1] / a[2] / 1e6 }'
}

# --- Linux: nginx <-> curl over veth ---
ip netns add ${TAG}s; ip netns add ${TAG}c
ip link add ${TAG}a netns ${TAG}s type veth peer name ${TAG}b netns ${TAG}c
ip -n ${TAG}s addr add 10.79.0.1/24 dev ${TAG}a; ip -n ${TAG}s link set ${TAG}a up; ip -n ${TAG}s link set lo up
ip -n ${TAG}c addr add 10.79.0.2/24 dev ${TAG}b; ip -n ${TAG}c link set ${TAG}b up
# No segmentation offloads on the veth pair: nftables would otherwise see (and
# drop) whole 64 KiB GSO super-packets, a far lower loss rate per segment than
# edgeplane's, whose every 1448-byte segment is a frame.
ip netns exec ${TAG}s ethtool -K ${TAG}a tso off gso off gro off >/dev/null
ip netns exec ${TAG}c ethtool -K ${TAG}b tso off gso off gro off >/dev/null
cat > "$WORK/nginx.conf" <<NGX
user root; worker_processes 1; daemon off; pid $WORK/nginx.pid; error_log $WORK/nginx.err;
events { worker_connections 64; }
http { access_log off; sendfile on; server { listen 10.79.0.1:80; root $WORK; } }
NGX
ip netns exec ${TAG}s nginx -c "$WORK/nginx.conf" & NGX_PID=$!
sleep 1
# nginx cannot choose its congestion control: Linux runs the namespace's
# default, inherited from the host (BBR on the VM of 2026-12-01, not CUBIC).
echo "Linux congestion control: $(ip netns exec ${TAG}s sysctl -n net.ipv4.tcp_congestion_control)"

# --- edgeplane on net_tap ---
ip netns add ${TAG}e
start_edgeplane() {  # loss%
  local fault=()
  [[ $1 != 0 ]] && fault=(--fault "drop=$(awk -v l="$1" 'BEGIN{print l/100}'),seed=42,dir=both")
  ip netns exec ${TAG}e "$BUILD/control/edgeplane" --port "net_tap0,iface=${TAG}t" --ip 10.79.1.2/24 \
    --data-lcores 1 --control-lcore 0 --file-prefix ${TAG} --admin-socket "$WORK/admin.sock" \
    --ram-mb $((SIZE + 64)) "${fault[@]}" > "$WORK/edgeplane.log" 2>&1 & EP_PID=$!
  for _ in $(seq 200); do ip -n ${TAG}e link show ${TAG}t >/dev/null 2>&1 && break; sleep 0.05; done
  ip -n ${TAG}e addr replace 10.79.1.1/24 dev ${TAG}t; ip -n ${TAG}e link set ${TAG}t up
  for _ in $(seq 200); do "$BUILD/control/edgectl" -s "$WORK/admin.sock" ping >/dev/null 2>&1 && break; sleep 0.05; done
  "$BUILD/control/edgectl" -s "$WORK/admin.sock" ingest "$WORK/blob.bin" >/dev/null
}
stop_edgeplane() { kill "$EP_PID"; wait "$EP_PID" || true; EP_PID=""; }
ep_tcp() {  # counter -> edgeplane's tcp counter now
  "$BUILD/control/edgectl" -s "$WORK/admin.sock" stats --json |
    /usr/bin/python3 -c "import json, sys; print(json.load(sys.stdin)['tcp']['$1'])"
}
lx_mib() {  # Tcp/TcpExt counter name -> its value in the server's namespace
  ip netns exec ${TAG}s cat /proc/net/snmp /proc/net/netstat | awk -v want="$1" '
    NR % 2 == 1 { split($0, k, " "); next } { split($0, v, " "); p = k[1]; sub(":", "", p)
      for (i = 2; i in k; ++i) if (p k[i] == want) print v[i] }'
}

median() {  # numbers -> their median
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

rtt() {  # ns addr -> average ping RTT in microseconds
  ip netns exec "$1" ping -q -c 50 -i 0.01 "$2" | awk -F/ '/^rtt/ { printf "%.0f", $5 * 1000 }'
}
# Goodput under random loss scales with 1/RTT (Mathis et al.: rate ~ MSS/RTT x 1.22/sqrt(p)),
# and the two paths differ in RTT (TAP + polling vs veth): print both, and each
# stack's goodput as a share of its path's Mathis rate.
echo "loss_percent,kind,edgeplane_MBps,linux_MBps" > results/tcp-goodput-runs.csv
echo "loss_percent,edgeplane_MBps,linux_MBps,ratio,edgeplane_rtt_us,linux_rtt_us,edgeplane_mathis_share,linux_mathis_share,edgeplane_retrans,edgeplane_dsacks,linux_retrans,linux_dsacks,linux_offloads" > results/tcp-goodput.csv
printf '%-6s %12s %12s %7s %10s %10s %12s %12s %8s %8s %8s %8s %s\n' "loss" "edgeplane" "Linux" "ratio" "ep RTT us" "lx RTT us" "ep/Mathis" "lx/Mathis" \
  "ep rtx" "ep dsack" "lx rtx" "lx dsack" "Linux offloads"
offloads=off
for loss in "${LOSSES[@]}" on; do
  if [[ $loss == on ]]; then  # the lossless run again, Linux's offloads on
    loss=0; offloads=on
    ip netns exec ${TAG}s ethtool -K ${TAG}a tso on gso on gro on >/dev/null
    ip netns exec ${TAG}c ethtool -K ${TAG}b tso on gso on gro on >/dev/null
  fi
  # Drops at the client only, in both directions (data in, ACKs out): the
  # same P each way as edgeplane's --fault dir=both.
  for ns in ${TAG}c; do
    ip netns exec $ns nft flush ruleset
    if [[ $loss != 0 ]]; then
      ip netns exec $ns nft "add table inet loss; add chain inet loss in { type filter hook input priority 0; }; add chain inet loss out { type filter hook output priority 0; }; add rule inet loss in meta l4proto tcp numgen random mod 1000 < $((loss * 10)) drop; add rule inet loss out meta l4proto tcp numgen random mod 1000 < $((loss * 10)) drop"
    fi
  done
  start_edgeplane "$loss"
  lrtt=$(rtt ${TAG}c 10.79.0.1)
  ertt=$(rtt ${TAG}e 10.79.1.2)
  lx=(); ep=(); ratios=()
  ep_rtx0=$(ep_tcp retransmits); ep_ds0=$(ep_tcp dsack_rx)
  lx_rtx0=$(lx_mib TcpRetransSegs); lx_ds0=$(lx_mib TcpExtTCPDSACKRecv)
  for _ in $(seq "$REPS"); do
    l=$(measure ${TAG}c http://10.79.0.1/blob.bin); e=$(measure ${TAG}e http://10.79.1.2/blob.bin)
    lx+=("$l"); ep+=("$e"); ratios+=("$(awk -v a="$e" -v b="$l" 'BEGIN { printf "%.2f", a / b }')")
    echo "$loss,run-offloads-$offloads,$e,$l" >> results/tcp-goodput-runs.csv
  done
  ep_rtx=$(($(ep_tcp retransmits) - ep_rtx0)); ep_ds=$(($(ep_tcp dsack_rx) - ep_ds0))
  lx_rtx=$(($(lx_mib TcpRetransSegs) - lx_rtx0)); lx_ds=$(($(lx_mib TcpExtTCPDSACKRecv) - lx_ds0))
  stop_edgeplane
  linux=$(median "${lx[@]}"); ours=$(median "${ep[@]}")
  # The median of the per-pair ratios: each pair ran back to back, so it
  # shares the machine's mood; the ratio of medians would not.
  ratio=$(median "${ratios[@]}")
  share() { awk -v g="$1" -v r="$2" -v l="$loss" 'BEGIN { if (l == 0) { print "-"; exit }
            m = 1448 / (r / 1e6) * 1.22 / sqrt(l / 100) / 1e6; printf "%.2f", g / m }'; }
  es=$(share "$ours" "$ertt"); ls_=$(share "$linux" "$lrtt")
  printf '%-6s %12s %12s %7s %10s %10s %12s %12s %8s %8s %8s %8s %s\n' "$loss%" "$ours" "$linux" "$ratio" "$ertt" "$lrtt" "$es" "$ls_" \
    "$ep_rtx" "$ep_ds" "$lx_rtx" "$lx_ds" "$offloads"
  echo "$loss,$ours,$linux,$ratio,$ertt,$lrtt,$es,$ls_,$ep_rtx,$ep_ds,$lx_rtx,$lx_ds,$offloads" >> results/tcp-goodput.csv
done

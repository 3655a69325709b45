#!/usr/bin/env python3
"""Server cycles per answered DNS query: edgeplane against Knot DNS (issue 13).

edgeplane: one data lcore on --server-cpu, net_memif, `--dns-port 53` with a
bench zone and one steered name; `edgebench dns` on --client-cpu keeps a
window of queries in flight and checks every response. Its cost is the data
daemon's cycles over the queries it counted (`dns.queries`), as `edgebench
compare` counts them (compare.py edgeplane_window): every thread, the data
lcore as the smaller of its busy TSC and its thread's CPU time, no factor.

Knot DNS (Debian `knot`): `knotd` with one UDP worker, pinned with taskset to
--server-cpu, on 127.0.0.1, the same zone; `dnsperf` pinned to --client-cpu
sends the same query. Its cost is knotd's CPU time (every thread, user and
system, from /proc) times the TSC rate, over the queries dnsperf saw
answered. Not the same I/O path: the kernel's loopback work of the sender's
side is charged to dnsperf, so Knot's figure is if anything low.

Mixes: `plain` (A, no EDNS) and `ecs` (A with ECS 198.51.100.0/24: steered
by edgeplane, scope /24; Knot echoes ECS but steers nothing without its
geoip module, so its `ecs` row is the ECS parsing and echo cost only).

    bench/edgebench/dns_bench.py --build build --runs 5 --duration 3
"""
import argparse
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402

ZONE = """$ORIGIN bench.test.
$TTL 300
@     IN SOA ns hostmaster 1 7200 900 1209600 300
      IN NS  ns
ns    IN A   10.79.0.2
www   IN A   192.0.2.10
video IN A   192.0.2.20
"""
STEER = "video.bench.test 198.51.100.0/24 10.77.0.3,10.77.0.4 30"
MIXES = {"plain": ("www.bench.test", None), "ecs": ("video.bench.test", "198.51.100.0/24")}


def edgeplane_run(a, zone, mix, tag):
    name, ecs = MIXES[mix]
    edgebench = os.path.join(a.build, "bench", "edgebench")
    extra = ["--dns-port", "53", "--dns-zone", zone, "--dns-steer", STEER, "--dns-tcp-conns", "0"]
    with compare.Edgeplane(a.build, tag, a.memif, ram_mb=256, data_lcore=str(a.server_cpu),
                           control_lcore=str(a.client_cpu), extra=extra) as ep:
        tid = ep.lcore_tid(a.server_cpu)
        before = compare.ep_snapshot(ep)
        port = f"net_memif0,role=client,socket={a.memif}" + (f",{compare.MEMIF_OPTS}" if compare.MEMIF_OPTS else "")
        cmd = [edgebench, "dns", "--port", port, "--ip", "10.79.0.1/24", "--server", "10.79.0.2",
               "--lcore", str(a.client_cpu), "--name", name, "--window", str(a.window),
               "-d", str(a.duration), "--json"] + (["--ecs", ecs, "--min-answers", "2"] if ecs else [])
        g0, t0 = children_cpu_seconds(), time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.duration + 60)
        gen = (children_cpu_seconds() - g0) / (time.monotonic() - t0)
        after = compare.ep_snapshot(ep)
    if p.returncode != 0:
        raise RuntimeError(f"edgebench dns rc={p.returncode}: {p.stderr[-2000:]}")
    rep = __import__("json").loads(p.stdout.strip().splitlines()[-1])
    # The compare method's accounting (compare.edgeplane_window): every
    # thread of the daemon, the data lcore as the smaller of its busy TSC
    # and its CPU time, no factor applied.
    c = compare.edgeplane_window(before, after, tid)
    q = (compare.section(after["stats"], "dns").get("queries", 0)
         - compare.section(before["stats"], "dns").get("queries", 0))
    return {"server": "edgeplane", "mix": mix, "queries": q, "answered": rep["answered"],
            "lost": rep["lost"], "per_s": rep["answers_per_s"],
            "cycles_per_query": c["server_cycles"] / q if q else float("nan"),
            "on_cpu_share": c["server_on_cpu_share"], "gen_cpu_share": gen}


KNOT_CONF = """
server:
    listen: 127.0.0.1@{port}
    rundir: {dir}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
    edns-client-subnet: on
database:
    storage: {dir}
template:
  - id: default
    storage: {dir}
    semantic-checks: off
    journal-content: none
    zonefile-sync: -1
zone:
  - domain: bench.test
    file: {zone}
"""


def proc_cpu_seconds(pid):
    total = 0.0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            total += compare.thread_cpu_seconds(f"/proc/{pid}/task/{t}/stat")
        except OSError:
            pass
    return total


def children_cpu_seconds():
    # The load generator's CPU time: the only child reaped while it runs (the
    # server, edgeplane or knotd, is reaped after the measured window).
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def ecs_hex(subnet):
    addr, plen = subnet.split("/")
    plen = int(plen)
    b = bytes(int(x) for x in addr.split("."))[: (plen + 7) // 8]
    return (b"\x00\x01" + bytes([plen, 0]) + b).hex()


def knot_run(a, zone, mix, hz):
    name, ecs = MIXES[mix]
    d = tempfile.mkdtemp(prefix="edgebench-knot-")
    try:
        conf = os.path.join(d, "knot.conf")
        open(conf, "w").write(KNOT_CONF.format(port=a.knot_port, dir=d, zone=zone))
        k = subprocess.Popen(["taskset", "-c", str(a.server_cpu), "knotd", "-c", conf],
                             stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            for _ in range(100):
                r = subprocess.run(["kdig", "@127.0.0.1", "-p", str(a.knot_port), "+time=1", name, "A"],
                                   capture_output=True, text=True)
                if "NOERROR" in r.stdout:
                    break
                time.sleep(0.1)
            else:
                raise RuntimeError("knotd did not answer")
            qf = os.path.join(d, "queries")
            open(qf, "w").write(f"{name} A\n")
            cmd = ["taskset", "-c", str(a.client_cpu), "dnsperf", "-s", "127.0.0.1", "-p", str(a.knot_port),
                   "-d", qf, "-l", str(a.duration), "-c", "1", "-T", "1", "-q", str(a.window)]
            if ecs:
                cmd += ["-E", f"8:{ecs_hex(ecs)}"]
            cpu0, t0, g0 = proc_cpu_seconds(k.pid), time.monotonic(), children_cpu_seconds()
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.duration + 60)
            cpu1, t1, g1 = proc_cpu_seconds(k.pid), time.monotonic(), children_cpu_seconds()
        finally:
            compare.stop_process(k, signal.SIGTERM, 10)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    m = re.search(r"Queries completed:\s+(\d+)", p.stdout)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"dnsperf rc={p.returncode}: {p.stdout[-1500:]} {p.stderr[-500:]}")
    q = int(m.group(1))
    qps = re.search(r"Queries per second:\s+([\d.]+)", p.stdout)
    return {"server": "knot", "mix": mix, "queries": q, "answered": q, "lost": 0,
            "per_s": float(qps.group(1)) if qps else q / (t1 - t0),
            "cycles_per_query": (cpu1 - cpu0) * hz / q if q else float("nan"),
            "on_cpu_share": (cpu1 - cpu0) / (t1 - t0), "gen_cpu_share": (g1 - g0) / (t1 - t0)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="build dir (control/edgeplane, bench/edgebench)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--duration", type=float, default=3)
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--server-cpu", type=int, default=1)
    ap.add_argument("--client-cpu", type=int, default=0)
    ap.add_argument("--knot-port", type=int, default=5399)
    ap.add_argument("--no-knot", action="store_true")
    ap.add_argument("--memif", default=os.path.join(compare.MEMIF_DIR, "memif-dns.sock"))
    a = ap.parse_args()
    hz = compare.tsc_hz_guess()
    work = tempfile.mkdtemp(prefix="edgebench-dns-")
    zone = os.path.join(work, "bench.test.zone")
    open(zone, "w").write(ZONE)
    rows = []
    try:
        for i in range(a.runs):
            for mix in MIXES:
                r = edgeplane_run(a, zone, mix, f"{os.getpid() % 10000}d{mix[0]}{i}")
                rows.append(r)
                print(f"run {i} edgeplane {mix}: {r['cycles_per_query']:.0f} cycles/query, "
                      f"{r['per_s']:.0f}/s, on CPU {r['on_cpu_share']:.0%}, generator on CPU "
                      f"{r['gen_cpu_share']:.0%}, lost {r['lost']}", file=sys.stderr)
                if not a.no_knot:
                    r = knot_run(a, zone, mix, hz)
                    rows.append(r)
                    print(f"run {i} knot {mix}: {r['cycles_per_query']:.0f} cycles/query, "
                          f"{r['per_s']:.0f}/s, on CPU {r['on_cpu_share']:.0%}, generator on CPU "
                          f"{r['gen_cpu_share']:.0%}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"TSC {hz / 1e9:.2f} GHz (from /proc/cpuinfo)\n")
    print("| server | mix | runs | median cycles/query | range | median answers/s | generator on CPU |")
    print("|---|---|---:|---:|---|---:|---:|")
    med = {}
    for server in ("edgeplane", "knot"):
        for mix in MIXES:
            rs = [r for r in rows if r["server"] == server and r["mix"] == mix]
            if not rs:
                continue
            c = [r["cycles_per_query"] for r in rs]
            med[(server, mix)] = statistics.median(c)
            print(f"| {server} | {mix} | {len(rs)} | {statistics.median(c):.0f} | {min(c):.0f}-{max(c):.0f} | "
                  f"{statistics.median(r['per_s'] for r in rs):.0f} | "
                  f"{statistics.median(r['gen_cpu_share'] for r in rs):.0%} |")
    for mix in MIXES:
        if ("knot", mix) in med:
            print(f"\n{mix}: Knot / edgeplane = {med[('knot', mix)] / med[('edgeplane', mix)]:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

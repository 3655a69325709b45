#!/usr/bin/env python3
"""Server cycles per UDP echo (RFC 862) on net_memif.

edgeplane (one data lcore, --udp-echo-port 7) is the memif server; `edgebench
udp` on the other core keeps a window of datagrams in flight and checks every
echo byte for byte. The server's cost is its data lcore's busy cycles over the
echoes it sent (`udp_echo.datagrams`), scaled to the time its thread was on a
CPU (the on-CPU share is its own column). With --build-a, two builds run in
alternating pairs and the per-pair ratios are reported.

    bench/edgebench/udp_echo.py --build build --runs 5 --duration 3 --size 64
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402


def one_run(build, edgebench, a, tag):
    with compare.Edgeplane(build, tag, a.memif, ram_mb=256, data_lcore=str(a.server_cpu),
                           control_lcore=str(a.client_cpu), extra=["--udp-echo-port", "7"]) as ep:
        before = compare.snapshot(ep, a.server_cpu)
        port = f"net_memif0,role=client,socket={a.memif}" + (f",{compare.MEMIF_OPTS}" if compare.MEMIF_OPTS else "")
        p = subprocess.run([edgebench, "udp", "--port", port, "--ip", "10.79.0.1/24", "--server", "10.79.0.2",
                            "--lcore", str(a.client_cpu), "--size", str(a.size), "--window", str(a.window),
                            "-d", str(a.duration), "--json"],
                           capture_output=True, text=True, timeout=a.duration + 60)
        after = compare.snapshot(ep, a.server_cpu)
    if p.returncode != 0:
        raise RuntimeError(f"edgebench udp rc={p.returncode}: {p.stderr[-2000:]}")
    rep = json.loads(p.stdout.strip().splitlines()[-1])
    c = compare.server_cycles(before, after)
    echoes = (compare.section(after[0], "udp_echo").get("datagrams", 0) -
              compare.section(before[0], "udp_echo").get("datagrams", 0))
    return {"echoes": echoes, "client_received": rep["received"], "lost": rep["lost"],
            "echoes_per_s": rep["echoes_per_s"],
            "cycles_per_echo": c["busy_on_cpu"] / echoes if echoes else float("nan"),
            "tsc_per_echo": c["busy_tsc"] / echoes if echoes else float("nan"),
            "on_cpu_share": c["on_cpu_share"], "busy_share": c["busy_share"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="build dir (control/edgeplane, bench/edgebench)")
    ap.add_argument("--build-a", default=None, help="a baseline build to alternate with")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--duration", type=float, default=3)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--server-cpu", type=int, default=1)
    ap.add_argument("--client-cpu", type=int, default=0)
    ap.add_argument("--memif", default=os.path.join(compare.MEMIF_DIR, "memif-udp.sock"))
    a = ap.parse_args()
    edgebench = os.path.join(a.build, "bench", "edgebench")
    rows = []
    for i in range(a.runs):
        order = [("b", a.build)] if not a.build_a else ([("a", a.build_a), ("b", a.build)] if i % 2 == 0
                                                         else [("b", a.build), ("a", a.build_a)])
        for side, build in order:
            r = one_run(build, edgebench, a, f"{os.getpid() % 10000}u{side}{i}")
            r.update(run=i, side=side)
            rows.append(r)
            print(f"run {i} {side}: {r['cycles_per_echo']:.0f} cycles/echo (TSC {r['tsc_per_echo']:.0f}), "
                  f"on CPU {r['on_cpu_share']:.0%}, busy {r['busy_share']:.0%}, {r['echoes_per_s']:.0f} echoes/s, "
                  f"lost {r['lost']}", file=sys.stderr)
    print("| build | runs | median cycles/echo | median TSC/echo | median on-CPU share | median busy share | median echoes/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for side, name in (("a", a.build_a), ("b", a.build)):
        rs = [r for r in rows if r["side"] == side]
        if not rs:
            continue
        print(f"| {name} | {len(rs)} | {statistics.median(r['cycles_per_echo'] for r in rs):.0f} | "
              f"{statistics.median(r['tsc_per_echo'] for r in rs):.0f} | "
              f"{statistics.median(r['on_cpu_share'] for r in rs):.0%} | "
              f"{statistics.median(r['busy_share'] for r in rs):.0%} | "
              f"{statistics.median(r['echoes_per_s'] for r in rs):.0f} |")
    if a.build_a:
        ratios = [next(r for r in rows if r["run"] == i and r["side"] == "b")["cycles_per_echo"] /
                  next(r for r in rows if r["run"] == i and r["side"] == "a")["cycles_per_echo"] for i in range(a.runs)]
        print(f"\nper-pair ratios b/a: {', '.join(f'{x:.3f}' for x in ratios)}; median {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

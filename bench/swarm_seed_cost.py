#!/usr/bin/python3
"""Seeding cost (issue 12, "Benchmarks"): server cycles per byte of piece
payload, edgeplane's peer wire against python3-libtorrent as the seed, the
same file and the same leecher load (bench/swarm_live.py's swarm: N shaped
libtorrent leechers in namespaces, found through edgeplane's tracker in
both cases), alternating runs, a fresh swarm each run.

Counted:
- edgeplane (the seed): compare.py's edgeplane_window over the run, i.e.
  the data lcore's busy TSC cycles (or its thread's CPU time if smaller)
  plus every other thread's CPU time (the control thread) x TSC Hz, over
  `swarm.piece_bytes`. Its tracker and HTTP work (the leechers' announces,
  one .torrent each) are in it too: a small cost counted against it.
- libtorrent (the seed; edgeplane runs with --swarm-port 0 as tracker only
  and is not counted): utime + stime of every thread of the seed process
  (/proc/PID/task/*/stat, USER_HZ ticks) x the same TSC Hz, over the
  seed's own total_payload_upload. The kernel's TCP send for its sockets is
  in its stime; the loopback/veth receive on the far side is not.
- on-CPU share: the server's CPU time over the run's wall time.

    bench/swarm_seed_cost.py --build build --pairs 5
Never a test: the machine is shared; quote the per-pair ratios.
"""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "edgebench"))
import compare  # noqa: E402  (edgeplane_window, tasks_cpu_ns)

TICK = os.sysconf("SC_CLK_TCK")


def stat_cpu_s(pid):
    """utime + stime of every thread of pid, seconds (fields 14 and 15)."""
    total = 0
    base = f"/proc/{pid}/task"
    for tid in os.listdir(base):
        try:
            f = open(f"{base}/{tid}/stat").read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / TICK


def thread_ut_st(pid, name=None):
    """(utime, stime) seconds summed over pid's threads (or the one named)."""
    ut = st = 0
    base = f"/proc/{pid}/task"
    for tid in os.listdir(base):
        try:
            if name and open(f"{base}/{tid}/comm").read().strip() not in name:
                continue
            f = open(f"{base}/{tid}/stat").read().rsplit(")", 1)[1].split()
            ut, st = ut + int(f[11]), st + int(f[12])
        except (OSError, IndexError, ValueError):
            continue
    return ut / TICK, st / TICK


def tsc_hz(ep):
    """TSC Hz from the data lcore's busy + idle cycles over a wall interval."""
    c0, t0 = ep.stats()["total"]["counters"], time.monotonic()
    time.sleep(0.5)
    c1, t1 = ep.stats()["total"]["counters"], time.monotonic()
    return ((c1["busy_cycles"] + c1["idle_cycles"]) - (c0["busy_cycles"] + c0["idle_cycles"])) / (t1 - t0)


def ep_snap(ep):
    return {"stats": ep.stats(), "tasks": compare.tasks_cpu_ns(ep.proc.pid), "t": time.monotonic()}


def run_once(LiveSwarm, sha256, side, a, size, seed):
    lt = side == "libtorrent"
    with LiveSwarm(a.leechers, a.seed_kbit, a.up_kbit, a.down_kbit, lt_seed=lt) as sw:
        src = sw.ingest(size, seed=seed)
        want = sha256(src)
        hz = tsc_hz(sw.ep)
        snaps = {}
        lcn = ("lcore-worker-1", "rte-worker-1")
        if lt:
            sw.on_go = lambda: snaps.update(c0=stat_cpu_s(sw.seed_proc.pid), t0=time.monotonic(),
                                            u0=thread_ut_st(sw.seed_proc.pid))
            sw.on_done = lambda: snaps.update(c1=stat_cpu_s(sw.seed_proc.pid), t1=time.monotonic(),
                                              u1=thread_ut_st(sw.seed_proc.pid))
        else:
            sw.on_go = lambda: snaps.update(b=ep_snap(sw.ep), u0=thread_ut_st(sw.ep.proc.pid, lcn))
            sw.on_done = lambda: snaps.update(e=ep_snap(sw.ep), u1=thread_ut_st(sw.ep.proc.pid, lcn))
        reports, go = sw.run(limit=a.limit)
        ok = all(r["seeding"] for r in reports) and all(
            sha256(os.path.join(s, sw.name)) == want for s in sw.saves)
        if not ok:
            raise RuntimeError(f"{side}: not every leecher completed byte-exact: {reports}")
        d = max(r["done_at"] for r in reports) - go
        if lt:
            cpu = snaps["c1"] - snaps["c0"]
            wall = snaps["t1"] - snaps["t0"]
            payload = sw.seed_report["uploaded"]
            cycles = cpu * hz
            share = cpu / wall
        else:
            w = compare.edgeplane_window(snaps["b"], snaps["e"], compare.lcore_tid(sw.ep.proc.pid, 1))
            payload = (snaps["e"]["stats"]["swarm"]["piece_bytes"] - snaps["b"]["stats"]["swarm"]["piece_bytes"])
            cycles = w["server_cycles"]
            cpu_s = w["other_threads_s"] + (w["lcore_busy_tsc"] / hz if w["lcore_counted"] == "busy_tsc"
                                              else (w["lcore_cpu_cycles"] or 0) / hz)
            share = cpu_s / w["wall_s"]
        ut, st = snaps["u1"][0] - snaps["u0"][0], snaps["u1"][1] - snaps["u0"][1]
        extra = "" if lt else (f" lcore busy {w['lcore_busy_tsc'] / hz:.3f} s, lcore on CPU "
                               f"{(w['lcore_cpu_cycles'] or 0) / hz:.3f} s, other threads {w['other_threads_s']:.3f} s;")
        print(f"#   {side}:{extra} {'lcore' if not lt else 'all threads'} utime {ut:.2f} s stime {st:.2f} s "
              f"(user cycles/byte {ut * hz / payload:.2f})", flush=True)
        sw.ep.stop()
        return {"side": side, "user_cpb": ut * hz / payload, "cycles": cycles, "payload": payload, "cpb": cycles / payload,
                "share": share, "D": d, "hz": hz}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--leechers", type=int, default=8)
    ap.add_argument("--size-mib", type=float, default=16)
    ap.add_argument("--seed-kbit", type=int, default=32000)
    ap.add_argument("--up-kbit", type=int, default=4000)
    ap.add_argument("--down-kbit", type=int, default=40000)
    ap.add_argument("--limit", type=float, default=150)
    a = ap.parse_args()
    os.environ["EDGEPLANE_BUILD"] = os.path.abspath(a.build)
    sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
    from test_swarm_live import LiveSwarm  # noqa: E402
    from swarm_util import sha256  # noqa: E402

    size = int(a.size_mib * 1024 * 1024)
    res = {"edgeplane": [], "libtorrent": []}
    ratios = []
    print("pair,side,server_cycles,payload_bytes,cycles_per_byte,user_cycles_per_byte,on_cpu_share,D_s")
    for p in range(a.pairs):
        order = ("edgeplane", "libtorrent") if p % 2 == 0 else ("libtorrent", "edgeplane")
        pair = {}
        for side in order:
            r = run_once(LiveSwarm, sha256, side, a, size, seed=200 + p)
            pair[side] = r
            res[side].append(r)
            print(f"{p},{side},{r['cycles']:.0f},{r['payload']},{r['cpb']:.3f},{r['user_cpb']:.3f},{r['share']:.3f},"
                  f"{r['D']:.2f}",
                  flush=True)
        ratios.append(pair["libtorrent"]["cpb"] / pair["edgeplane"]["cpb"])
    print("# side, runs, median cycles/byte, range, median on-CPU share, median payload bytes")
    for side, rs in res.items():
        c = [r["cpb"] for r in rs]
        print(f"# {side}, {len(rs)}, {statistics.median(c):.3f}, {min(c):.3f}-{max(c):.3f}, "
              f"{statistics.median(r['share'] for r in rs):.3f}, {statistics.median(r['payload'] for r in rs):.0f}")
    print("# per-pair ratios libtorrent/edgeplane: " + ", ".join(f"{x:.2f}" for x in ratios)
          + f"; median {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Tracker benchmark (issue 12, "Benchmarks"): announces per server-core-
second, edgeplane's tracker (UDP BEP 15 and HTTP /announce, one data lcore)
against opentracker (Debian's package, installed by this script if missing:
no test needs it), side by side, alternating runs, the same load generator
(`edgebench tracker`, kernel sockets, pinned to CPU 0; the server on CPU 1).

- the same --hashes random info hashes for both: edgeplane runs with
  --tracker-open true (it tracks any hash), opentracker (Debian builds it
  in whitelist mode) gets them as its whitelist.
- edgeplane: net_memif (compare.Edgeplane), `edgebench tracker --dpdk-port`
  for UDP and `edgebench http --url-file` (announce URLs) for HTTP. Server
  cost: compare.py's edgeplane_window (data lcore busy TSC cycles or its CPU
  time, the smaller, + every other thread's CPU time), in core-seconds.
- opentracker: in a namespace of its own on 127.0.0.1, pinned to CPU 1;
  cost: every thread's CPU time (/proc/PID/task/*/schedstat). The kernel's
  UDP/TCP work for its sockets is in it (system time); the loopback's
  softirq on the sender's side is charged to edgebench.

    bench/swarm_tracker_bench.py --build build --pairs 5 --duration 3
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "edgebench"))
import compare  # noqa: E402


def edgebench(build, ns, server, port, proto, a):
    cmd = ["ip", "netns", "exec", ns, "taskset", "-c", "0", os.path.join(build, "bench", "edgebench"), "tracker",
           "--server", server, "--port", str(port), "--proto", proto, "--window", str(a.window),
           "--duration", str(a.duration), "--peers", str(a.peers), "--numwant", str(a.numwant), "--json"]
    for h in a.hash_list:
        cmd += ["--hash", h]
    if a.connect_each:
        cmd.append("--connect-each")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.duration + 60)
    if p.returncode != 0:
        raise RuntimeError(f"edgebench: {p.returncode} {p.stdout} {p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def run_edgeplane(proto, a, tag):
    """edgeplane on net_memif (one data lcore on CPU 1, the control thread on
    CPU 0 with the generator), driven by a DPDK client: over the TAP the
    figure would be the TAP's syscalls (a readv and a writev per datagram
    in the data lcore), which a NIC does not cost."""
    memif = f"/tmp/edgebench-trk-{tag}/memif.sock"
    port = f"net_memif0,role=client,socket={memif}" + (f",{compare.MEMIF_OPTS}" if compare.MEMIF_OPTS else "")
    eb = os.path.join(a.build, "bench", "edgebench")
    with compare.Edgeplane(a.build, tag, memif, ram_mb=256, data_lcore="1", control_lcore="0",
                           extra=["--tracker-open", "true", "--tracker-port", "6969"]) as ep:
        tid = ep.lcore_tid(1)
        if proto == "udp":
            cmd = [eb, "tracker", "--dpdk-port", port, "--ip", "10.79.0.1/24", "--lcore", "0",
                   "--server", "10.79.0.2", "--port", "6969", "--proto", "udp", "--window", str(a.window),
                   "--duration", str(a.duration), "--peers", str(a.peers), "--numwant", str(a.numwant), "--json"]
            for h in a.hash_list:
                cmd += ["--hash", h]
            if a.connect_each:
                cmd.append("--connect-each")
        else:
            # `edgebench http` over memif: one announce URL per (peer, hash)
            # in a file, --window connections (keep-alive), every status counted.
            urls = os.path.join(ep.workdir, "announces.txt")
            with open(urls, "w") as f:
                for k in range(a.peers):
                    h = bytes.fromhex(a.hash_list[k % len(a.hash_list)])
                    f.write("/announce?info_hash=" + "".join("%%%02X" % b for b in h)
                            + f"&peer_id=-EB0001-{k:012d}&port={10000 + k}&uploaded=0&downloaded=0"
                            + f"&left={0 if k & 1 else 1048576}&compact=1&numwant={a.numwant}\n")
            cmd = [eb, "http", "--port", port, "--ip", "10.79.0.1/24", "--lcore", "0", "--server", "10.79.0.2",
                   "--url-file", urls, "-c", str(min(a.window, 64)), "-d", str(a.duration), "--json"]
        # The window opens when the server's announce counter first moves
        # (the generator's EAL start and ARP take seconds and are not load)
        # and closes when the generator exits; announces are the server's.
        sec, key = ("tracker", "announces") if proto == "udp" else ("http", "tracker_announces")
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        before = None
        while p.poll() is None:
            snap = compare.ep_snapshot(ep)
            if compare.section(snap["stats"], sec).get(key, 0) > 0:
                before = snap
                break
            time.sleep(0.02)
        out, err = p.communicate(timeout=a.duration + 60)
        after = compare.ep_snapshot(ep)
    if p.returncode != 0 or before is None:
        raise RuntimeError(f"edgebench rc={p.returncode}: {out[-1000:]} {err[-2000:]}")
    rep = json.loads(out.strip().splitlines()[-1])
    w = compare.edgeplane_window(before, after, tid)
    core_s = w["server_cycles"] / w["hz"]
    ann = compare.section(after["stats"], sec).get(key, 0) - compare.section(before["stats"], sec).get(key, 0)
    if proto == "http":
        rep = {"announces": ann, "errors": 0, "bad": sum(rep.get("errors", {}).values()), "raw": rep}
    else:
        rep["generator_announces"] = rep["announces"]
        rep["announces"] = ann
    rep["announces_per_s"] = ann / w["wall_s"]
    print(f"#   edgeplane window: lcore {w['lcore_counted']} {min(w['lcore_busy_tsc'], w['lcore_cpu_cycles'] or 1e30) / w['hz']:.3f} s"
          f" (busy {w['lcore_busy_tsc'] / w['hz']:.3f} s, on CPU {(w['lcore_cpu_cycles'] or 0) / w['hz']:.3f} s),"
          f" other threads {w['other_threads_s']:.3f} s, generator {rep}", flush=True)
    return rep, core_s, w["server_on_cpu_share"] or 0.0


def run_opentracker(proto, a, tag):
    ns = f"epot{tag}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    p = None
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        # Debian builds opentracker with a whitelist (accesslist): the
        # hashes the generator uses, read from inside its chroot (-d) by
        # a relative path; it refuses to keep root, so it drops to nobody.
        d = f"/tmp/opentracker-{tag}"
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        with open(os.path.join(d, "whitelist"), "w") as f:
            f.write("".join(h + "\n" for h in a.hash_list))
        os.chmod(os.path.join(d, "whitelist"), 0o644)
        p = subprocess.Popen(["ip", "netns", "exec", ns, "taskset", "-c", "1", "opentracker", "-i", "127.0.0.1",
                              "-p", "6969", "-P", "6969", "-d", d, "-w", "whitelist"], cwd=d,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)  # it loads the whitelist in a thread
        if p.poll() is not None:
            raise RuntimeError(f"opentracker exited: {p.stderr.read()}")
        c0, t0 = compare.tasks_cpu_ns(p.pid), time.monotonic()
        r = edgebench(a.build, ns, "127.0.0.1", 6969, proto, a)
        c1, t1 = compare.tasks_cpu_ns(p.pid), time.monotonic()
        core_s = compare.tasks_delta_s(c0, c1)
    finally:
        if p and p.poll() is None:
            p.kill()
            p.wait()
        subprocess.run(["ip", "netns", "del", ns])
        shutil.rmtree(f"/tmp/opentracker-{tag}", ignore_errors=True)
    return r, core_s, core_s / (t1 - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--duration", type=float, default=3)
    ap.add_argument("--protos", default="udp,http")
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--peers", type=int, default=1000)
    ap.add_argument("--hashes", type=int, default=16)
    ap.add_argument("--numwant", type=int, default=50)
    ap.add_argument("--connect-each", action="store_true")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    rnd = random.Random(7)
    a.hash_list = ["%040x" % rnd.getrandbits(160) for _ in range(a.hashes)]
    if not shutil.which("opentracker"):
        subprocess.run(["apt-get", "install", "-y", "opentracker"], check=True)

    print("proto,pair,server,announces,errors,bad,announces_per_s,server_core_s,announces_per_core_s,on_cpu_share")
    summary = {}
    for proto in a.protos.split(","):
        ratios = []
        for pr in range(a.pairs):
            order = ("edgeplane", "opentracker") if pr % 2 == 0 else ("opentracker", "edgeplane")
            per = {}
            for srv in order:
                if srv == "edgeplane":
                    r, core_s, share = run_edgeplane(proto, a, f"{os.getpid() % 10000}")
                else:
                    r, core_s, share = run_opentracker(proto, a, f"{os.getpid() % 10000}")
                apcs = r["announces"] / core_s if core_s > 0 else float("inf")
                per[srv] = apcs
                summary.setdefault((proto, srv), []).append((apcs, r["announces_per_s"], share))
                print(f"{proto},{pr},{srv},{r['announces']},{r['errors']},{r['bad']},{r['announces_per_s']:.0f},"
                      f"{core_s:.3f},{apcs:.0f},{share:.3f}", flush=True)
            ratios.append(per["edgeplane"] / per["opentracker"])
        summary[(proto, "ratios")] = ratios
    print("# proto, server, runs, median announces/core-s, median announces/s, median on-CPU share")
    for (proto, srv), v in summary.items():
        if srv == "ratios":
            continue
        print(f"# {proto}, {srv}, {len(v)}, {statistics.median(x[0] for x in v):.0f}, "
              f"{statistics.median(x[1] for x in v):.0f}, {statistics.median(x[2] for x in v):.3f}")
    for (proto, srv), v in summary.items():
        if srv == "ratios":
            print(f"# {proto} per-pair ratios edgeplane/opentracker: " + ", ".join(f"{x:.2f}" for x in v)
                  + f"; median {statistics.median(v):.2f}")


if __name__ == "__main__":
    main()

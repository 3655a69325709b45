#!/usr/bin/python3
"""The soak (issue 17 "Abuse"): one appliance on net_tap in a fresh namespace,
the fault stage on (a little drop, dup, reorder, delay), and bounded mixed
load for --minutes: HTTP GETs and ranges, a DASH session loop, a libtorrent
leecher re-downloading a torrent from the peer wire, DNS queries and UDP
tracker announces (bench/soak_load.py, every answer checked against its
source). Every --sample-s it samples the daemon's RSS, mbufs_in_use, pinned
chunks, open connections and the error counters; after the load stops and
--settle-s pass, it checks that they came back to the idle baseline (RSS:
within --rss-tol-pct of the RSS after the first minute of load, when the
allocations that last are made), writes CSV + PNG and a summary line, and
exits 1 if anything is not flat.

Not a test and not in CI (docs/testing.md "Soak"). Run as root from the
repository, after a build:

    nice -n 10 /usr/bin/python3 bench/soak.py --minutes 30 --out /var/tmp/soak

It cleans up like the integration tests (tests/integration/harness.py):
namespace, TAP, hugepage files, the daemon, its work files.
"""

import argparse
import csv
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
os.environ.setdefault("EDGEPLANE_BUILD", os.path.join(HERE, "..", "build"))
from harness import PYTHON, Edgeplane  # noqa: E402

DNS_NAME, DNS_ANSWER = "www.soak.test.", "192.0.2.55"
ZONE = f"""$ORIGIN soak.test.
$TTL 300
@   IN SOA ns1 hostmaster 2026120201 7200 900 1209600 300
    IN NS  ns1
ns1 IN A   192.0.2.1
www IN A   {DNS_ANSWER}
"""


def make_content(root, rnd):
    """Plain objects, a swarm object and a DASH title (ffmpeg, as
    test_dash.py makes one); returns the load driver's view of them."""
    objs = {}
    src = {}
    for name, size in (("small.bin", 64 * 1024 + 7), ("one.bin", 1 << 20), ("three.bin", 3 * (1 << 20) + 333),
                       ("eight.bin", 8 << 20)):
        data = rnd.randbytes(size)
        path = os.path.join(root, "site", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        objs[name] = [size, hashlib.sha256(data).hexdigest()]
        src[name] = path
    swarm = rnd.randbytes(6 * (1 << 20) + 12345)
    with open(os.path.join(root, "site", "swarm.bin"), "wb") as f:
        f.write(swarm)
    dash_dir = os.path.join(root, "site", "dash")
    os.makedirs(dash_dir)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
                    "-f", "lavfi", "-i", "sine", "-t", "20", "-map", "0:v", "-map", "0:v", "-map", "1:a",
                    "-c:v", "libx264", "-preset", "ultrafast", "-b:v:0", "800k", "-s:v:1", "320x180",
                    "-b:v:1", "300k", "-c:a", "aac", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
                    "-f", "dash", "-seg_duration", "2", "-use_template", "1", "-use_timeline", "0",
                    "-adaptation_sets", "id=0,streams=v id=1,streams=a", "manifest.mpd"],
                   cwd=dash_dir, check=True, timeout=300)
    files = {}
    for f in sorted(os.listdir(dash_dir)):
        with open(os.path.join(dash_dir, f), "rb") as fh:
            files["/dash/" + f] = hashlib.sha256(fh.read()).hexdigest()
    # Each representation's init segment, then its media segments in order.
    reps = []
    for r in ("0", "1", "2"):
        init = f"/dash/init-stream{r}.m4s"
        media = sorted((p for p in files if re.fullmatch(rf"/dash/chunk-stream{r}-\d+\.m4s", p)),
                       key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0]))
        if init in files and media:
            reps.append([init] + media)
    assert reps, sorted(files)
    dash = {"mpd": "/dash/manifest.mpd", "files": files, "reps": reps}
    return objs, src, dash, hashlib.sha256(swarm).hexdigest()


def rss_kb(pid):
    """VmRSS and RssAnon: VmRSS counts the mapped hugepages (the pool, the
    RAM tier), fixed at start; RssAnon is the heap, where a leak would grow."""
    got = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon"):
                got[k] = int(v.split()[0])
    return got.get("VmRSS", 0), got.get("RssAnon", 0)


def daemon_pid(ep):
    """The edgeplane process under `ip netns exec` (it execs, but check)."""
    pid = ep.proc.pid
    with open(f"/proc/{pid}/comm") as f:
        if f.read().strip() == "edgeplane":
            return pid
    out = subprocess.run(["pgrep", "-P", str(pid), "-x", "edgeplane"], capture_output=True, text=True).stdout
    return int(out.split()[0])


# What a sample records, from `edgectl stats --json` (section, name).
GAUGES = {
    "mbufs_in_use": ("port", "mbufs_in_use"),
    "pinned_chunks": ("chunkstore", "ram_pinned_chunks"),
    "http_pinned_bytes": ("http", "pinned_bytes"),
    "swarm_pinned_bytes": ("swarm", "pinned_bytes"),
    "tcp_conns": ("tcp", "connections_open"),
}
# Error and work counters (cumulative); drops are the lcores' named drops.
COUNTERS = {
    "http_requests": ("http", "requests"),
    "retransmits": ("tcp", "retransmits"),
    "tso_sends": ("tcp", "tso_sends"),
    "fault_dropped": ("counters", "fault_dropped"),
    "fault_duplicated": ("counters", "fault_duplicated"),
    "fault_delayed": ("counters", "fault_delayed"),
    "dns_queries": ("dns", "queries"),
    "tracker_announces": ("tracker", "announces"),
    "swarm_piece_bytes": ("swarm", "piece_bytes"),
}


def pick(stats, section, name):
    if section == "counters":
        return stats["total"]["counters"].get(name, 0)
    return stats.get(section, {}).get(name, 0)


def sample(ep, pid, t0):
    s = ep.stats()
    rss, anon = rss_kb(pid)
    row = {"t_s": round(time.time() - t0, 1), "rss_kb": rss, "rss_anon_kb": anon}
    for k, (sec, name) in {**GAUGES, **COUNTERS}.items():
        row[k] = pick(s, sec, name)
    # Drops by reason, the fault stage's own left out (they are the injected faults).
    row["drops"] = sum(v for k, v in s["total"]["drops"].items() if k != "fault_injected")
    return row, s


def plot(rows, phases, png):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [r["t_s"] / 60 for r in rows]
    fig, ax = plt.subplots(4, 1, figsize=(8, 8), sharex=True)
    ax[0].plot(t, [r["rss_anon_kb"] / 1024 for r in rows])
    ax[0].set_ylabel("RssAnon MiB")
    ax[1].plot(t, [r["mbufs_in_use"] for r in rows])
    ax[1].set_ylabel("mbufs in use")
    ax[2].plot(t, [r["pinned_chunks"] for r in rows], label="pinned chunks")
    ax[2].plot(t, [r["tcp_conns"] for r in rows], label="TCP connections")
    ax[2].legend(loc="upper right", fontsize=7)
    ax[3].plot(t, [r["http_requests"] for r in rows], label="HTTP requests")
    ax[3].plot(t, [r["fault_dropped"] + r["fault_duplicated"] + r["fault_delayed"] for r in rows],
               label="faults injected")
    ax[3].legend(loc="upper left", fontsize=7)
    ax[3].set_xlabel("minutes")
    for a in ax:
        for x in phases:
            a.axvline(x / 60, color="grey", linestyle=":")
    fig.suptitle("edgeplane soak: load between the dotted lines, then settle")
    fig.tight_layout()
    fig.savefig(png, dpi=60)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--sample-s", type=float, default=15)
    ap.add_argument("--settle-s", type=float, default=30)
    ap.add_argument("--out", default=None, help="directory for soak.csv, soak.png (default: a new /var/tmp dir)")
    ap.add_argument("--fault", default="drop=0.002,dup=0.002,reorder=0.005,reorder-us=300,delay=0.005,"
                    "delay-us=2000,seed=17,dir=both")
    ap.add_argument("--rss-tol-pct", type=float, default=5.0)
    ap.add_argument("--mbuf-tol", type=int, default=32,
                    help="mbufs_in_use may end this far above the idle baseline (frames the last iteration "
                    "still holds); the exit's 'all N mbufs returned' is exact")
    a = ap.parse_args()
    out = a.out or tempfile.mkdtemp(prefix="edgeplane-soak-", dir="/var/tmp")
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="edgeplane-soak-work-", dir="/var/tmp")
    load = None
    try:
        objs, src, dash, swarm_sha = make_content(work, random.Random(17))
        zone = os.path.join(work, "soak.test.zone")
        with open(zone, "w") as f:
            f.write(ZONE)
        ep = Edgeplane(args=["--ram-mb", "256", "--fault", a.fault, "--dns-port", "53", "--dns-zone", zone,
                             "--http-idle-timeout-ms", "10000"], torrents=True)
        with ep:
            ingest = ep.ctl("ingest", os.path.join(work, "site")).stdout
            assert "stored" in ingest, ingest
            swarm_hash = dict(line.split(" ", 1) for line in ep.ctl("torrent", "swarm.bin").stdout.strip()
                              .splitlines())["info_hash"]
            pid = daemon_pid(ep)
            lt_dir = os.path.join(work, "lt")
            os.makedirs(lt_dir)
            t0 = time.time()
            idle, _ = sample(ep, pid, t0)
            deadline = time.time() + a.minutes * 60
            cfg = {"ip": ep.ip, "deadline": deadline, "objects": objs, "range_src": src, "dash": dash,
                   "workdir": lt_dir, "swarm_name": "swarm.bin", "swarm_sha": swarm_sha,
                   "swarm_hash": swarm_hash, "dns_name": DNS_NAME, "dns_answer": DNS_ANSWER,
                   "http_workers": 4, "http_rate": 10, "dash_rate": 4, "dns_rate": 20, "tracker_rate": 2,
                   "swarm_rate": 4 << 20}
            cfg_path = os.path.join(work, "load.json")
            with open(cfg_path, "w") as f:
                json.dump(cfg, f)
            load = subprocess.Popen(["ip", "netns", "exec", ep.ns, PYTHON, os.path.join(HERE, "soak_load.py"),
                                     cfg_path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            rows = [idle]
            warm = None
            while load.poll() is None:
                time.sleep(min(a.sample_s, max(0.5, deadline + 200 - time.time())))
                row, _ = sample(ep, pid, t0)
                rows.append(row)
                if warm is None and row["t_s"] >= 60:
                    warm = row
                print(json.dumps(row), flush=True)
                if time.time() > deadline + 200:
                    load.kill()
            load_out, load_err = load.communicate(timeout=30)
            load_end = time.time() - t0
            try:
                totals = json.loads(load_out.strip().splitlines()[-1])
            except (IndexError, ValueError):
                totals = {"driver_failed": load_err[-2000:]}
            settle_end = time.time() + a.settle_s
            while time.time() < settle_end:
                time.sleep(min(a.sample_s, max(0.1, settle_end - time.time())))
                row, _ = sample(ep, pid, t0)
                rows.append(row)
            end, stats = sample(ep, pid, t0)
            rows.append(end)
            warm = warm or rows[min(1, len(rows) - 1)]
            checks = {
                "mbufs_in_use": end["mbufs_in_use"] <= idle["mbufs_in_use"] + a.mbuf_tol,
                "pinned_chunks": end["pinned_chunks"] <= idle["pinned_chunks"],
                "pinned_bytes": end["http_pinned_bytes"] + end["swarm_pinned_bytes"] == 0,
                "tcp_conns": end["tcp_conns"] <= idle["tcp_conns"],
                "rss_anon": end["rss_anon_kb"] <= warm["rss_anon_kb"] * (1 + a.rss_tol_pct / 100),
                "served_right": totals.get("http_bad", 0) == 0 and totals.get("dash_bad", 0) == 0
                and totals.get("swarm_bad", 0) == 0 and totals.get("dns_bad", 0) == 0,
            }
            rc = ep.stop()
            log = ep.log()
            m = re.search(r"all (\d+) mbufs returned", log)
            checks["exit_0_all_mbufs_returned"] = rc == 0 and m is not None
        with open(os.path.join(out, "soak.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        with open(os.path.join(out, "soak.json"), "w") as f:
            json.dump({"args": vars(a), "idle": idle, "warm": warm, "end": end, "load": totals,
                       "checks": checks, "drops": stats["total"]["drops"], "stats_end": stats}, f, indent=1)
        try:
            plot(rows, [idle["t_s"], load_end], os.path.join(out, "soak.png"))
        except ImportError as e:
            print("no plot:", e)
        faults = end["fault_dropped"] + end["fault_duplicated"] + end["fault_delayed"]
        flat = all(checks.values())
        print(f"soak {a.minutes:g} min: {'FLAT' if flat else 'NOT FLAT'} {checks}; RssAnon idle "
              f"{idle['rss_anon_kb']} kB, after 1 min {warm['rss_anon_kb']} kB, end {end['rss_anon_kb']} kB "
              f"(VmRSS with the hugepages: idle {idle['rss_kb']}, end {end['rss_kb']}); mbufs_in_use "
              f"idle {idle['mbufs_in_use']} end {end['mbufs_in_use']}; pinned chunks idle "
              f"{idle['pinned_chunks']} end {end['pinned_chunks']}; TCP conns end {end['tcp_conns']}; "
              f"HTTP requests {end['http_requests']}; faults injected {faults}; load {totals}; "
              f"files in {out}", flush=True)
        return 0 if flat else 1
    finally:
        if load and load.poll() is None:
            load.kill()
            load.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, lambda *a: sys.exit(130))
    sys.exit(main())

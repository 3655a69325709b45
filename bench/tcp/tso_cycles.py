#!/usr/bin/python3
"""Server cycles per byte of a bulk download over net_tap, TSO on against
TSO off (issue 20), alternated run by run as docs/benchmarks.md says.

    sudo bench/tcp/tso_cycles.py --build build --pairs 5 --mib 32 --downloads 3

Each run starts edgeplane (one data lcore on CPU 1, the control thread on
CPU 0) with `--tso true` or `--tso false` on a net_tap whose kernel side is
in a fresh namespace (tests/integration/harness.py), ingests one object of
--mib MiB, downloads it once to warm up, then --downloads times with curl
(pinned to CPU 0, output to /dev/null, bytes checked by size) inside the
measured window. Server cycles are counted as `edgebench compare` counts
them (bench/edgebench/compare.py edgeplane_window): the data lcore's busy
TSC cycles or its thread's CPU time x TSC Hz, whichever is smaller, plus
every other thread's CPU time; no factor. On net_tap the lcore's cycles
include the TAP writes (one writev per segment, done in the lcore thread
by the driver, and librte_gso's software segmentation under TSO): what a
hardware NIC would do is not separable here. Prints one JSON line per run
and a summary: medians per mode, the median of the per-pair ratios (off /
on), the data lcore's on-CPU share.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "edgebench"))


def one_run(build, tso, path, size, downloads):
    os.environ["EDGEPLANE_BUILD"] = os.path.abspath(build)
    import harness  # noqa: E402 (reads EDGEPLANE_BUILD at import)
    import compare  # noqa: E402
    harness.EDGEPLANE = os.path.join(os.path.abspath(build), "control", "edgeplane")
    harness.EDGECTL = os.path.join(os.path.abspath(build), "control", "edgectl")
    ep = harness.Edgeplane(args=["--ram-mb", str(max(96, 2 * size // (1 << 20))), "--tso",
                                 "true" if tso else "false"])
    with ep:
        ep.ctl("ingest", os.path.dirname(path))
        url = f"http://{ep.ip}/{os.path.basename(path)}"
        get = ["taskset", "-c", "0", "curl", "-sS", "-m", "120", "-o", "/dev/null", "-w", "%{size_download}", url]
        assert int(ep.ns_run(get).stdout) == size  # warm-up
        tid = None
        for t in os.listdir(f"/proc/{ep.proc.pid}/task"):
            if open(f"/proc/{ep.proc.pid}/task/{t}/comm").read().strip() in ("lcore-worker-1", "rte-worker-1"):
                tid = int(t)
        before = compare.ep_snapshot(ep)
        t0 = time.monotonic()
        for _ in range(downloads):
            got = int(ep.ns_run(get).stdout)
            assert got == size, got
        wall = time.monotonic() - t0
        after = compare.ep_snapshot(ep)
        w = compare.edgeplane_window(before, after, tid)
        tcp0, tcp1 = before["stats"]["tcp"], after["stats"]["tcp"]
        nbytes = size * downloads
        res = {"tso": tso, "bytes": nbytes, "MB_s": nbytes / wall / 1e6,
               "server_cycles_per_byte": w["server_cycles"] / nbytes,
               "lcore_busy_tsc_per_byte": w["lcore_busy_tsc"] / nbytes,
               "lcore_counted": w["lcore_counted"], "lcore_on_cpu": w["server_on_cpu_share"],
               "busy_share": w["busy_share"], "hz": w["hz"],
               "frames": tcp1["tx_segments"] - tcp0["tx_segments"],
               "tso_sends": tcp1["tso_sends"] - tcp0["tso_sends"],
               "retransmits": tcp1["retransmits"] - tcp0["retransmits"]}
        assert ep.stop() == 0
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--mib", type=int, default=32)
    ap.add_argument("--downloads", type=int, default=3)
    a = ap.parse_args()
    size = a.mib << 20
    runs = []
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        path = os.path.join(tmp, "blob.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(size))
        for i in range(a.pairs):
            # Alternate which mode goes first, so neither always runs warmer.
            for tso in ((True, False) if i % 2 == 0 else (False, True)):
                r = one_run(a.build, tso, path, size, a.downloads)
                r["pair"] = i
                runs.append(r)
                print(json.dumps(r), flush=True)
    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    by = {m: [r for r in runs if r["tso"] == m] for m in (True, False)}
    med = {m: {k: statistics.median(r[k] for r in by[m]) for k in
               ("server_cycles_per_byte", "lcore_busy_tsc_per_byte", "MB_s", "lcore_on_cpu", "busy_share")}
           for m in (True, False)}
    ratios = []
    for i in range(a.pairs):
        on = [r for r in runs if r["pair"] == i and r["tso"]][0]
        off = [r for r in runs if r["pair"] == i and not r["tso"]][0]
        ratios.append(off["server_cycles_per_byte"] / on["server_cycles_per_byte"])
    print(json.dumps({"commit": commit, "tso_on": med[True], "tso_off": med[False],
                      "ratio_off_over_on_median": statistics.median(ratios),
                      "ratios": ratios, "loadavg": os.getloadavg()}))


if __name__ == "__main__":
    main()

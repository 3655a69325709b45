#!/usr/bin/env python3
"""Two edgeplane builds side by side under the same edgebench load.

For a change that must not cost the fast path (a refactor), run the build
before it (A) and after it (B) in alternating order, pair by pair, in the
same minutes, against one edgebench binary over net_memif, and report each
run's server cycles per request, the on-CPU share of the data lcore's
thread, the medians and the median of the per-pair ratios B/A.

    bench/edgebench/ab_builds.py --build-a /tmp/old/build --build-b build \
        --pairs 5 --duration 5 --workload small

Server cycles are the data lcore's busy TSC cycles scaled to the time its
thread was really on a CPU (busy share x on-CPU seconds x TSC Hz), as
`edgebench compare` does; the raw TSC figure and the on-CPU share are
columns of their own. The loop is bounded: pairs x duration plus start-up.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (Edgeplane, edgebench_http, lcore_totals, section)
import compare_content  # noqa: E402


def one_run(build, edgebench, content, url_file, a, tag, extra=()):
    with compare.Edgeplane(build, tag, a.memif, ram_mb=a.ram_mb, data_lcore=str(a.server_cpu),
                           control_lcore=str(a.client_cpu), extra=extra) as ep:
        ep.ingest(content)
        before = compare.snapshot(ep, a.server_cpu)
        rc, rep, err = compare.edgebench_http(
            edgebench, a.memif,
            ["--url-file", url_file, "-c", str(a.conns), "-d", str(a.duration),
             "--verify-dir", content, "--verify-every", "97"],
            timeout=a.duration + 120, lcore=a.client_cpu)
        after = compare.snapshot(ep, a.server_cpu)
    if rep is None:
        raise RuntimeError(f"edgebench http failed rc={rc}: {err[-2000:]}")
    c = compare.server_cycles(before, after)
    reqs = compare.section(after[0], "http").get("requests", 0) - compare.section(before[0], "http").get("requests", 0)
    return {"requests": reqs, "rps": rep["requests_per_s"], "errors": rep["errors_total"],
            "verified": rep["verified"], "cycles_per_req": c["busy_on_cpu"] / reqs if reqs else float("nan"),
            "tsc_per_req": c["busy_tsc"] / reqs if reqs else float("nan"),
            "on_cpu_share": c["on_cpu_share"], "busy_share": c["busy_share"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-a", required=True, help="build dir of the baseline (control/edgeplane)")
    ap.add_argument("--build-b", required=True, help="build dir of the change")
    ap.add_argument("--edgebench", default=None, help="edgebench binary (default: build-b's)")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--workload", choices=["small", "seg"], default="small")
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--ram-mb", type=int, default=512)
    ap.add_argument("--server-cpu", type=int, default=1)
    ap.add_argument("--client-cpu", type=int, default=0)
    ap.add_argument("--memif", default=os.path.join(compare.MEMIF_DIR, "memif-ab.sock"))
    ap.add_argument("--json", default=None, help="write every run here")
    ap.add_argument("--extra-a", default="", help="more edgeplane flags for A (one string)")
    ap.add_argument("--extra-b", default="", help="more edgeplane flags for B, e.g. '--tracker-port 0'")
    a = ap.parse_args()
    edgebench = a.edgebench or os.path.join(a.build_b, "bench", "edgebench")
    content = tempfile.mkdtemp(prefix="edgebench-ab-")
    runs = []
    try:
        os.chmod(content, 0o755)
        compare_content.main_args([content, "--small", "200", "--segments", "8", "--titles", "0"])
        url_file = os.path.join(content, a.workload + ".txt")
        for i in range(a.pairs):
            order = ("a", "b") if i % 2 == 0 else ("b", "a")
            pair = {}
            for side in order:
                build = a.build_a if side == "a" else a.build_b
                extra = (a.extra_a if side == "a" else a.extra_b).split()
                r = one_run(build, edgebench, content, url_file, a, f"{os.getpid() % 10000}{side}{i}", extra)
                r.update(pair=i, side=side)
                pair[side] = r
                runs.append(r)
                print(f"pair {i} {side}: {r['cycles_per_req']:.0f} cycles/req (TSC {r['tsc_per_req']:.0f}), "
                      f"on CPU {r['on_cpu_share']:.0%}, {r['rps']:.0f} req/s, errors {r['errors']}",
                      file=sys.stderr)
            pair["ratio"] = pair["b"]["cycles_per_req"] / pair["a"]["cycles_per_req"]
            runs.append({"pair": i, "ratio_b_over_a": pair["ratio"]})
    finally:
        shutil.rmtree(content, ignore_errors=True)
    sides = {s: [r for r in runs if r.get("side") == s] for s in ("a", "b")}
    ratios = [r["ratio_b_over_a"] for r in runs if "ratio_b_over_a" in r]
    print("| build | runs | median cycles/req | median TSC/req | median on-CPU share | median req/s | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for s, name in (("a", a.build_a), ("b", a.build_b)):
        rs = sides[s]
        print(f"| {s}: {name} | {len(rs)} | {statistics.median(r['cycles_per_req'] for r in rs):.0f} | "
              f"{statistics.median(r['tsc_per_req'] for r in rs):.0f} | "
              f"{statistics.median(r['on_cpu_share'] for r in rs):.0%} | "
              f"{statistics.median(r['rps'] for r in rs):.0f} | {sum(r['errors'] for r in rs)} |")
    print(f"\nper-pair ratios b/a: {', '.join(f'{x:.3f}' for x in ratios)}; median {statistics.median(ratios):.3f}")
    if a.json:
        json.dump(runs, open(a.json, "w"), indent=1)
    return 1 if any(r.get("errors") for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())

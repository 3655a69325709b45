#!/usr/bin/python3
"""Charts for `edgebench mapsim`, one PNG per policy: the penalty against the
oracle (CDF, traffic-weighted), the penalty and the share within 5 ms over
time, traffic above capacity and flaps over time, each cluster's peak load
against its capacity.
Usage: mapsim_plot.py CSV_PREFIX PNG_PREFIX   (writes PNG_PREFIX-POLICY.png)"""
import csv
import sys
from collections import defaultdict


def read(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("mapsim: charts skipped: python3-matplotlib is not installed "
              "(scripts/setup.sh installs it)", file=sys.stderr)
        return 1
    pre, out = sys.argv[1], sys.argv[2]
    summary = {r["policy"]: r for r in read(pre + "_summary.csv")}
    tl, cdf, util = defaultdict(list), defaultdict(list), defaultdict(list)
    for r in read(pre + "_timeline.csv"):
        tl[r["policy"]].append(r)
    for r in read(pre + "_cdf.csv"):
        cdf[r["policy"]].append(r)
    for r in read(pre + "_util.csv"):
        util[r["policy"]].append(r)
    for pol, s in summary.items():
        fig, ax = plt.subplots(2, 2, figsize=(12, 8))
        fig.suptitle(f"mapsim: {pol} — mean {float(s['mean_ms']):.2f} ms, "
                     f"{100 * float(s['within5']):.2f} % within 5 ms, "
                     f"{float(s['flaps_per_prefix_hour']):.3f} flaps/prefix-h, "
                     f"DNS answers {float(s['answers_ratio']):.2f}x a /0 answer")
        a = ax[0][0]
        for other in summary:
            if other == "oracle":
                continue
            xs = [float(r["penalty_ms"]) for r in cdf[other]]
            ys = [float(r["share"]) for r in cdf[other]]
            a.step(xs, ys, where="post", lw=2.5 if other == pol else 1,
                   alpha=1 if other == pol else 0.5, label=other)
        a.axvline(5, color="k", ls=":", label="5 ms")
        a.axhline(0.97, color="r", ls=":", label="97 % goal")
        a.set_xscale("log")
        a.set_xlabel("penalty vs oracle, ms (traffic-weighted CDF)")
        a.set_ylabel("share of traffic")
        a.set_ylim(0.5, 1.001)
        a.legend(fontsize=8)
        a.grid(alpha=0.3)
        rs = tl[pol]
        t = [float(r["t_h"]) for r in rs]
        a = ax[0][1]
        a.plot(t, [float(r["mean_ms"]) for r in rs], label="mean penalty, ms")
        a.axhline(2, color="r", ls=":", label="2 ms goal")
        a.set_xlabel("hour")
        a.set_ylabel("ms")
        a2 = a.twinx()
        a2.plot(t, [100 * float(r["within5"]) for r in rs], color="g", label="within 5 ms, %")
        a2.set_ylabel("% within 5 ms", color="g")
        a.legend(loc="upper left", fontsize=8)
        a.grid(alpha=0.3)
        a = ax[1][0]
        a.plot(t, [100 * float(r["over_cap"]) for r in rs], color="r",
               label="traffic on clusters above capacity, %")
        a.plot(t, [100 * float(r["flaps"]) for r in rs], color="b",
               label="prefixes changing cluster this step, %")
        a.set_xlabel("hour")
        a.set_ylabel("%")
        a.legend(fontsize=8)
        a.grid(alpha=0.3)
        a = ax[1][1]
        us = sorted(util[pol], key=lambda r: -float(r["peak_util"]))
        a.bar(range(len(us)), [float(r["peak_util"]) for r in us])
        a.axhline(1, color="r", ls="-", label="capacity")
        a.axhline(0.8, color="k", ls=":", label="headroom 0.8")
        a.set_xlabel("cluster (by peak)")
        a.set_ylabel("peak load / capacity")
        a.legend(fontsize=8)
        fig.tight_layout()
        path = f"{out}-{pol}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        print("wrote", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

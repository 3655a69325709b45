#!/usr/bin/python3
"""Chart for `edgebench swarm-sim`: client-server time N F/u_s, the P2P
bound max{F/u_s, F/d_min, N F/(u_s + sum u_i)} and the measured
distribution time D against N, one panel per rate scenario.
Usage: swarm_sim_plot.py RESULTS.csv OUT.png"""
import csv
import sys


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("swarm-sim: chart skipped: python3-matplotlib is not installed "
              "(scripts/setup.sh installs it)", file=sys.stderr)
        return 1
    with open(sys.argv[1]) as f:
        rows = list(csv.DictReader(f))
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    fig, axes = plt.subplots(1, len(scenarios), figsize=(5.5 * len(scenarios), 4.2), squeeze=False)
    for ax, sc in zip(axes[0], scenarios):
        rs = sorted((r for r in rows if r["scenario"] == sc), key=lambda r: int(r["N"]))
        n = [int(r["N"]) for r in rs]
        ax.plot(n, [float(r["client_server_s"]) for r in rs], "s--", label="client-server N·F/u_s")
        ax.plot(n, [float(r["bound_s"]) for r in rs], "k-", label="P2P bound")
        ax.plot(n, [float(r["D_s"]) for r in rs], "o-", label="measured D (simulation)")
        for x, r in zip(n, rs):
            ax.annotate("%.2f×" % float(r["ratio"]), (x, float(r["D_s"])),
                        textcoords="offset points", xytext=(0, 7), ha="center", fontsize=7)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("N (leechers)")
        ax.set_ylabel("time to distribute F to all (s)")
        r0 = rs[0]
        ax.set_title("%s: u_i = %s MiB/s, u_s = %s, %s pieces" %
                     (sc, r0["upload_mibps"], r0["seed_mibps"], r0["pieces"]), fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)
    print("png: %s" % sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())

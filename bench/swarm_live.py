#!/usr/bin/python3
"""Live distribution time (issue 12, "Benchmarks"): N python3-libtorrent
leechers (8-16), each in its own namespace behind the appliance, every link
shaped with tbf, all released at t = 0, download the appliance's torrent of
one file of F bytes over the peer wire, finding each other through our
tracker only. D = the time the last one has the whole file (SHA-256
checked). D is compared with the textbook bound
    max{F/u_s, F/d_min, N F/(u_s + sum u_i)}
and with client-server, N F/u_s. The rates are tbf rates of the links
(kbit/s = 1000 bit/s of IP frames, so TCP/IP and BitTorrent framing take
about 4 % of them; the bound below is computed over the raw rates and over
the payload rates both).

Run as root from the repository (it uses tests/integration/harness.py):
    bench/swarm_live.py --build build --peers 8,16 --runs 3
Never a test: the machine is shared, D is wall time.
"""

import argparse
import hashlib
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# Framing on the wire: 1448 payload bytes per 1514-byte Ethernet frame
# (20 IP + 32 TCP with timestamps + 14 Ethernet; tbf counts from the
# Ethernet header), and 13 bytes of BitTorrent header per 16 KiB block.
PAYLOAD_SHARE = 1448 / 1514 * 16384 / (16384 + 13)


def bound(n, f, us, ups, dmin):
    """Seconds; rates in bytes/s."""
    return max(f / us, f / dmin, n * f / (us + sum(ups)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--peers", default="8,16", help="N values, comma-separated")
    ap.add_argument("--runs", type=int, default=3, help="runs per N (a fresh swarm each)")
    ap.add_argument("--size-mib", type=float, default=16)
    ap.add_argument("--seed-kbit", type=int, default=16000, help="u_s")
    ap.add_argument("--up-kbit", default="8000", help="u_i, comma-separated values cycled over leechers")
    ap.add_argument("--down-kbit", type=int, default=32000, help="d_i (all leechers)")
    ap.add_argument("--limit", type=float, default=150)
    a = ap.parse_args()
    os.environ["EDGEPLANE_BUILD"] = os.path.abspath(a.build)
    sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
    from test_swarm_live import LiveSwarm  # noqa: E402  (reads EDGEPLANE_BUILD at import)
    from swarm_util import sha256  # noqa: E402

    size = int(a.size_mib * 1024 * 1024)
    ups = [int(x) for x in a.up_kbit.split(",")]
    rows = []
    # seed_util / leech_util: payload sent over what the tbf rates allow in D
    # (payload share applied): where the capacity went unused.
    print("N,run,F,D_s,mean_s,bound_raw_s,bound_payload_s,cs_s,D_over_bound,seed_bytes_over_NF,"
          "leech_up_over_NF,seed_util,leech_util")
    for n in [int(x) for x in a.peers.split(",")]:
        for run in range(a.runs):
            with LiveSwarm(n, a.seed_kbit, ups, a.down_kbit) as sw:
                src = sw.ingest(size, seed=100 + run)
                want = sha256(src)
                reports, go = sw.run(limit=a.limit)
                ok = all(r["seeding"] for r in reports) and all(
                    sha256(os.path.join(s, sw.name)) == want for s in sw.saves)
                if not ok:
                    print(f"# N={n} run {run}: not every leecher completed byte-exact", file=sys.stderr)
                    continue
                done = [r["done_at"] - go for r in reports]
                us, dmin = a.seed_kbit * 125.0, a.down_kbit * 125.0
                upb = [u * 125.0 for u in sw.up_kbit]
                b_raw = bound(n, size, us, upb, dmin)
                b_pay = b_raw / PAYLOAD_SHARE
                cs = n * size / us / PAYLOAD_SHARE
                d = max(done)
                seed_b, up_b = sw.seed_piece_bytes(), sum(r["uploaded"] for r in reports)
                row = (n, run, size, d, statistics.mean(done), b_raw, b_pay, cs, d / b_pay,
                       seed_b / (n * size), up_b / (n * size), seed_b / (us * PAYLOAD_SHARE * d),
                       up_b / (sum(upb) * PAYLOAD_SHARE * d))
                rows.append(row)
                print(",".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row), flush=True)
                sw.ep.stop()
    print("# medians per N: N, D_s, bound_payload_s, D/bound, cs_s, seed_bytes/NF")
    for n in sorted({r[0] for r in rows}):
        rs = [r for r in rows if r[0] == n]
        print(f"# {n}, {statistics.median(r[3] for r in rs):.2f}, {rs[0][6]:.2f}, "
              f"{statistics.median(r[8] for r in rs):.3f}, {rs[0][7]:.1f}, "
              f"{statistics.median(r[9] for r in rs):.3f}")


if __name__ == "__main__":
    main()

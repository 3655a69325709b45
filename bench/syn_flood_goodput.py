#!/usr/bin/python3
"""SYN flood against four downloads (issue 17), with the CPU accounting that
says which side was the limit.

    EDGEPLANE_BUILD=build nice -n 5 /usr/bin/python3 bench/syn_flood_goodput.py \
        [--rates 0,5000,10000,20000,50000,max] [--pairs 5] [--mib 8] [--flood-cpu 0] \
        [--spoof 198.18.0.0/15] [--port tap|af_packet] [--out DIR]

Run as root after a build (namespaces, TAP, hugepages, a raw socket). One
appliance (tests/integration/harness.py: its own namespace, TAP, file
prefix, all removed on exit or failure), one data lcore on CPU 1, started
as test_abuse.py's SYN-flood test starts it (`--ram-mb 64 --tcp-syn-backlog
64`: the SYN queue overflows at once and SYN cookies, RFC 4987, answer the
rest). One object of --mib MiB is ingested. Per rate, --pairs pairs of runs,
alternating: four concurrent curls of the object alone, then the same four
while `edgebench synflood` (bare SYNs, random ISNs, source ports
40000-65000, pinned to --flood-cpu) floods port 80 from the namespace; the
flood starts 1 s before the downloads and stops after them. Rate "0" is the
control (both runs of a pair alone: the noise); "max" is `--rate 0`, as fast
as the raw socket takes SYNs. Every download's bytes are checked (sha256).

Per run, over the downloads' window (their wall time):
  share     alone wall / flooded wall of the pair (same bytes): the goodput kept;
  busy      the data lcore's busy cycles / (busy + idle) (edgeplane's stats):
            near 100 %, the data plane had no idle turns left;
  on-CPU, runq, sys  the lcore thread's time on a CPU, runnable but
            waiting (/proc/PID/task/TID/schedstat) and in the kernel (its
            stime: net_tap's syscalls) per wall second;
  cookies/SYN, qfull/SYN  syncookies_sent and syn_queue_full deltas per
            flood SYN sent in the window (flood rate x window);
  tap-drop/SYN  SYNs the kernel dropped at the TAP (its tx_dropped: the
            data lcore did not read the TAP fast enough) per flood SYN;
  flooder, curl  CPU seconds per wall second (schedstat of the flooder;
            wait4 rusage of the four curls);
  softirq, steal, idle  the machine's /proc/stat deltas, in CPUs (2 = both).
The "limit" column names the side that ran out, by these rules, in order:
flooder (achieved under 90 % of the rate asked), data lcore (busy >= 90 %),
CPU contest (the machine idle under 10 % of a CPU and the lcore waiting for
a CPU over 10 % of the time), else none. A table per rate (medians) and the
first rate whose median share is under 90 % go to stdout; every run, the
commit and the load average to DIR/results.json.
"""
import argparse
import collections
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "edgebench"))
from harness import BUILD, Edgeplane, nft, nft_rule_packets  # noqa: E402
import compare  # noqa: E402  (lcore_totals, run_timed, git_commit, machine, median)

EDGEBENCH = os.path.join(BUILD, "bench", "edgebench")
DATA_LCORE = 1
GOAL = 0.9
COUNTERS = ("syncookies_sent", "syncookies_valid", "syncookies_invalid", "syn_queue_full", "backlog_drop")


def schedstat(tid):
    """(ns on a CPU, ns runnable waiting for one) of a thread or process."""
    try:
        f = open(f"/proc/{tid}/schedstat").read().split()
        return int(f[0]), int(f[1])
    except (OSError, ValueError, IndexError):
        return 0, 0


def user_sys(tid):
    """(utime, stime) seconds of a thread (/proc/.../stat fields 14, 15): the
    data lcore's system time is net_tap's read/write syscalls and the
    kernel's own work done inside them (softirqs run as a write returns)."""
    f = open(f"/proc/{tid}/stat").read().rsplit(")", 1)[1].split()
    hz = os.sysconf("SC_CLK_TCK")
    return int(f[11]) / hz, int(f[12]) / hz


def cpu_times():
    """The machine's softirq, steal and idle seconds so far (/proc/stat "cpu")."""
    f = open("/proc/stat").readline().split()
    hz = os.sysconf("SC_CLK_TCK")
    return {"softirq": int(f[7]) / hz, "steal": int(f[8]) / hz, "idle": (int(f[4]) + int(f[5])) / hz}


def tap_tx_dropped(ep):
    """What the kernel dropped on its way into the TAP (edgeplane did not read it in time).
    On af_packet, nan: the veth counts no drop there, and this DPDK's PMD does not
    report its ring's (rx_missed stays 0); black-holed/SYN tells what was answered."""
    if ep.port != "tap":
        return float("nan")
    out = subprocess.run(["ip", "-n", ep.ns, "-j", "-s", "link", "show", ep.tap],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)[0]["stats64"]["tx"]["dropped"]


def snapshot(ep, lcore_tid, flooder_pid):
    s = ep.stats()
    return {"t": time.monotonic(), "stats": s, "tcp": {k: s["tcp"].get(k, 0) for k in COUNTERS},
            "blackholed": blackholed(ep) if ep.spoofed else 0,
            "lcore": schedstat(f"{ep.proc.pid}/task/{lcore_tid}"),
            "lcore_us": user_sys(f"{ep.proc.pid}/task/{lcore_tid}"),
            "flooder": schedstat(flooder_pid) if flooder_pid else (0, 0),
            "cpu": cpu_times(), "tap_dropped": tap_tx_dropped(ep)}


SPOOF_TABLE = "synflood_spoof"


def blackhole(ep, prefix):
    """Drop (and count) at the TAP's ingress what edgeplane sends to the spoofed prefix."""
    nft(ep, f"table netdev {SPOOF_TABLE} {{\n chain in {{\n"
            f"  type filter hook ingress device \"{ep.tap}\" priority 0;\n"
            f"  ip daddr {prefix} counter drop comment \"spoof\"\n }}\n}}\n")


def blackholed(ep):
    """Packets the spoof rule (blackhole()) dropped so far."""
    return nft_rule_packets(ep, SPOOF_TABLE, family="netdev")["spoof"]


def four_downloads(ep, url, want, retries):
    """Four concurrent curls; returns (wall s, their CPU s). Bytes checked."""
    # Into files, not a pipe: a retry after a reset mid-body truncates a file
    # (curl throws away what the failed try wrote), but appended to a pipe,
    # which made the bytes wrong and ended a whole campaign (2026-12-03).
    with tempfile.TemporaryDirectory(dir="/var/tmp") as d:
        cmd = (f"for i in 1 2 3 4; do curl -sS -m 120 --retry {retries} --retry-delay 1 --retry-all-errors "
               f"-o {d}/dl$i {url} & done; wait")
        rc, out, err, cpu_s, wall = compare.run_timed(["ip", "netns", "exec", ep.ns, "sh", "-c", cmd], 240)
        shas = []
        for i in range(1, 5):
            try:
                with open(f"{d}/dl{i}", "rb") as f:
                    shas.append(hashlib.sha256(f.read()).hexdigest())
            except OSError:
                shas.append("missing")
    if shas != [want] * 4:
        raise RuntimeError(f"downloads not byte-exact (rc {rc}): {shas} {err[-500:]}")
    return wall, cpu_s


def start_flood(ep, rate, cpu, src):
    cmd = ["ip", "netns", "exec", ep.ns, EDGEBENCH, "synflood", "--src", src, "--dst", ep.ip,
           "--port", "80", "--rate", str(rate), "--seconds", "0", "--src-ports", "40000-65000",
           "--cpu", str(cpu), "--json"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("flooding"):
        p.kill()
        raise RuntimeError(f"edgebench synflood did not start: {line!r} {p.stderr.read()[-500:]}")
    return p


def stop_flood(p):
    p.send_signal(signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    for line in out.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"edgebench synflood exited {p.returncode} without a result: {err[-500:]}")


def window(a, b):
    """The figures of one run between two snapshots (pure)."""
    wall = b["t"] - a["t"]
    b0, i0 = compare.lcore_totals(a["stats"])
    b1, i1 = compare.lcore_totals(b["stats"])
    busy, total = b1 - b0, (b1 - b0) + (i1 - i0)
    return {"wall_s": wall, "busy": busy / total if total else float("nan"),
            "lcore_on_cpu": (b["lcore"][0] - a["lcore"][0]) / 1e9 / wall,
            "lcore_runq": (b["lcore"][1] - a["lcore"][1]) / 1e9 / wall,
            "lcore_sys": (b["lcore_us"][1] - a["lcore_us"][1]) / wall,
            "flooder_cpu": (b["flooder"][0] - a["flooder"][0]) / 1e9 / wall,
            "tcp": {k: b["tcp"][k] - a["tcp"][k] for k in COUNTERS},
            "tap_dropped": b["tap_dropped"] - a["tap_dropped"],
            "blackholed": b["blackholed"] - a["blackholed"],
            **{k: (b["cpu"][k] - a["cpu"][k]) / wall for k in ("softirq", "steal", "idle")}}


def limit(r):
    """Which side ran out in a flooded run (the rules of the module docstring)."""
    if r["target"] and r["achieved"] < GOAL * r["target"]:
        return "flooder"
    if r["busy"] >= 0.9:
        return "data lcore"
    if r["idle"] < 0.1 and r["lcore_runq"] > 0.1:
        return "CPU contest"
    return "none"


def measured_run(ep, lcore_tid, url, want, rate, cpu, src):
    """One run: alone when rate is None, else under a flood at `rate` (0: max) from `src`."""
    flood = start_flood(ep, rate, cpu, src) if rate is not None else None
    try:
        if flood:
            time.sleep(1)  # the flood at its rate before the downloads start
        a = snapshot(ep, lcore_tid, flood.pid if flood else None)
        wall, curl_cpu = four_downloads(ep, url, want, 20 if flood else 0)
        b = snapshot(ep, lcore_tid, flood.pid if flood else None)
    finally:
        res = stop_flood(flood) if flood else None
    if flood:
        time.sleep(1)  # settle: the TAP queue drains, the last SYN-ACKs meet their RSTs
    r = window(a, b)
    r.update(downloads_s=wall, curl_cpu=curl_cpu / wall, flooded=flood is not None)
    if res:
        syns = res["rate"] * r["wall_s"]  # flood SYNs sent in the window (its rate is steady)
        r.update(flood=res, achieved=res["rate"], target=res["target"], syns=syns,
                 cookies_per_syn=r["tcp"]["syncookies_sent"] / syns,
                 qfull_per_syn=r["tcp"]["syn_queue_full"] / syns, tap_drop_per_syn=r["tap_dropped"] / syns,
                 blackholed_per_syn=r["blackholed"] / syns)
        r["limit"] = limit(r)
    return r


def pct(x):
    return "-" if x is None or x != x else f"{100 * x:.0f} %"


def table(rows):
    """The report's table from {rate label: [pair dicts]} (medians over pairs)."""
    head = ("| flood (SYN/s asked) | achieved | pairs | 4 downloads alone | under flood | goodput share (min-max) "
            "| lcore busy alone / flood | lcore on CPU / runq wait / sys | cookies/SYN | qfull/SYN | TAP drops/SYN "
            "| black-holed/SYN "
            "| flooder CPU | curl CPU | softirq | steal | idle (CPUs) | limit |")
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    first_miss = None
    for label, pairs in rows.items():
        f = [p["flood"] for p in pairs]
        med = lambda key, runs=f: compare.median([r.get(key) for r in runs])  # noqa: E731
        shares = [p["share"] for p in pairs]
        share = compare.median(shares)
        if first_miss is None and label != "0" and share < GOAL:
            first_miss = label
        limits = [f"{k} ×{n}" for k, n in collections.Counter(r.get("limit", "-") for r in f).most_common()]
        out.append(
            f"| {label} | {med('achieved'):.0f} | {len(pairs)} | {compare.median([p['alone']['downloads_s'] for p in pairs]):.2f} s "
            f"| {med('downloads_s'):.2f} s | {pct(share)} ({pct(min(shares))}-{pct(max(shares))}) "
            f"| {pct(compare.median([p['alone']['busy'] for p in pairs]))} / {pct(med('busy'))} "
            f"| {pct(med('lcore_on_cpu'))} / {pct(med('lcore_runq'))} / {pct(med('lcore_sys'))} "
            f"| {med('cookies_per_syn'):.2f} "
            f"| {med('qfull_per_syn'):.2f} | {med('tap_drop_per_syn'):.3f} | {med('blackholed_per_syn'):.2f} "
            f"| {pct(med('flooder_cpu'))} "
            f"| {pct(med('curl_cpu'))} | {med('softirq'):.2f} | {med('steal'):.2f} | {med('idle'):.2f} "
            f"| {', '.join(limits)} |")
    return "\n".join(out), first_miss


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rates", default="0,5000,10000,20000,50000,max",
                    help="SYN/s per step; 0: no flood (the control), max: as fast as the socket takes them")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--mib", type=int, default=8, help="object size (each of the 4 downloads gets it whole)")
    ap.add_argument("--flood-cpu", type=int, default=0, help="the flooder's CPU (the data lcore is on CPU 1)")
    ap.add_argument("--spoof", default=None, metavar="PREFIX",
                    help="flood from random addresses in PREFIX (e.g. 198.18.0.0/15), their SYN-ACKs dropped")
    ap.add_argument("--port", choices=("tap", "af_packet"), default="tap",
                    help="the appliance's port: net_tap, or net_af_packet on a veth pair (no syscall per packet read)")
    ap.add_argument("--out", default=None, help="directory for results.json")
    a = ap.parse_args()
    if not os.access(EDGEBENCH, os.X_OK):
        sys.exit(f"{EDGEBENCH} not built (ninja -C build bench/edgebench)")
    meta = {"commit": compare.git_commit(os.path.join(HERE, "..")), "machine": compare.machine(),
            "start": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "args": vars(a)}
    print(f"# {meta['start']}, commit {meta['commit']}, load average {meta['machine']['loadavg']}", flush=True)
    rows = {}
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        data = os.urandom(a.mib << 20)
        with open(os.path.join(tmp, "flood.bin"), "wb") as f:
            f.write(data)
        want = hashlib.sha256(data).hexdigest()
        ep = Edgeplane(args=["--ram-mb", "64", "--tcp-syn-backlog", "64"], data_lcores=str(DATA_LCORE),
                       port=a.port)
        if a.spoof:
            ep.args += ["--gateway", ep.host_ip]  # the spoofed sources are off-link
        ep.spoofed = bool(a.spoof)  # snapshot() reads the drop counter only then
        with ep:
            if a.spoof:
                blackhole(ep, a.spoof)
            src = a.spoof or ep.host_ip
            if "stored 1 objects" not in ep.ctl("ingest", tmp).stdout:
                raise RuntimeError("ingest failed")
            # The downloads' ports stay below the flood's: no flood SYN lands on a real 4-tuple.
            ep.ns_run(["sysctl", "-qw", "net.ipv4.ip_local_port_range=20000 39999"])
            # compare.Edgeplane's lookup needs only .proc: the thread named lcore-worker-1.
            lcore_tid = compare.Edgeplane.lcore_tid(ep, DATA_LCORE)
            if lcore_tid is None:
                raise RuntimeError(f"no thread lcore-worker-{DATA_LCORE} in edgeplane {ep.proc.pid}")
            url = f"http://{ep.ip}/flood.bin"
            four_downloads(ep, url, want, 0)  # warm-up, not counted
            for label in a.rates.split(","):
                rate = None if label == "0" else (0 if label == "max" else float(label))
                rows[label] = []
                for i in range(a.pairs):
                    alone = measured_run(ep, lcore_tid, url, want, None, a.flood_cpu, src)
                    other = measured_run(ep, lcore_tid, url, want, rate, a.flood_cpu, src)
                    if rate is None:  # the control: the second run is alone too; give it the flood's keys
                        other.update(flood=None, achieved=0, target=0, cookies_per_syn=float("nan"),
                                     qfull_per_syn=float("nan"), tap_drop_per_syn=float("nan"),
                                     blackholed_per_syn=float("nan"), limit="-")
                    pair = {"alone": alone, "flood": other, "share": alone["downloads_s"] / other["downloads_s"],
                            "loadavg": os.getloadavg()}
                    rows[label].append(pair)
                    print(f"rate {label} pair {i + 1}: alone {alone['downloads_s']:.2f} s, "
                          f"{'flooded' if rate is not None else 'alone again'} {other['downloads_s']:.2f} s "
                          f"(share {pair['share']:.1%}); achieved {other['achieved']:.0f} SYN/s, lcore busy "
                          f"{other['busy']:.0%}, on CPU {other['lcore_on_cpu']:.0%}, runq {other['lcore_runq']:.0%}, "
                          f"sys {other['lcore_sys']:.0%}, "
                          f"cookies {other['tcp']['syncookies_sent']}, TAP drops {other['tap_dropped']}, "
                          f"black-holed {other['blackholed']}, "
                          f"flooder CPU {other['flooder_cpu']:.0%}, curl CPU {other['curl_cpu']:.0%}, "
                          f"softirq {other['softirq']:.2f}, idle {other['idle']:.2f}; limit {other['limit']}; "
                          f"load {pair['loadavg'][0]:.2f}", flush=True)
            rc = ep.stop()
    meta["end_loadavg"] = os.getloadavg()
    text, first_miss = table(rows)
    print("\n" + text)
    print(f"\nfirst rate with a median share under {GOAL:.0%}: {first_miss or 'none'}; daemon exit {rc}; "
          f"load average at the end {meta['end_loadavg']}")
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "results.json"), "w") as f:
            json.dump({"meta": meta, "rows": rows, "first_miss": first_miss, "table": text}, f, indent=1)


if __name__ == "__main__":
    main()

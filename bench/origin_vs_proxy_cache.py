#!/usr/bin/python3
"""Cold fills: edgeplane pull on miss against nginx proxy_cache (issue 14).

    EDGEPLANE_BUILD=build /usr/bin/python3 bench/origin_vs_proxy_cache.py \
        [--pairs 5] [--rate 200mbit|none] [--scenarios cold8m,dash,c100,fill32m] [--out DIR]

Run as root (namespaces, TAP, hugepages). Topology (tests/integration/harness.py):

    curl (ep.ns, cpu 0) --TAP--> edgeplane (data lcore cpu 1) --TAP--> ep.ns router --veth--> origin nginx
    curl (ep.ns, cpu 0) --lo---> nginx proxy_cache (worker cpu 1) ------------ ep.ns --veth--> origin nginx

One origin nginx (the one of tests/integration/test_origin.py, its access log
gives every origin request with its Range) in the RoutedClient namespace; with
--rate, a tbf on the origin's veth shapes origin -> cache (both caches fill
over the same shaped link). The two caches alternate run by run (edgeplane,
nginx, edgeplane, ...); every run starts its cache afresh (empty store, empty
cache dir on tmpfs), so every run is cold, and only one of them is running
at a time (edgeplane's data lcore polls its core).

Scenarios (all bytes compared with the source files):
  cold8m   one client, one cold GET of an 8 MiB object: TTFB and total;
  dash     one client, one cold DASH session (MPD, init, every segment of one
           representation, back to back on one keep-alive connection): TTFB
           of the MPD, total session time;
  c100     100 concurrent clients (curl --parallel, 100 connections) GET the
           same cold 8 MiB object: origin requests (edgeplane's goal: exactly
           one per 256 KiB chunk = 32), TTFB/total median and max;
  fill32m  one cold GET of a 32 MiB object over the shaped link: fill
           throughput as a share of the tbf rate (and of a direct GET from the
           origin over the same link, measured in the same pair).

nginx as its users set it up for large objects: slice 1m (the nginx docs'
example; each slice is its own cache key and its own Range request to the
origin), proxy_cache_lock on (defaults: lock_timeout 5s, lock_age 5s),
proxy_cache_valid 200 206, upstream keep-alive, cache on /dev/shm (RAM, as
edgeplane's store is), one worker pinned to the server core.

Every run records the servers' CPU time (every thread, schedstat) and the
client's (wait4), as columns for saying which side limited a figure.
Writes DIR/results.json and DIR/report.md (the tables; --render FILE prints them again).
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "edgebench"))
from harness import Edgeplane, RoutedClient, _sh  # noqa: E402
from test_origin import Nginx as Origin, ORIGIN_PORT  # noqa: E402
import compare  # noqa: E402  (tasks_cpu_ns, lcore_tid, lcore_totals, run_timed, stop_process, git_commit, machine)
import compare_content  # noqa: E402

CHUNK = 256 * 1024
PROXY_PORT = 8090
SERVER_CPU, CLIENT_CPU = 1, 0

PROXY_CONF = """
user root;  # the worker writes the cache in our temp dir
worker_processes 1;
worker_cpu_affinity 10;
master_process on;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 100000;
    client_body_temp_path {work}/tmp;
    proxy_temp_path {cache}/tmp;
    fastcgi_temp_path {work}/tmp;
    uwsgi_temp_path {work}/tmp;
    scgi_temp_path {work}/tmp;
    proxy_cache_path {cache}/c levels=1:2 keys_zone=edge:32m max_size=2g inactive=1h use_temp_path=off;
    upstream origin {{ server {origin}:{origin_port}; keepalive 16; }}
    server {{
        listen {ip}:{port} backlog=4096;
        location / {{
            slice 1m;
            proxy_cache edge;
            proxy_cache_key $uri$is_args$args$slice_range;
            proxy_set_header Range $slice_range;
            proxy_cache_valid 200 206 1h;
            proxy_cache_lock on;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://origin;
        }}
    }}
}}
"""


class ProxyCache:
    """nginx proxy_cache in the router namespace (where the clients are)."""

    def __init__(self, ns, ip, origin_ip):
        self.ns, self.ip = ns, ip
        self.work = tempfile.mkdtemp(prefix="edgeplane-proxy-", dir="/var/tmp")
        self.cache = tempfile.mkdtemp(prefix="edgeplane-proxycache-", dir="/dev/shm")
        os.makedirs(os.path.join(self.work, "tmp"))
        os.makedirs(os.path.join(self.cache, "tmp"))
        self.conf = os.path.join(self.work, "nginx.conf")
        open(self.conf, "w").write(PROXY_CONF.format(work=self.work, cache=self.cache, origin=origin_ip,
                                                     origin_port=ORIGIN_PORT, ip=ip, port=PROXY_PORT))
        self.proc = None

    def start(self):
        try:
            return self._start()
        except BaseException:
            self.cleanup()  # a proxy that never answered is not left behind
            raise

    def _start(self):
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns] + NICE + ["nginx", "-c", self.conf, "-p", self.work],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            r = subprocess.run(["ip", "netns", "exec", self.ns, "curl", "-s", "-o", "/dev/null", "-w",
                                "%{http_code}", f"http://{self.ip}:{PROXY_PORT}/probe-nothing"],
                               capture_output=True, text=True)
            if r.stdout.strip() in ("404", "200") and self.worker_pid():
                return self
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("proxy nginx did not start: " + open(os.path.join(self.work, "error.log")).read()[-2000:])
            time.sleep(0.05)

    def worker_pid(self):
        kids = _sh("pgrep", "-P", str(self.proc.pid), check=False).stdout.split()
        return int(kids[0]) if kids else None

    def pids(self):
        return [int(p) for p in _sh("pgrep", "-P", str(self.proc.pid), check=False).stdout.split()] + [self.proc.pid]

    def tasks(self):
        t = {}
        for pid in self.pids():
            t.update(compare.tasks_cpu_ns(pid))  # master, worker, cache manager and loader
        return t

    def cleanup(self):
        compare.stop_process(self.proc, signal.SIGQUIT, 10)  # graceful: the workers finish first
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.rmtree(self.cache, ignore_errors=True)


NICE = []  # --nice N: both caches (never the origin or the client) run at this nice level


def restart_edgeplane(ep):
    """A fresh edgeplane process (empty store) in the same namespace: the
    router, veth and origin stay; net_tap makes the TAP anew."""
    ep.stop()
    for f in os.listdir("/dev/hugepages"):
        if f.startswith(ep.prefix):
            os.unlink(os.path.join("/dev/hugepages", f))
    ep._log = open(ep.log_path, "w")
    ep.proc = subprocess.Popen(["ip", "netns", "exec", ep.ns] + NICE + ep.command(), stdout=ep._log,
                               stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while _sh("ip", "-n", ep.ns, "link", "show", ep.tap, check=False).returncode != 0:
        ep._alive_or_fail()
        if time.time() > deadline:
            raise RuntimeError("TAP never appeared\n" + ep.log())
        time.sleep(0.05)
    _sh("ip", "-n", ep.ns, "addr", "add", f"{ep.host_ip}/24", "dev", ep.tap)
    _sh("ip", "-n", ep.ns, "link", "set", ep.tap, "up")
    while ep.ctl("ping", check=False).returncode != 0:
        ep._alive_or_fail()
        if time.time() > deadline:
            raise RuntimeError("admin socket never answered\n" + ep.log())
        time.sleep(0.05)
    # ARP both ways before the measured request (a first SYN would wait on it)
    ep.ns_run(["ping", "-c", "1", "-W", "2", ep.ip], check=False)


CURL_W = "%{http_code} %{time_starttransfer} %{time_total} %{size_download} %{exitcode}\\n"


def curl(ns, urls, outs, parallel=0):
    """One curl process in ns pinned to the client core; returns per-transfer
    (code, ttfb_s, total_s, size, curl exit code), the process's wall and CPU
    seconds. A failed transfer is a result (counted), not a crash."""
    cmd = ["ip", "netns", "exec", ns, "taskset", "-c", str(CLIENT_CPU), "curl", "-s", "-w", CURL_W]
    if parallel:
        cmd += ["-Z", "--parallel-max", str(parallel), "--parallel-immediate"]
    for u, o in zip(urls, outs):
        cmd += [u, "-o", o]
    rc, out, err, cpu_s, wall = compare.run_timed(cmd, 300)
    rows = []
    for line in out.splitlines():
        f = line.split()
        if len(f) == 5:
            rows.append((int(f[0]), float(f[1]), float(f[2]), int(f[3]), int(f[4])))
    if len(rows) != len(urls):
        raise RuntimeError(f"curl exited {rc} with {len(rows)} of {len(urls)} transfers: {err[-500:]}")
    return rows, wall, cpu_s


def tasks_wait_ns(pids):
    """{tid: ns spent runnable but waiting for a CPU} (schedstat's second
    field) for every thread of pids: the scheduler's share of a figure."""
    out = {}
    for pid in pids:
        out.update(compare.tasks_schedstat_ns(pid, 1))
    return out


def tbf_drops(cl):
    """Packets the origin link's tbf dropped so far."""
    out = _sh("ip", "netns", "exec", cl.ns, "tc", "-s", "qdisc", "show", "dev", cl.veth_client).stdout
    f = out.split()
    return int(f[f.index("dropped") + 1].rstrip(",")) if "dropped" in f else 0


def same_bytes(path, src):
    with open(path, "rb") as a, open(src, "rb") as b:
        return a.read() == b.read()


class Bench:
    def __init__(self, a, content):
        self.a, self.content = a, content
        self.ep = Edgeplane(args=["--ram-mb", "384"])
        self.cl = RoutedClient(self.ep, mtu=1500)
        self.ep.args += ["--gateway", self.ep.host_ip, "--origin", f"/={self.cl.ip}:{ORIGIN_PORT}"]
        self.origin = None
        self.outdir = tempfile.mkdtemp(prefix="edgeplane-bodies-", dir="/dev/shm")

    def start(self):
        self.ep.start()
        self.cl.start()
        self.origin = Origin(self.cl.ns, self.cl.ip, self.content).start()
        if self.a.rate != "none":
            # origin -> caches: the origin's side of the veth, egress
            _sh("ip", "netns", "exec", self.cl.ns, "tc", "qdisc", "add", "dev", self.cl.veth_client, "root",
                "tbf", "rate", self.a.rate, "burst", "64kb", "latency", "50ms")
        self.ep.stop()  # started per run

    def cleanup(self):
        if self.origin:
            self.origin.cleanup()
        self.cl.cleanup()
        self.ep.stop()
        self.ep.cleanup()
        shutil.rmtree(self.outdir, ignore_errors=True)

    def origin_lines(self):
        with open(self.origin.log) as f:
            return sum(1 for _ in f)

    def run(self, server, scenario):
        """One cold run of one scenario against one cache; returns its record."""
        a, ep = self.a, self.ep
        proxy = None
        if server == "edgeplane":
            restart_edgeplane(ep)
            base = f"http://{ep.ip}"
            pid = ep.proc.pid
            tid = compare.lcore_tid(pid, SERVER_CPU)
            tasks = lambda: compare.tasks_cpu_ns(pid)  # noqa: E731
            waits = lambda: tasks_wait_ns([pid])  # noqa: E731
        else:
            # the router's veth address: it stays while edgeplane (and its TAP) is down;
            # the clients in the same namespace reach it over lo either way
            proxy = ProxyCache(ep.ns, self.cl.router_ip, self.cl.ip).start()
            base = f"http://{self.cl.router_ip}:{PROXY_PORT}"
            tasks = proxy.tasks
            waits = lambda: tasks_wait_ns(proxy.pids())  # noqa: E731
        try:
            paths = self.paths(scenario)
            urls = [base + p for p in paths]
            outs = [os.path.join(self.outdir, f"b{i}") for i in range(len(paths))]
            origin_before = self.origin_lines()
            tbf0 = tbf_drops(self.cl) if self.a.rate != "none" else None
            t_before, s_before, o_before = tasks(), ep.stats() if server == "edgeplane" else None, \
                compare.tasks_cpu_ns(self.origin.proc.pid)
            w_before = waits()
            t0 = time.monotonic()
            rows, wall, client_cpu = curl(ep.ns, urls, outs, parallel=100 if scenario == "c100" else 0)
            t1 = time.monotonic()
            w_after = waits()
            t_after, s_after, o_after = tasks(), ep.stats() if server == "edgeplane" else None, \
                compare.tasks_cpu_ns(self.origin.proc.pid)
            time.sleep(0.3)  # nginx logs a request when it ends; slice subrequests too
            origin_reqs = self.origin_lines() - origin_before
            failed = sum(1 for r in rows if r[4] != 0 or r[0] != 200)
            exact = all(r[0] == 200 and r[4] == 0 and same_bytes(o, os.path.join(self.content, p.lstrip("/")))
                        for r, o, p in zip(rows, outs, paths))
            direct = None
            if scenario == "fill32m":
                # the same link, no cache: what a kernel TCP client gets from the origin
                drows, dwall, _ = curl(ep.ns, [f"http://{self.cl.ip}:{ORIGIN_PORT}{paths[0]}"], [outs[0]])
                direct = drows[0][2]
        finally:
            if proxy:
                proxy.cleanup()
            # Only one cache runs at a time: the next run (nginx's) must not
            # share the machine with an idle edgeplane.
            if server == "edgeplane":
                ep.stop()
        win = t1 - t0
        rec_tbf = tbf_drops(self.cl) - tbf0 if self.a.rate != "none" else None
        srv_s = compare.tasks_delta_s(t_before, t_after)
        wait_s = compare.tasks_delta_s(w_before, w_after)
        rec = {"server": server, "scenario": scenario, "rows": rows, "wall_s": wall, "exact": exact,
               "failed_transfers": failed, "tbf_drops": rec_tbf,
               "runq_wait_share": wait_s / win,  # all threads: time runnable without a CPU / window
               "origin_requests": origin_reqs, "client_cpu_share": client_cpu / wall,
               "server_cpu_share": srv_s / win,
               "origin_cpu_share": compare.tasks_delta_s(o_before, o_after) / win,
               "bytes": sum(r[3] for r in rows), "direct_total_s": direct}
        if server == "edgeplane":
            b0, i0 = compare.lcore_totals(s_before)
            b1, i1 = compare.lcore_totals(s_after)
            rec["lcore_busy_share"] = (b1 - b0) / ((b1 - b0) + (i1 - i0))
            rec["lcore_on_cpu_share"] = compare.tasks_delta_s(t_before, t_after, only=(tid,)) / win if tid else None
            rec["other_threads_cpu_share"] = compare.tasks_delta_s(t_before, t_after, exclude=(tid,)) / win
            rec["lcore_runq_wait_share"] = compare.tasks_delta_s(w_before, w_after, only=(tid,)) / win if tid else None
            rec["other_runq_wait_share"] = compare.tasks_delta_s(w_before, w_after, exclude=(tid,)) / win
            h0, h1 = compare.section(s_before, "http"), compare.section(s_after, "http")
            rec["origin_fetches"] = h1.get("origin_fetches", 0) - h0.get("origin_fetches", 0)
            rec["origin_coalesced"] = h1.get("origin_coalesced", 0) - h0.get("origin_coalesced", 0)
            rec["http_deltas"] = {k: v - h0.get(k, 0) for k, v in h1.items()
                                  if isinstance(v, (int, float)) and k.startswith(("origin", "fill"))
                                  and v - h0.get(k, 0)}
            c0, c1 = s_before["total"]["counters"], s_after["total"]["counters"]
            rec["lcore_counter_deltas"] = {k: v - c0.get(k, 0) for k, v in c1.items()
                                           if isinstance(v, (int, float)) and v - c0.get(k, 0)
                                           and ("retrans" in k or "rto" in k or "dup" in k or "sack" in k)}
            d0, d1 = s_before["total"].get("drops", {}), s_after["total"].get("drops", {})
            rec["drops"] = {k: v - d0.get(k, 0) for k, v in d1.items() if v - d0.get(k, 0)}
        rec["ttfb_s"] = rows[0][1]
        rec["total_s"] = wall if scenario == "dash" else rows[0][2]
        if scenario == "c100":
            rec["ttfb_s"] = statistics.median(r[1] for r in rows)
            rec["total_s"] = statistics.median(r[2] for r in rows)
            rec["ttfb_max_s"] = max(r[1] for r in rows)
            rec["total_max_s"] = max(r[2] for r in rows)
        return rec

    def paths(self, scenario):
        if scenario == "cold8m":
            return ["/vod/8m.bin"]
        if scenario == "c100":
            return ["/vod/8m.bin"] * 100
        if scenario == "fill32m":
            return ["/vod/32m.bin"]
        d = "/dash/t00"
        segs = sorted(f for f in os.listdir(os.path.join(self.content, "dash", "t00")) if f.startswith("chunk-v4500-"))
        return [f"{d}/manifest.mpd", f"{d}/init-v4500.mp4"] + [f"{d}/{s}" for s in segs]


def rate_bps(rate):
    units = {"kbit": 1e3, "mbit": 1e6, "gbit": 1e9}
    for u, m in units.items():
        if rate.endswith(u):
            return float(rate[: -len(u)]) * m
    raise ValueError(f"--rate {rate}: use NNkbit, NNmbit or NNgbit")


def summarise(runs, a):
    out = {}
    for sc in dict.fromkeys(r["scenario"] for r in runs):
        rs = [r for r in runs if r["scenario"] == sc]
        e = {}
        for s in ("edgeplane", "nginx"):
            x = [r for r in rs if r["server"] == s]
            if not x:
                continue
            med = lambda k: statistics.median(r[k] for r in x if r.get(k) is not None)  # noqa: E731
            e[s] = {"runs": len(x), "ttfb_ms": med("ttfb_s") * 1e3, "total_ms": med("total_s") * 1e3,
                    "origin_requests": sorted(set(r["origin_requests"] for r in x)),
                    "all_exact": all(r["exact"] for r in x), "failed_transfers": sum(r["failed_transfers"] for r in x),
                    "server_cpu_share": med("server_cpu_share"),
                    "runq_wait_share": med("runq_wait_share") if all("runq_wait_share" in r for r in x) else None,
                    "client_cpu_share": med("client_cpu_share"), "origin_cpu_share": med("origin_cpu_share")}
            if s == "edgeplane":
                e[s]["lcore_busy_share"] = med("lcore_busy_share")
                e[s]["lcore_on_cpu_share"] = med("lcore_on_cpu_share")
                if all("lcore_runq_wait_share" in r for r in x):
                    e[s]["lcore_runq_wait_share"] = med("lcore_runq_wait_share")
                    e[s]["other_runq_wait_share"] = med("other_runq_wait_share")
            if sc == "c100":
                e[s]["ttfb_max_ms"] = med("ttfb_max_s") * 1e3
                e[s]["total_max_ms"] = med("total_max_s") * 1e3
            if sc == "fill32m" and a.rate != "none":
                e[s]["fill_share_of_rate"] = statistics.median(r["bytes"] * 8 / r["total_s"] / rate_bps(a.rate)
                                                               for r in x)
                e[s]["fill_share_of_direct"] = statistics.median(r["direct_total_s"] / r["total_s"] for r in x)
        pairs = {}
        for r in rs:
            pairs.setdefault(r["pair"], {})[r["server"]] = r
        for k in ("ttfb_s", "total_s"):
            ratios = [p["nginx"][k] / p["edgeplane"][k] for _, p in sorted(pairs.items())
                      if "nginx" in p and "edgeplane" in p and p["edgeplane"][k] > 0]
            e[f"ratio_{k}"] = {"pairs": ratios, "median": statistics.median(ratios) if ratios else None}
        out[sc] = e
    return out


LABEL = {"cold8m": "cold 8 MiB GET, 1 client", "dash": "cold DASH session (MPD, init, 10 segments at 4.5 Mbit/s)",
         "c100": "100 concurrent cold GETs of one 8 MiB object", "fill32m": "cold 32 MiB GET (fill throughput)"}


def pc(x):
    return "n/a" if x is None else f"{x * 100:.0f} %"


def render(d):
    """Markdown tables of a results.json (what docs/benchmarks.md quotes)."""
    a, summ = d["args"], d["summary"]
    m = d["machine"]
    lines = [f"{d['date_utc']}, commit {d['commit'][:7]}{' (dirty)' if d['dirty'] else ''}, {m['cpu']}, "
             f"{m['cpus']} CPUs, load average {m['loadavg'][0]:.1f} before, {d['loadavg_after'][0]:.1f} after; "
             f"origin link {a['rate']}, caches at nice {a.get('nice') or 0}, {a['pairs']} pairs", ""]
    lines.append("| scenario | cache | runs | median TTFB | median total | origin requests per run | failed / exact "
                 "| cache threads on CPU | cache threads waiting for a CPU | edgeplane lcore on CPU / busy | client CPU |")
    lines.append("|---|---|---:|---:|---:|---|---|---:|---:|---|---:|")
    for sc, e in summ.items():
        for s in ("edgeplane", "nginx"):
            if s not in e:
                continue
            x = e[s]
            extra = ""
            if sc == "c100":
                extra = f" (max {x['ttfb_max_ms']:.0f})"
            lc = f"{pc(x.get('lcore_on_cpu_share'))} / {pc(x.get('lcore_busy_share'))}" if s == "edgeplane" else ""
            lines.append(f"| {LABEL.get(sc, sc)} | {s} | {x['runs']} | {x['ttfb_ms']:.1f} ms{extra} | "
                         f"{x['total_ms']:.0f} ms{(' (max %.0f)' % x['total_max_ms']) if sc == 'c100' else ''} | "
                         f"{', '.join(map(str, x['origin_requests']))} | {x['failed_transfers']} / "
                         f"{'all' if x['all_exact'] else 'NOT all'} | {pc(x['server_cpu_share'])} | {pc(x.get('runq_wait_share'))} | {lc} | "
                         f"{pc(x['client_cpu_share'])} |")
    lines.append("")
    for sc, e in summ.items():
        for k, what in (("ratio_ttfb_s", "TTFB"), ("ratio_total_s", "total")):
            r = e.get(k) or {}
            if r.get("pairs"):
                lines.append(f"- {sc}, nginx / edgeplane {what}, median of per-pair ratios: **{r['median']:.2f}** "
                             f"(pairs: {', '.join(f'{v:.2f}' for v in r['pairs'])})")
        for s in ("edgeplane", "nginx"):
            if s in e and "fill_share_of_rate" in e[s]:
                lines.append(f"- {sc}, {s}: fill throughput {pc(e[s]['fill_share_of_rate'])} of the tbf rate, "
                             f"{pc(e[s]['fill_share_of_direct'])} of a direct GET from the origin over the same link")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--rate", default="200mbit", help="tbf rate of the origin link, or none")
    ap.add_argument("--scenarios", default="cold8m,dash,c100,fill32m")
    ap.add_argument("--out", default=None)
    ap.add_argument("--render", default=None, metavar="RESULTS_JSON", help="print the tables of a results file, run nothing")
    ap.add_argument("--nice", type=int, default=None,
                    help="run both caches at this nice level (the same for both; on a shared machine a "
                         "polling data lcore at nice 0 gets only its CFS share of the core)")
    a = ap.parse_args()
    if a.render:
        print(render(json.load(open(a.render))))
        return 0
    if a.nice is not None:
        NICE[:] = ["nice", "-n", str(a.nice)]
    out = a.out or os.path.join(os.getcwd(), "results", time.strftime("origin-%Y%m%d-%H%M%S"))
    os.makedirs(out, exist_ok=True)
    content = tempfile.mkdtemp(prefix="edgeplane-measure-", dir="/var/tmp")
    os.chmod(content, 0o755)
    compare_content.main_args([content, "--small", "1", "--segments", "1", "--titles", "1", "--seconds", "20"])
    os.makedirs(os.path.join(content, "vod"))
    for name, n in (("8m.bin", 8 << 20), ("32m.bin", 32 << 20)):
        open(os.path.join(content, "vod", name), "wb").write(os.urandom(n))
    meta = {"date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": compare.machine(),
            "args": vars(a), **compare.git_commit(os.path.join(HERE, ".."))}
    b = Bench(a, content)
    runs = []

    def on_signal(signum, _):
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    try:
        b.start()
        for sc in a.scenarios.split(","):
            for i in range(a.pairs):
                for s in ("edgeplane", "nginx"):
                    r = b.run(s, sc)
                    r["pair"] = i
                    runs.append(r)
                    print(f"{sc} {i} {s}: ttfb {r['ttfb_s'] * 1e3:.1f} ms total {r['total_s'] * 1e3:.1f} ms "
                          f"origin reqs {r['origin_requests']} exact {r['exact']} failed {r['failed_transfers']} server CPU "
                          f"{r['server_cpu_share'] * 100:.0f}% client CPU {r['client_cpu_share'] * 100:.0f}%"
                          + (f" lcore busy {r['lcore_busy_share'] * 100:.0f}% lcore on CPU "
                             f"{r['lcore_on_cpu_share'] * 100:.0f}%" if s == "edgeplane" else "")
                          + f" waiting for a CPU {r['runq_wait_share'] * 100:.0f}%"
                          + (f" direct {r['direct_total_s'] * 1e3:.0f} ms" if r["direct_total_s"] else ""),
                          flush=True)
    finally:
        b.cleanup()
        shutil.rmtree(content, ignore_errors=True)
    meta["loadavg_after"] = os.getloadavg()
    summary = summarise(runs, a)
    d = {**meta, "summary": summary, "runs": runs}
    json.dump(d, open(os.path.join(out, "results.json"), "w"), indent=1)
    open(os.path.join(out, "report.md"), "w").write(render(d) + "\n")
    print(render(d))
    print(f"results in {out}", file=sys.stderr)
    return 0 if all(r["exact"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())

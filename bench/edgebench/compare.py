#!/usr/bin/python3
"""edgebench compare: edgeplane vs nginx in server-core cycles per request and per byte.

Runs, in one invocation on a small machine (2 cores are enough):

  1. edgeplane with one data lcore (--data-lcores 1 --control-lcore 0) on a
     net_memif server port, content in its RAM tier (edgectl ingest), driven
     by `edgebench http` on lcore 0 over the memif client side. Server cycles
     = the data lcore's busy_cycles delta (edgectl stats --json); its total
     cycles (busy + idle) over the same wall time give the TSC rate.
  2. nginx, one worker pinned with worker_cpu_affinity (sendfile on,
     access_log off, keep-alive, the same files), driven by wrk pinned to the
     other core over loopback. Server cycles = the worker's utime + stime from
     /proc/PID/stat × the TSC rate (perf's cycle counter is not available in
     this VM).

Workloads (the same bytes for both): small = 1 KiB objects, seg = 2 MiB
segments, dash = a DASH session mix (MPD, init, then every segment of a
title at one of four bitrates, sessions rotating through the ladder).

Writes results/compare-<time>/{compare.csv, compare.png, raw.json, report.txt}.
Every process and file it creates is removed on exit, failure or signal.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import compare_content  # noqa: E402

MEMIF_DIR = "/run/edgeplane-bench"
# memif ring size (log2, both sides). The default 1024 slots overflow when a
# few dozen connections' windows arrive at once; edgeplane then drops on
# tx_queue_full and TCP retransmits.
MEMIF_OPTS = os.environ.get("EDGEBENCH_MEMIF_OPTS", "rsize=12")


def sh(*cmd, check=True, **kw):
    return subprocess.run(list(cmd), check=check, capture_output=True, text=True, **kw)


# ---------------------------------------------------------------- edgeplane --

class Edgeplane:
    """edgeplane on a net_memif server port; cleans up whatever happens."""

    def __init__(self, build, tag, sock_path, ram_mb=512, data_lcore="1", control_lcore="0",
                 ip="10.79.0.2/24", extra=()):
        self.build = build
        self.prefix = f"ebcmp{tag}"
        self.workdir = tempfile.mkdtemp(prefix=f"edgebench-{tag}-")
        self.admin = os.path.join(self.workdir, "admin.sock")
        self.memif = sock_path
        self.log_path = os.path.join(self.workdir, "edgeplane.log")
        self.args = [os.path.join(build, "control", "edgeplane"),
                     "--port", f"net_memif0,role=server,socket={sock_path}" + (f",{MEMIF_OPTS}" if MEMIF_OPTS else ""),
                     "--ip", ip, "--data-lcores", data_lcore, "--control-lcore", control_lcore,
                     "--admin-socket", self.admin, "--file-prefix", self.prefix,
                     "--ram-mb", str(ram_mb), "--log-level", "error"] + list(extra)
        self.proc = None

    def start(self, timeout=30):
        os.makedirs(os.path.dirname(self.memif), exist_ok=True)
        if os.path.exists(self.memif):
            os.unlink(self.memif)
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while "ready" not in self.log():
            if self.proc.poll() is not None:
                raise RuntimeError(f"edgeplane exited {self.proc.returncode}\n{self.log()}")
            if time.time() > deadline:
                raise RuntimeError(f"edgeplane not ready after {timeout}s\n{self.log()}")
            time.sleep(0.05)
        return self

    def log(self):
        try:
            return open(self.log_path).read()
        except OSError:
            return ""

    def ctl(self, *args, timeout=300):
        return sh(os.path.join(self.build, "control", "edgectl"), "-s", self.admin, *args, timeout=timeout)

    def ingest(self, path):
        out = self.ctl("ingest", path).stdout
        if "error" in out or "failed" in out:
            raise RuntimeError(f"ingest {path}: {out[-2000:]}")
        return out

    def stats(self):
        return json.loads(self.ctl("stats", "--json").stdout)

    def lcore_cpu_seconds(self, lcore):
        """utime + stime of the data lcore's thread (DPDK names it rte-worker-N or lcore-worker-N)."""
        base = f"/proc/{self.proc.pid}/task"
        for tid in os.listdir(base):
            try:
                if open(f"{base}/{tid}/comm").read().strip() in (f"lcore-worker-{lcore}", f"rte-worker-{lcore}"):
                    return thread_cpu_seconds(f"{base}/{tid}/stat")
            except OSError:
                continue
        return None

    def stop(self, timeout=30):
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in os.listdir("/dev/hugepages") if os.path.isdir("/dev/hugepages") else []:
            if f.startswith(self.prefix):
                try:
                    os.unlink(os.path.join("/dev/hugepages", f))
                except OSError:
                    pass
        shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)
        if os.path.exists(self.memif):
            try:
                os.unlink(self.memif)
            except OSError:
                pass
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc):
        self.stop()
        self.cleanup()


def edgebench_http(edgebench, memif, args, timeout, lcore=0, ip="10.79.0.1/24", server="10.79.0.2"):
    """Runs `edgebench http --json`; returns (rc, report dict or None, stderr)."""
    port = f"net_memif0,role=client,socket={memif}" + (f",{MEMIF_OPTS}" if MEMIF_OPTS else "")
    cmd = [edgebench, "http", "--port", port, "--ip", ip,
           "--server", server, "--lcore", str(lcore), "--json", "-q"] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    rep = None
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            rep = json.loads(line)
    return p.returncode, rep, p.stderr


def snapshot(ep, lcore):
    """(stats, the data lcore thread's CPU seconds, monotonic time): one end of a measured window."""
    return ep.stats(), ep.lcore_cpu_seconds(lcore), time.monotonic()


def server_cycles(before, after):
    """The data lcore's cost over a window between two snapshot()s.

    busy/idle cycles are TSC deltas: time the thread was preempted lands in
    them too, so on-CPU busy cycles are the busy share of the time it really
    ran (utime + stime), not a correction factor. Returns busy TSC, on-CPU
    busy cycles, the on-CPU share of the wall time and the busy share."""
    (s0, cpu0, t0), (s1, cpu1, t1) = before, after
    b0, i0 = lcore_totals(s0)
    b1, i1 = lcore_totals(s1)
    busy, total = b1 - b0, (b1 - b0) + (i1 - i0)
    hz = total / (t1 - t0)
    on_cpu = (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None
    return {"busy_tsc": busy, "busy_on_cpu": busy / total * on_cpu * hz if on_cpu and total else busy,
            "on_cpu_share": on_cpu / (t1 - t0) if on_cpu else 1.0,
            "busy_share": busy / total if total else 0.0}


def lcore_totals(stats):
    c = stats["total"]["counters"]
    return c["busy_cycles"], c["idle_cycles"]


def section(stats, name):
    """A named section of `stats --json` as a flat dict (layout-tolerant)."""
    s = stats.get(name) or stats.get("sections", {}).get(name) or {}
    if isinstance(s, list):
        return {k: v for k, v in s}
    return s


# -------------------------------------------------------------------- nginx --

def thread_cpu_seconds(stat_path):
    fields = open(stat_path).read().rsplit(")", 1)[1].split()
    # fields[0] is state (field 3 of proc(5)): utime, stime are fields 14, 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


NGINX_CONF = """
worker_processes 1;
worker_cpu_affinity {mask};
daemon off;
master_process on;
pid {work}/nginx.pid;
error_log {work}/error.log error;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    types {{
        application/dash+xml mpd;
        video/iso.segment m4s;
    }}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 65;
    client_body_temp_path {work}/tmp;
    proxy_temp_path {work}/tmp;
    fastcgi_temp_path {work}/tmp;
    uwsgi_temp_path {work}/tmp;
    scgi_temp_path {work}/tmp;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {root};
        location / {{ }}
    }}
}}
"""

WRK_LUA = """
local urls = {}
for line in io.lines("%s") do if #line > 0 then urls[#urls + 1] = line end end
local i = 0
request = function()
    i = i %% #urls + 1
    return wrk.format("GET", urls[i])
end
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format('WRKJSON {"requests":%%d,"bytes":%%d,"duration_us":%%d,"errors":%%d,' ..
        '"p50_us":%%d,"p99_us":%%d,"p999_us":%%d}\\n', summary.requests, summary.bytes, summary.duration,
        e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50),
        latency:percentile(99), latency:percentile(99.9)))
end
"""


class Nginx:
    def __init__(self, root, port, cpu):
        self.work = tempfile.mkdtemp(prefix="edgebench-nginx-")
        os.makedirs(os.path.join(self.work, "tmp"))
        self.conf = os.path.join(self.work, "nginx.conf")
        mask = "1" + "0" * cpu  # worker_cpu_affinity bit mask, rightmost = CPU 0
        open(self.conf, "w").write(NGINX_CONF.format(mask=mask, work=self.work, port=port, root=root))
        self.port = port
        self.proc = None

    def start(self, timeout=10):
        t = sh("nginx", "-t", "-c", self.conf, "-p", self.work, check=False)
        if t.returncode != 0:
            raise RuntimeError("nginx -t: " + t.stderr)
        self.proc = subprocess.Popen(["nginx", "-c", self.conf, "-p", self.work],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while not self.worker_pid():
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("nginx did not start: " + open(os.path.join(self.work, "error.log")).read())
            time.sleep(0.05)
        return self

    def worker_pid(self):
        if not self.proc:
            return None
        kids = sh("pgrep", "-P", str(self.proc.pid), check=False).stdout.split()
        return int(kids[0]) if kids else None

    def cpu_seconds(self):
        return thread_cpu_seconds(f"/proc/{self.worker_pid()}/stat")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.work, ignore_errors=True)


def wrk_run(url_file, port, conns, seconds, cpu, workdir):
    lua = os.path.join(workdir, "urls.lua")
    open(lua, "w").write(WRK_LUA % url_file)
    cmd = ["taskset", "-c", str(cpu), "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "10s",
           "-s", lua, f"http://127.0.0.1:{port}/"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    for line in p.stdout.splitlines():
        if line.startswith("WRKJSON "):
            return json.loads(line[8:])
    raise RuntimeError("wrk: no result\n" + p.stdout + p.stderr)


# ------------------------------------------------------------------ driver --

def dash_mix(content):
    """URL list of the DASH session mix: per title, sessions rotating through
    the ladder, each MPD + init + all segments at one bitrate."""
    urls = []
    titles = sorted(os.listdir(os.path.join(content, "dash")))
    for rep_i, (rid, _) in enumerate(compare_content.LADDER):
        for t in titles:
            d = os.path.join(content, "dash", t)
            segs = sorted(f for f in os.listdir(d) if f.startswith(f"chunk-{rid}-"))
            urls.append(f"/dash/{t}/manifest.mpd")
            urls.append(f"/dash/{t}/init-{rid}.mp4")
            urls += [f"/dash/{t}/{s}" for s in segs]
    return urls


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edgebench", default=None, help="edgebench binary (set by `edgebench compare`)")
    ap.add_argument("--build", default=None, help="build dir with control/edgeplane (default: edgebench's)")
    ap.add_argument("--duration", type=float, default=10, help="seconds per run")
    ap.add_argument("--workloads", default="small,seg,dash")
    ap.add_argument("--servers", default="edgeplane,nginx")
    ap.add_argument("--conns-small", type=int, default=64)
    ap.add_argument("--conns-seg", type=int, default=16)
    ap.add_argument("--conns-dash", type=int, default=32)
    ap.add_argument("--pipeline", type=int, default=1,
                    help="edgebench requests in flight per connection (wrk does not pipeline: "
                         "anything but 1 is an edgeplane-only experiment)")
    ap.add_argument("--small", type=int, default=200, help="1 KiB objects")
    ap.add_argument("--segments", type=int, default=16, help="2 MiB segments")
    ap.add_argument("--titles", type=int, default=2, help="DASH titles (8 s, 4 bitrates)")
    ap.add_argument("--ram-mb", type=int, default=512)
    ap.add_argument("--server-cpu", type=int, default=1, help="core of edgeplane's data lcore / nginx's worker")
    ap.add_argument("--client-cpu", type=int, default=0, help="core of edgebench / wrk")
    ap.add_argument("--nginx-port", type=int, default=18080)
    ap.add_argument("--memif", default=os.path.join(MEMIF_DIR, "memif.sock"))
    ap.add_argument("--out", default=None, help="results dir (default results/compare-<time>)")
    ap.add_argument("--no-chart", action="store_true")
    a = ap.parse_args()
    edgebench = a.edgebench or os.path.join(SRC, "build", "bench", "edgebench")
    build = a.build or os.path.dirname(os.path.dirname(os.path.abspath(edgebench)))
    out = a.out or os.path.join(SRC, "results", time.strftime("compare-%Y%m%d-%H%M%S"))
    os.makedirs(out, exist_ok=True)
    workloads = a.workloads.split(",")
    servers = a.servers.split(",")
    conns = {"small": a.conns_small, "seg": a.conns_seg, "dash": a.conns_dash}

    cleanups = []

    def on_signal(signum, _):
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, on_signal)

    rows, raw = [], {}
    hz = None
    try:
        content = tempfile.mkdtemp(prefix="edgebench-content-")
        os.chmod(content, 0o755)  # nginx's workers run unprivileged
        cleanups.append(lambda: shutil.rmtree(content, ignore_errors=True))
        compare_content.main_args([content, "--small", str(a.small), "--segments", str(a.segments),
                                   "--titles", str(a.titles)])
        lists = {}
        for w in ("small", "seg"):
            lists[w] = os.path.join(content, w + ".txt")
        mix = dash_mix(content)
        lists["dash"] = os.path.join(content, "dashmix.txt")
        open(lists["dash"], "w").write("\n".join(mix) + "\n")

        if "edgeplane" in servers:
            tag = f"{os.getpid() % 100000}"
            ep = Edgeplane(build, tag, a.memif, ram_mb=a.ram_mb, data_lcore=str(a.server_cpu),
                           control_lcore=str(a.client_cpu))
            cleanups.append(ep.cleanup)
            ep.start()
            ep.ingest(content)
            for w in workloads:
                s0 = ep.stats()
                cpu0 = ep.lcore_cpu_seconds(a.server_cpu)
                t0 = time.monotonic()
                rc, rep, err = edgebench_http(edgebench, a.memif,
                                              ["--url-file", lists[w], "-c", str(conns[w]), "-d", str(a.duration),
                                               "--label", f"edgeplane-{w}", "--verify-dir", content,
                                               "--verify-every", "97", "--pipeline", str(a.pipeline)],
                                              timeout=a.duration + 120, lcore=a.client_cpu)
                t1 = time.monotonic()
                cpu1 = ep.lcore_cpu_seconds(a.server_cpu)
                s1 = ep.stats()
                if rep is None:
                    raise RuntimeError(f"edgebench http ({w}) failed rc={rc}: {err[-3000:]}")
                b0, i0 = lcore_totals(s0)
                b1, i1 = lcore_totals(s1)
                busy, total = b1 - b0, (b1 - b0) + (i1 - i0)
                hz = total / (t1 - t0)
                # busy/idle cycles are TSC deltas: time the thread was
                # preempted (other work on a shared core) lands in them too.
                # On-CPU busy cycles: the busy share of the time it really ran.
                on_cpu = (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None
                busy_on_cpu = busy / total * on_cpu * hz if on_cpu else busy
                h0, h1 = section(s0, "http"), section(s1, "http")
                reqs = h1.get("requests", 0) - h0.get("requests", 0)
                nbytes = sum(h1.get(k, 0) - h0.get(k, 0) for k in ("head_bytes_out", "body_bytes_out"))
                tcp0, tcp1 = section(s0, "tcp"), section(s1, "tcp")
                drops = {k: s1["total"]["drops"].get(k, 0) - s0["total"]["drops"].get(k, 0)
                         for k in s1["total"].get("drops", {})}
                raw[f"edgeplane-{w}"] = {"edgebench": rep, "busy_cycles": busy, "total_cycles": total,
                                         "wall_s": t1 - t0, "server_requests": reqs, "server_bytes": nbytes,
                                         "server_retransmits": tcp1.get("retransmits", 0) - tcp0.get("retransmits", 0),
                                         "lcore_on_cpu_s": on_cpu, "busy_on_cpu_cycles": busy_on_cpu,
                                         "server_drops": {k: v for k, v in drops.items() if v}}
                rows.append({"server": "edgeplane", "workload": w, "conns": conns[w],
                             "seconds": rep["seconds"], "requests": reqs, "bytes": nbytes,
                             "server_cycles": busy_on_cpu, "server_busy_tsc": busy,
                             "server_core_share": busy_on_cpu / total if total else 0,
                             "server_on_cpu": on_cpu / (t1 - t0) if on_cpu else 1.0,
                             "client_rps": rep["requests_per_s"], "client_gbps": rep["gbit_per_s"],
                             "p50_ms": rep["latency_ms"]["p50"], "p99_ms": rep["latency_ms"]["p99"],
                             "errors": rep["errors_total"], "verified": rep["verified"]})
                print(f"edgeplane {w}: {rep['requests_per_s']:.0f} req/s {rep['gbit_per_s']:.3f} Gbit/s, "
                      f"busy {busy / total:.1%} of its core (thread on CPU {on_cpu / (t1 - t0) if on_cpu else 1:.0%}), errors {rep['errors_total']}, server retransmits "
                      f"{raw[f'edgeplane-{w}']['server_retransmits']}, drops {raw[f'edgeplane-{w}']['server_drops']}",
                      file=sys.stderr)
            rc = ep.stop()
            raw["edgeplane_exit"] = rc
        if hz is None:
            hz = tsc_hz_guess()
        if "nginx" in servers:
            ng = Nginx(content, a.nginx_port, a.server_cpu)
            cleanups.append(ng.cleanup)
            ng.start()
            for w in workloads:
                c0 = ng.cpu_seconds()
                r = wrk_run(lists[w], a.nginx_port, conns[w], int(a.duration), a.client_cpu, ng.work)
                c1 = ng.cpu_seconds()
                secs = r["duration_us"] / 1e6
                cyc = (c1 - c0) * hz
                raw[f"nginx-{w}"] = {"wrk": r, "cpu_s": c1 - c0}
                rows.append({"server": "nginx", "workload": w, "conns": conns[w], "seconds": secs,
                             "requests": r["requests"], "bytes": r["bytes"], "server_cycles": cyc,
                             "server_busy_tsc": cyc, "server_on_cpu": "",
                             "server_core_share": (c1 - c0) / secs if secs else 0,
                             "client_rps": r["requests"] / secs, "client_gbps": r["bytes"] * 8 / secs / 1e9,
                             "p50_ms": r["p50_us"] / 1e3, "p99_ms": r["p99_us"] / 1e3,
                             "errors": r["errors"], "verified": ""})
                print(f"nginx {w}: {r['requests'] / secs:.0f} req/s, worker {(c1 - c0) / secs:.1%} of a core, "
                      f"errors {r['errors']}", file=sys.stderr)
    finally:
        for f in reversed(cleanups):
            try:
                f()
            except Exception as e:  # keep cleaning
                print(f"cleanup: {e}", file=sys.stderr)

    for r in rows:
        r["cycles_per_req"] = r["server_cycles"] / r["requests"] if r["requests"] else float("nan")
        r["cycles_per_byte"] = r["server_cycles"] / r["bytes"] if r["bytes"] else float("nan")
        core_s = r["server_cycles"] / hz
        r["req_per_core_s"] = r["requests"] / core_s if core_s else float("nan")
        r["gbit_per_core_s"] = r["bytes"] * 8 / core_s / 1e9 if core_s else float("nan")
    report = render(rows, hz, a)
    print(report)
    write_csv(os.path.join(out, "compare.csv"), rows)
    json.dump({"tsc_hz": hz, "rows": rows, "raw": raw, "args": vars(a)}, open(os.path.join(out, "raw.json"), "w"),
              indent=1, default=str)
    open(os.path.join(out, "report.txt"), "w").write(report + "\n")
    if not a.no_chart:
        chart(rows, os.path.join(out, "compare.png"))
    print(f"results in {out}", file=sys.stderr)
    bad = [r for r in rows if r["errors"]]
    return 1 if bad else 0


def tsc_hz_guess():
    for line in open("/proc/cpuinfo"):
        if line.startswith("cpu MHz"):
            return float(line.split(":")[1]) * 1e6
    return 2.0e9


COLS = ["server", "workload", "conns", "seconds", "requests", "bytes", "server_cycles", "server_busy_tsc",
        "server_on_cpu", "server_core_share",
        "cycles_per_req", "cycles_per_byte", "req_per_core_s", "gbit_per_core_s", "client_rps", "client_gbps",
        "p50_ms", "p99_ms", "errors", "verified"]


def write_csv(path, rows):
    with open(path, "w") as f:
        f.write(",".join(COLS) + "\n")
        for r in rows:
            f.write(",".join(str(r[c]) if not isinstance(r[c], float) else f"{r[c]:.6g}" for c in COLS) + "\n")


def render(rows, hz, a):
    lines = [f"edgebench compare: {a.duration:g} s per run, TSC {hz / 1e9:.3f} GHz; server on cpu {a.server_cpu}, "
             f"client on cpu {a.client_cpu}",
             f"{'server':10} {'workload':8} {'conns':>5} {'req/s':>10} {'Gbit/s':>8} {'core%':>6} "
             f"{'cyc/req':>10} {'tsc c/req':>10} {'cyc/byte':>9} {'req/core-s':>11} {'Gb/core-s':>10} {'p50 ms':>8} {'p99 ms':>8} "
             f"{'errors':>6}"]
    for r in rows:
        lines.append(f"{r['server']:10} {r['workload']:8} {r['conns']:5d} {r['client_rps']:10.0f} "
                     f"{r['client_gbps']:8.3f} {r['server_core_share'] * 100:6.1f} {r['cycles_per_req']:10.0f} "
                     f"{r['server_busy_tsc'] / r['requests'] if r['requests'] else 0:10.0f} "
                     f"{r['cycles_per_byte']:9.3f} {r['req_per_core_s']:11.0f} {r['gbit_per_core_s']:10.2f} "
                     f"{r['p50_ms']:8.3f} {r['p99_ms']:8.3f} {r['errors']:6}")
    by = {(r["server"], r["workload"]): r for r in rows}
    lines.append("edgeplane server cycles = busy share of its data lcore x the thread's on-CPU time (TSC busy_cycles")
    lines.append("also count time preempted on a shared core; raw values in compare.csv server_busy_tsc)")
    lines.append("nginx / edgeplane server cycles (higher = edgeplane cheaper):")
    for w in sorted({r["workload"] for r in rows}):
        e, n = by.get(("edgeplane", w)), by.get(("nginx", w))
        if e and n:
            lines.append(f"  {w:8} per request {n['cycles_per_req'] / e['cycles_per_req']:6.2f}x   "
                         f"per byte {n['cycles_per_byte'] / e['cycles_per_byte']:6.2f}x")
    return "\n".join(lines)


def chart(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no matplotlib: chart skipped", file=sys.stderr)
        return
    workloads = sorted({r["workload"] for r in rows}, key=lambda w: ["small", "seg", "dash"].index(w)
                       if w in ("small", "seg", "dash") else 9)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, title in ((axes[0], "cycles_per_req", "server cycles per request"),
                           (axes[1], "cycles_per_byte", "server cycles per byte")):
        for k, srv in enumerate(("edgeplane", "nginx")):
            vals = [next((r[key] for r in rows if r["server"] == srv and r["workload"] == w), 0) for w in workloads]
            xs = [i + (k - 0.5) * 0.38 for i in range(len(workloads))]
            ax.bar(xs, vals, width=0.38, label=srv)
        ax.set_xticks(range(len(workloads)))
        ax.set_xticklabels(workloads)
        ax.set_yscale("log")
        ax.set_title(title + " (log)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())

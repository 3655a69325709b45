#!/usr/bin/python3
"""edgebench compare: edgeplane vs nginx in server cycles per request and per byte.

The method (docs/edgebench.md "Method"):
  * the servers alternate run by run, A B A B ..., --pairs pairs per
    workload; every run starts its server afresh on the server core (an
    idle edgeplane polls its core at 100 %, so it never runs beside nginx),
    with the same content, connection count and duration;
  * server cycles are every thread the server runs, no correction factor:
    edgeplane = the data lcore's busy TSC cycles (loop iterations that did
    work; preemption inside them is counted, against edgeplane) + the CPU
    time of every other thread of the process (control thread, EAL
    threads; /proc/PID/task/*/schedstat) x TSC Hz; nginx = the CPU time of
    every thread of the master and the worker (schedstat) + the server
    core's irq and softirq time (/proc/stat) x TSC Hz. What is not counted
    is listed in the report and in docs/edgebench.md;
  * on-CPU share of the server's main thread and the client's CPU share are
    columns: a client near 100 % of its core is the bottleneck, not the server;
  * per workload: the median of each server's runs and the median of the
    per-pair ratios nginx/edgeplane with their spread (min, max);
  * every run, the commit, the machine and the load average go to
    results.json in the results dir, which docs/benchmarks.md quotes.

edgeplane: one data lcore on a net_memif server port, content in its RAM
tier (edgectl ingest), driven by `edgebench http` on the client core.
--transport virtio: edgeplane's port is net_virtio_user (the virtio PMD a
VM's virtio-net uses) and edgebench's is DPDK's net_vhost on the same
vhost-user socket, TSO and checksum offload negotiated (tso=1): edgeplane
sends TSO super-segments and leaves TCP sums to the port, as on a VM.
edgebench starts first (net_vhost owns the socket; virtio-user, as a
client, needs it to exist) and waits, servicing its port, until edgeplane
is filled and the snapshot taken (--start-when-exists); it takes each
super-segment whole, as a host stack takes a guest's GSO packet (copied
into one mbuf, `rx_linearized`), its partial TCP sum trusted
(--trust-checksums: vhost-user is shared memory between two processes).
nginx: one worker pinned to the server core, configured as for static
delivery (sendfile, tcp_nopush, open_file_cache, keep-alive), driven by
`wrk -t1` pinned to the client core over loopback.
varnish (--servers ...,varnish): varnishd with malloc storage, one thread
pool, pinned to the server core, the builtin VCL in front of an nginx of the
same configuration; every URL fetched once before the window (all hits,
MAIN.cache_hit/cache_miss recorded per run); counted like nginx (every
thread of the manager, the cache child and the backend, + irq time), driven
by the same wrk.

Workloads (the same bytes for both): small = 1 KiB objects, seg = 2 MiB
segments, dash = a DASH session mix (MPD, init, then every segment of a
title at one of four bitrates, sessions rotating through the ladder).

Writes DIR/{results.json, runs.csv, report.txt, compare.png}. Every process
and file it creates is removed on exit, failure or signal; every failure
prints its reason and exits 2.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import compare_content  # noqa: E402

MEMIF_DIR = "/run/edgeplane-bench"
# memif ring size (log2, both sides). The default 1024 slots overflow when a
# few dozen connections' windows arrive at once; edgeplane then drops on
# tx_queue_full and TCP retransmits.
MEMIF_OPTS = os.environ.get("EDGEBENCH_MEMIF_OPTS", "rsize=12")
# vhost side of --transport virtio: TSO and checksum offload offered to the
# virtio guest (edgeplane); legacy-ol-flags: a guest's TSO packet arrives
# flagged as one to send on (RTE_MBUF_F_TX_TCP_SEG), its TCP sum partial.
VHOST_OPTS = "queues=1,tso=1,legacy-ol-flags=1"
# Large enough for a few dozen connections' windows (default 256 slots).
VIRTIO_OPTS = "queues=1,queue_size=1024"


def vhost_port(sock):
    return f"net_vhost0,iface={sock},{VHOST_OPTS}"


def need_file(path, what):
    if not path or not os.path.exists(path):
        raise RuntimeError(f"{what} not found: {path}")


def sh(*cmd, check=True, **kw):
    return subprocess.run(list(cmd), check=check, capture_output=True, text=True, **kw)


# ---------------------------------------------------------------- edgeplane --

class Edgeplane:
    """edgeplane on a net_memif server port; cleans up whatever happens."""

    def __init__(self, build, tag, sock_path, ram_mb=512, data_lcore="1", control_lcore="0",
                 ip="10.79.0.2/24", extra=(), transport="memif"):
        self.build = build
        self.prefix = f"ebcmp{tag}"
        self.workdir = tempfile.mkdtemp(prefix=f"edgebench-{tag}-")
        self.admin = os.path.join(self.workdir, "admin.sock")
        self.memif = sock_path
        self.transport = transport
        self.log_path = os.path.join(self.workdir, "edgeplane.log")
        if transport == "virtio":
            # A client of the vhost-user socket edgebench's net_vhost made;
            # vhost-user maps our memory: one file per hugepage segment list.
            port = f"net_virtio_user0,path={sock_path},{VIRTIO_OPTS}"
            extra = list(extra) + ["--", "--single-file-segments"]
        else:
            port = f"net_memif0,role=server,socket={sock_path}" + (f",{MEMIF_OPTS}" if MEMIF_OPTS else "")
        self.args = [os.path.join(build, "control", "edgeplane"),
                     "--port", port,
                     "--ip", ip, "--data-lcores", data_lcore, "--control-lcore", control_lcore,
                     "--admin-socket", self.admin, "--file-prefix", self.prefix,
                     "--ram-mb", str(ram_mb), "--log-level", "error"] + list(extra)
        self.proc = None

    def start(self, timeout=30):
        need_file(self.args[0], "edgeplane binary (--build DIR: a build dir with control/edgeplane)")
        os.makedirs(os.path.dirname(self.memif), exist_ok=True)
        if self.transport == "virtio":
            need_file(self.memif, "vhost-user socket (edgebench's net_vhost makes it)")
        elif os.path.exists(self.memif):
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
        p = self.ctl("stats", "--json")
        try:
            return json.loads(p.stdout)
        except ValueError as e:
            raise RuntimeError(f"edgectl stats --json: not JSON ({e}): stdout {p.stdout[:300]!r} "
                               f"stderr {p.stderr[-500:]!r}; edgeplane log: {self.log()[-1000:]}") from None

    def lcore_tid(self, lcore):
        return lcore_tid(self.proc.pid, lcore)

    def lcore_cpu_seconds(self, lcore):
        """utime + stime of the data lcore's thread."""
        tid = lcore_tid(self.proc.pid, lcore)
        try:
            return thread_cpu_seconds(f"/proc/{self.proc.pid}/task/{tid}/stat") if tid else None
        except OSError:
            return None

    def stop(self, timeout=30):
        return stop_process(self.proc, signal.SIGTERM, timeout)

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
        if self.transport == "memif" and os.path.exists(self.memif):
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


def edgebench_http(edgebench, memif, args, timeout, lcore=0, ip="10.79.0.1/24", server="10.79.0.2",
                   port=None):
    """Runs `edgebench http --json`; returns (rc, report dict or None, stderr).
    port: edgebench's --port (default: the memif client of `memif`)."""
    port = port or f"net_memif0,role=client,socket={memif}" + (f",{MEMIF_OPTS}" if MEMIF_OPTS else "")
    cmd = [edgebench, "http", "--port", port, "--ip", ip,
           "--server", server, "--lcore", str(lcore), "--json", "-q"] + list(args)
    need_file(edgebench, "edgebench binary")
    rc, out, err, cpu_s, wall = run_timed(cmd, timeout)
    rep = None
    for line in out.splitlines():
        if line.startswith("{"):
            try:
                rep = json.loads(line)
            except ValueError as e:
                raise RuntimeError(f"edgebench http: report line is not JSON ({e}): {line[:300]!r}; "
                                   f"exit {rc}, stderr {err[-1000:]!r}") from None
    if rep is not None:
        rep.update(client_cpu_s=cpu_s, client_wall_s=wall)  # the client's CPU share
    return rc, rep, err


def tasks_schedstat_ns(pid, field):
    """{tid: one field of /proc/PID/task/TID/schedstat} for every thread of
    pid (0: ns on a CPU, 1: ns runnable but waiting for one); threads that
    exited between two snapshots take their time with them."""
    out = {}
    base = f"/proc/{pid}/task"
    try:
        tids = os.listdir(base)
    except OSError:
        return out
    for tid in tids:
        try:
            out[int(tid)] = int(open(f"{base}/{tid}/schedstat").read().split()[field])
        except (OSError, ValueError, IndexError):
            continue
    return out


def tasks_cpu_ns(pid):
    """{tid: ns on a CPU} for every thread of pid."""
    return tasks_schedstat_ns(pid, 0)


def lcore_tid(pid, lcore):
    """The thread id of data lcore `lcore` in process pid (DPDK names it
    rte-worker-N or lcore-worker-N), or None."""
    base = f"/proc/{pid}/task"
    for tid in os.listdir(base):
        try:
            if open(f"{base}/{tid}/comm").read().strip() in (f"lcore-worker-{lcore}", f"rte-worker-{lcore}"):
                return int(tid)
        except OSError:
            continue
    return None


def stop_process(proc, sig, timeout):
    """Sends sig to a running proc, waits up to timeout s, then kills it;
    returns its exit status (None when there is no process)."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def cpu_irq_seconds(cpu, stat_text=None):
    """irq + softirq time of one CPU so far (/proc/stat, USER_HZ ticks)."""
    text = stat_text if stat_text is not None else open("/proc/stat").read()
    for line in text.splitlines():
        f = line.split()
        if f and f[0] == f"cpu{cpu}":
            return (int(f[6]) + int(f[7])) / os.sysconf("SC_CLK_TCK")
    raise RuntimeError(f"/proc/stat has no line for cpu{cpu}")


def tasks_delta_s(before, after, only=None, exclude=()):
    """CPU seconds between two tasks_cpu_ns() maps (threads in both or new)."""
    ns = 0
    for tid, t1 in after.items():
        if tid in exclude or (only is not None and tid not in only):
            continue
        ns += t1 - before.get(tid, 0)
    return ns / 1e9


def edgeplane_window(before, after, lcore_tid):
    """edgeplane's server cycles over a window between two ep_snapshot()s.

    The data lcore's work has two measures, both upper bounds: its busy
    TSC cycles (loop iterations that did work; time the thread was
    preempted inside one is in them) and its thread's CPU time x TSC Hz
    (idle polling is in it). The smaller is counted, no factor applied;
    at saturation the two meet. Every other thread adds its CPU time x Hz
    (TSC Hz from busy + idle over the wall time)."""
    b0, i0 = lcore_totals(before["stats"])
    b1, i1 = lcore_totals(after["stats"])
    wall = after["t"] - before["t"]
    busy, total = b1 - b0, (b1 - b0) + (i1 - i0)
    if wall <= 0 or total <= 0:
        raise RuntimeError("empty measurement window (no lcore cycles counted)")
    hz = total / wall
    others_s = tasks_delta_s(before["tasks"], after["tasks"], exclude=(lcore_tid,))
    lcore_s = tasks_delta_s(before["tasks"], after["tasks"], only=(lcore_tid,)) if lcore_tid else None
    lcore_cpu = lcore_s * hz if lcore_s is not None else None
    lcore = min(busy, lcore_cpu) if lcore_cpu is not None else busy
    return {"hz": hz, "wall_s": wall, "lcore_busy_tsc": busy, "lcore_total_tsc": total,
            "lcore_cpu_cycles": lcore_cpu, "lcore_counted": "busy_tsc" if lcore == busy else "cpu_time",
            "other_threads_s": others_s, "other_threads_cycles": others_s * hz,
            "server_cycles": lcore + others_s * hz, "busy_share": busy / total,
            "server_on_cpu_share": (lcore_s / wall) if lcore_s is not None else None}


def nginx_window(before, after, hz):
    """nginx's server cycles between two ng_snapshot()s: every thread of the
    master and worker on a CPU, plus the server core's irq + softirq time."""
    wall = after["t"] - before["t"]
    if wall <= 0:
        raise RuntimeError("empty measurement window")
    task_s = tasks_delta_s(before["tasks"], after["tasks"])
    irq_s = after["irq_s"] - before["irq_s"]
    worker_s = tasks_delta_s(before["tasks"], after["tasks"], only=after["worker_tids"])
    return {"hz": hz, "wall_s": wall, "task_s": task_s, "irq_s": irq_s,
            "server_cycles": (task_s + irq_s) * hz, "server_on_cpu_share": worker_s / wall}


def snapshot(ep, lcore):
    """(stats, the data lcore thread's CPU seconds, monotonic time): one end of a measured window."""
    return ep.stats(), ep.lcore_cpu_seconds(lcore), time.monotonic()


def server_cycles(before, after):
    """The data lcore's cost over a window between two snapshot()s, for
    ab_builds.py and udp_echo.py (build against build, same model on both
    sides). "busy_on_cpu" is a model (busy share x on-CPU time), not the
    compare method: `edgebench compare` uses edgeplane_window().

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
    tcp_nodelay on;
    open_file_cache max=10000 inactive=60s;
    open_file_cache_valid 60s;
    open_file_cache_min_uses 1;
    open_file_cache_errors on;
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
local rate = %s  -- requests/s over all connections (one wrk thread: one Lua state); 0: closed loop
if rate > 0 then
    -- Open loop as in edgebench http --rate: request k is due at t0 + k/rate,
    -- whichever connection is ready takes the next slot. wrk has no clock
    -- in Lua: LuaJIT's FFI calls clock_gettime(CLOCK_MONOTONIC). wrk's delay()
    -- is in whole milliseconds, so a request leaves up to 0.5 ms off its slot;
    -- the count over a window follows the schedule. wrk's latency is from the
    -- actual send (a late slot's wait is not in it).
    local ffi = require("ffi")
    ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } eb_ts; int clock_gettime(int, eb_ts *); ]]
    local ts = ffi.new("eb_ts")
    local t0, k = nil, 0
    delay = function()
        ffi.C.clock_gettime(1, ts)
        local now = tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
        if not t0 then t0 = now end
        local due = t0 + k * 1000 / rate
        k = k + 1
        local d = due - now
        if d <= 0 then return 0 end
        return math.floor(d + 0.5)
    end
end
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


class NetNs:
    """A network namespace of the campaign's own, its loopback at a chosen
    MTU (never the host's lo): nginx, Varnish and wrk run inside it with
    `ip netns exec` (which execs, so the PIDs measured are the servers')."""

    def __init__(self, mtu, tag=None):
        self.name = f"ebcmp{tag or os.getpid()}"
        self.mtu = mtu
        self.made = False

    def __enter__(self):
        r = sh("ip", "netns", "add", self.name, check=False)
        if r.returncode != 0:
            raise RuntimeError(f"ip netns add {self.name}: {r.stderr.strip()} (needs root)")
        self.made = True
        r = sh("ip", "-n", self.name, "link", "set", "lo", "mtu", str(self.mtu), "up", check=False)
        if r.returncode != 0:
            self.__exit__()
            raise RuntimeError(f"loopback MTU {self.mtu} in {self.name}: {r.stderr.strip()}")
        return self

    def prefix(self):
        return ["ip", "netns", "exec", self.name]

    def lo_mtu(self):
        out = sh("ip", "-n", self.name, "-o", "link", "show", "lo").stdout.split()
        return int(out[out.index("mtu") + 1])

    def __exit__(self, *exc):
        if self.made:
            sh("ip", "netns", "del", self.name, check=False)
            self.made = False


def ns_prefix(netns):
    return netns.prefix() if netns else []


class Nginx:
    def __init__(self, root, port, cpu, netns=None):
        self.work = tempfile.mkdtemp(prefix="edgebench-nginx-")
        os.makedirs(os.path.join(self.work, "tmp"))
        self.conf = os.path.join(self.work, "nginx.conf")
        mask = "1" + "0" * cpu  # worker_cpu_affinity bit mask, rightmost = CPU 0
        open(self.conf, "w").write(NGINX_CONF.format(mask=mask, work=self.work, port=port, root=root))
        self.port = port
        self.netns = netns
        self.proc = None

    def start(self, timeout=10):
        if not shutil.which("nginx"):
            raise RuntimeError("nginx not found on PATH (scripts/packages.txt lists it)")
        t = sh("nginx", "-t", "-c", self.conf, "-p", self.work, check=False)
        if t.returncode != 0:
            raise RuntimeError("nginx -t: " + t.stderr)
        self.proc = subprocess.Popen(ns_prefix(self.netns) + ["nginx", "-c", self.conf, "-p", self.work],
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

    def tids(self):
        """Every thread of the master and the worker."""
        out = set()
        for pid in (self.proc.pid, self.worker_pid()):
            if pid:
                out |= set(tasks_cpu_ns(pid))
        return out

    def tasks(self):
        t = tasks_cpu_ns(self.proc.pid)
        w = self.worker_pid()
        if w:
            t.update(tasks_cpu_ns(w))
        return t

    def cpu_seconds(self):
        return thread_cpu_seconds(f"/proc/{self.worker_pid()}/stat")

    def stop(self):
        stop_process(self.proc, signal.SIGQUIT, 10)  # graceful: the workers finish first

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.work, ignore_errors=True)


class Varnish:
    """Varnish (Debian varnishd) as the second serving baseline (issue 20):
    a cache in front of a backend, as its users run it. Storage: malloc
    (the content, ~100 MB, fits in RAM many times; Varnish's docs keep the
    file stevedore for caches larger than memory). The builtin VCL with -b
    (GET answers cached, default TTL 120 s, longer than a campaign's run);
    every URL is fetched once before the measured window, so the window is
    served from cache. The backend is an nginx of the same configuration on
    another port; its threads are counted with Varnish's (near zero once
    warm). Every thread of the manager and the cache child is pinned to the
    server core (taskset), one thread pool (`thread_pools=1`: one core)."""

    def __init__(self, root, port, cpu, ram_mb=1024, netns=None):
        self.work = tempfile.mkdtemp(prefix="edgebench-varnish-")
        os.chmod(self.work, 0o755)
        self.port, self.cpu, self.ram_mb, self.netns = port, cpu, ram_mb, netns
        self.backend = Nginx(root, port + 1, cpu, netns=netns)
        self.proc = None

    def start(self, urls, timeout=20):
        if not shutil.which("varnishd"):
            raise RuntimeError("varnishd not found on PATH (scripts/packages.txt lists varnish)")
        self.backend.start()
        self.proc = subprocess.Popen(
            ns_prefix(self.netns) + ["taskset", "-c", str(self.cpu), "varnishd", "-F", "-j", "none", "-n", self.work,
             "-a", f"127.0.0.1:{self.port}", "-b", f"127.0.0.1:{self.port + 1}",
             "-s", f"malloc,{self.ram_mb}m", "-p", "thread_pools=1", "-p", "thread_pool_min=50",
             "-T", "none"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + timeout
        while True:
            r = sh(*ns_prefix(self.netns), "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                   f"http://127.0.0.1:{self.port}{urls[0]}", check=False)
            if r.stdout.strip() == "200":
                break
            if self.proc.poll() is not None or time.time() > deadline:
                err = self.proc.stderr.read().decode() if self.proc.poll() is not None else ""
                raise RuntimeError(f"varnishd did not start ({r.stdout!r}): {err[-2000:]}")
            time.sleep(0.1)
        # Warm: every URL once, so the measured window is hits only.
        cfg = os.path.join(self.work, "warm.curl")
        with open(cfg, "w") as f:
            for u in dict.fromkeys(urls):
                f.write(f'url = "http://127.0.0.1:{self.port}{u}"\noutput = "/dev/null"\n')
        w = sh(*ns_prefix(self.netns), "curl", "-s", "-f", "-K", cfg, check=False)
        if w.returncode != 0:
            raise RuntimeError(f"varnish warm-up failed: curl exit {w.returncode} {w.stderr[-500:]}")
        return self

    def pids(self):
        if not self.proc:
            return []
        return [self.proc.pid] + [int(p) for p in sh("pgrep", "-P", str(self.proc.pid), check=False).stdout.split()]

    def child_pid(self):
        kids = self.pids()[1:]
        return kids[0] if kids else None

    def worker_pid(self):
        return self.child_pid()

    def tasks(self):
        t = {}
        for pid in self.pids():
            t.update(tasks_cpu_ns(pid))
        t.update({("backend", k): v for k, v in self.backend.tasks().items()})
        return t

    def counters(self):
        """MAIN.cache_hit / cache_miss / backend_req so far (varnishstat)."""
        r = sh("varnishstat", "-n", self.work, "-1", "-f", "MAIN.cache_hit", "-f", "MAIN.cache_miss",
               "-f", "MAIN.backend_req", check=False)
        out = {}
        for line in r.stdout.splitlines():
            f = line.split()
            if len(f) >= 2 and f[1].isdigit():
                out[f[0].split(".", 1)[-1]] = int(f[1])
        return out

    def stop(self):
        stop_process(self.proc, signal.SIGTERM, 15)
        self.backend.cleanup()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.work, ignore_errors=True)


def run_timed(cmd, timeout):
    """Runs cmd; returns (rc, stdout, stderr, its CPU seconds (user + sys,
    children included), wall seconds)."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        deadline = t0 + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.02)
        p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        return p.returncode, out.read(), err.read(), ru.ru_utime + ru.ru_stime, wall


def wrk_run(url_file, port, conns, seconds, cpu, workdir, rate=0, netns=None):
    """Returns wrk's report with client_cpu_s and client_wall_s added.
    rate > 0: open loop at that many requests/s (WRK_LUA's schedule)."""
    if not shutil.which("wrk"):
        raise RuntimeError("wrk not found on PATH (scripts/packages.txt lists it)")
    lua = os.path.join(workdir, "urls.lua")
    open(lua, "w").write(WRK_LUA % (repr(float(rate)), url_file))
    cmd = ns_prefix(netns) + ["taskset", "-c", str(cpu), "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "10s",
           "-s", lua, f"http://127.0.0.1:{port}/"]
    rc, out, err, cpu_s, wall = run_timed(cmd, seconds + 60)
    for line in out.splitlines():
        if line.startswith("WRKJSON "):
            try:
                r = json.loads(line[8:])
            except ValueError as e:
                raise RuntimeError(f"wrk: report line is not JSON ({e}): {line[:300]!r}") from None
            r.update(client_cpu_s=cpu_s, client_wall_s=wall)
            return r
    raise RuntimeError(f"wrk exited {rc} without a result\n" + out[-2000:] + err[-2000:])


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


def git_commit(src):
    """The commit measured and whether tracked files differ from it."""
    try:
        rev = sh("git", "-C", src, "rev-parse", "HEAD").stdout.strip()
        dirty = bool(sh("git", "-C", src, "status", "--porcelain", "--untracked-files=no").stdout.strip())
        return {"commit": rev, "dirty": dirty}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}


def machine():
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")), platform.processor())
    return {"cpu": model, "cpus": os.cpu_count(), "kernel": platform.release(), "loadavg": os.getloadavg()}


def ep_snapshot(ep):
    return {"stats": ep.stats(), "tasks": tasks_cpu_ns(ep.proc.pid), "t": time.monotonic()}


def ng_snapshot(ng, cpu):
    return {"tasks": ng.tasks(), "irq_s": cpu_irq_seconds(cpu), "t": time.monotonic(),
            "worker_tids": set(tasks_cpu_ns(ng.worker_pid()))}


def load_args(a, url_file, w, conns, content, rate):
    return (["--url-file", url_file, "-c", str(conns), "-d", str(a.duration), "--label", f"edgeplane-{w}",
             "--verify-dir", content, "--verify-every", "97", "--pipeline", str(a.pipeline)]
            + (["--rate", f"{rate:.1f}"] if rate else []))


def run_edgeplane(a, build, edgebench, content, url_file, w, conns, tag, rate=0):
    if a.transport == "virtio":
        return run_edgeplane_virtio(a, build, edgebench, content, url_file, w, conns, tag, rate)
    with Edgeplane(build, tag, a.memif, ram_mb=a.ram_mb, data_lcore=str(a.server_cpu),
                   control_lcore=str(a.client_cpu)) as ep:
        ep.ingest(content)
        tid = ep.lcore_tid(a.server_cpu)
        before = ep_snapshot(ep)
        rc, rep, err = edgebench_http(edgebench, a.memif, load_args(a, url_file, w, conns, content, rate),
                                      timeout=a.duration + 120, lcore=a.client_cpu)
        after = ep_snapshot(ep)
        exit_rc = ep.stop()
    return edgeplane_result(before, after, tid, rc, rep, err, exit_rc, w)


def run_edgeplane_virtio(a, build, edgebench, content, url_file, w, conns, tag, rate=0):
    """As run_edgeplane, over virtio-user/vhost-user: edgebench first (its
    net_vhost makes the socket), waiting on a go file until edgeplane is up,
    filled and snapshotted; its CPU share is that of the load window."""
    sock = os.path.join(MEMIF_DIR, f"vhost-{tag}.sock")
    go = os.path.join(tempfile.mkdtemp(prefix=f"edgebench-go-{tag}-"), "go")
    os.makedirs(MEMIF_DIR, exist_ok=True)
    if os.path.exists(sock):
        os.unlink(sock)
    res = {}

    def client():
        res["r"] = edgebench_http(edgebench, sock, load_args(a, url_file, w, conns, content, rate)
                                  + ["--trust-checksums", "--start-when-exists", go],
                                  timeout=a.duration + 180, lcore=a.client_cpu, port=vhost_port(sock))
    th = threading.Thread(target=client, daemon=True)
    th.start()
    try:
        deadline = time.time() + 30
        while not os.path.exists(sock):
            if not th.is_alive():
                rc, _, err = res["r"]
                raise RuntimeError(f"edgebench http (net_vhost) exited {rc} before its socket: {err[-2000:]}")
            if time.time() > deadline:
                raise RuntimeError(f"no vhost-user socket {sock} after 30 s")
            time.sleep(0.05)
        with Edgeplane(build, tag, sock, ram_mb=a.ram_mb, data_lcore=str(a.server_cpu),
                       control_lcore=str(a.client_cpu), transport="virtio") as ep:
            ep.ingest(content)
            tid = ep.lcore_tid(a.server_cpu)
            before = ep_snapshot(ep)
            open(go, "w").close()
            th.join(a.duration + 200)
            after = ep_snapshot(ep)
            exit_rc = ep.stop()
    finally:
        if th.is_alive():  # edgeplane failed before the go: release the waiting client
            open(go, "w").close()
            th.join(30)
        shutil.rmtree(os.path.dirname(go), ignore_errors=True)
        if os.path.exists(sock):
            os.unlink(sock)
    rc, rep, err = res.get("r", (None, None, "edgebench http did not finish"))
    r = edgeplane_result(before, after, tid, rc, rep, err, exit_rc, w)
    # The load window's own share (the process also waited for the go).
    r["client_cpu_share"] = rep["window_cpu_s"] / rep["window_wall_s"]
    r["rx_linearized"] = rep.get("rx_linearized")
    t0, t1 = section(before["stats"], "tcp"), section(after["stats"], "tcp")
    r["tso_sends"] = t1.get("tso_sends", 0) - t0.get("tso_sends", 0)
    r["tso_segments"] = t1.get("tso_segments", 0) - t0.get("tso_segments", 0)
    return r


def edgeplane_result(before, after, tid, rc, rep, err, exit_rc, w):
    if rep is None:
        raise RuntimeError(f"edgebench http ({w}) exited {rc} without a report: {err[-3000:]}")
    c = edgeplane_window(before, after, tid)
    h0, h1 = section(before["stats"], "http"), section(after["stats"], "http")
    reqs = h1.get("requests", 0) - h0.get("requests", 0)
    nbytes = sum(h1.get(k, 0) - h0.get(k, 0) for k in ("head_bytes_out", "body_bytes_out"))
    t0, t1 = section(before["stats"], "tcp"), section(after["stats"], "tcp")
    d0, d1 = before["stats"]["total"].get("drops", {}), after["stats"]["total"].get("drops", {})
    return {"server": "edgeplane", "requests": reqs, "bytes": nbytes,
            "rps": rep["requests_per_s"], "gbps": rep["gbit_per_s"], "seconds": rep["seconds"],
            "p50_ms": rep["latency_ms"]["p50"], "p99_ms": rep["latency_ms"]["p99"],
            "errors": rep["errors_total"], "verified": rep["verified"],
            "client_cpu_share": rep["client_cpu_s"] / rep["client_wall_s"],
            "max_backlog": rep.get("max_backlog"), "latency_from": rep.get("latency_from", "sent"),
            "retransmits": t1.get("retransmits", 0) - t0.get("retransmits", 0),
            "drops": {k: v - d0.get(k, 0) for k, v in d1.items() if v - d0.get(k, 0)},
            "exit": exit_rc, "cycles": c, "client": rep}


def run_nginx(a, content, url_file, w, conns, hz, rate=0, netns=None):
    ng = Nginx(content, a.nginx_port, a.server_cpu, netns=netns)
    try:
        ng.start()
        before = ng_snapshot(ng, a.server_cpu)
        r = wrk_run(url_file, a.nginx_port, conns, int(round(a.duration)), a.client_cpu, ng.work,
                    rate=rate, netns=netns)
        after = ng_snapshot(ng, a.server_cpu)
    finally:
        ng.cleanup()
    c = nginx_window(before, after, hz)
    secs = r["duration_us"] / 1e6
    return {"server": "nginx", "requests": r["requests"], "bytes": r["bytes"],
            "rps": r["requests"] / secs, "gbps": r["bytes"] * 8 / secs / 1e9, "seconds": secs,
            "p50_ms": r["p50_us"] / 1e3, "p99_ms": r["p99_us"] / 1e3, "errors": r["errors"],
            "verified": None, "client_cpu_share": r["client_cpu_s"] / r["client_wall_s"],
            "latency_from": "sent",
            "cycles": c, "client": r}


def run_varnish(a, content, url_file, w, conns, hz, rate=0, netns=None):
    """Like run_nginx: every thread of varnishd's manager and cache child
    (and of the warm backend) + the server core's irq/softirq time."""
    urls = [u.strip() for u in open(url_file) if u.strip()]
    vs = Varnish(content, a.varnish_port, a.server_cpu, netns=netns)
    try:
        vs.start(urls)
        k0 = vs.counters()
        before = ng_snapshot(vs, a.server_cpu)
        r = wrk_run(url_file, a.varnish_port, conns, int(round(a.duration)), a.client_cpu, vs.work,
                    rate=rate, netns=netns)
        after = ng_snapshot(vs, a.server_cpu)
        k1 = vs.counters()
    finally:
        vs.cleanup()
    c = nginx_window(before, after, hz)
    secs = r["duration_us"] / 1e6
    return {"server": "varnish", "requests": r["requests"], "bytes": r["bytes"],
            "rps": r["requests"] / secs, "gbps": r["bytes"] * 8 / secs / 1e9, "seconds": secs,
            "p50_ms": r["p50_us"] / 1e3, "p99_ms": r["p99_us"] / 1e3, "errors": r["errors"],
            "verified": None, "client_cpu_share": r["client_cpu_s"] / r["client_wall_s"],
            "latency_from": "sent",
            "cycles": c, "client": r, "varnish": {k: k1.get(k, 0) - k0.get(k, 0) for k in k1}}


def finish_run(r):
    """Derived per-run figures (pure)."""
    cyc = r["cycles"]["server_cycles"]
    r["server_cycles"] = cyc
    r["cycles_per_req"] = cyc / r["requests"] if r["requests"] else float("nan")
    r["cycles_per_byte"] = cyc / r["bytes"] if r["bytes"] else float("nan")
    r["server_on_cpu_share"] = r["cycles"]["server_on_cpu_share"]
    return r


def median(xs):
    xs = [x for x in xs if x is not None and x == x]
    return statistics.median(xs) if xs else float("nan")


def series_of(r):
    """A run's series: its workload at saturation, or "workload @R/s" at an offered load."""
    return f"{r['workload']} @{r['offered_rps']:.0f}/s" if r.get("offered_rps") else r["workload"]


def offered_rate(runs, workload, fraction, servers):
    """fraction x the weaker server's median saturation rate for one workload,
    from the saturation runs of this session (pure)."""
    meds = []
    for s in servers:
        xs = [r["rps"] for r in runs if r["workload"] == workload and r["server"] == s
              and not r.get("offered_rps")]
        if not xs:
            raise RuntimeError(f"--offered: no saturation run of {s} for {workload} to scale from")
        meds.append(median(xs))
    return fraction * min(meds)


def summarise(runs, base="edgeplane"):
    """Per workload: each server's medians, and for every other server the
    per-pair ratios other/base (> 1: base is cheaper) with median and spread.
    A pair is the runs of one workload with the same `pair` index. Runs at
    an offered load are their own series ("small @5000/s", from series_of())."""
    out = {}
    workloads = list(dict.fromkeys(series_of(r) for r in runs))
    for w in workloads:
        rw = [r for r in runs if series_of(r) == w]
        servers = list(dict.fromkeys(r["server"] for r in rw))
        entry = {"servers": {}, "ratios": {}}
        for s in servers:
            rs = [r for r in rw if r["server"] == s]
            entry["servers"][s] = {
                "runs": len(rs),
                "cycles_per_req": median(r["cycles_per_req"] for r in rs),
                "cycles_per_byte": median(r["cycles_per_byte"] for r in rs),
                "rps": median(r["rps"] for r in rs),
                "gbps": median(r["gbps"] for r in rs),
                "server_on_cpu_share": median(r["server_on_cpu_share"] for r in rs),
                "client_cpu_share": median(r["client_cpu_share"] for r in rs),
                "p50_ms": median(r.get("p50_ms") for r in rs),
                "p99_ms": median(r.get("p99_ms") for r in rs),
                "offered_rps": rs[0].get("offered_rps"),
                "errors": sum(r["errors"] for r in rs)}
        by_pair = {}
        for r in rw:
            by_pair.setdefault(r["pair"], {})[r["server"]] = r
        for s in servers:
            if s == base:
                continue
            for key in ("cycles_per_req", "cycles_per_byte"):
                ratios = [p[s][key] / p[base][key] for _, p in sorted(by_pair.items())
                          if s in p and base in p and p[base][key]]
                entry["ratios"].setdefault(s, {})[key] = {
                    "pairs": ratios, "median": median(ratios),
                    "min": min(ratios) if ratios else float("nan"),
                    "max": max(ratios) if ratios else float("nan")}
        out[w] = entry
    return out


COLS = ["workload", "offered_rps", "pair", "server", "conns", "seconds", "requests", "bytes", "server_cycles",
        "cycles_per_req", "cycles_per_byte", "server_on_cpu_share", "client_cpu_share", "rps", "gbps",
        "p50_ms", "p99_ms", "latency_from", "max_backlog", "errors"]


def write_csv(path, runs):
    with open(path, "w") as f:
        f.write(",".join(COLS) + "\n")
        for r in runs:
            f.write(",".join("" if r.get(c) is None else (f"{r[c]:.6g}" if isinstance(r[c], float) else str(r[c]))
                             for c in COLS) + "\n")


def pct(x):
    return "  n/a" if x is None or x != x else f"{x * 100:5.0f}"


def render(runs, summary, meta):
    lines = [f"edgebench compare: {meta['args']['duration']:g} s per run, {meta['args']['pairs']} pairs, "
             f"TSC {meta['tsc_hz'] / 1e9:.3f} GHz; server cpu {meta['args']['server_cpu']}, "
             f"client cpu {meta['args']['client_cpu']}; commit {meta['commit']}{' (dirty)' if meta['dirty'] else ''}",
             f"machine: {meta['machine']['cpu']}, {meta['machine']['cpus']} CPUs, load average before "
             f"{meta['machine']['loadavg'][0]:.1f}, after {meta['loadavg_after'][0]:.1f}",
             f"loopback baselines (nginx, varnish, wrk): {loopback_desc(meta)}; edgeplane: {transport_desc(meta)}",
             "", f"{'series':16} {'pair':>4} {'server':10} {'req/s':>9} {'Gbit/s':>7} {'cyc/req':>9} {'cyc/byte':>8} "
             f"{'srv on-CPU%':>11} {'client CPU%':>11} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}"]
    for r in runs:
        lines.append(f"{series_of(r):16} {r['pair']:4d} {r['server']:10} {r['rps']:9.0f} {r['gbps']:7.3f} "
                     f"{r['cycles_per_req']:9.0f} {r['cycles_per_byte']:8.3f} {pct(r['server_on_cpu_share']):>11} "
                     f"{pct(r['client_cpu_share']):>11} {r.get('p50_ms') or 0:7.3f} {r.get('p99_ms') or 0:7.3f} "
                     f"{r['errors']:6}")
    lines.append("")
    lines.append("medians per workload; ratio = other server's cycles / edgeplane's, per pair (> 1: edgeplane cheaper)")
    for w, e in summary.items():
        for s, m in e["servers"].items():
            lines.append(f"  {w:16} {s:10} runs {m['runs']}: {m['cycles_per_req']:9.0f} cycles/req "
                         f"{m['cycles_per_byte']:8.3f} cycles/byte, {m['rps']:9.0f} req/s, server on CPU "
                         f"{pct(m['server_on_cpu_share']).strip()} %, client CPU {pct(m['client_cpu_share']).strip()} %, "
                         f"errors {m['errors']}")
        for s, rr in e["ratios"].items():
            for key, label in (("cycles_per_req", "per request"), ("cycles_per_byte", "per byte")):
                q = rr[key]
                lines.append(f"  {w:16} {s}/edgeplane {label}: median {q['median']:.2f}x over {len(q['pairs'])} "
                             f"pairs (min {q['min']:.2f}, max {q['max']:.2f})")
    lines.append("")
    lines.append("counted: edgeplane = the smaller of the data lcore's busy TSC and its thread's CPU time")
    lines.append("(both upper bounds of its work: preemption / idle polling) + every other thread's CPU time;")
    lines.append("nginx = master + worker threads' CPU time (schedstat) + the server core's irq/softirq time.")
    lines.append("not counted: edgeplane's idle polling (its core is dedicated); for nginx over loopback the")
    lines.append("kernel receive work of its requests runs in the client's softirq on the client core, while")
    lines.append("the client's receive work runs on the server core and is counted against nginx.")
    lines.append("client CPU near 100 % means wrk, not the server, was the limit; edgebench busy-polls, so its")
    lines.append("share is what its core gave it: at an offered load its limit shows as achieved < offered.")
    lines.append("open loop (@R/s): edgebench's latency is from each request's scheduled send time, wrk's from")
    lines.append("its actual send (wrk 4 has no such correction).")
    return "\n".join(lines)


def bar_of(runs, server, series, key):
    """One bar of the chart (pure): the median of a server's runs in a series
    (saturation and offered load apart) and its distances to min and max."""
    vals = [r[key] for r in runs if r["server"] == server and series_of(r) == series]
    if not vals:
        return 0, 0, 0
    m = median(vals)
    return m, m - min(vals), max(vals) - m


def chart(summary, runs, path):
    """Bars: each server's median; whiskers: min and max of its runs."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("edgebench compare: chart skipped: python3-matplotlib is not installed "
              "(scripts/setup.sh installs it)", file=sys.stderr)
        return False
    workloads = list(summary)
    servers = list(dict.fromkeys(r["server"] for r in runs))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    width = 0.8 / max(len(servers), 1)
    for ax, key, title in ((axes[0], "cycles_per_req", "server cycles per request"),
                           (axes[1], "cycles_per_byte", "server cycles per byte")):
        for k, srv in enumerate(servers):
            med, lo, hi = [], [], []
            for w in workloads:
                m, l, h = bar_of(runs, srv, w, key)
                med.append(m)
                lo.append(l)
                hi.append(h)
            xs = [i + (k - (len(servers) - 1) / 2) * width for i in range(len(workloads))]
            ax.bar(xs, med, width=width, label=srv, yerr=[lo, hi], capsize=3)
        ax.set_xticks(range(len(workloads)))
        ax.set_xticklabels(workloads)
        ax.set_yscale("log")
        ax.set_title(title + " (median, min-max; log)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def transport_desc(meta):
    if meta["args"].get("transport") == "virtio":
        return ("net_virtio_user against edgebench's net_vhost, MTU 1500, TSO and TCP checksum offload "
                "negotiated (super-segments of up to 64 KiB)")
    return "net_memif, MTU 1500 (net_memif's largest frame is 1518 bytes)"


def loopback_desc(meta):
    mtu = meta["args"].get("mtu")
    return f"own network namespace, lo MTU {mtu}" if mtu else "the host's loopback, MTU as-is (65536)"


def tsc_hz_guess():
    for line in open("/proc/cpuinfo"):
        if line.startswith("cpu MHz"):
            return float(line.split(":")[1]) * 1e6
    return 2.0e9


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edgebench", default=None, help="edgebench binary (set by `edgebench compare`)")
    ap.add_argument("--build", default=None, help="build dir with control/edgeplane (default: edgebench's)")
    ap.add_argument("--duration", type=float, default=10, help="seconds per run")
    ap.add_argument("--pairs", type=int, default=5, help="alternating runs of each server per workload")
    ap.add_argument("--workloads", default="small,seg,dash")
    ap.add_argument("--servers", default="edgeplane,nginx", help="in run order within a pair")
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
    ap.add_argument("--varnish-port", type=int, default=18090, help="varnishd; its backend nginx on the next port")
    ap.add_argument("--memif", default=os.path.join(MEMIF_DIR, "memif.sock"))
    ap.add_argument("--transport", choices=("memif", "virtio"), default="memif",
                    help="edgeplane's port: net_memif, or net_virtio_user against edgebench's net_vhost "
                         "(TSO and checksum offload negotiated)")
    ap.add_argument("--out", default=None, help="results dir (default ./results/compare-<time>)")
    ap.add_argument("--no-chart", action="store_true")
    ap.add_argument("--rate", type=float, default=0,
                    help="also run every server at this offered load, requests/s (open loop; small, seg)")
    ap.add_argument("--offered", type=float, default=0,
                    help="also run every server at this fraction (0-1] of the weaker server's median "
                         "saturation rate measured in this session (e.g. 0.5)")
    ap.add_argument("--mtu", type=int, default=0,
                    help="run the loopback baselines (nginx, varnish, wrk) in a namespace of their own with "
                         "lo at this MTU (e.g. 1500, edgeplane's memif MTU); default: the host's lo as-is")
    a = ap.parse_args(argv)
    known = {"small", "seg", "dash"}
    bad = [w for w in a.workloads.split(",") if w not in known]
    if bad:
        ap.error(f"unknown workload(s) {','.join(bad)} (known: small, seg, dash)")
    bad = [s for s in a.servers.split(",") if s not in ("edgeplane", "nginx", "varnish")]
    if bad:
        ap.error(f"unknown server(s) {','.join(bad)} (known: edgeplane, nginx, varnish)")
    if a.pairs < 1 or a.duration <= 0:
        ap.error("--pairs must be >= 1 and --duration > 0")
    if a.rate and a.offered:
        ap.error("--rate and --offered: give one offered load, not both")
    if a.rate < 0 or not 0 <= a.offered <= 1:
        ap.error("--rate must be > 0 requests/s, --offered a fraction in (0, 1]")
    if (a.rate or a.offered) and "dash" in a.workloads.split(","):
        ap.error("--rate/--offered: open loop is for small and seg (DASH players pace themselves)")
    if a.mtu and not 1280 <= a.mtu <= 65536:
        ap.error("--mtu must be in 1280..65536")
    return a


def campaign(a):
    edgebench = a.edgebench or os.path.join(SRC, "build", "bench", "edgebench")
    build = a.build or os.path.dirname(os.path.dirname(os.path.abspath(edgebench)))
    workloads = a.workloads.split(",")
    servers = a.servers.split(",")
    if "edgeplane" in servers:
        need_file(edgebench, "edgebench binary (--edgebench)")
        need_file(os.path.join(build, "control", "edgeplane"), "edgeplane binary (--build DIR)")
        need_file(os.path.join(build, "control", "edgectl"), "edgectl binary (--build DIR)")
    out = a.out or os.path.join(os.getcwd(), "results", time.strftime("compare-%Y%m%d-%H%M%S"))
    os.makedirs(out, exist_ok=True)
    conns = {"small": a.conns_small, "seg": a.conns_seg, "dash": a.conns_dash}
    meta = {"date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(),
            "args": vars(a), **git_commit(SRC)}
    runs, hz = [], None
    content = tempfile.mkdtemp(prefix="edgebench-content-")
    failure = None
    netns = NetNs(a.mtu) if a.mtu and any(s != "edgeplane" for s in servers) else None
    try:
        os.chmod(content, 0o755)  # nginx's workers run unprivileged
        compare_content.main_args([content, "--small", str(a.small), "--segments", str(a.segments),
                                   "--titles", str(a.titles)])
        lists = {w: os.path.join(content, w + ".txt") for w in ("small", "seg")}
        lists["dash"] = os.path.join(content, "dashmix.txt")
        open(lists["dash"], "w").write("\n".join(dash_mix(content)) + "\n")
        if netns:
            netns.__enter__()
            meta["loopback_mtu"] = netns.lo_mtu()  # measured, not assumed
        for w in workloads:
            loads = [0]  # saturation first; then the offered load, if asked for
            if a.rate or a.offered:
                loads.append(None)
            for load in loads:
                rate = load
                if load is None:
                    rate = a.rate or offered_rate(runs, w, a.offered, servers)
                    meta.setdefault("offered_rps", {})[w] = rate
                for i in range(a.pairs):
                    for s in servers:  # A B A B ...: one run of each server per pair
                        if s == "edgeplane":
                            r = run_edgeplane(a, build, edgebench, content, lists[w], w, conns[w],
                                              f"{os.getpid() % 10000}{w[0]}{i}{'o' if rate else ''}", rate=rate)
                            hz = r["cycles"]["hz"]
                        elif s == "varnish":
                            r = run_varnish(a, content, lists[w], w, conns[w], hz or tsc_hz_guess(), rate, netns)
                        else:
                            r = run_nginx(a, content, lists[w], w, conns[w], hz or tsc_hz_guess(), rate, netns)
                        r.update(workload=w, pair=i, conns=conns[w], offered_rps=rate or None)
                        runs.append(finish_run(r))
                        print(f"{series_of(r)} pair {i} {s}: {r['cycles_per_req']:.0f} cycles/req, "
                              f"{r['rps']:.0f} req/s, server on CPU {pct(r['server_on_cpu_share']).strip()} %, "
                              f"client CPU {pct(r['client_cpu_share']).strip()} %, errors {r['errors']}",
                              file=sys.stderr)
    except (RuntimeError, OSError, subprocess.SubprocessError, ValueError, KeyError) as e:
        # Keep what was measured: the results file says where and why it stopped.
        failure = f"{type(e).__name__}: {e}"
        if not runs:
            raise
    finally:
        if netns:
            netns.__exit__()
        shutil.rmtree(content, ignore_errors=True)
    meta["failure"] = failure
    meta["tsc_hz"] = hz or tsc_hz_guess()
    meta["tsc_hz_source"] = "edgeplane busy+idle TSC over wall time" if hz else "/proc/cpuinfo cpu MHz"
    meta["loadavg_after"] = os.getloadavg()
    summary = summarise(runs)
    report = render(runs, summary, meta)
    print(report)
    json.dump({**meta, "summary": summary, "runs": runs}, open(os.path.join(out, "results.json"), "w"),
              indent=1, default=str)
    write_csv(os.path.join(out, "runs.csv"), runs)
    open(os.path.join(out, "report.txt"), "w").write(report + "\n")
    if not a.no_chart:
        chart(summary, runs, os.path.join(out, "compare.png"))
    print(f"results in {out}", file=sys.stderr)
    if failure:
        print(f"edgebench compare: stopped after {len(runs)} runs: {failure}", file=sys.stderr)
        return 2
    return 1 if any(r["errors"] for r in runs) else 0


def main(argv=None):
    a = parse_args(argv)

    def on_signal(signum, _):
        raise SystemExit(128 + signum)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, on_signal)
    try:
        return campaign(a)
    except (RuntimeError, OSError, subprocess.SubprocessError, ValueError, KeyError) as e:
        where = traceback.extract_tb(e.__traceback__)[-1]
        print(f"edgebench compare: {type(e).__name__}: {e} (at {os.path.basename(where.filename)}:"
              f"{where.lineno} {where.name})", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

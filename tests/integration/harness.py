"""Test harness: runs edgeplane on a net_tap device whose kernel side lives in
a fresh network namespace, the way every integration test talks to it.

    with Edgeplane() as ep:
        ep.ns_run(["ping", "-c", "1", ep.ip])
        assert ep.stats()["total"]["counters"]["icmp_echo_replies"] == 1

Every instance gets its own TAP name, namespace, /24 under 10.78.0.0/16,
DPDK --file-prefix and admin socket, and cleans all of them up (namespace,
TAP, hugepage files, the process) even when the test fails or is killed.

`port="af_packet"` puts the daemon on net_af_packet over a veth pair in the
namespace instead (both ends with their offloads off, so every frame is a
whole, checksummed one): `ep.tap` is then the veth's kernel end, so the
tests' addresses, nftables rules and counters on it work unchanged.
"""

import atexit
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("EDGEPLANE_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
EDGEPLANE = os.path.join(BUILD, "control", "edgeplane")
EDGECTL = os.path.join(BUILD, "control", "edgectl")
PYTHON = "/usr/bin/python3"  # Debian's, where scapy and libtorrent live

_counter = itertools.count()
_live = set()


def _sh(*cmd, check=True, **kw):
    return subprocess.run(list(cmd), check=check, capture_output=True, text=True, **kw)


class Edgeplane:
    def __init__(self, args=(), data_lcores="1", control_lcore="0", torrents=False, port="tap"):
        if port not in ("tap", "af_packet"):
            raise ValueError(f"port {port!r}: tap or af_packet")
        n = (os.getpid() * 7 + next(_counter)) % 10000
        self.tag = f"{n:04d}"
        self.port = port
        self.tap = f"ept{self.tag}"
        self.veth = f"epv{self.tag}"  # af_packet: the daemon's end of the pair
        self.ns = f"epns{self.tag}"
        self.prefix = f"eptest{self.tag}"
        subnet = (os.getpid() + next(_counter)) % 250 + 1
        self.ip = f"10.78.{subnet}.2"
        self.host_ip = f"10.78.{subnet}.1"
        self.workdir = tempfile.mkdtemp(prefix=f"edgeplane-test-{self.tag}-")
        self.sock = os.path.join(self.workdir, "admin.sock")
        self.log_path = os.path.join(self.workdir, "edgeplane.log")
        # Ingest makes .torrent objects by default (docs/swarm.md); tests of
        # other things count objects and RAM exactly, so it is off unless a
        # test asks (test_swarm.py does).
        self.args = list(args) + ([] if torrents else ["--torrents", "false"])
        self.data_lcores = data_lcores
        self.control_lcore = control_lcore
        self.proc = None
        self.returncode = None

    # ---- life cycle ----
    def command(self):
        spec = (f"net_tap0,iface={self.tap}" if self.port == "tap"
                else f"net_af_packet0,iface={self.veth},qpairs=1")
        return [EDGEPLANE, "--port", spec, "--ip", f"{self.ip}/24",
                "--data-lcores", self.data_lcores, "--control-lcore", self.control_lcore,
                "--admin-socket", self.sock, "--file-prefix", self.prefix] + self.args

    def start(self, timeout=30):
        _live.add(self)
        _sh("ip", "netns", "add", self.ns)
        _sh("ip", "-n", self.ns, "link", "set", "lo", "up")
        if self.port == "af_packet":
            _sh("ip", "-n", self.ns, "link", "add", self.tap, "type", "veth", "peer", "name", self.veth)
            for dev in (self.tap, self.veth):
                # No TSO/GSO super-frames and no partial checksums: the
                # daemon reads what af_packet hands it as the wire would.
                _sh("ip", "netns", "exec", self.ns, "ethtool", "-K", dev, "tx", "off", "tso", "off",
                    "gso", "off", "gro", "off")
            _sh("ip", "-n", self.ns, "link", "set", self.veth, "up")
        self._log = open(self.log_path, "w")
        # The daemon runs inside the namespace, so net_tap creates the TAP
        # there: moving a live multi-queue TAP between namespaces afterwards
        # made the kernel drop some of its transmits (seen as FAILED ARP).
        # The admin socket is a path, reachable from anywhere.
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns] + self.command(),
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while _sh("ip", "-n", self.ns, "link", "show", self.tap, check=False).returncode != 0:
            self._alive_or_fail()
            if time.time() > deadline:
                raise RuntimeError(f"TAP {self.tap} never appeared\n{self.log()}")
            time.sleep(0.05)
        _sh("ip", "-n", self.ns, "addr", "add", f"{self.host_ip}/24", "dev", self.tap)
        _sh("ip", "-n", self.ns, "link", "set", self.tap, "up")
        while self.ctl("ping", check=False).returncode != 0:
            self._alive_or_fail()
            if time.time() > deadline:
                raise RuntimeError(f"admin socket never answered\n{self.log()}")
            time.sleep(0.05)
        return self

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signals the daemon and returns its exit code."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.returncode = self.proc.returncode
        return self.returncode

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        _sh("ip", "netns", "del", self.ns, check=False)
        _sh("ip", "link", "del", self.tap, check=False)  # if it never moved
        for d in ("/dev/hugepages",):
            if os.path.isdir(d):
                for f in os.listdir(d):
                    if f.startswith(self.prefix):
                        try:
                            os.unlink(os.path.join(d, f))
                        except OSError:
                            pass
        shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)
        if getattr(self, "_log", None):
            self._log.close()
        _live.discard(self)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc):
        self.stop()
        if exc[0] is not None:
            sys.stderr.write(f"--- edgeplane log ({self.log_path}) ---\n{self.log()}\n")
        self.cleanup()
        return False

    # ---- helpers for tests ----
    def _alive_or_fail(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"edgeplane exited with {self.proc.returncode}\n{self.log()}")

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def ctl(self, *args, check=True):
        return _sh(EDGECTL, "--socket", self.sock, *args, check=check)

    def stats(self):
        return json.loads(self.ctl("stats", "--json").stdout)

    def stats_when(self, pred, what, timeout=10):
        """Stats once pred(stats) holds. Counters fed through the access ring
        (cache hits, misses) reach the control thread a loop turn after the
        request is answered, so a read straight after curl can miss the last."""
        deadline = time.monotonic() + timeout
        while True:
            s = self.stats()
            if pred(s):
                return s
            if time.monotonic() > deadline:
                raise AssertionError(f"stats never showed {what} in {timeout} s: {s}")
            time.sleep(0.05)

    def download_sha256(self, path, curl_args=(), timeout=60):
        """(sha256 hex of http://ip/path fetched with curl from the namespace, curl's
        stderr); the body is hashed as it streams, never held."""
        cmd = " ".join(["curl", "-sS", "-m", str(timeout), *curl_args, f"http://{self.ip}{path}"])
        r = self.ns_run(["sh", "-c", f"{cmd} | sha256sum"], timeout=timeout + 10)
        return r.stdout.split()[0], r.stderr

    def tcp_snmp(self):
        """The namespace kernel's Tcp: line of /proc/net/snmp as a dict."""
        lines = self.ns_run(["cat", "/proc/net/snmp"]).stdout.splitlines()
        tcp = [line.split()[1:] for line in lines if line.startswith("Tcp:")]
        return {k: int(v) for k, v in zip(tcp[0], tcp[1])}

    def counter(self, name):
        t = self.stats()["total"]
        return t["counters"].get(name, t["drops"].get(name))

    def ns_run(self, cmd, check=True, timeout=120, **kw):
        return subprocess.run(["ip", "netns", "exec", self.ns] + list(cmd), check=check,
                              capture_output=True, text=True, timeout=timeout, **kw)

    def ns_python(self, code, check=True, timeout=120):
        """Runs Debian's python3 (scapy, libtorrent) inside the namespace."""
        return self.ns_run([PYTHON, "-c", code], check=check, timeout=timeout)


class RoutedClient:
    """Optional: a client namespace one router hop behind the appliance. The
    Edgeplane's namespace (the TAP's kernel side) becomes the router: a veth
    pair joins it to a new client namespace, IPv4 forwarding is on, and the
    router's side of the veth has a smaller MTU (`mtu`) than the client's, so
    full-size segments from the appliance (DF set) do not fit the last hop:
    the router answers with ICMP fragmentation-needed, unless a test filters
    those (nft in ep.ns) to make a black hole. The daemon must have been
    started with `--gateway ep.host_ip` to reach the client's /24.

        ep = Edgeplane(args=[...]); ep.args += ["--gateway", ep.host_ip]
        with ep, RoutedClient(ep, mtu=1400) as cl:
            cl.ns_run(["curl", f"http://{ep.ip}/x"])

    Cleans up its namespace (and with it the veth) even on failure.
    """

    def __init__(self, ep, mtu=1400, index=0):
        # index: several clients behind one router, each its own /24
        # (10.79+index.X.0) and names.
        self.ep = ep
        self.mtu = mtu
        sfx = str(index) if index else ""
        self.ns = f"epcl{ep.tag}{sfx}"
        self.veth_router = f"epr{ep.tag}{sfx}"
        self.veth_client = f"epc{ep.tag}{sfx}"
        octet = ep.ip.split(".")[2]
        self.router_ip = f"10.{79 + index}.{octet}.1"
        self.ip = f"10.{79 + index}.{octet}.2"

    def start(self):
        _live.add(self)
        ep = self.ep
        _sh("ip", "netns", "add", self.ns)
        _sh("ip", "-n", self.ns, "link", "set", "lo", "up")
        _sh("ip", "link", "add", self.veth_router, "netns", ep.ns, "type", "veth",
            "peer", "name", self.veth_client, "netns", self.ns)
        _sh("ip", "-n", ep.ns, "addr", "add", f"{self.router_ip}/24", "dev", self.veth_router)
        _sh("ip", "-n", ep.ns, "link", "set", self.veth_router, "mtu", str(self.mtu), "up")
        _sh("ip", "-n", self.ns, "addr", "add", f"{self.ip}/24", "dev", self.veth_client)
        _sh("ip", "-n", self.ns, "link", "set", self.veth_client, "up")
        _sh("ip", "-n", self.ns, "route", "add", "default", "via", self.router_ip)
        _sh("ip", "netns", "exec", ep.ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        return self

    def cleanup(self):
        _sh("ip", "netns", "del", self.ns, check=False)  # takes the veth pair with it
        _live.discard(self)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def ns_run(self, cmd, check=True, timeout=120, **kw):
        return subprocess.run(["ip", "netns", "exec", self.ns] + list(cmd), check=check,
                              capture_output=True, text=True, timeout=timeout, **kw)

    def ns_python(self, code, check=True, timeout=120):
        return self.ns_run([PYTHON, "-c", code], check=check, timeout=timeout)


def _ns_name(ns):
    return ns if isinstance(ns, str) else ns.ns


def nft(ns, script):
    """Loads an nftables script (`nft -f -`) in namespace `ns`: its name, or
    anything with an `.ns` (Edgeplane, RoutedClient). The tables go with the
    namespace when it is removed."""
    return _sh("ip", "netns", "exec", _ns_name(ns), "nft", "-f", "-", input=script)


def nft_counter(ns, table, name, family="inet"):
    """Packets of the named counter object `name` in `family table`."""
    out = _sh("ip", "netns", "exec", _ns_name(ns), "nft", "-j", "list", "counter", family, table, name).stdout
    for item in json.loads(out)["nftables"]:
        if "counter" in item:
            return item["counter"]["packets"]
    raise KeyError(f"no counter {name} in {family} {table}")


def nft_rule_packets(ns, table, family="inet"):
    """{comment: packets} of the rules in `family table` that count and have
    a comment (`... counter comment "name"`)."""
    out = _sh("ip", "netns", "exec", _ns_name(ns), "nft", "-j", "list", "table", family, table).stdout
    got = {}
    for item in json.loads(out)["nftables"]:
        rule = item.get("rule")
        if not rule or not rule.get("comment"):
            continue
        for e in rule["expr"]:
            if "counter" in e:
                got[rule["comment"]] = e["counter"]["packets"]
    return got


def _cleanup_all(*_):
    for ep in list(_live):
        ep.cleanup()


atexit.register(_cleanup_all)
for _s in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(_s, lambda *a: (_cleanup_all(), sys.exit(1)))

"""A real etcd for tests (Debian's etcd-server) and readers of an
appliance's membership table: shared by test_membership.py and
test_six_steps.py."""

import os
import shutil
import subprocess
import tempfile
import time

from harness import _sh

ETCD = shutil.which("etcd") or "/usr/bin/etcd"


class Etcd:
    """A one-member etcd in its own namespace, data in a temp dir; veths
    to the appliances' namespaces are added with link()."""

    def __init__(self, tag):
        self.ns = f"epetcd{tag}"
        self.tag = tag
        self.dir = tempfile.mkdtemp(prefix=f"edgeplane-etcd-{tag}-")
        self.links = []
        self.proc = None
        self.addrs = []

    def link(self, ep, index):
        """A veth between etcd's namespace and ep's: etcd at 172.31.<index>.1."""
        a, b = f"eve{self.tag}{index}", f"evp{self.tag}{index}"
        _sh("ip", "link", "add", a, "netns", self.ns, "type", "veth", "peer", "name", b,
            "netns", ep.ns)
        self.links.append(a)
        ip = f"172.31.{index}.1"
        _sh("ip", "-n", self.ns, "addr", "add", f"{ip}/30", "dev", a)
        _sh("ip", "-n", self.ns, "link", "set", a, "up")
        _sh("ip", "-n", ep.ns, "addr", "add", f"172.31.{index}.2/30", "dev", b)
        _sh("ip", "-n", ep.ns, "link", "set", b, "up")
        self.addrs.append(ip)
        return f"{ip}:2379"

    def start(self, indices):
        _sh("ip", "netns", "add", self.ns)
        _sh("ip", "-n", self.ns, "link", "set", "lo", "up")
        self.indices = indices

    def run(self):
        urls = ",".join(f"http://{a}:2379" for a in self.addrs)
        self.log = open(os.path.join(self.dir, "etcd.log"), "w")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, ETCD, "--name", "t", "--data-dir",
             os.path.join(self.dir, "data"), "--listen-client-urls", urls,
             "--advertise-client-urls", urls, "--listen-peer-urls", "http://127.0.0.1:2380",
             "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
             "--initial-cluster", "t=http://127.0.0.1:2380"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            r = subprocess.run(["ip", "netns", "exec", self.ns, "etcdctl",
                                f"--endpoints={self.addrs[0]}:2379", "endpoint", "health"],
                               capture_output=True, text=True)
            if r.returncode == 0:
                return
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("etcd did not start: " + open(self.log.name).read())
            time.sleep(0.2)

    def keys(self):
        r = subprocess.run(["ip", "netns", "exec", self.ns, "etcdctl",
                            f"--endpoints={self.addrs[0]}:2379", "get", "--prefix", "--keys-only",
                            "/edgeplane/"], capture_output=True, text=True, check=True)
        return [k for k in r.stdout.split() if k]

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        _sh("ip", "netns", "del", self.ns, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def members(ep):
    """Appliance names in `edgectl clusters`' membership table."""
    out = ep.ctl("clusters").stdout
    names, inside = [], False
    for line in out.splitlines():
        if line.startswith("appliance "):
            inside = True
            continue
        if inside:
            if not line.strip() or line.startswith(("published", "dns:", "etcd:")):
                break
            names.append(line.split()[0])
    return sorted(names), out


def wait_members(ep, want, timeout):
    deadline = time.time() + timeout
    while True:
        got, out = members(ep)
        if got == want:
            return out
        if time.time() > deadline:
            raise AssertionError(f"members {got}, want {want}\n{out}\n{ep.log()}")
        time.sleep(0.2)

"""Edge -> parent -> origin (issue 14, docs/origin.md "A parent cluster"):
an edgeplane whose origin is another edgeplane, whose origin is nginx. The
parent is just an origin to the edge: it answers the edge's 256 KiB-aligned
Range requests with 206 (from its store, pulling each chunk from nginx on
its own miss).

   curl (edge's TAP ns) -> edge -> [edge ns] -veth- [parent ns] -> parent
                                                       parent -> [parent ns] -> nginx (RoutedClient)

What is judged: the bytes against nginx's file, nginx's log (every aligned
range once: the edge's requests were answered by the parent, which asked
nginx once per chunk), both appliances' stored-chunk counters, and a warm
GET through the edge that asks neither the parent nor nginx."""

import hashlib
import os
import shutil
import subprocess
import tempfile

from harness import Edgeplane, RoutedClient
from test_origin import CHUNK, ORIGIN_PORT, Nginx, chunk_range


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def link_namespaces(edge, parent):
    """A veth between the two TAP namespaces, each routing the other's /24."""
    s = edge.ip.split(".")[2]
    a, b = f"epxa{edge.tag}", f"epxb{edge.tag}"
    sh("ip", "link", "add", a, "netns", edge.ns, "type", "veth", "peer", "name", b,
       "netns", parent.ns)
    sh("ip", "-n", edge.ns, "addr", "add", f"10.98.{s}.1/30", "dev", a)
    sh("ip", "-n", parent.ns, "addr", "add", f"10.98.{s}.2/30", "dev", b)
    for ns, dev in ((edge.ns, a), (parent.ns, b)):
        sh("ip", "-n", ns, "link", "set", dev, "up")
        for k in ("net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
                  f"net.ipv4.conf.{dev}.rp_filter=0"):
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", k)
    net = lambda ep: ep.ip.rsplit(".", 1)[0] + ".0/24"
    sh("ip", "-n", edge.ns, "route", "add", net(parent), "via", f"10.98.{s}.2")
    sh("ip", "-n", parent.ns, "route", "add", net(edge), "via", f"10.98.{s}.1")


def stored(ep):
    return ep.stats()["http"]["origin_chunks_stored"]


def test_edge_parent_origin_chain_is_byte_exact():
    content = tempfile.mkdtemp(prefix="edgeplane-chain-", dir="/var/tmp")
    os.chmod(content, 0o755)
    src = os.urandom(6 * CHUNK + 4321)
    os.makedirs(os.path.join(content, "vod"))
    with open(os.path.join(content, "vod", "title.mp4"), "wb") as f:
        f.write(src)
    with open(os.path.join(content, "probe"), "wb") as f:
        f.write(b"ok\n")
    parent = Edgeplane(args=["--ram-mb", "64"])
    edge = Edgeplane(args=["--ram-mb", "64"])
    cl = RoutedClient(parent, mtu=1500)
    parent.args += ["--gateway", parent.host_ip, "--origin", f"/vod={cl.ip}:{ORIGIN_PORT}"]
    edge.args += ["--gateway", edge.host_ip, "--origin", f"/vod={parent.ip}:80"]
    nginx = None
    try:
        parent.start()
        edge.start()
        cl.start()
        link_namespaces(edge, parent)
        nginx = Nginx(cl.ns, cl.ip, content).start()
        uri = "/vod/title.mp4"
        r = edge.ns_run(["sh", "-c", f"curl -sS -m 60 http://{edge.ip}{uri} | sha256sum"],
                        timeout=90)
        assert r.stdout.split()[0] == hashlib.sha256(src).hexdigest(), r.stderr
        want = sorted(chunk_range(i) for i in range(7))
        lines = nginx.lines(uri)
        assert sorted(rg for rg, _ in lines) == want, lines  # each chunk once, at the end
        assert all(s == "206" for _, s in lines)
        assert stored(parent) >= 7 and stored(edge) >= 7
        # A Range through the chain, and a warm GET that asks nobody.
        r = subprocess.run(
            ["ip", "netns", "exec", edge.ns, "curl", "-sS", "-m", "60", "-r", "1000000-1000099",
             f"http://{edge.ip}{uri}"], capture_output=True, timeout=90)
        assert r.stdout == src[1000000:1000100]
        parent_fetches = parent.stats()["http"]["origin_fetches"]
        edge_fetches = edge.stats()["http"]["origin_fetches"]
        r = edge.ns_run(["sh", "-c", f"curl -sS -m 60 http://{edge.ip}{uri} | sha256sum"])
        assert r.stdout.split()[0] == hashlib.sha256(src).hexdigest()
        assert edge.stats()["http"]["origin_fetches"] == edge_fetches
        assert parent.stats()["http"]["origin_fetches"] == parent_fetches
        assert len(nginx.lines(uri)) == 7
        nginx.kill()
        assert edge.stop() == 0, edge.log()
        assert parent.stop() == 0, parent.log()
    finally:
        if nginx:
            nginx.cleanup()
        cl.cleanup()
        edge.cleanup()
        parent.cleanup()
        shutil.rmtree(content, ignore_errors=True)

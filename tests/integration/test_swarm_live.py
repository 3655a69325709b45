"""A live swarm (issue 12, "Tests with real peers"): N python3-libtorrent
leechers, each in its own namespace one router hop behind the appliance
(harness.RoutedClient), every link shaped with tbf, find each other only
through our tracker (DHT, LSD, PEX, uTP and the web seed off) and download
the appliance's torrent of a few MiB over the peer wire. Asserted: every
leecher completes byte-exact (SHA-256 against the source), the leechers
uploaded to each other (libtorrent's own upload counters), and the
appliance's piece bytes (`swarm.piece_bytes`) are well below N*F, i.e. the
swarm, not the seed, carried most of the bytes. No timing asserts: the
distribution time is printed, and measured by bench/swarm_live.py, which
reuses LiveSwarm from here.

Shaping (tbf only; the kernel has no netem, FIELD-NOTES):
- leecher i's upload: tbf on its own veth (client side, egress);
- leecher i's download: tbf on the router's side of its veth (egress);
  every byte it gets, from the appliance or another leecher, crosses it;
- the appliance's upload u_s: the frames the data plane writes to the TAP
  are the TAP's ingress in the router namespace; an ingress qdisc redirects
  them (u32 match-all, mirred) to an ifb device whose egress has the tbf.
"""

import json
import os
import subprocess
import threading
import time

from harness import Edgeplane, RoutedClient, _sh
from swarm_util import make_file, sha256

PIECE = 256 * 1024

# One leecher: fetch the .torrent (without url-list, so only peers can
# serve), wait for the common start, download, then keep seeding for the
# others until the stop file appears. Prints one JSON line at the end.
LEECHER = r"""
import libtorrent as lt, sys, time, json, os, urllib.request
url, save, go, stop, limit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
d = lt.bdecode(urllib.request.urlopen(url, timeout=10).read())
d.pop(b"url-list", None)  # outside the info dict: the info hash is unchanged
ti = lt.torrent_info(d)
ses = lt.session({"listen_interfaces": "0.0.0.0:6881", "enable_dht": False, "enable_lsd": False,
                  "enable_upnp": False, "enable_natpmp": False, "enable_incoming_utp": False,
                  "enable_outgoing_utp": False, "alert_mask": lt.alert.category_t.error_notification})
atp = lt.add_torrent_params()
atp.ti = ti
atp.save_path = save
atp.flags |= lt.torrent_flags.disable_pex  # peers come from our tracker only
atp.flags |= lt.torrent_flags.paused
h = ses.add_torrent(atp)
open(os.path.join(save, "ready"), "w").close()
while not os.path.exists(go):
    time.sleep(0.02)
t0 = time.time()
h.resume()
done_at, peers, errors = None, set(), []
while time.time() - t0 < limit and not os.path.exists(stop):
    for a in ses.pop_alerts():
        errors.append(a.message())
    for p in h.get_peer_info():
        peers.add("%s:%d" % p.ip)
    if done_at is None and h.status().is_seeding:
        done_at = time.time()
        open(os.path.join(save, "done"), "w").close()
    time.sleep(0.05)
st = h.status()
print(json.dumps({"t0": t0, "done_at": done_at, "seeding": st.is_seeding,
                  "progress": st.progress, "uploaded": st.total_payload_upload,
                  "downloaded": st.total_payload_download, "peers": sorted(peers),
                  "errors": errors[-5:]}))
"""


# A python3-libtorrent seed, for bench/swarm_seed_cost.py (edgeplane's peer
# wire off, this process the only seed): the source file hard-linked into
# its save path, seed mode (no hash check at start), announced to our
# tracker before the leechers start. A lean loop: what it costs is measured.
LT_SEED = r"""
import libtorrent as lt, sys, time, json, os, urllib.request
url, save, stop = sys.argv[1], sys.argv[2], sys.argv[3]
d = lt.bdecode(urllib.request.urlopen(url, timeout=10).read())
d.pop(b"url-list", None)
ti = lt.torrent_info(d)
ses = lt.session({"listen_interfaces": "0.0.0.0:6881", "enable_dht": False, "enable_lsd": False,
                  "enable_upnp": False, "enable_natpmp": False, "enable_incoming_utp": False,
                  "enable_outgoing_utp": False, "alert_mask": lt.alert.category_t.tracker_notification})
atp = lt.add_torrent_params()
atp.ti = ti
atp.save_path = save
atp.flags |= lt.torrent_flags.disable_pex | lt.torrent_flags.seed_mode
h = ses.add_torrent(atp)
announced = False
while not os.path.exists(stop):
    for a in ses.pop_alerts():
        if isinstance(a, lt.tracker_reply_alert) and not announced:
            announced = True
            open(os.path.join(save, "ready"), "w").close()
    time.sleep(0.2)
st = h.status()
print(json.dumps({"uploaded": st.total_payload_upload, "seeding": st.is_seeding}))
"""


def tbf(ns, dev, rate_kbit):
    # burst: at least a few full frames (and 10 ms of the rate); the queue
    # (latency) long enough that TCP sees drops rarely.
    burst = max(16 * 1514, rate_kbit * 1000 // 8 // 100)
    _sh("ip", "netns", "exec", ns, "tc", "qdisc", "replace", "dev", dev, "root", "tbf", "rate",
        f"{rate_kbit}kbit", "burst", str(burst), "latency", "200ms")


class LiveSwarm:
    """The appliance, n leecher namespaces and their shaping. Rates in kbit/s:
    seed_kbit (u_s), up_kbit (u_i, one value or a list cycled over the
    leechers), down_kbit (d_i). Use as a context manager; run() starts all
    leechers at once and returns their reports."""

    def __init__(self, n, seed_kbit, up_kbit, down_kbit, extra_args=(), lt_seed=False):
        # lt_seed: the seed is a python3-libtorrent process in one more
        # namespace (upload shaped to seed_kbit) and the peer wire is off.
        self.n = n
        self.lt_seed = lt_seed
        self.seed_proc = None
        if lt_seed:
            extra_args = list(extra_args) + ["--swarm-port", "0"]
        self.seed_kbit = seed_kbit
        ups = up_kbit if isinstance(up_kbit, (list, tuple)) else [up_kbit]
        self.up_kbit = [ups[i % len(ups)] for i in range(n)]
        self.down_kbit = down_kbit
        self.ep = Edgeplane(args=list(extra_args), torrents=True)
        self.ep.args += ["--gateway", self.ep.host_ip]
        self.clients = []
        self.ifb = f"epi{self.ep.tag}"
        self.on_go = self.on_done = None  # callbacks: just before the start, once all are done

    def __enter__(self):
        self.ep.__enter__()
        try:
            for i in range(self.n):
                self.clients.append(RoutedClient(self.ep, mtu=1500, index=i).__enter__())
            if self.lt_seed:
                self.seed_client = RoutedClient(self.ep, mtu=1500, index=self.n).__enter__()
                tbf(self.seed_client.ns, self.seed_client.veth_client, self.seed_kbit)
            self._shape()
        except BaseException:
            self.__exit__(True, None, None)
            raise
        return self

    def __exit__(self, *exc):
        if self.seed_proc and self.seed_proc.poll() is None:
            self.seed_proc.kill()
            self.seed_proc.wait()
        if self.lt_seed and getattr(self, "seed_client", None):
            self.seed_client.__exit__(*exc)
        for c in self.clients:
            c.__exit__(*exc)
        return self.ep.__exit__(*exc)  # the namespace takes the ifb with it

    def _shape(self):
        ep = self.ep
        for c, up in zip(self.clients, self.up_kbit):
            tbf(c.ns, c.veth_client, up)
            tbf(ep.ns, c.veth_router, self.down_kbit)
        ns = ["ip", "netns", "exec", ep.ns]
        _sh("ip", "-n", ep.ns, "link", "add", self.ifb, "type", "ifb")
        _sh("ip", "-n", ep.ns, "link", "set", self.ifb, "up")
        _sh(*ns, "tc", "qdisc", "add", "dev", ep.tap, "handle", "ffff:", "ingress")
        _sh(*ns, "tc", "filter", "add", "dev", ep.tap, "parent", "ffff:", "protocol", "ip", "u32",
            "match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", self.ifb)
        tbf(ep.ns, self.ifb, self.seed_kbit)

    def ingest(self, size, name="swarm.bin", seed=5):
        self.src = make_file(self.ep, name, size, seed=seed)
        self.ep.ctl("ingest", self.src)
        self.name = name
        self.size = size
        return self.src

    def run(self, limit=120.0):
        """Starts every leecher, releases them together, waits until all are
        done (or limit s), lets them go, returns (reports, go_time)."""
        ep = self.ep
        url = f"http://{ep.ip}/{self.name}.torrent"
        go = os.path.join(ep.workdir, "go")
        stop = os.path.join(ep.workdir, "stop")
        for f in (go, stop):
            if os.path.exists(f):
                os.unlink(f)
        self.saves = []
        procs = []
        self.seed_report = None
        if self.lt_seed:
            sdir = os.path.join(ep.workdir, "ltseed")
            os.makedirs(sdir, exist_ok=True)
            for f in os.listdir(sdir):
                os.unlink(os.path.join(sdir, f))
            os.link(self.src, os.path.join(sdir, self.name))
            code = f"import sys; sys.argv=['x', {url!r}, {sdir!r}, {stop!r}]\n" + LT_SEED
            self.seed_proc = subprocess.Popen(["ip", "netns", "exec", self.seed_client.ns, "/usr/bin/python3",
                                               "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                              text=True)
            deadline = time.time() + 30
            while not os.path.exists(os.path.join(sdir, "ready")):
                assert self.seed_proc.poll() is None, self.seed_proc.communicate()
                assert time.time() < deadline, "the libtorrent seed never announced"
                time.sleep(0.05)
        for i, c in enumerate(self.clients):
            save = os.path.join(ep.workdir, f"leech{i}")
            if os.path.isdir(save):
                subprocess.run(["rm", "-rf", save])
            os.makedirs(save)
            self.saves.append(save)
            code = f"import sys; sys.argv=['x', {url!r}, {save!r}, {go!r}, {stop!r}, '{limit}']\n" + LEECHER
            procs.append(subprocess.Popen(["ip", "netns", "exec", c.ns, "/usr/bin/python3", "-c", code],
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        outs = [None] * len(procs)

        def reap(i):
            outs[i] = procs[i].communicate(timeout=limit + 60)

        try:
            deadline = time.time() + 60
            while not all(os.path.exists(os.path.join(s, "ready")) for s in self.saves):
                bad = [p for p in procs if p.poll() is not None]
                assert not bad, bad[0].communicate()
                assert time.time() < deadline, "leechers never got ready"
                time.sleep(0.05)
            self.before = ep.stats().get("swarm", {})
            if self.on_go:
                self.on_go()
            go_time = time.time()
            open(go, "w").close()
            end = go_time + limit
            while time.time() < end:
                if all(os.path.exists(os.path.join(s, "done")) for s in self.saves):
                    break
                time.sleep(0.1)
            if self.on_done:
                self.on_done()
            open(stop, "w").close()
            if self.seed_proc:
                out, err = self.seed_proc.communicate(timeout=30)
                assert out.strip(), err
                self.seed_report = json.loads(out.strip().splitlines()[-1])
            threads = [threading.Thread(target=reap, args=(i,)) for i in range(len(procs))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        reports = []
        for out, err in outs:
            assert out and out.strip(), err
            reports.append(json.loads(out.strip().splitlines()[-1]))
        self.after = ep.stats().get("swarm", {})
        return reports, go_time

    def seed_piece_bytes(self):
        return self.after.get("piece_bytes", 0) - self.before.get("piece_bytes", 0)


def test_eight_shaped_libtorrent_leechers_share_the_appliances_torrent():
    n, size = 8, 4 * 1024 * 1024 + 12345  # F: 17 pieces, the last one short
    # u_s = u_i = 8 Mbit/s, d_i = 24 Mbit/s: the bound N F/(u_s + sum u_i)
    # is 3.8 s, F/u_s 4.2 s; client-server would need N F/u_s = 34 s.
    with LiveSwarm(n, seed_kbit=8000, up_kbit=8000, down_kbit=24000) as sw:
        src = sw.ingest(size)
        reports, go = sw.run(limit=45)
        want = sha256(src)
        for i, r in enumerate(reports):
            assert r["seeding"], (i, r)
            assert sha256(os.path.join(sw.saves[i], sw.name)) == want, (i, r)
        uploaded = sum(r["uploaded"] for r in reports)
        seed = sw.seed_piece_bytes()
        done = max(r["done_at"] for r in reports) - go
        print(f"\nlive swarm: N={n} F={size} D={done:.1f}s seed piece bytes={seed} "
              f"({seed / (n * size):.2f} N*F), leechers uploaded {uploaded} ({uploaded / (n * size):.2f} N*F)")
        # Every leecher got F; what the appliance did not send, leechers did.
        assert seed >= size, sw.after  # the swarm's only seed sent every piece at least once
        assert seed < n * size / 2, (seed, n * size)
        assert uploaded > n * size / 4, [r["uploaded"] for r in reports]
        # Each leecher met others than the appliance (through our tracker).
        for i, r in enumerate(reports):
            others = [p for p in r["peers"] if not p.startswith(sw.ep.ip + ":")]
            assert others, (i, r)
        tr = sw.ep.stats()["tracker"]
        assert tr["peers_added"] >= n, tr
        assert sw.ep.stop() == 0, sw.ep.log()

"""Fill mode finds its peers (issue 12, docs/swarm.md "Peers from trackers
and magnet links"): `edgectl swarm fetch` with no --peer announces to the
torrent's HTTP tracker from the data plane (event=started, re-announces,
event=completed) and dials the peers it returns; a magnet link gets the
info dict from a peer first (BEP 9 over BEP 10), verified against the info
hash. The tracker is a small real HTTP tracker (BEP 3/23 compact replies)
in the test's namespace that logs every announce; the seed is
python3-libtorrent announcing to it. A scripted peer that answers
ut_metadata with bytes that do not hash to the info hash is refused and
counted, and nothing is made of it."""

import hashlib
import json
import os
import subprocess
import time

from swarm_util import make_file, sha256
from harness import PYTHON, Edgeplane
from test_swarm_fetch import wait_phase, http_get

PIECE = 256 * 1024
TRACKER_PORT = 6970

# A tracker over HTTP (BEP 3/23) and UDP (BEP 15) on one port number, one
# swarm table: compact peer lists of everyone else that announced the info
# hash, interval 2 s; each announce is a JSON line on stdout (protocol,
# source address, event, port, left).
TRACKER = r"""
import json, sys, urllib.parse, socket, struct, threading, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
host, port = sys.argv[1], int(sys.argv[2])
swarms = {}
lock = threading.Lock()
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, port))
    cid = struct.unpack("!Q", os.urandom(8))[0]
    while True:
        b, a = s.recvfrom(2048)
        if len(b) >= 16 and struct.unpack("!QI", b[:12]) == (0x41727101980, 0):
            s.sendto(struct.pack("!IIQ", 0, struct.unpack("!I", b[12:16])[0], cid), a)
        elif len(b) >= 98 and struct.unpack("!QI", b[:12]) == (cid, 1):
            txid, = struct.unpack("!I", b[12:16])
            ih = b[16:36]
            left, = struct.unpack("!Q", b[64:72])
            ev, = struct.unpack("!I", b[80:84])
            pport, = struct.unpack("!H", b[96:98])
            me = (a[0], pport)
            with lock:
                peers = swarms.setdefault(ih, set())
                peers.discard(me) if ev == 3 else peers.add(me)
                others = [p for p in peers if p != me]
            print(json.dumps({"proto": "udp", "ip": me[0], "port": pport,
                              "event": ["", "completed", "started", "stopped"][ev], "left": left,
                              "info_hash": ih.hex()}), flush=True)
            compact = b"".join(socket.inet_aton(x) + struct.pack("!H", y) for x, y in others)
            s.sendto(struct.pack("!IIIII", 1, txid, 2, 0, len(others)) + compact, a)
threading.Thread(target=udp, daemon=True).start()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def log_message(self, *a): pass
    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query.encode("latin-1").decode("latin-1"), encoding="latin-1")
        ih = q["info_hash"][0].encode("latin-1")
        me = (self.client_address[0], int(q["port"][0]))
        ev = q.get("event", [""])[0]
        with lock:
            peers = swarms.setdefault(ih, set())
            peers.discard(me) if ev == "stopped" else peers.add(me)
            others = [p for p in peers if p != me]
        print(json.dumps({"proto": "http", "ip": me[0], "port": me[1], "event": ev, "left": int(q["left"][0]),
                          "info_hash": ih.hex()}), flush=True)
        compact = b"".join(socket.inet_aton(a) + struct.pack("!H", p) for a, p in others)
        body = b"d8:intervali2e5:peers" + str(len(compact)).encode() + b":" + compact + b"e"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
print("ready", flush=True)
ThreadingHTTPServer((host, port), H).serve_forever()
"""

# A libtorrent seed of FILE whose torrent names the tracker.
LT_SEED = r"""
import libtorrent as lt, os, sys, time
path, torrent, host, port, trackers, life = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], float(sys.argv[6])
fs = lt.file_storage()
lt.add_files(fs, path)
ct = lt.create_torrent(fs, 262144, flags=lt.create_torrent.v1_only)
for tier, url in enumerate(trackers.split(",")):
    ct.add_tracker(url, tier)
lt.set_piece_hashes(ct, os.path.dirname(path))
open(torrent, "wb").write(lt.bencode(ct.generate()))
ses = lt.session({"listen_interfaces": f"{host}:{port}", "enable_dht": False, "enable_lsd": False,
                  "enable_upnp": False, "enable_natpmp": False, "enable_outgoing_utp": False,
                  "enable_incoming_utp": False, "allow_multiple_connections_per_ip": True})
h = ses.add_torrent({"ti": lt.torrent_info(torrent), "save_path": os.path.dirname(path)})
deadline = time.time() + 30
while not h.status().is_seeding and time.time() < deadline:
    time.sleep(0.1)
h.force_reannounce()
print("ready", h.status().is_seeding, str(h.info_hash()), flush=True)
time.sleep(life)
"""

# A peer that speaks BEP 10 and ut_metadata but sends the info dict with
# one byte changed (same size): its SHA-1 is not the info hash.
BAD_META_PEER = r"""
import socket, struct, sys
host, port, info_hash, meta = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3]), bytes.fromhex(sys.argv[4])
meta = meta[:100] + bytes([meta[100] ^ 0x55]) + meta[101:]
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((host, port)); srv.listen(4)
print("ready", flush=True)
def recv_exact(c, n):
    b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x: raise EOFError
        b += x
    return b
def ext(c, ext_id, payload):
    c.sendall(struct.pack("!IBB", len(payload) + 2, 20, ext_id) + payload)
while True:
    c, _ = srv.accept()
    c.settimeout(10)
    try:
        hs = recv_exact(c, 68)
        c.sendall(b"\x13BitTorrent protocol" + b"\0\0\0\0\0\x10\0\0" + info_hash + b"-XX0000-badmetadata!")
        ext(c, 0, b"d1:md11:ut_metadatai1ee13:metadata_sizei%dee" % len(meta))
        while True:
            n, = struct.unpack("!I", recv_exact(c, 4))
            body = recv_exact(c, n)
            if n >= 2 and body[0] == 20 and body[1] == 1:
                k = int(body[body.index(b"5:piecei") + 8:].split(b"e")[0])
                piece = meta[k * 16384:(k + 1) * 16384]
                ext(c, 3, b"d8:msg_typei1e5:piecei%de10:total_sizei%dee" % (k, len(meta)) + piece)
    except Exception:
        pass
    c.close()
"""


class NsProc:
    """A python process in the appliance's namespace that prints 'ready' first."""

    def __init__(self, ep, code, *args):
        code = f"import sys; sys.argv=['x'] + {list(map(str, args))!r}\n" + code
        self.proc = subprocess.Popen(["ip", "netns", "exec", ep.ns, PYTHON, "-c", code],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.first = self.proc.stdout.readline().split()
        assert self.first and self.first[0] == "ready", (self.first, self.proc.stderr.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class Tracker(NsProc):
    def __init__(self, ep):
        super().__init__(ep, TRACKER, ep.host_ip, TRACKER_PORT)
        self.url = f"http://{ep.host_ip}:{TRACKER_PORT}/announce"
        self.udp_url = f"udp://{ep.host_ip}:{TRACKER_PORT}"
        self.lines = []
        os.set_blocking(self.proc.stdout.fileno(), False)

    def announces(self, ip, proto="http"):
        while True:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(json.loads(line))
        return [a for a in self.lines if a["ip"] == ip and a["proto"] == proto]


def info_dict(torrent):
    """The raw info dict of a libtorrent-made torrent (its last key)."""
    data = open(torrent, "rb").read()
    return data[data.index(b"4:info") + 6:-1]


def discover(ep):
    return ep.stats()["discover"]


def wait_for(cond, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(what)


def seed_and_tracker(ep, name, size, seed, udp=False):
    os.makedirs(os.path.join(ep.workdir, "seed"), exist_ok=True)
    src = make_file(ep, f"seed/{name}", size, seed=seed)
    torrent = os.path.join(ep.workdir, f"{name}.src.torrent")
    tracker = Tracker(ep)
    urls = f"{tracker.udp_url},{tracker.url}" if udp else tracker.url
    s = NsProc(ep, LT_SEED, src, torrent, ep.host_ip, 6881, urls, 60)
    assert s.first[1] == "True", s.first
    # The seed is in the tracker's swarm before the appliance asks.
    wait_for(lambda: tracker.announces(ep.host_ip, "udp" if udp else "http"),
             "the seed never announced")
    return src, torrent, tracker, s, s.first[2]


def test_fetch_by_torrent_finds_the_seed_through_its_trackers_udp_and_http():
    size = 12 * PIECE + 4321
    with Edgeplane(torrents=True) as ep:
        # The torrent's tiers: the UDP tracker, then the HTTP one (BEP 12).
        src, torrent, tracker, seed, ih = seed_and_tracker(ep, "movie.bin", size, 41, udp=True)
        try:
            out = ep.ctl("swarm", "fetch", torrent).stdout  # no --peer
            assert out.startswith(f"fetching movie.bin info_hash {ih} pieces 13 peers 0 trackers 2"), out
            f, peers = wait_phase(ep, "movie.bin", "complete")
            assert f["pieces"] == "13/13", f
            assert [p["addr"] for p in peers] == [f"{ep.host_ip}:6881"], peers
            rc, body = http_get(ep, "movie.bin")
            assert rc == 0 and hashlib.sha256(body).hexdigest() == sha256(src)
            # started first (with what was left), completed once done, then
            # re-announces on the tracker's interval (2 s, floored at 5 s).
            for proto in ("udp", "http"):
                ours = wait_for(lambda: (lambda a: a if len(a) >= 3 else None)(tracker.announces(ep.ip, proto)),
                                f"no {proto} re-announce after completed", timeout=20)
                assert ours[0]["event"] == "started" and ours[0]["left"] == 13 * PIECE, (proto, ours)
                assert ours[0]["port"] == 6881 and ours[0]["info_hash"] == ih, (proto, ours)
                assert ours[1]["event"] == "completed" and ours[1]["left"] == 0, (proto, ours)
                assert ours[2]["event"] == "", (proto, ours)
            d = discover(ep)
            # started and completed answered by each tracker (one UDP, one HTTP)
            assert d["announces_started"] == 2 and d["announces_completed"] == 2, d
            assert d["announces_ok"] >= 6 and d["peers_new"] == 1 and d["udp_requests_sent"] >= 4, d
            assert d["tracker_reply_bencode"] == 0 and d["announce_connect_failures"] == 0, d
        finally:
            seed.stop()
            tracker.stop()
        assert ep.stop() == 0, ep.log()


def test_fetch_by_magnet_gets_the_metadata_from_the_seed():
    size = 9 * PIECE + 99
    with Edgeplane(torrents=True) as ep:
        src, torrent, tracker, seed, ih = seed_and_tracker(ep, "clip.bin", size, 43)
        try:
            magnet = f"magnet:?xt=urn:btih:{ih}&dn=clip.bin&tr={tracker.url}"
            out = ep.ctl("swarm", "fetch", magnet).stdout
            assert out.startswith(f"resolving clip.bin info_hash {ih} trackers 1 peers 0"), out
            f, peers = wait_phase(ep, "clip.bin", "complete")
            assert f["pieces"] == "10/10" and f["info_hash"] == ih, f
            rc, body = http_get(ep, "clip.bin")
            assert rc == 0 and hashlib.sha256(body).hexdigest() == sha256(src)
            d = discover(ep)
            assert d["meta_complete"] == 1 and d["meta_hash_mismatch"] == 0, d
            assert d["meta_pieces"] >= 1 and d["announces_started"] >= 1, d
            # The torrent made of the metadata carries the magnet's info hash
            # and is served (and seeded) like ours.
            wait_for(lambda: "seeding" in ep.ctl("swarm").stdout, "never adopted")
            t = dict(l.split(" ", 1) for l in ep.ctl("torrent", "clip.bin").stdout.strip().splitlines())
            assert t["info_hash"] == ih, t
            rc, tb = http_get(ep, "clip.bin.torrent")
            assert rc == 0 and info_dict_bytes(tb) == info_dict(torrent)
        finally:
            seed.stop()
            tracker.stop()
        assert ep.stop() == 0, ep.log()


def info_dict_bytes(data):
    return data[data.index(b"4:info") + 6:-1]


def test_metadata_that_does_not_hash_to_the_info_hash_is_refused():
    size = 5 * PIECE + 7
    with Edgeplane(torrents=True) as ep:
        src, torrent, tracker, seed, ih = seed_and_tracker(ep, "show.bin", size, 45)
        meta = info_dict(torrent)
        assert hashlib.sha1(meta).hexdigest() == ih
        bad = NsProc(ep, BAD_META_PEER, ep.host_ip, 6890, ih, meta.hex())
        try:
            # Only the bad peer: its metadata is refused, nothing is made of it.
            out = ep.ctl("swarm", "fetch", f"magnet:?xt=urn:btih:{ih}&dn=show.bin&x.pe={ep.host_ip}:6890").stdout
            assert out.startswith(f"resolving show.bin info_hash {ih} trackers 0 peers 1"), out
            wait_for(lambda: discover(ep)["meta_hash_mismatch"] >= 1, "no hash mismatch counted")
            time.sleep(6)  # past the 5 s retry: a peer that lied is not asked again
            d = discover(ep)
            assert d["meta_hash_mismatch"] == 1 and d["meta_complete"] == 0, d
            assert d["meta_pieces"] == (len(meta) + 16383) // 16384, d
            sw = ep.ctl("swarm").stdout
            assert "fetch show.bin" not in sw and "discover show.bin" in sw and " metadata 0" in sw, sw
            assert "show.bin" not in ep.ctl("torrents").stdout
            rc, body = http_get(ep, "show.bin")
            assert rc != 0 or b"404" in body[:200] or len(body) < size, (rc, body[:200])
            # The same magnet with the good seed listed after the bad one:
            # refused again from the liar, then fetched whole from the seed.
            out = ep.ctl("swarm", "fetch", f"magnet:?xt=urn:btih:{ih}&dn=show2.bin&x.pe={ep.host_ip}:6890"
                         f"&x.pe={ep.host_ip}:6881").stdout
            assert out.startswith("resolving show2.bin"), out
            f, _ = wait_phase(ep, "show2.bin", "complete")
            rc, body = http_get(ep, "show2.bin")
            assert rc == 0 and hashlib.sha256(body).hexdigest() == sha256(src)
            d = discover(ep)
            assert d["meta_hash_mismatch"] == 2 and d["meta_complete"] == 1, d
        finally:
            bad.stop()
            seed.stop()
            tracker.stop()
        assert ep.stop() == 0, ep.log()

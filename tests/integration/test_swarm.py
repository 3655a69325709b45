"""BitTorrent from the store (issue 12, first part) with real clients:
ingest makes a v1 .torrent whose pieces are the store's chunks and HTTP
serves it; python3-libtorrent parses it to the info hash `edgectl torrent`
prints; aria2c downloads the file byte-exact from the web seed (BEP 19)
while announcing to our UDP tracker (BEP 15); two libtorrent sessions in
their own namespaces find each other through the tracker and one downloads
from the other. Every comparison is SHA-256 against the source file."""

import os
import re
import time

from swarm_util import make_file, sha256, torrent_fields
from harness import Edgeplane, RoutedClient

TRACKER_PORT = 6969
PIECE = 256 * 1024


def wait_counter(ep, section, name, at_least, timeout=20):
    deadline = time.time() + timeout
    while True:
        v = ep.stats().get(section, {}).get(name, 0)
        if v >= at_least or time.time() > deadline:
            return v
        time.sleep(0.2)


LT_LOAD = r"""
import libtorrent as lt, sys, urllib.request
url = sys.argv[1]
data = urllib.request.urlopen(url, timeout=10).read()
ti = lt.torrent_info(lt.bdecode(data))
print("hash", str(ti.info_hash()))
print("pieces", ti.num_pieces(), "plen", ti.piece_length(), "size", ti.total_size())
print("files", ti.num_files())
for ws in ti.web_seeds():
    print("webseed", ws["url"])
for t in ti.trackers():
    print("tracker", t.url)
if len(sys.argv) > 2:  # the magnet link, parsed by libtorrent
    p = lt.parse_magnet_uri(sys.argv[2])
    print("magnet_hash", str(p.info_hashes.v1), "magnet_trackers", ",".join(p.trackers))
"""


def test_ingest_makes_a_torrent_that_libtorrent_loads():
    size = 3 * PIECE + 12345
    with Edgeplane(torrents=True) as ep:
        src = make_file(ep, "movie.bin", size)
        out = ep.ctl("ingest", src).stdout
        assert re.search(r"torrent movie\.bin\.torrent [0-9a-f]{40}", out), out
        t = torrent_fields(ep, "movie.bin")
        assert re.fullmatch(r"[0-9a-f]{40}", t["info_hash"])
        assert t["magnet"].startswith("magnet:?xt=urn:btih:" + t["info_hash"])
        assert "tr=udp%3A%2F%2F" in t["magnet"]
        # HTTP serves it with no HTTP change: content type from the name.
        r = ep.ns_run(["curl", "-sS", "-D", "-", "-o", "/dev/null", f"http://{ep.ip}/movie.bin.torrent"])
        assert "application/x-bittorrent" in r.stdout.lower(), r.stdout
        r = ep.ns_python(f"import sys; sys.argv=['x', 'http://{ep.ip}/movie.bin.torrent', "
                         f"{t['magnet']!r}]\n" + LT_LOAD)
        lines = r.stdout
        assert f"magnet_hash {t['info_hash']} magnet_trackers udp://{ep.ip}:{TRACKER_PORT}/announce" in lines, lines
        # libtorrent's own SHA-1 of the info dict we built.
        assert f"hash {t['info_hash']}" in lines, lines
        assert f"pieces 4 plen {PIECE} size {size}" in lines, lines
        assert f"webseed http://{ep.ip}/movie.bin" in lines, lines
        assert f"tracker udp://{ep.ip}:{TRACKER_PORT}/announce" in lines, lines
        assert ep.stop() == 0, ep.log()


LT_WEBSEED = r"""
import libtorrent as lt, sys, time, urllib.request
url, save = sys.argv[1], sys.argv[2]
ti = lt.torrent_info(lt.bdecode(urllib.request.urlopen(url, timeout=10).read()))
ses = lt.session({"listen_interfaces": "0.0.0.0:6881", "enable_dht": False, "enable_lsd": False,
                  "enable_upnp": False, "enable_natpmp": False})
atp = lt.add_torrent_params()
atp.ti = ti
atp.save_path = save
h = ses.add_torrent(atp)
t0 = time.time()
while time.time() - t0 < 60 and not h.status().is_seeding:
    time.sleep(0.2)
print("seeding", h.status().is_seeding)
"""


def test_directory_title_is_one_multi_file_torrent_with_bep47_padding():
    # The peer wire off: what is tested is the web seed (test_peer_wire.py has the peer wire).
    with Edgeplane(args=["--swarm-port", "0"], torrents=True) as ep:
        d = os.path.join(ep.workdir, "title")
        os.makedirs(os.path.join(d, "video"))
        sizes = {"manifest.mpd": 1000, "video/seg-1.m4s": PIECE + 77, "video/seg-2.m4s": 2 * PIECE}
        for rel, n in sizes.items():
            with open(os.path.join(d, rel), "wb") as f:
                f.write(os.urandom(n))
        out = ep.ctl("ingest", d, "--name", "demo").stdout
        assert "torrent demo.torrent" in out, out
        t = torrent_fields(ep, "demo")
        r = ep.ns_python(f"import sys; sys.argv=['x', 'http://{ep.ip}/demo.torrent']\n" + LT_LOAD)
        assert f"hash {t['info_hash']}" in r.stdout, r.stdout
        # manifest (1 piece, padded), seg-1 (2 pieces, padded), seg-2 (2):
        # 3 files + 2 pad files, 5 pieces.
        assert "files 5" in r.stdout, r.stdout
        assert "pieces 5" in r.stdout, r.stdout
        assert f"webseed http://{ep.ip}/" in r.stdout, r.stdout
        # libtorrent fetches the title from the web seed (BEP 19 multi-file:
        # base URL + name/path) and skips the pad files (BEP 47).
        out = os.path.join(ep.workdir, "lt")
        os.makedirs(out)
        r = ep.ns_python(f"import sys; sys.argv=['x', 'http://{ep.ip}/demo.torrent', {out!r}]\n" +
                         LT_WEBSEED, timeout=100)
        assert "seeding True" in r.stdout, r.stdout + r.stderr
        for rel in sizes:
            assert sha256(os.path.join(out, "demo", rel)) == sha256(os.path.join(d, rel)), rel
        assert ep.stop() == 0, ep.log()


ARIA = r"""
import subprocess, sys, urllib.request, os
url, outdir = sys.argv[1], sys.argv[2]
tpath = os.path.join(outdir, "x.torrent")
open(tpath, "wb").write(urllib.request.urlopen(url, timeout=10).read())
# aria2 sends UDP tracker requests from its DHT socket: DHT on (it has
# no bootstrap node, so it stays idle), DHT over IPv6 off.
r = subprocess.run(["aria2c", "--seed-time=0", "--enable-dht=true", "--enable-dht6=false",
                    "--dht-file-path=" + os.path.join(outdir, "dht.dat"),
                    "--bt-enable-lpd=false", "--enable-peer-exchange=false",
                    "--bt-tracker-connect-timeout=5", "--bt-tracker-timeout=5",
                    "--summary-interval=0", "--console-log-level=warn", "--file-allocation=none",
                    "-d", os.path.join(outdir, "dl"), tpath], capture_output=True, text=True, timeout=120)
print(r.returncode)
print(r.stdout[-2000:], r.stderr[-2000:])
"""


def test_aria2c_downloads_from_the_web_seed_and_announces_to_our_tracker():
    size = 5 * PIECE + 999
    # The peer wire off: what is tested is the web seed (test_peer_wire.py has the peer wire).
    with Edgeplane(args=["--swarm-port", "0"], torrents=True) as ep:
        src = make_file(ep, "file.bin", size, seed=7)
        ep.ctl("ingest", src)
        outdir = os.path.join(ep.workdir, "aria")
        os.makedirs(outdir)
        r = ep.ns_python(
            f"import sys; sys.argv=['x', 'http://{ep.ip}/file.bin.torrent', {outdir!r}]\n" + ARIA,
            timeout=180)
        assert r.stdout.startswith("0"), r.stdout + r.stderr
        got = os.path.join(outdir, "dl", "file.bin")
        assert sha256(got) == sha256(src)
        # aria2 announced over UDP (connect, then announce) to our tracker.
        assert wait_counter(ep, "tracker", "announces", 1) >= 1, ep.stats().get("tracker")
        tr = ep.stats()["tracker"]
        assert tr["connects"] >= 1, tr
        assert tr["bad_connection_id"] == 0, tr
        # started, completed, stopped: the swarm saw it join, finish, leave.
        assert tr["peers_added"] >= 1 and tr["completed_events"] >= 1, tr
        assert tr["peers_removed"] >= 1, tr
        assert ep.stop() == 0, ep.log()


LT_PEER = r"""
import libtorrent as lt, sys, time, urllib.request, os, json
url, save, role, hold = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
data = urllib.request.urlopen(url, timeout=10).read()
ti = lt.torrent_info(lt.bdecode(data))
ti.set_web_seeds([])  # peers only: what is tested is discovery through our tracker
ses = lt.session({"listen_interfaces": "0.0.0.0:6881", "enable_dht": False, "enable_lsd": False,
                  "enable_upnp": False, "enable_natpmp": False, "enable_incoming_utp": False,
                  "enable_outgoing_utp": False, "alert_mask": lt.alert.category_t.all_categories})
atp = lt.add_torrent_params()
atp.ti = ti
atp.save_path = save
h = ses.add_torrent(atp)
if role == "seed":
    h.force_recheck()
replies = []
peers = set()
deadline = time.time() + hold
last_re = 0
while time.time() < deadline:
    for a in ses.pop_alerts():
        if isinstance(a, lt.tracker_reply_alert):
            replies.append(a.num_peers)
        elif isinstance(a, lt.peer_alert):  # connected to, or from, a peer
            ep = getattr(a, "endpoint", None) or getattr(a, "ip", None)
            if ep:
                peers.add(ep[0])
    for p in h.get_peer_info():
        peers.add(p.ip[0])
    st = h.status()
    if role == "leech" and st.is_seeding and peers:
        break
    if role == "seed" and peers and max(replies, default=0) >= 1:
        break
    if time.time() - last_re > 2:  # ask again: the other may have announced since
        h.force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)
        last_re = time.time()
    time.sleep(0.2)
st = h.status()
print(json.dumps({"replies": replies, "peers": sorted(peers), "seeding": st.is_seeding,
                  "progress": st.progress}))
"""


def test_two_libtorrent_peers_find_each_other_through_the_tracker():
    import json, subprocess, threading
    size = 4 * PIECE + 4321
    # The peer wire off: the appliance would be a third peer; the leecher must get the bytes from the other.
    ep = Edgeplane(args=["--swarm-port", "0"], torrents=True)
    ep.args += ["--gateway", ep.host_ip]
    with ep, RoutedClient(ep, mtu=1500, index=0) as a, RoutedClient(ep, mtu=1500, index=1) as b:
        src = make_file(ep, "shared.bin", size, seed=3)
        ep.ctl("ingest", src)
        seed_dir = os.path.join(ep.workdir, "seed")
        leech_dir = os.path.join(ep.workdir, "leech")
        os.makedirs(seed_dir), os.makedirs(leech_dir)
        os.link(src, os.path.join(seed_dir, "shared.bin"))
        url = f"http://{ep.ip}/shared.bin.torrent"
        results = {}

        def run(cl, role, save, key):
            code = f"import sys; sys.argv=['x', {url!r}, {save!r}, {role!r}, '60']\n" + LT_PEER
            results[key] = cl.ns_python(code, check=False, timeout=120)

        ts = threading.Thread(target=run, args=(a, "seed", seed_dir, "seed"))
        ts.start()
        time.sleep(2)  # the seed announces first
        run(b, "leech", leech_dir, "leech")
        ts.join()
        seed = json.loads(results["seed"].stdout.strip().splitlines()[-1]) if results["seed"].stdout else None
        leech = json.loads(results["leech"].stdout.strip().splitlines()[-1]) if results["leech"].stdout else None
        assert seed and leech, (results["seed"].stderr, results["leech"].stderr)
        # Each learned the other from an announce reply of ours (DHT, LSD,
        # PEX and web seeds are off: the tracker is the only way to meet).
        assert max(leech["replies"], default=0) >= 1, leech
        assert a.ip in leech["peers"], leech
        assert max(seed["replies"], default=0) >= 1, seed  # the reply held the leecher
        assert leech["seeding"], leech
        assert sha256(os.path.join(leech_dir, "shared.bin")) == sha256(src)
        tr = ep.stats()["tracker"]
        assert tr["peers_returned"] >= 2, tr
        assert tr["peers_added"] >= 2, tr
        assert ep.stop() == 0, ep.log()


UDPT = r"""
import os, socket, struct, sys
ip, port, ours = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((ip, port))
s.settimeout(2)
def ask(pkt):
    for _ in range(5):
        s.send(pkt)
        try:
            return s.recv(2048)
        except socket.timeout:
            continue
    return None
def connect(tid=1):
    r = ask(struct.pack("!QII", 0x41727101980, 0, tid))
    assert r and len(r) == 16 and struct.unpack("!II", r[:8]) == (0, tid), r
    return struct.unpack("!Q", r[8:])[0]
def announce(cid, ih, left, port, event=2, want=-1, tid=7):
    return ask(struct.pack("!QII20s20sQQQIIIiH", cid, 1, tid, ih, os.urandom(20), 0, left, 0,
                           event, 0, 0, want, port))
cid = connect()
# 60 peers (the same address, 60 ports), then one more asks for the default.
for p in range(60):
    r = announce(cid, ours, 0 if p % 2 else 100, 20000 + p)
    assert r and struct.unpack("!I", r[:4])[0] == 1, r
r = announce(cid, ours, 100, 30000)
act, tid, interval, leechers, seeders = struct.unpack("!IIIII", r[:20])
print("announce", act, tid, interval, leechers, seeders, (len(r) - 20) // 6)
ports = {struct.unpack("!H", r[20 + 6 * i + 4:20 + 6 * i + 6])[0] for i in range((len(r) - 20) // 6)}
print("self_listed", 30000 in ports, "distinct", len(ports))
ips = {socket.inet_ntoa(r[20 + 6 * i:24 + 6 * i]) for i in range((len(r) - 20) // 6)}
print("ips", ",".join(sorted(ips)))
# Scrape ours and an unknown hash.
r = ask(struct.pack("!QII", cid, 2, 9) + ours + b"\x77" * 20)
print("scrape", *struct.unpack("!II" + "III" * 2, r))
# An unknown torrent: an error reply with the transaction id.
r = announce(cid, b"\x66" * 20, 1, 1234, tid=11)
print("error", struct.unpack("!II", r[:8]), r[8:].decode())
# A forged connection id: no answer at all.
r = ask(struct.pack("!QII20s20sQQQIIIiH", cid ^ 0xdead, 1, 5, ours, b"p" * 20, 0, 1, 0, 2, 0, 0, -1, 1))
print("forged", r)
"""


def test_udp_tracker_over_the_wire_connect_announce_scrape_error_forgery():
    with Edgeplane(torrents=True) as ep:
        src = make_file(ep, "t.bin", PIECE + 1, seed=5)
        ep.ctl("ingest", src)
        ih = torrent_fields(ep, "t.bin")["info_hash"]
        r = ep.ns_python(f"import sys; sys.argv=['x', {ep.ip!r}, '{TRACKER_PORT}', {ih!r}]\n" + UDPT,
                         timeout=120)
        out = dict(line.split(" ", 1) for line in r.stdout.strip().splitlines())
        # 62 peers: 31 leechers incl. the asker, 30 seeders, and the
        # appliance itself (it announces itself as a seeder at its peer-wire
        # port for every torrent it serves); 50 in the reply, which is longer
        # than the request (320 bytes vs 98).
        assert out["announce"].split() == ["1", "7", "1800", "31", "31", "50"], out
        assert out["self_listed"] == "False distinct 50", out
        # The datagrams' source, as the wire had it (and perhaps the appliance).
        assert set(out["ips"].split(",")) <= {ep.host_ip, ep.ip}, out
        assert ep.host_ip in out["ips"].split(","), out
        assert out["scrape"].split() == ["2", "9", "31", "0", "31", "0", "0", "0"], out
        assert out["error"] == "(3, 11) unknown torrent", out
        assert out["forged"] == "None", out
        tr = ep.stats()["tracker"]
        assert tr["bad_connection_id"] >= 1 and tr["unknown_torrent"] >= 2, tr
        assert tr["peers_returned"] >= 50, tr
        assert ep.stop() == 0, ep.log()


def test_torrents_false_makes_none():
    with Edgeplane(torrents=False) as ep:  # the harness passes --torrents false
        src = make_file(ep, "plain.bin", 1000)
        out = ep.ctl("ingest", src).stdout
        assert "torrent" not in out, out
        assert ep.stats()["chunkstore"]["objects"] == 1
        r = ep.ctl("torrent", "plain.bin", check=False)
        assert r.returncode == 1 and "no torrent" in r.stdout, r.stdout
        assert ep.stop() == 0, ep.log()


ANNOUNCE_ONCE = r"""
import os, socket, struct, sys
ip, port, ih = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((ip, port))
s.settimeout(2)
def ask(pkt):
    for _ in range(5):
        s.send(pkt)
        try:
            return s.recv(2048)
        except socket.timeout:
            pass
cid = struct.unpack("!Q", ask(struct.pack("!QII", 0x41727101980, 0, 1))[8:])[0]
r = ask(struct.pack("!QII20s20sQQQIIIiH", cid, 1, 2, ih, os.urandom(20), 0, 5, 0, 2, 0, 0, -1, 6881))
print("action", struct.unpack("!I", r[:4])[0])
"""


def test_torrents_survive_a_restart_and_stay_tracked():
    import tempfile
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        store = os.path.join(tmp, "edge.store")
        args = ["--store", store, "--disk-mb", "64", "--ram-mb", "32"]
        with Edgeplane(args=args, torrents=True) as ep:
            src = make_file(ep, "keep.bin", 2 * PIECE + 3, seed=9)
            ep.ctl("ingest", src)
            before = torrent_fields(ep, "keep.bin")
            assert ep.stop() == 0, ep.log()
        # The .torrent objects are the record: read back at start, so the
        # closed-mode tracker still knows the info hash.
        with Edgeplane(args=args, torrents=True) as ep:
            assert "1 torrents in the store" in ep.log(), ep.log()
            assert torrent_fields(ep, "keep.bin")["info_hash"] == before["info_hash"]
            code = f"import sys; sys.argv=['x', {ep.ip!r}, '{TRACKER_PORT}', {before['info_hash']!r}]\n"
            assert "action 1" in ep.ns_python(code + ANNOUNCE_ONCE).stdout
            unknown = ep.ns_python(f"import sys; sys.argv=['x', {ep.ip!r}, '{TRACKER_PORT}', '{'ab' * 20}']\n"
                                   + ANNOUNCE_ONCE).stdout
            assert "action 3" in unknown, unknown
            assert ep.stop() == 0, ep.log()


TRANSMISSION = r"""
import subprocess, sys, urllib.request, os, time
url, outdir = sys.argv[1], sys.argv[2]
tpath = os.path.join(outdir, "x.torrent")
open(tpath, "wb").write(urllib.request.urlopen(url, timeout=10).read())
done = os.path.join(outdir, "done")
script = os.path.join(outdir, "done.sh")
with open(script, "w") as f:
    f.write("#!/bin/sh\ntouch " + done + "\n")
os.chmod(script, 0o755)
# transmission-cli never exits by itself: -f runs a script when the
# torrent completes, then it is stopped (FIELD-NOTES).
p = subprocess.Popen(["transmission-cli", "-g", os.path.join(outdir, "cfg"), "-w",
                      os.path.join(outdir, "dl"), "-f", script, tpath],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t0 = time.time()
while time.time() - t0 < 90 and not os.path.exists(done):
    time.sleep(0.3)
p.terminate()
try:
    p.wait(10)
except subprocess.TimeoutExpired:
    p.kill()
print("done", os.path.exists(done))
"""


def test_transmission_downloads_from_the_web_seed_and_announces_to_our_tracker():
    size = 3 * PIECE + 5
    # The peer wire off: what is tested is the web seed (test_peer_wire.py has the peer wire).
    with Edgeplane(args=["--swarm-port", "0"], torrents=True) as ep:
        src = make_file(ep, "tr.bin", size, seed=11)
        ep.ctl("ingest", src)
        outdir = os.path.join(ep.workdir, "transmission")
        os.makedirs(outdir)
        r = ep.ns_python(f"import sys; sys.argv=['x', 'http://{ep.ip}/tr.bin.torrent', {outdir!r}]\n" +
                         TRANSMISSION, timeout=150)
        assert "done True" in r.stdout, r.stdout + r.stderr
        assert sha256(os.path.join(outdir, "dl", "tr.bin")) == sha256(src)
        tr = ep.stats()["tracker"]
        # It announces on its own schedule: by the time it is stopped at
        # least a connect and an announce (started, or stopped) came in.
        assert tr["connects"] >= 1 and tr["announces"] >= 1, tr
        assert tr["bad_connection_id"] == 0, tr
        assert ep.stop() == 0, ep.log()

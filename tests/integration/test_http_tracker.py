"""The HTTP tracker (issue 12, docs/swarm.md "The HTTP tracker"): BEP 3
announce with BEP 23 compact peer lists and BEP 48 scrape on the HTTP
port, over the swarm table the UDP tracker writes. A python3-libtorrent
client that only knows the HTTP announce URL (UDP tier and web seed taken
out of the .torrent) finds the appliance and downloads byte-exact; curl
announces and scrapes by hand (replies decoded as bencoding) and a raw UDP
announce is in the HTTP reply; malformed and unknown requests get a
failure reason and move their counters; the .torrent carries both tiers
(BEP 12); removing an object untracks its torrent."""

import json
import os
import socket
import struct
import urllib.parse

from swarm_util import make_file, sha256, torrent_fields
from harness import Edgeplane

PIECE = 256 * 1024
SWARM_PORT = 6881
TRACKER_PORT = 6969


def http_stats(ep):
    return ep.stats().get("http", {})


# The .torrent with only the HTTP tracker: no announce-list (so no UDP
# tier), no web seed (the info dict, so the info hash, is unchanged).
HTTP_ONLY = r"""
import libtorrent as lt, urllib.request
def http_only(url, path, announce):
    d = lt.bdecode(urllib.request.urlopen(url, timeout=10).read())
    d.pop(b"url-list", None)
    d.pop(b"announce-list", None)
    d[b"announce"] = announce.encode()
    open(path, "wb").write(lt.bencode(d))
"""

LT_HTTP = r"""
import libtorrent as lt, sys, time, json, os
url, save, announce = sys.argv[1], sys.argv[2], sys.argv[3]
tpath = os.path.join(save, "x.torrent")
http_only(url, tpath, announce)
ses = lt.session({"listen_interfaces": "0.0.0.0:6881", "enable_dht": False, "enable_lsd": False,
                  "enable_upnp": False, "enable_natpmp": False, "enable_incoming_utp": False,
                  "enable_outgoing_utp": False, "alert_mask": lt.alert.category_t.all_categories})
atp = lt.add_torrent_params()
atp.ti = lt.torrent_info(tpath)
assert not atp.ti.web_seeds()
assert [t.url for t in atp.ti.trackers()] == [announce], [t.url for t in atp.ti.trackers()]
atp.save_path = save
h = ses.add_torrent(atp)
peers, replies, errors = set(), [], []
t0 = time.time()
while time.time() - t0 < 90:
    for a in ses.pop_alerts():
        if isinstance(a, lt.tracker_reply_alert):
            replies.append(a.num_peers)
        if isinstance(a, (lt.tracker_error_alert, lt.peer_error_alert, lt.torrent_error_alert)):
            errors.append(a.message())
        if isinstance(a, lt.peer_alert):  # connected to a peer (a sample below may miss it)
            ep = getattr(a, "endpoint", None) or getattr(a, "ip", None)
            if ep:
                peers.add("%s:%d" % (ep[0], ep[1]))
    for p in h.get_peer_info():
        peers.add("%s:%d" % p.ip)
    if h.status().is_seeding:
        break
    time.sleep(0.2)
st = h.status()
print(json.dumps({"seeding": st.is_seeding, "peers": sorted(peers), "replies": replies,
                  "errors": errors[-5:]}))
"""


def test_libtorrent_with_only_the_http_announce_finds_the_appliance_and_downloads():
    size = 4 * PIECE + 4321
    with Edgeplane(torrents=True) as ep:
        src = make_file(ep, "h.bin", size, seed=31)
        ep.ctl("ingest", src)
        announce = f"http://{ep.ip}/announce"
        trackers = ep.ctl("torrent", "h.bin").stdout
        assert f"tracker {announce}\n" in trackers, trackers
        save = os.path.join(ep.workdir, "lt")
        os.makedirs(save)
        code = (f"import sys; sys.argv=['x', 'http://{ep.ip}/h.bin.torrent', {save!r}, {announce!r}]\n"
                + HTTP_ONLY + LT_HTTP)
        r = ep.ns_python(code, timeout=150, check=False)
        assert r.stdout.strip(), r.stderr
        res = json.loads(r.stdout.strip().splitlines()[-1])
        assert res["seeding"], res
        # The appliance came from our HTTP announce reply (1 peer: itself).
        assert res["replies"] and res["replies"][0] >= 1, res
        assert f"{ep.ip}:{SWARM_PORT}" in res["peers"], res
        assert sha256(os.path.join(save, "h.bin")) == sha256(src)
        h = http_stats(ep)
        assert h["tracker_announces"] >= 1, h
        assert h["tracker_peers_returned"] >= 1, h
        assert h["tracker_peers_added"] >= 1, h
        assert h.get("status_206", 0) == 0, h  # no web seed
        assert ep.stats()["tracker"]["announces"] == 0  # nothing over UDP
        assert ep.stats()["swarm"]["piece_bytes"] >= size
        assert ep.stop() == 0, ep.log()


# curl as the HTTP client, bencode decoded by libtorrent's bdecode; a raw
# BEP 15 announce on the UDP side.
CURL = r"""
import json, os, socket, struct, subprocess, sys, urllib.parse
import libtorrent as lt
ip, ih, udp_port = sys.argv[1], bytes.fromhex(sys.argv[2]), int(sys.argv[3])
q = lambda b: urllib.parse.quote(b, safe="")
def get(path, query):
    r = subprocess.run(["curl", "-sS", "-D", "-", f"http://{ip}{path}?{query}"],
                       capture_output=True, timeout=10)
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    return head.decode(), lt.bdecode(body), body
def ann(port, left, event="started", pid=None, info=ih, extra=""):
    pid = pid or os.urandom(20)
    return get("/announce", f"info_hash={q(info)}&peer_id={q(pid)}&port={port}&uploaded=0"
               f"&downloaded=0&left={left}&event={event}&compact=1{extra}")
def peers(d):
    p = d.get(b"peers", b"")
    return sorted("%s:%d" % (socket.inet_ntoa(p[i:i + 4]), struct.unpack("!H", p[i + 4:i + 6])[0])
                  for i in range(0, len(p), 6))
out = {}
head, a1, raw1 = ann(7001, 0, "completed")   # a seeder
out["head"] = head
out["raw1"] = raw1.hex()
_, a2, _ = ann(7002, 12345)                  # a leecher
out["a2"] = {"complete": a2[b"complete"], "incomplete": a2[b"incomplete"],
             "interval": a2[b"interval"], "min": a2[b"min interval"], "peers": peers(a2)}
_, s, _ = get("/scrape", f"info_hash={q(ih)}&info_hash={q(b'U' * 20)}")
f = s[b"files"]
out["scrape_keys"] = [k.hex() for k in f]
out["scrape"] = {k.decode(): v for k, v in f[ih].items()}
# A UDP announce through BEP 15, then an HTTP announce sees it.
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(2)
u.connect((ip, udp_port))
def ask(pkt):
    for _ in range(5):
        u.send(pkt)
        try:
            return u.recv(2048)
        except socket.timeout:
            pass
cid = struct.unpack("!Q", ask(struct.pack("!QII", 0x41727101980, 0, 1))[8:])[0]
r = ask(struct.pack("!QII20s20sQQQIIIiH", cid, 1, 2, ih, os.urandom(20), 0, 55, 0, 2, 0, 0, -1, 7003))
out["udp_peers"] = (len(r) - 20) // 6  # the appliance and the two HTTP peers
_, a4, _ = ann(7004, 1)
out["a4_peers"] = peers(a4)
_, stopped, _ = ann(7002, 12345, "stopped")
out["stopped_peers"] = peers(stopped)
_, s2, _ = get("/scrape", f"info_hash={q(ih)}")
out["scrape2"] = {k.decode(): v for k, v in s2[b"files"][ih].items()}
# Refusals: a failure reason each.
fail = lambda d: d.get(b"failure reason", b"").decode()
out["unknown"] = fail(ann(7005, 1, info=b"\x66" * 20)[1])
out["no_hash"] = fail(get("/announce", "port=1")[1])
out["bad_hash"] = fail(get("/announce", f"info_hash=abc&peer_id={q(os.urandom(20))}&port=1")[1])
out["bad_port"] = fail(ann(0, 1)[1])
out["bad_event"] = fail(ann(7006, 1, "begun")[1])
out["full_scrape"] = fail(get("/scrape", "")[1])
out["scrape_unknown"] = fail(get("/scrape", f"info_hash={q(b'U' * 20)}")[1])
# HEAD must not announce.
r = subprocess.run(["curl", "-sS", "-I", f"http://{ip}/announce?info_hash={q(ih)}"],
                   capture_output=True, timeout=10)
out["head_status"] = r.stdout.decode().split("\r\n")[0]
print(json.dumps(out))
"""


def test_curl_announces_and_scrapes_and_sees_udp_peers():
    with Edgeplane(torrents=True) as ep:
        src = make_file(ep, "s.bin", PIECE + 7, seed=32)
        ep.ctl("ingest", src)
        ih = torrent_fields(ep, "s.bin")["info_hash"]
        r = ep.ns_python(f"import sys; sys.argv=['x', {ep.ip!r}, {ih!r}, '{TRACKER_PORT}']\n" + CURL,
                         timeout=120)
        out = json.loads(r.stdout.strip().splitlines()[-1])
        assert out["head"].startswith("HTTP/1.1 200"), out["head"]
        assert "content-type: text/plain" in out["head"].lower(), out["head"]
        # The first reply as bytes: canonical bencoding, keys in order, one
        # peer (the appliance, a seeder that announced itself).
        raw = bytes.fromhex(out["raw1"])
        appliance = socket.inet_aton(ep.ip) + struct.pack("!H", SWARM_PORT)
        assert raw == (b"d8:completei2e10:incompletei0e8:intervali1800e12:min intervali300e"
                       b"5:peers6:" + appliance + b"e"), raw
        a2 = out["a2"]
        assert (a2["complete"], a2["incomplete"], a2["interval"], a2["min"]) == (2, 1, 1800, 300), a2
        assert a2["peers"] == sorted([f"{ep.ip}:{SWARM_PORT}", f"{ep.host_ip}:7001"]), a2
        # Scrape after the two announces: the unknown hash left out (closed mode).
        assert out["scrape_keys"] == [ih], out
        assert out["scrape"] == {"complete": 2, "downloaded": 1, "incomplete": 1}, out
        assert out["udp_peers"] == 3, out
        assert f"{ep.host_ip}:7003" in out["a4_peers"], out  # UDP-announced, returned over HTTP
        assert len(out["a4_peers"]) == 4, out
        assert out["stopped_peers"] == [], out  # a peer that leaves wants nobody
        assert out["scrape2"] == {"complete": 2, "downloaded": 1, "incomplete": 2}, out
        assert out["unknown"] == "unknown torrent", out
        assert out["no_hash"] == "announce without info_hash", out
        assert out["bad_hash"] == "info_hash not 20 bytes once decoded", out
        assert out["bad_port"] == "port not a decimal number in 1..65535", out
        assert out["bad_event"].startswith("event not started"), out
        assert out["full_scrape"] == "full scrape not supported", out
        assert out["scrape_unknown"] == "unknown torrent", out
        assert out["head_status"].startswith("HTTP/1.1 405"), out
        h = http_stats(ep)
        assert h["tracker_announces"] == 4, h
        assert h["tracker_scrapes"] == 2, h
        assert h["tracker_peers_removed"] == 1, h
        assert h["tracker_completed_events"] == 1, h
        assert h["tracker_unknown_torrent"] == 3, h  # announce, and in two scrapes
        assert h["tracker_missing_info_hash"] == 1 and h["tracker_bad_info_hash"] == 1, h
        assert h["tracker_bad_port"] == 1 and h["tracker_bad_event"] == 1, h
        assert h["tracker_full_scrape"] == 1, h
        assert h["tracker_failures_sent"] == 7, h
        assert ep.stats()["tracker"]["announces"] == 1  # the one UDP announce
        assert ep.stop() == 0, ep.log()


TIERS = r"""
import libtorrent as lt, sys, urllib.request
d = lt.bdecode(urllib.request.urlopen(sys.argv[1], timeout=10).read())
print(d[b"announce"].decode())
print(repr([[u.decode() for u in tier] for tier in d[b"announce-list"]]))
"""


def test_torrents_carry_the_udp_and_http_tiers_and_tracker_http_false_removes_it():
    with Edgeplane(torrents=True) as ep:
        src = make_file(ep, "t.bin", 1000, seed=33)
        ep.ctl("ingest", src)
        r = ep.ns_python(f"import sys; sys.argv=['x', 'http://{ep.ip}/t.bin.torrent']\n" + TIERS)
        udp, http = f"udp://{ep.ip}:{TRACKER_PORT}/announce", f"http://{ep.ip}/announce"
        assert r.stdout.splitlines() == [udp, repr([[udp], [http]])], r.stdout
        magnet = torrent_fields(ep, "t.bin")["magnet"]
        assert "&tr=" + urllib.parse.quote(http, safe="") in magnet, magnet
        assert ep.stop() == 0, ep.log()
    with Edgeplane(args=["--tracker-http", "false"], torrents=True) as ep:
        src = make_file(ep, "t.bin", 1000, seed=33)
        ep.ctl("ingest", src)
        r = ep.ns_run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                       f"http://{ep.ip}/announce?info_hash=x"])
        assert r.stdout == "404", r.stdout  # just a path without an object
        assert "tracker_announces" not in http_stats(ep)
        r = ep.ns_python("import urllib.request; print(b'announce-list' in urllib.request.urlopen("
                         f"'http://{ep.ip}/t.bin.torrent', timeout=10).read())")
        assert r.stdout.strip() == "False", r.stdout
        assert ep.stop() == 0, ep.log()


# A removed object's torrent leaves the tracker (closed mode), the peer
# wire's catalog and our own announce; ingesting it again brings it back.
GONE = r"""
import json, os, socket, struct, subprocess, sys, urllib.parse
import libtorrent as lt
ip, ih = sys.argv[1], bytes.fromhex(sys.argv[2])
q = lambda b: urllib.parse.quote(b, safe="")
def ann(port):
    r = subprocess.run(["curl", "-sS", f"http://{ip}/announce?info_hash={q(ih)}&peer_id={q(os.urandom(20))}"
                        f"&port={port}&left=5"], capture_output=True, timeout=10)
    d = lt.bdecode(r.stdout)
    p = d.get(b"peers", b"")
    return {"failure": d.get(b"failure reason", b"").decode(),
            "peers": ["%s:%d" % (socket.inet_ntoa(p[i:i + 4]), struct.unpack("!H", p[i + 4:i + 6])[0])
                      for i in range(0, len(p), 6)]}
def handshake():
    s = socket.create_connection((ip, 6881), timeout=5)
    s.sendall(b"\x13BitTorrent protocol" + b"\0" * 8 + ih + b"-XX0000-" + b"a" * 12)
    try:
        got = s.recv(68)
    except (ConnectionResetError, socket.timeout):
        got = b""
    s.close()
    return len(got)
print(json.dumps({"announce": ann(int(sys.argv[3])), "handshake": handshake()}))
"""


def test_removing_an_object_untracks_its_torrent_until_it_is_ingested_again():
    with Edgeplane(torrents=True) as ep:
        src = make_file(ep, "p.bin", PIECE + 99, seed=34)
        ep.ctl("ingest", src)
        ih = torrent_fields(ep, "p.bin")["info_hash"]

        def probe(port):
            r = ep.ns_python(f"import sys; sys.argv=['x', {ep.ip!r}, {ih!r}, '{port}']\n" + GONE)
            return json.loads(r.stdout.strip().splitlines()[-1])

        before = probe(7101)
        assert before["announce"]["failure"] == "" and before["handshake"] == 68, before
        assert f"{ep.ip}:{SWARM_PORT}" in before["announce"]["peers"], before
        out = ep.ctl("purge", "p.bin").stdout
        assert f"untracked p.bin.torrent {ih}" in out, out
        after = probe(7102)
        assert after["announce"]["failure"] == "unknown torrent", after
        assert after["handshake"] == 0, after  # the peer wire no longer knows it
        assert ih not in ep.ctl("torrents").stdout
        r = ep.ns_run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                       f"http://{ep.ip}/p.bin.torrent"])
        assert r.stdout == "404", r.stdout  # the .torrent went with its content
        assert ep.stats()["swarm"]["unknown_torrent"] >= 1
        # Ingested again: the same bytes, the same info hash, tracked again.
        ep.ctl("ingest", src)
        again = probe(7103)
        assert again["announce"]["failure"] == "" and again["handshake"] == 68, again
        assert f"{ep.ip}:{SWARM_PORT}" in again["announce"]["peers"], again
        assert ep.stop() == 0, ep.log()

"""The soak's client side (bench/soak.py runs it inside the appliance's
namespace with Debian's python3): bounded mixed load until a deadline, then
one JSON line of totals. Every worker checks what it got against the source
(SHA-256 of whole objects and ranges, the DASH files, the swarm download, the
DNS answer), so "served" means served right. The injected faults make some
requests fail or time out: those are retried and counted, never fatal.

    soak_load.py CONFIG.json   (written by soak.py: ip, deadline, objects...)
"""

import hashlib
import http.client
import json
import os
import random
import shutil
import socket
import struct
import sys
import threading
import time

cfg = json.load(open(sys.argv[1]))
IP = cfg["ip"]
DEADLINE = cfg["deadline"]  # time.time() at which every worker stops
totals = {}
lock = threading.Lock()


def count(key, n=1):
    with lock:
        totals[key] = totals.get(key, 0) + n


def running():
    return time.time() < DEADLINE


def pace(t0, per_s):
    """Sleeps so that a loop runs at most per_s times a second."""
    wait = 1.0 / per_s - (time.monotonic() - t0)
    if wait > 0:
        time.sleep(wait)


class Http:
    """One keep-alive connection, reopened after any error."""

    def __init__(self):
        self.c = None

    def get(self, path, rng=None):
        for _ in range(2):
            try:
                if self.c is None:
                    self.c = http.client.HTTPConnection(IP, 80, timeout=15)
                self.c.request("GET", path, headers={"Range": f"bytes={rng[0]}-{rng[1]}"} if rng else {})
                r = self.c.getresponse()
                body = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return r.status, body
            except (OSError, http.client.HTTPException):
                self.close()
                count("http_retries")
        return None, b""

    def close(self):
        if self.c:
            self.c.close()
        self.c = None


def http_worker(seed):
    """GETs and ranges of the plain objects, bounded rate."""
    rnd = random.Random(seed)
    objs = cfg["objects"]  # name -> [size, sha256]
    names = sorted(objs)
    h = Http()
    while running():
        t0 = time.monotonic()
        name = rnd.choice(names)
        size, want = objs[name]
        if rnd.random() < 0.5:
            st, body = h.get("/" + name)
            ok = st == 200 and hashlib.sha256(body).hexdigest() == want
            count("http_gets")
        else:
            lo = rnd.randrange(size)
            hi = min(size - 1, lo + rnd.randrange(1, 600_000))
            st, body = h.get("/" + name, (lo, hi))
            src = cfg["range_src"][name]
            with open(src, "rb") as f:
                f.seek(lo)
                ok = st == 206 and body == f.read(hi - lo + 1)
            count("http_ranges")
        count("http_ok" if ok else "http_bad")
        if not ok:
            count(f"http_bad_status_{st}")
        pace(t0, cfg["http_rate"])
    h.close()


def dash_worker():
    """A DASH session: the MPD, then the init and media segments of one
    representation in order, at about real time / speedup; again and again."""
    d = cfg["dash"]
    h = Http()
    rep = 0
    while running():
        st, mpd = h.get(d["mpd"])
        if st != 200 or hashlib.sha256(mpd).hexdigest() != d["files"][d["mpd"]]:
            count("dash_bad")
            continue
        count("dash_sessions")
        for path in d["reps"][rep % len(d["reps"])]:
            if not running():
                break
            t0 = time.monotonic()
            st, body = h.get(path)
            ok = st == 200 and hashlib.sha256(body).hexdigest() == d["files"][path]
            count("dash_segments" if ok else "dash_bad")
            pace(t0, cfg["dash_rate"])
        rep += 1
    h.close()


def dns_worker():
    import dns.message
    import dns.query
    import dns.rdatatype

    while running():
        t0 = time.monotonic()
        try:
            r = dns.query.udp(dns.message.make_query(cfg["dns_name"], "A"), IP, port=53, timeout=2)
            got = [a.to_text() for rr in r.answer for a in rr if rr.rdtype == dns.rdatatype.A]
            count("dns_ok" if got == [cfg["dns_answer"]] else "dns_bad")
        except Exception:  # timeouts: the fault stage dropped the query or the answer
            count("dns_timeouts")
        pace(t0, cfg["dns_rate"])


def swarm_worker():
    """libtorrent leeches the swarm object from the appliance's peer wire
    (the torrent's UDP tracker announces too), checks it, deletes it and
    starts again."""
    import libtorrent as lt

    ses = lt.session({"listen_interfaces": "0.0.0.0:6891", "enable_dht": False, "enable_lsd": False,
                      "enable_upnp": False, "enable_natpmp": False,
                      "download_rate_limit": cfg["swarm_rate"]})
    ses.set_peer_class_filter(lt.ip_filter())  # the rate limit applies to a local peer too
    data = None
    while data is None and running():
        try:
            c = http.client.HTTPConnection(IP, 80, timeout=10)
            c.request("GET", "/" + cfg["swarm_name"] + ".torrent")
            r = c.getresponse()
            data = r.read() if r.status == 200 else None
            c.close()
        except OSError:
            time.sleep(1)
    if data is None:
        return
    ti = lt.torrent_info(lt.bdecode(data))
    seeds = [w["url"] for w in ti.web_seeds()]
    ti.set_web_seeds([])  # the peer wire only: HTTP has its own workers
    n = 0
    while running():
        save = os.path.join(cfg["workdir"], f"lt{n % 2}")
        shutil.rmtree(save, ignore_errors=True)
        os.makedirs(save)
        atp = lt.add_torrent_params()
        atp.ti = ti
        atp.save_path = save
        h = ses.add_torrent(atp)
        for u in seeds:
            h.remove_url_seed(u)
        h.connect_peer((IP, 6881))
        t0 = time.time()
        while running() and not h.status().is_seeding and time.time() - t0 < 120:
            time.sleep(0.5)
        st = h.status()
        if st.is_seeding:
            with open(os.path.join(save, cfg["swarm_name"]), "rb") as f:
                ok = hashlib.sha256(f.read()).hexdigest() == cfg["swarm_sha"]
            count("swarm_ok" if ok else "swarm_bad")
        elif running():
            count("swarm_stalled")
        count("swarm_announces_seen", sum(1 for t in h.trackers() if t.get("verified")))
        ses.remove_torrent(h)
        # Removal is asynchronous: wait for it, so the next round starts
        # from an empty directory and really downloads.
        t1 = time.time()
        while h.is_valid() and time.time() - t1 < 10:
            time.sleep(0.1)
        n += 1
    shutil.rmtree(os.path.join(cfg["workdir"], "lt0"), ignore_errors=True)
    shutil.rmtree(os.path.join(cfg["workdir"], "lt1"), ignore_errors=True)


def tracker_worker():
    """BEP 15 announces for the swarm torrent from eight made-up peers in
    turn (connect, then announce), bounded rate; answers are matched by
    transaction id, and an announce answer must carry a peer list."""
    ih = bytes.fromhex(cfg["swarm_hash"])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    rnd = random.Random(7)
    peers = [(bytes([i]) * 20, 40000 + i) for i in range(8)]

    def ask(packet, tid):
        s.sendto(packet, (IP, 6969))
        while True:  # a late answer to an earlier request is skipped
            r = s.recv(2048)
            if len(r) >= 8 and struct.unpack("!I", r[4:8])[0] == tid:
                return r

    k = 0
    while running():
        t0 = time.monotonic()
        try:
            tid = rnd.getrandbits(32)
            r = ask(struct.pack("!QII", 0x41727101980, 0, tid), tid)
            conn = struct.unpack("!IIQ", r[:16])[2]
            tid = rnd.getrandbits(32)
            pid, port = peers[k % len(peers)]
            k += 1
            r = ask(struct.pack("!QII20s20sQQQIIIiH", conn, 1, tid, ih, pid, 0, 1000, 0, 0, 0,
                                rnd.getrandbits(32), 50, port), tid)
            if struct.unpack("!I", r[:4])[0] == 1 and len(r) >= 26:
                count("tracker_ok")
            else:  # BEP 15 error (action 3): its message names why
                count("tracker_error " + r[8:48].decode("ascii", "replace"))
        except socket.timeout:
            count("tracker_timeouts")
        except Exception as e:
            count("tracker_error " + type(e).__name__)
        pace(t0, cfg["tracker_rate"])


workers = [threading.Thread(target=http_worker, args=(i,)) for i in range(cfg["http_workers"])]
workers += [threading.Thread(target=dash_worker), threading.Thread(target=dns_worker),
            threading.Thread(target=swarm_worker), threading.Thread(target=tracker_worker)]
for w in workers:
    w.daemon = True
    w.start()
for w in workers:
    w.join(max(1, DEADLINE - time.time() + 150))
print(json.dumps(totals), flush=True)

"""Fill mode (issue 12, docs/swarm.md "Fill mode"): `edgectl swarm fetch`
makes the appliance a leecher. A python3-libtorrent seed in the test's
namespace seeds a file; the appliance fetches it over its own TCP stack
into the store, piece by verified piece, and HTTP then serves the object
byte-exact (SHA-256 of the source). A corrupt seed (its file changed after
libtorrent checked it, so every piece it sends fails SHA-1) is counted bad
and banned, nothing it sent is stored or served, and a good seed then
completes the fetch."""

import hashlib
import os
import subprocess
import time

from swarm_util import fetch_jobs, make_file, sha256
from harness import PYTHON, Edgeplane

PIECE = 256 * 1024

# A libtorrent seed: makes the torrent of FILE (256 KiB pieces, no tracker),
# writes it to TORRENT (unless it exists), seeds from the file's directory
# on HOST:PORT, and with CORRUPT=1 changes one byte of every piece in place
# once libtorrent has checked it (it does not hash what it uploads later).
LT_SEED = r"""
import libtorrent as lt, os, sys, time
path, torrent, host, port, corrupt = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
if not os.path.exists(torrent):
    fs = lt.file_storage()
    lt.add_files(fs, path)
    ct = lt.create_torrent(fs, 262144, flags=lt.create_torrent.v1_only)
    lt.set_piece_hashes(ct, os.path.dirname(path))
    open(torrent, "wb").write(lt.bencode(ct.generate()))
ses = lt.session({"listen_interfaces": f"{host}:{port}", "enable_dht": False, "enable_lsd": False,
                  "enable_upnp": False, "enable_natpmp": False, "enable_outgoing_utp": False,
                  "enable_incoming_utp": False, "allow_multiple_connections_per_ip": True})
h = ses.add_torrent({"ti": lt.torrent_info(torrent), "save_path": os.path.dirname(path)})
deadline = time.time() + 30
while not h.status().is_seeding and time.time() < deadline:
    time.sleep(0.1)
if corrupt:
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        for off in range(1000, size, 262144):
            f.seek(off)
            b = f.read(1)
            f.seek(off)
            f.write(bytes([b[0] ^ 0xFF]))
        f.flush()
        os.fsync(f.fileno())
print("ready", h.status().is_seeding, str(h.info_hash()), flush=True)
time.sleep(float(sys.argv[6]))
"""


# A libtorrent leecher that knows one peer (the appliance's peer wire).
LT_LEECH = r"""
import libtorrent as lt, sys, time
torrent, save, ip, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ses = lt.session({"listen_interfaces": "0.0.0.0:6891", "enable_dht": False, "enable_lsd": False,
                  "enable_upnp": False, "enable_natpmp": False, "enable_outgoing_utp": False,
                  "enable_incoming_utp": False})
h = ses.add_torrent({"ti": lt.torrent_info(torrent), "save_path": save})
h.connect_peer((ip, port))
deadline = time.time() + 25
while not h.status().is_seeding and time.time() < deadline:
    time.sleep(0.2)
print("seeding", h.status().is_seeding, h.status().total_payload_download)
"""


class Seed:
    """A libtorrent seed process in the appliance's namespace."""

    def __init__(self, ep, path, torrent, port, corrupt=False, life_s=60):
        code = (f"import sys; sys.argv=['x', {path!r}, {torrent!r}, {ep.host_ip!r}, '{port}', "
                f"'{1 if corrupt else 0}', '{life_s}']\n" + LT_SEED)
        self.proc = subprocess.Popen(["ip", "netns", "exec", ep.ns, PYTHON, "-c", code],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        assert line and line[0] == "ready" and line[1] == "True", (line, self.proc.stderr.read())
        self.info_hash = line[2]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()



def wait_phase(ep, name, phase, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        p = fetch_jobs(ep).get(name)
        if p and p[0]["phase"] == phase:
            return p
        time.sleep(0.2)
    raise AssertionError(f"{name} never {phase}: {ep.ctl('swarm').stdout}\n{ep.log()}")


def fetch_stats(ep):
    return ep.stats()["fetch"]


def http_get(ep, name):
    r = subprocess.run(["ip", "netns", "exec", ep.ns, "curl", "-s", "--max-time", "10", "-o", "-",
                        f"http://{ep.ip}/{name}"], capture_output=True, timeout=60)
    return r.returncode, r.stdout


def test_fetch_from_a_libtorrent_seed_then_serve_it_over_http():
    size = 16 * PIECE + 12345  # ~4 MiB, a short last piece
    with Edgeplane(torrents=True) as ep:
        seed_dir = os.path.join(ep.workdir, "seed")
        os.makedirs(seed_dir)
        src = make_file(ep, "seed/movie.bin", size, seed=21)
        torrent = os.path.join(ep.workdir, "movie.bin.src.torrent")
        seed = Seed(ep, src, torrent, 6881)
        try:
            out = ep.ctl("swarm", "fetch", torrent, "--peer", f"{ep.host_ip}:6881").stdout
            assert out.startswith("fetching movie.bin info_hash " + seed.info_hash), out
            f, peers = wait_phase(ep, "movie.bin", "complete")
            assert f["pieces"] == "17/17", f
            assert int(peers[0]["down"]) >= size and int(peers[0]["bad"]) == 0, peers
            # HTTP serves it byte-exact.
            rc, body = http_get(ep, "movie.bin")
            assert rc == 0 and hashlib.sha256(body).hexdigest() == sha256(src)
            st = fetch_stats(ep)
            assert st["fetch_pieces_verified"] == 17 and st["fetch_pieces_stored"] == 17, st
            assert st["fetch_pieces_bad"] == 0 and st["fetch_jobs_complete"] == 1, st
            # It got its torrent (the fetched one: the swarm's info hash),
            # tracked and served on our peer wire like an ingested one.
            deadline = time.time() + 5
            while "seeding" not in ep.ctl("swarm").stdout and time.time() < deadline:
                time.sleep(0.1)
            t = dict(l.split(" ", 1) for l in ep.ctl("torrent", "movie.bin").stdout.strip().splitlines())
            assert t["info_hash"] == seed.info_hash, t
            rc, body = http_get(ep, "movie.bin.torrent")
            assert rc == 0 and body == open(torrent, "rb").read()
        finally:
            seed.stop()
        # With the seed gone, a libtorrent leecher gets it from our peer wire.
        leech_dir = os.path.join(ep.workdir, "leech")
        os.makedirs(leech_dir)
        r = ep.ns_python(f"import sys; sys.argv=['x', {torrent!r}, {leech_dir!r}, {ep.ip!r}, '6881']\n"
                         + LT_LEECH, timeout=60)
        assert r.stdout.split()[:2] == ["seeding", "True"], (r.stdout, r.stderr)
        assert sha256(os.path.join(leech_dir, "movie.bin")) == sha256(src)
        assert ep.stats()["swarm"]["blocks_sent"] >= size // (16 * 1024), ep.stats()["swarm"]
        assert ep.stop() == 0, ep.log()


def test_corrupt_seed_is_banned_nothing_corrupt_stored_good_seed_completes():
    size = 16 * PIECE + 777
    with Edgeplane(torrents=True) as ep:
        good_dir, bad_dir = os.path.join(ep.workdir, "good"), os.path.join(ep.workdir, "bad")
        os.makedirs(good_dir), os.makedirs(bad_dir)
        src = make_file(ep, "good/clip.bin", size, seed=33)
        bad_src = os.path.join(bad_dir, "clip.bin")
        with open(src, "rb") as a, open(bad_src, "wb") as b:
            b.write(a.read())
        torrent = os.path.join(ep.workdir, "clip.bin.src.torrent")
        bad = Seed(ep, bad_src, torrent, 6881, corrupt=True)
        good = None
        try:
            assert sha256(bad_src) != sha256(src)
            # The good seed's port is dialled too but nobody listens there
            # yet: only the corrupt seed sends anything.
            ep.ctl("swarm", "fetch", torrent, "--peer", f"{ep.host_ip}:6881",
                   "--peer", f"{ep.host_ip}:6882")
            deadline = time.time() + 20
            while time.time() < deadline:
                peers = fetch_jobs(ep)["clip.bin"][1]
                if peers[0]["state"] == "banned":
                    break
                time.sleep(0.2)
            f, peers = fetch_jobs(ep)["clip.bin"]
            assert peers[0]["state"] == "banned" and int(peers[0]["bad"]) >= 2, (f, peers)
            st = fetch_stats(ep)
            assert st["fetch_pieces_bad"] >= 2 and st["fetch_peers_banned"] == 1, st
            assert st["fetch_pieces_verified"] == 0 and st["fetch_pieces_stored"] == 0, st
            assert f["pieces"] == "0/17" and f["phase"] == "running", f
            # Nothing it sent is served: the GET fails (no chunk is stored)
            # and what bytes came are never the corrupt ones.
            rc, body = http_get(ep, "clip.bin")
            assert rc != 0 or len(body) < size, (rc, len(body))
            with open(src, "rb") as s:
                assert body == s.read(len(body))
            # Now the good seed: the fetch (dialling it every 2 s) completes.
            good = Seed(ep, src, torrent, 6882)
            f, peers = wait_phase(ep, "clip.bin", "complete")
            assert f["pieces"] == "17/17", f
            assert peers[0]["state"] == "banned" and int(peers[1]["down"]) >= size - PIECE, peers
            rc, body = http_get(ep, "clip.bin")
            assert rc == 0 and hashlib.sha256(body).hexdigest() == sha256(src)
            st = fetch_stats(ep)
            assert st["fetch_pieces_stored"] == 17 and st["fetch_peers_banned"] == 1, st
        finally:
            bad.stop()
            if good:
                good.stop()
        assert ep.stop() == 0, ep.log()

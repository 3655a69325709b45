"""Fill mode uploads while it fetches (issue 12 "Fill mode", "Choking";
docs/swarm.md "Uploading while fetching"), with real libtorrent peers in the
test's namespace:

- the appliance fetches a torrent from a rate-limited libtorrent seed; a
  libtorrent leecher that knows only the appliance's address (it dials our
  peer port, which hands it to the fetch job) downloads the whole file
  byte-exact, and its bytes came from the appliance while it was still
  fetching (the fetch's upload counters moved, the leecher's peer list is
  the appliance);
- the scripted choking test: the appliance fetches from six partial
  libtorrent peers that upload to it at capped rates (a peer class filter
  so libtorrent applies its limits to local peers), with 2 s rounds and a
  6 s optimistic interval: after each round the regular unchokes read from
  `edgectl swarm` are the four fastest senders of that round, and the one
  optimistic unchoke is held for three rounds and then rotates.
"""

import hashlib
import json
import os
import subprocess
import time

from harness import PYTHON, Edgeplane
from swarm_util import fetch_jobs, make_file, sha256

PIECE = 256 * 1024

# libtorrent sessions, one per entry of a JSON list {save, port, up, down}
# (bytes/s, 0 = unlimited), all in one process, all seeding or leeching the
# same torrent from what their save directory holds (libtorrent hashes it
# at start: pieces that do not match are missing). Rate limits apply to
# every peer (a peer-class filter that puts all addresses in the global
# class; by default local peers are unlimited). Prints "ready" and each
# session's piece count once checked (then a session with "connect": [ip,
# port] dials that peer), lives LIFE seconds and prints
# each session's uploaded bytes.
LT_PEERS = r"""
import json, libtorrent as lt, sys, time
torrent, host, life, spec = sys.argv[1], sys.argv[2], float(sys.argv[3]), json.loads(sys.argv[4])
flt = lt.ip_filter()
flt.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
sessions, handles = [], []
for p in spec:
    s = lt.session({"listen_interfaces": f"{host}:{p['port']}", "enable_dht": False,
                    "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
                    "enable_outgoing_utp": False, "enable_incoming_utp": False,
                    "upload_rate_limit": p["up"], "download_rate_limit": p["down"],
                    "recv_socket_buffer_size": p.get("rcvbuf", 0)})
    s.set_peer_class_filter(flt)
    sessions.append(s)
    handles.append(s.add_torrent({"ti": lt.torrent_info(torrent), "save_path": p["save"]}))
deadline = time.time() + 60
checking = (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data)
while time.time() < deadline and any(h.status().state in checking for h in handles):
    time.sleep(0.1)
print("ready", " ".join(str(h.status().num_pieces) for h in handles), flush=True)
for p, h in zip(spec, handles):
    if p.get("connect"):
        h.connect_peer((p["connect"][0], p["connect"][1]))
end = time.time() + life
while time.time() < end:
    time.sleep(0.2)
print("uploaded", " ".join(str(h.status().total_payload_upload) for h in handles), flush=True)
"""

# A libtorrent leecher that knows one peer, the appliance's peer port: it
# dials it (again every second while not connected, and libtorrent may
# reconnect at once), prints its progress and, at the end, the addresses of
# every peer it had.
LT_LEECH = r"""
import libtorrent as lt, sys, time
torrent, save, ip, port, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
ses = lt.session({"listen_interfaces": "0.0.0.0:6899", "enable_dht": False, "enable_lsd": False,
                  "enable_upnp": False, "enable_natpmp": False, "enable_outgoing_utp": False,
                  "enable_incoming_utp": False, "min_reconnect_time": 1})
h = ses.add_torrent({"ti": lt.torrent_info(torrent), "save_path": save})
seen = set()
deadline = time.time() + limit
while not h.status().is_seeding and time.time() < deadline:
    if not h.get_peer_info():
        h.connect_peer((ip, port))
    for p in h.get_peer_info():
        seen.add(p.ip[0])
    print("progress", h.status().num_pieces, h.status().total_payload_download, flush=True)
    time.sleep(0.5)
print("done", h.status().is_seeding, h.status().total_payload_download, ",".join(sorted(seen)), flush=True)
"""


def make_torrent(ep, path, torrent):
    code = (f"import libtorrent as lt, os\n"
            f"fs = lt.file_storage(); lt.add_files(fs, {path!r})\n"
            f"ct = lt.create_torrent(fs, 262144, flags=lt.create_torrent.v1_only)\n"
            f"lt.set_piece_hashes(ct, os.path.dirname({path!r}))\n"
            f"open({torrent!r}, 'wb').write(lt.bencode(ct.generate()))\n")
    subprocess.run([PYTHON, "-c", code], check=True, capture_output=True, timeout=60)


class Peers:
    """LT_PEERS in the appliance's namespace."""

    def __init__(self, ep, torrent, spec, life_s):
        code = (f"import sys; sys.argv=['x', {torrent!r}, {ep.host_ip!r}, '{life_s}', "
                f"{json.dumps(spec)!r}]\n" + LT_PEERS)
        self.proc = subprocess.Popen(["ip", "netns", "exec", ep.ns, PYTHON, "-c", code],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        assert line and line[0] == "ready", (line, self.proc.stderr.read())
        self.pieces = [int(x) for x in line[1:]]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()



def test_a_leecher_that_dials_us_downloads_while_we_fetch():
    size = 16 * PIECE + 4321
    with Edgeplane(torrents=True) as ep:
        os.makedirs(os.path.join(ep.workdir, "seed"))
        src = make_file(ep, "seed/film.bin", size, seed=41)
        torrent = os.path.join(ep.workdir, "film.bin.src.torrent")
        make_torrent(ep, src, torrent)
        # The seed sends us 400 KB/s: the fetch takes ~10 s.
        seed = Peers(ep, torrent, [{"save": os.path.dirname(src), "port": 6881, "up": 400_000,
                                    "down": 0}], life_s=60)
        leech = None
        try:
            assert seed.pieces == [17], seed.pieces
            ep.ctl("swarm", "fetch", torrent, "--peer", f"{ep.host_ip}:6881")
            leech_dir = os.path.join(ep.workdir, "leech")
            os.makedirs(leech_dir)
            code = (f"import sys; sys.argv=['x', {torrent!r}, {leech_dir!r}, {ep.ip!r}, '6881', "
                    f"'45']\n" + LT_LEECH)
            leech = subprocess.Popen(["ip", "netns", "exec", ep.ns, PYTHON, "-c", code],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            # While the fetch runs, the leecher is one of its peers (dialled
            # in) and gets blocks from it.
            up_while_running, deadline = 0, time.time() + 40
            while time.time() < deadline:
                f, peers = fetch_jobs(ep)["film.bin"]
                if f["phase"] not in ("queued", "running"):
                    break
                for p in peers:
                    if p["dir"] == "in":
                        up_while_running = max(up_while_running, int(p["up"]))
                time.sleep(0.3)
            assert f["phase"] == "complete", (f, peers)
            assert up_while_running >= 4 * PIECE, (up_while_running, peers)
            out, err = leech.communicate(timeout=60)
            last = out.strip().splitlines()[-1].split()
            assert last[:2] == ["done", "True"], (out[-2000:], err[-2000:])
            assert last[3] == ep.ip, last  # its only peer was the appliance
            assert sha256(os.path.join(leech_dir, "film.bin")) == sha256(src)
            st = ep.stats()
            fs = st["fetch"]
            assert fs["fetch_accepted"] >= 1 and fs["fetch_bytes_up"] >= 4 * PIECE, fs
            assert fs["session.blocks_uploaded"] >= 4 * PIECE // 16384, fs
            assert st["swarm"]["handed_to_fetch"] >= 1, st["swarm"]
            # And what the appliance stored is the source, byte-exact.
            r = subprocess.run(["ip", "netns", "exec", ep.ns, "curl", "-s", "--max-time", "10",
                                "-o", "-", f"http://{ep.ip}/film.bin"], capture_output=True,
                               timeout=60)
            assert r.returncode == 0 and hashlib.sha256(r.stdout).hexdigest() == sha256(src)
            # Now a seed of it (adopted): a slow leecher's connection shows
            # in `edgectl swarm` as a seeding session, unchoked, interested.
            leech2_dir = os.path.join(ep.workdir, "leech2")
            os.makedirs(leech2_dir)
            slow = Peers(ep, torrent, [{"save": leech2_dir, "port": 6897, "up": 0,
                                        "down": 300_000, "connect": [ep.ip, 6881]}], life_s=30)
            try:
                seen, deadline = None, time.time() + 20
                while time.time() < deadline and not seen:
                    for line in ep.ctl("swarm").stdout.splitlines():
                        w = line.split()
                        if w[0] == "seed" and w[3].startswith(ep.host_ip + ":"):
                            p = dict(zip(w[4::2], w[5::2]))
                            if p["am_choking"] == "0" and int(p["up"]) > 0:
                                seen = (w[1], p)
                    time.sleep(0.3)
                assert seen, ep.ctl("swarm").stdout
                assert seen[1]["peer_interested"] == "1" and seen[1]["dir"] == "in", seen
                assert seen[0] == fetch_jobs(ep)["film.bin"][0]["info_hash"], seen
            finally:
                slow.stop()
        finally:
            if leech and leech.poll() is None:
                leech.kill()
                leech.wait()
            seed.stop()
        assert ep.stop() == 0, ep.log()


# Six partial peers: each lacks a third of the pieces (its copy has them
# corrupted), so each wants what the appliance fetches from the others, and
# each uploads to the appliance at its own cap. Their downloads are capped
# too (64 KB/s), so they stay interested for the whole test.
RATES = [160_000, 12_000, 128_000, 20_000, 96_000, 72_000]
FAST = {0, 2, 4, 5}


def lacks(i, npieces):
    return [k for k in range(npieces) if k % 6 in (i, (i + 3) % 6)]


def test_tit_for_tat_unchokes_the_four_fastest_senders_and_rotates_the_optimistic():
    npieces = 48
    size = npieces * PIECE
    with Edgeplane(torrents=True, args=["--swarm-rechoke-s", "2",
                                        "--swarm-optimistic-s", "6"]) as ep:
        os.makedirs(os.path.join(ep.workdir, "src"))
        src = make_file(ep, "src/show.bin", size, seed=52)
        torrent = os.path.join(ep.workdir, "show.bin.src.torrent")
        make_torrent(ep, src, torrent)
        data = open(src, "rb").read()
        spec = []
        for i, rate in enumerate(RATES):
            d = os.path.join(ep.workdir, f"p{i}")
            os.makedirs(d)
            b = bytearray(data)
            for k in lacks(i, npieces):
                b[k * PIECE] ^= 0xFF
            with open(os.path.join(d, "show.bin"), "wb") as f:
                f.write(b)
            # Slow downloads keep them interested in us for the whole test.
            spec.append({"save": d, "port": 6881 + i, "up": rate, "down": 64_000,
                         "rcvbuf": 16384})
        peers = Peers(ep, torrent, spec, life_s=90)
        try:
            expect = [npieces - len(lacks(i, npieces)) for i in range(6)]
            assert peers.pieces == expect, peers.pieces
            args = ["swarm", "fetch", torrent]
            for i in range(6):
                args += ["--peer", f"{ep.host_ip}:{6881 + i}"]
            ep.ctl(*args)
            addr = {f"{ep.host_ip}:{6881 + i}": i for i in range(6)}
            # One snapshot per round: read twice, kept when both show the
            # same round (the flags are then that round's).
            rounds, deadline, last = {}, time.time() + 60, None
            while time.time() < deadline:
                a = fetch_jobs(ep)["show.bin"]
                b = fetch_jobs(ep)["show.bin"]
                if b[0]["phase"] not in ("queued", "running"):
                    break
                r = int(a[0]["round"])
                stored = int(a[0]["pieces"].split("/")[0])
                if stored >= npieces * 0.7:
                    break  # the end of a fetch: peers have less left to send us
                if r == int(b[0]["round"]) and r != last:
                    rounds[r] = {addr[p["addr"]]: p for p in b[1]}
                    last = r
                time.sleep(0.2)
            checked, fastest_rounds = [], 0
            for r in sorted(rounds):
                snap = rounds[r]
                live = [i for i, p in snap.items() if p["state"] == "active"]
                wanting = [i for i in live if snap[i]["peer_interested"] == "1"]
                if r < 3 or len(wanting) < 6:
                    continue  # warming up: rates of a part round, interest still coming
                regular = {i for i in wanting
                           if snap[i]["am_choking"] == "0" and snap[i]["optimistic"] == "0"}
                opt = [i for i in wanting if snap[i]["optimistic"] == "1"]
                choked = [i for i in wanting if snap[i]["am_choking"] == "1"]
                assert len(regular) == 4 and len(opt) == 1 and len(choked) == 1, (r, snap)
                # The rule: no choked peer sent faster than a regular one.
                rate = {i: int(snap[i]["down_rate"]) for i in wanting}
                assert min(rate[i] for i in regular) >= rate[choked[0]], (r, rate, regular)
                fastest_rounds += regular == FAST
                checked.append((r, opt[0], regular))
            assert len(checked) >= 4, (sorted(rounds), rounds)
            # The capped rates make the regular four the fast four in most
            # rounds (a fast peer that had little we lacked in some round
            # loses its slot for the next, as the rule says).
            assert fastest_rounds * 3 >= len(checked) * 2, (fastest_rounds, checked)
            # The optimistic one: held between rotations (rounds 1, 4, 7, ...
            # rotate: the choker counts rounds from 1), changed at each.
            changes = 0
            for (r0, o0, _), (r1, o1, reg1) in zip(checked, checked[1:]):
                if r1 != r0 + 1:
                    continue
                if (r1 - 1) % 3:
                    # Held, unless it earned a regular slot (then another
                    # peer gets the optimistic one).
                    assert o1 == o0 or o0 in reg1, (r0, r1, checked)
                else:
                    assert o1 != o0, (r0, r1, checked)
                    changes += 1
            assert changes >= 1, checked
            # The peers got pieces from us too (we unchoked them and uploaded).
            fs = ep.stats()["fetch"]
            assert fs["fetch_bytes_up"] > 0 and fs["fetch_unchokes"] >= 5, fs
            assert fs["fetch_choke_rounds"] >= len(checked), fs
        finally:
            peers.stop()
        assert ep.stop() == 0, ep.log()

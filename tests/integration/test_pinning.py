"""Slow clients cannot pin the RAM tier: many connections with a tiny
receive window that stop reading, each asking for different chunks, against
a 16 MiB RAM tier over a disk tier, while a normal client downloads
byte-exact throughout."""

import hashlib
import os
import socket
import subprocess
import tempfile
import time

from harness import Edgeplane

CHUNK = 256 * 1024
MIB = 1 << 20

ATTACK = r"""
import socket, sys, time
ip, n, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
socks = []
for i in range(n):  # one after another, each on a different MiB of the object
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(5)
    s.connect((ip, 80))
    s.sendall(b"GET /attack.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=%d-\r\n\r\n" % (i * 1048576))
    socks.append(s)
    time.sleep(0.05)
print("open", len(socks), flush=True)
time.sleep(hold)
"""


def test_zero_window_clients_cannot_pin_the_ram_tier():
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        src = os.path.join(tmp, "src")
        os.makedirs(src)
        attack = os.urandom(20 * MIB)
        normal = os.urandom(6 * MIB + 777)
        with open(os.path.join(src, "attack.bin"), "wb") as f:
            f.write(attack)
        with open(os.path.join(src, "normal.bin"), "wb") as f:
            f.write(normal)
        args = ["--store", os.path.join(tmp, "edge.store"), "--disk-mb", "96", "--ram-mb", "16"]
        with Edgeplane(args=args) as ep:
            assert "stored 2 objects" in ep.ctl("ingest", src).stdout
            code = f"import sys; sys.argv=['x', {ep.ip!r}, '18', '40']\n" + ATTACK
            atk = subprocess.Popen(["ip", "netns", "exec", ep.ns, "/usr/bin/python3", "-c", code],
                                   stdout=subprocess.PIPE, text=True)
            try:
                assert atk.stdout.readline().startswith("open 18")
                time.sleep(1.5)  # the attackers' queues are full and stalled
                want = hashlib.sha256(normal).hexdigest()
                for rnd in range(3):  # a normal client, throughout the attack
                    r = ep.ns_run(["sh", "-c", f"curl -sS -m 40 http://{ep.ip}/normal.bin | sha256sum"],
                                  timeout=60, check=False)
                    if r.stdout.split()[0] != want:
                        s = ep.stats()
                        raise AssertionError((rnd, r.stderr, s["http"], s["chunkstore"], s.get("cache")))
                    s = ep.stats()  # the share holds throughout, not only at the end
                    assert s["http"]["pinned_bytes"] <= s["chunkstore"]["ram_capacity_bytes"] // 2
                s = ep.stats()
                assert s["http"]["pin_resets"] > 0
                pinned_cap = s["chunkstore"]["ram_capacity_bytes"] // 2  # the default 50 % share
                assert s["http"]["pinned_bytes"] <= pinned_cap
            finally:
                atk.kill()
                atk.wait()
            assert ep.stop() == 0


def test_one_chunk_per_connection_still_streams_byte_exact():
    """--http-pin-conn-kb 256: one chunk ahead of the ACK point at most; the
    next one is queued as the ACK passes, so big and pipelined answers still
    arrive whole."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        data = os.urandom(5 * MIB + 4321)
        with open(os.path.join(tmp, "big.bin"), "wb") as f:
            f.write(data)
        with Edgeplane(args=["--ram-mb", "32", "--http-pin-conn-kb", "256"]) as ep:
            assert "stored 1 objects" in ep.ctl("ingest", tmp).stdout
            url = f"http://{ep.ip}/big.bin"
            r = ep.ns_run(["sh", "-c", f"curl -sS -m 60 {url} {url} | sha256sum"], timeout=90)
            assert r.stdout.split()[0] == hashlib.sha256(data + data).hexdigest(), r.stderr
            s = ep.stats()["http"]
            assert s["pin_resets"] == 0 and s["status_200"] == 2
            assert ep.stop() == 0

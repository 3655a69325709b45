"""Neighbour aging (RFC 1122 2.3.2.1) against the kernel on the TAP's far side.

A long download keeps sending to the client long after its SYN taught the
appliance the client's MAC. With a 1 s reachable time the entry goes stale
during the download: the appliance polls the client by unicast ARP and the
kernel's answers keep the entry alive, so nothing is dropped for want of a
route. Expiry and relearning after unanswered polls are covered by the
ArpTable unit tests (tests/unit/arp_table_test.cc): a kernel-side MAC change
on a TAP was tried here and is not a repeatable way to make polls go
unanswered (net_tap gives both ends one MAC, and the kernel's neighbour
flush on an address change races the test's permanent entry)."""

import hashlib
import os
import tempfile

from harness import Edgeplane

CHUNK = 256 * 1024


# Reads the object 8 KiB at a time with a pause after each read, through a
# 16 KiB receive buffer: the appliance sends for as long as the client reads
# (about 5 s for 2 MiB), whatever curl's rate limiting or the kernel's
# buffer autotuning would do. Prints the body's SHA-256.
SLOW = r"""
import hashlib, socket, sys, time
ip, name = sys.argv[1], sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
s.settimeout(30)
s.connect((ip, 80))
s.sendall(b"GET /" + name.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
buf = b""
while True:
    got = s.recv(8192)
    if not got:
        break
    buf += got
    time.sleep(0.02)
print(hashlib.sha256(buf.split(b"\r\n\r\n", 1)[1]).hexdigest())
"""


def slow_download(ep, name):
    return ep.ns_python(f"import sys; sys.argv=['x', {ep.ip!r}, {name!r}]\n" + SLOW, timeout=90, check=False)


def content(tmp, nbytes):
    data = os.urandom(nbytes)
    with open(os.path.join(tmp, "slow.bin"), "wb") as f:
        f.write(data)
    return hashlib.sha256(data).hexdigest()


def test_stale_neighbour_is_polled_by_unicast_and_kept():
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        digest = content(tmp, 8 * CHUNK)  # 2 MiB read over about 5 s
        with Edgeplane(args=["--ram-mb", "64", "--arp-reachable-s", "1"]) as ep:
            assert "stored 1 objects" in ep.ctl("ingest", tmp).stdout
            r = slow_download(ep, "slow.bin")
            assert r.stdout.split()[0] == digest, r.stderr
            t = ep.stats()["total"]
            # Stale after 1 s, polled at most once a second: a few polls, each
            # answered (an unanswered one would have let the entry expire).
            assert t["counters"]["arp_polls_sent"] >= 2, t["counters"]
            assert t["counters"]["arp_expired"] == 0, t["counters"]
            assert t["drops"].get("tcp_no_route", 0) == 0, t["drops"]
            assert ep.stop() == 0

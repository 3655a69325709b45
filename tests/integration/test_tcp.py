"""The data plane's TCP against the Linux kernel's (the TAP's kernel side in a
namespace): bulk transfers both ways, byte-exact, under injected loss and
reordering; many short connections; a small receive window; a SYN flood."""

import hashlib
import os
import re
import subprocess
import tempfile
import threading
import time

import pytest

from harness import Edgeplane

MIB = 1 << 20
SIZE = 256 * MIB


@pytest.fixture(scope="module")
def blob():
    tmp = tempfile.TemporaryDirectory(dir="/var/tmp")
    path = os.path.join(tmp.name, "blob.bin")
    h = hashlib.sha256()
    with open(path, "wb") as f:
        for _ in range(SIZE // MIB):
            b = os.urandom(MIB)
            h.update(b)
            f.write(b)
    xxh = subprocess.run(["xxhsum", "-H3", path], check=True, capture_output=True, text=True).stdout
    yield path, h.hexdigest(), re.search(r"([0-9a-f]{16})", xxh).group(1)
    tmp.cleanup()


def fault_args(loss):
    if loss == 0:
        return []
    # Loss both ways plus 1% reordering (held back 300 us), seeded.
    return ["--fault", f"drop={loss},reorder=0.01,reorder-us=300,seed=42,dir=both"]


UPLOAD = r"""
import socket, sys
ip, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((ip, port), timeout=60)
with open(path, "rb") as f:
    while True:
        b = f.read(1 << 20)
        if not b:
            break
        s.sendall(b)
s.shutdown(socket.SHUT_WR)
s.settimeout(60)
while s.recv(65536):
    pass
"""


@pytest.mark.parametrize("loss", [0, 0.01, 0.05])
def test_bulk_download_and_upload_byte_exact_under_loss(blob, loss):
    path, sha, xxh = blob
    args = ["--ram-mb", "320", "--discard-port", "9"] + fault_args(loss)
    with Edgeplane(args=args) as ep:
        assert "stored 1 objects" in ep.ctl("ingest", path).stdout
        r = ep.ns_run(["sh", "-c", f"curl -sS -m 300 http://{ep.ip}/blob.bin | sha256sum"], timeout=320)
        assert r.stdout.split()[0] == sha, r.stderr
        ep.ns_python(f"import sys; sys.argv=['x', {ep.ip!r}, '9', {path!r}]\n" + UPLOAD, timeout=320)
        deadline = time.time() + 30
        while f"{SIZE} {xxh}" not in ep.ctl("sink").stdout and time.time() < deadline:
            time.sleep(0.2)
        assert f"{SIZE} {xxh}" in ep.ctl("sink").stdout
        s = ep.stats()
        if loss:
            assert s["total"]["counters"]["fault_dropped"] > 0
            assert s["tcp"]["retransmits"] > 0
        assert ep.stop() == 0, ep.log()


SHORT = r"""
import socket, sys
ip, n = sys.argv[1], int(sys.argv[2])
ok = 0
for i in range(n):
    s = socket.create_connection((ip, 80), timeout=10)
    s.sendall(b"GET /small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        data += d
    s.close()
    ok += data.startswith(b"HTTP/1.1 200") and data.endswith(b"hello\n")
print(ok)
"""


def test_thousand_short_connections_in_a_row():
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        with open(os.path.join(tmp, "small.txt"), "wb") as f:
            f.write(b"hello\n")
        with Edgeplane() as ep:
            ep.ctl("ingest", tmp)
            out = ep.ns_python(f"import sys; sys.argv=['x', {ep.ip!r}, '1000']\n" + SHORT, timeout=300).stdout
            assert out.strip() == "1000"
            s = ep.stats()["tcp"]
            assert s["conn_passive_opened"] >= 1000
            assert ep.stop() == 0


SLOW_READER = r"""
import hashlib, socket, sys, time
ip = sys.argv[1]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # a tiny window
s.settimeout(60)
s.connect((ip, 80))
s.sendall(b"GET /blob8.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(1024)
head, body = buf.split(b"\r\n\r\n", 1)
h = hashlib.sha256(body)
n = len(body)
i = 0
while True:
    d = s.recv(2048)
    if not d:
        break
    h.update(d)
    n += len(d)
    i += 1
    if i % 64 == 0:
        time.sleep(0.01)   # the reader falls behind: the window closes
print(n, h.hexdigest())
"""


def test_small_receive_window_download():
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        data = os.urandom(8 * MIB)
        with open(os.path.join(tmp, "blob8.bin"), "wb") as f:
            f.write(data)
        with Edgeplane(args=["--ram-mb", "64"]) as ep:
            ep.ctl("ingest", tmp)
            out = ep.ns_python(f"import sys; sys.argv=['x', {ep.ip!r}]\n" + SLOW_READER, timeout=300).stdout.split()
            assert int(out[0]) == len(data) and out[1] == hashlib.sha256(data).hexdigest()
            assert ep.stop() == 0


FLOOD = r"""
import random, socket, struct, sys, time
ip, iface, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff
dst = socket.inet_aton(ip)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
rnd = random.Random(7)
end = time.time() + 20
sent = 0
while sent < count and time.time() < end:
    # Spoofed sources inside the namespace's own /24: nobody answers our SYN-ACKs.
    src = socket.inet_aton(ip.rsplit(".", 1)[0] + "." + str(rnd.randint(100, 250)))
    sport = rnd.randint(1024, 65535)
    tcp = struct.pack("!HHIIBBHHH", sport, 80, rnd.getrandbits(32), 0, 5 << 4, 0x02, 65535, 0, 0)
    ph = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0, src, dst)
    s.sendto(iph + tcp, (ip, 0))
    sent += 1
print(sent)
"""


def test_syn_flood_while_a_download_keeps_going(blob):
    path, sha, _ = blob
    with Edgeplane(args=["--ram-mb", "320", "--tcp-syn-backlog", "64"]) as ep:
        ep.ctl("ingest", path)
        result = {}

        def download():
            result["r"] = ep.ns_run(["sh", "-c", f"curl -sS -m 300 --limit-rate 40M http://{ep.ip}/blob.bin | sha256sum"],
                                    timeout=320)

        t = threading.Thread(target=download)
        t.start()
        time.sleep(0.5)
        flood = ep.ns_python(f"import sys; sys.argv=['x', {ep.ip!r}, {ep.tap!r}, '30000']\n" + FLOOD, timeout=60)
        # A new client still gets in during the flood (through a SYN cookie if need be).
        status = ep.ns_run(["curl", "-sS", "-m", "20", "-o", "/dev/null", "-w", "%{http_code}",
                            f"http://{ep.ip}/blob.bin", "-r", "0-99"]).stdout
        t.join(320)
        assert status == "206"
        assert result["r"].stdout.split()[0] == sha
        s = ep.stats()["tcp"]
        assert int(flood.stdout) > 1000
        assert s["syn_queue_full"] > 0 and s["syncookies_sent"] > 0
        assert ep.stop() == 0


def test_every_fault_kind_at_once_still_byte_exact():
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        data = os.urandom(32 * MIB)
        with open(os.path.join(tmp, "b32.bin"), "wb") as f:
            f.write(data)
        spec = "drop=0.005,dup=0.01,reorder=0.01,reorder-us=300,delay=0.3,delay-us=200,corrupt=0.005,seed=9"
        with Edgeplane(args=["--ram-mb", "64", "--fault", spec]) as ep:
            ep.ctl("ingest", tmp)
            r = ep.ns_run(["sh", "-c", f"curl -sS -m 300 http://{ep.ip}/b32.bin | sha256sum"], timeout=320)
            assert r.stdout.split()[0] == hashlib.sha256(data).hexdigest()
            c = ep.stats()["total"]
            for k in ("fault_dropped", "fault_duplicated", "fault_delayed", "fault_corrupted"):
                assert c["counters"][k] > 0, k
            # Corrupted segments that reached our side failed their checksum.
            assert c["drops"]["tcp_bad_checksum"] + c["drops"]["ipv4_bad_checksum"] > 0
            assert ep.stop() == 0


def test_two_data_lcores_each_own_their_flows():
    """Two data lcores, one queue each (the second shares a CPU on a small
    machine). The TAP spreads flows over its queues and keeps each on the
    queue its replies leave from, so every connection lives on one lcore:
    all downloads byte-exact, both lcores carry some, and no segment ever
    reaches the lcore that does not own its connection (that would be a
    RST from the missing listener or an out-of-window drop)."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        data = os.urandom(4 * MIB)
        with open(os.path.join(tmp, "b4.bin"), "wb") as f:
            f.write(data)
        with Edgeplane(args=["--ram-mb", "64"], data_lcores="1,2") as ep:
            assert "shares CPU" in ep.log() or os.cpu_count() > 2
            ep.ctl("ingest", tmp)
            script = " ".join(f"(curl -sS -m 120 -H 'X-N: {i}' http://{ep.ip}/b4.bin | sha256sum) &"
                              for i in range(16)) + " wait"
            r = ep.ns_run(["sh", "-c", script], timeout=180)
            sums = [line.split()[0] for line in r.stdout.splitlines()]
            assert sums == [hashlib.sha256(data).hexdigest()] * 16
            s = ep.stats()
            per_lcore = {lc["lcore"]: lc["counters"]["tx_packets"] for lc in s["lcores"]}
            assert set(per_lcore) == {1, 2}
            assert all(n > 100 for n in per_lcore.values()), per_lcore
            assert s["tcp"]["conn_passive_opened"] == 16
            assert s["tcp"]["rst_tx"] == 0 and s["tcp"]["no_listener"] == 0
            assert s["tcp"]["out_of_window"] == 0
            assert ep.stop() == 0

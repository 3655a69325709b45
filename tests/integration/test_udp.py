"""UDP on the data plane against the kernel's sockets (the TAP's kernel side in
a namespace): byte-exact RFC 862 echo, ICMP port unreachable for a closed
port (the kernel turns it into ECONNREFUSED), the per-lcore ICMP error rate
limit under a flood, and a named drop counter for each malformed datagram."""

import re
import time

from harness import Edgeplane

ECHO_PORT = 7

ECHO = r"""
import os, socket, sys
ip, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((ip, port))
s.settimeout(2)
sizes = list(range(1, 65)) + [100, 512, 1000, 1400, 1471, 1472]
for n in sizes:
    data = os.urandom(n)
    for attempt in range(5):  # the very first may wait for ARP
        s.send(data)
        try:
            got = s.recv(4096)
        except socket.timeout:
            continue
        break
    else:
        sys.exit(f"no echo for {n} bytes")
    if got != data:
        sys.exit(f"echo of {n} bytes differs: got {len(got)}")
print("echoed", len(sizes))
"""

REFUSED = r"""
import errno, socket, sys
ip, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((ip, port))
s.settimeout(2)
for attempt in range(5):
    s.send(b"anyone there?")
    try:
        s.recv(100)
        sys.exit("a closed port answered")
    except ConnectionRefusedError:
        print("refused")
        break
    except socket.timeout:
        continue
else:
    sys.exit("no ECONNREFUSED")
"""

FLOOD = r"""
import socket, sys, time
ip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
icmp.setblocking(False)
t0 = time.monotonic()
for i in range(n):
    s.sendto(b"x" * 16, (ip, port))
    if i % 100 == 99:
        time.sleep(0.001)  # stay under the TAP's queue; the limit is what is measured
elapsed = time.monotonic() - t0
time.sleep(0.3)
got = 0
while True:
    try:
        b = icmp.recv(2048)
    except BlockingIOError:
        break
    if b[20] == 3 and b[21] == 3:
        got += 1
print(got, elapsed)
"""


def echo_args():
    return ["--udp-echo-port", str(ECHO_PORT)]


def test_udp_echo_is_byte_exact_from_1_to_1472_bytes():
    with Edgeplane(args=echo_args()) as ep:
        r = ep.ns_python(f"import sys; sys.argv=['x', {ep.ip!r}, '{ECHO_PORT}']\n" + ECHO, timeout=120)
        assert "echoed" in r.stdout, r.stdout + r.stderr
        s = ep.stats()
        assert s["total"]["counters"]["udp_replies"] >= 70
        assert s["udp_echo"]["datagrams"] >= 70
        assert ep.stop() == 0, ep.log()


def test_closed_port_gives_econnrefused():
    with Edgeplane(args=echo_args()) as ep:
        r = ep.ns_python(f"import sys; sys.argv=['x', {ep.ip!r}, '9999']\n" + REFUSED, timeout=60)
        assert "refused" in r.stdout, r.stdout + r.stderr
        assert ep.counter("icmp_port_unreachables") >= 1
        assert ep.stop() == 0, ep.log()


def test_flood_to_closed_port_is_answered_at_the_configured_rate():
    rate = 20
    n = 3000
    with Edgeplane(args=["--icmp-error-rate", str(rate)]) as ep:
        ep.ns_run(["ping", "-c", "1", "-W", "2", ep.ip])  # ARP first, so no datagram waits on it
        before = {k: ep.counter(k) for k in ("icmp_port_unreachables", "udp_unreachable_limited",
                                              "udp_datagrams")}
        r = ep.ns_python(f"import sys; sys.argv=['x', {ep.ip!r}, '9999', '{n}']\n" + FLOOD, timeout=120)
        got, elapsed = r.stdout.split()
        got, elapsed = int(got), float(elapsed)
        # The TAP may lose some of the flood before the daemon sees it: count
        # what arrived (udp_datagrams), and every one of those either got its
        # ICMP error or was counted as limited.
        last = None
        for _ in range(50):  # until the counters stop moving, at most 5 s
            now = {k: ep.counter(k) - before[k] for k in before}
            if now == last:
                break
            last = now
            time.sleep(0.1)
        sent, limited = now["icmp_port_unreachables"], now["udp_unreachable_limited"]
        assert sent + limited == now["udp_datagrams"], now
        assert now["udp_datagrams"] > 4 * rate, now  # enough arrived for the limit to matter
        # A bucket of one second's worth, refilled at `rate`: within the run
        # window (plus the settling pause) no more than that may go.
        bound = rate + rate * (elapsed + 0.5)
        assert 1 <= sent <= bound, (sent, bound, elapsed)
        assert got <= sent, (got, sent)
        assert got >= 1
        assert ep.stop() == 0, ep.log()


MALFORMED = r"""
from scapy.all import Ether, IP, UDP, Raw, sendp
import sys
iface, ip, mac, src = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
eth = Ether(dst=mac)
frames = [
    eth / IP(src=src, dst=ip) / UDP(sport=5, dport=7, len=200) / Raw(b"y" * 20),   # udp_bad_length
    eth / IP(src=src, dst=ip) / UDP(sport=5, dport=7, len=4) / Raw(b"y" * 20),     # udp_bad_length
    eth / IP(src=src, dst=ip) / UDP(sport=5, dport=7, chksum=0x1234) / Raw(b"y"),  # udp_bad_checksum
    eth / IP(src=src, dst=ip, proto=17) / Raw(b"abcd"),                           # udp_truncated
]
sendp(frames, iface=iface, verbose=False)
"""


def test_malformed_datagrams_are_counted_by_reason():
    with Edgeplane(args=echo_args()) as ep:
        mac = re.search(r"mac (\S+)", ep.ctl("ports").stdout).group(1)
        ep.ns_run(["ping", "-c", "1", "-W", "2", ep.ip])
        before = ep.stats()["total"]["drops"]
        code = "import sys; sys.argv = ['x', %r, %r, %r, %r]\n" % (ep.tap, ep.ip, mac, ep.host_ip) + MALFORMED
        ep.ns_python(code)
        want = {"udp_bad_length": 2, "udp_bad_checksum": 1, "udp_truncated": 1}
        deadline = time.time() + 10
        while True:
            after = ep.stats()["total"]["drops"]
            moved = {k: after[k] - before[k] for k in want}
            if moved == want or time.time() > deadline:
                break
            time.sleep(0.1)
        assert moved == want
        assert ep.counter("udp_replies") == 0
        assert ep.stop() == 0, ep.log()

"""The data plane's TCP on unfriendly paths and against unfriendly clients:
overlapping segments with conflicting bytes (the first copy wins), clients
that stop reading and vanish (released within the user timeout), and a
last hop with a smaller MTU, with and without ICMP fragmentation-needed."""

import hashlib
import os
import signal
import subprocess
import tempfile
import time

from harness import PYTHON, Edgeplane, RoutedClient, nft

MIB = 1 << 20

# docs/tcp.md "Dead peers": user_timeout_ns (100 s) after the first unanswered
# probe, which comes at most one persist interval (capped at 60 s) after the
# peer went silent.
USER_TIMEOUT_S = 100
PERSIST_CAP_S = 60


OVERLAP = r"""
import sys, time
from scapy.all import IP, TCP, Raw, AsyncSniffer, conf, send, sr1
ip, iface, sport = sys.argv[1], sys.argv[2], int(sys.argv[3])
conf.verb = 0
a = b"GET /small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
b = b"GET /other.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
assert len(a) == len(b)
sn = AsyncSniffer(iface=iface, filter=f"tcp and src host {ip} and src port 80 and dst port {sport}")
sn.start()
time.sleep(0.5)
isn = 1000
syn = IP(dst=ip) / TCP(sport=sport, dport=80, flags="S", seq=isn, window=65535, options=[("MSS", 1460)])
sa = sr1(syn, timeout=5)
assert sa is not None and sa[TCP].flags & 0x12 == 0x12, sa
ack = sa[TCP].seq + 1
seg = lambda seq, data=b"", flags="A": IP(dst=ip) / TCP(sport=sport, dport=80, flags=flags, seq=seq,
                                                         ack=ack, window=65535) / Raw(data)
send(seg(isn + 1))
# Out of order: bytes 4.. of one request, then a second copy with other bytes,
# then the first 4 bytes that make both deliverable.
send(seg(isn + 5, a[4:], "PA"))
time.sleep(0.05)
send(seg(isn + 5, b[4:], "PA"))
time.sleep(0.05)
send(seg(isn + 1, a[:4], "PA"))
time.sleep(1.5)
sn.stop()
got = {}
for p in sn.results:
    if Raw in p:
        got[p[TCP].seq] = bytes(p[Raw].load)
data = b"".join(got[k] for k in sorted(got))
send(IP(dst=ip) / TCP(sport=sport, dport=80, flags="R", seq=isn + 1 + len(a)))
sys.stdout.write(data.decode("latin-1"))
"""


def test_overlapping_out_of_order_segments_keep_the_first_copy():
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        with open(os.path.join(tmp, "small.txt"), "wb") as f:
            f.write(b"the small one\n")
        with open(os.path.join(tmp, "other.txt"), "wb") as f:
            f.write(b"THE OTHER ONE\n")
        with Edgeplane() as ep:
            ep.ctl("ingest", tmp)
            sport = 47001
            # The kernel knows nothing of scapy's flow: keep it from resetting it.
            nft(ep, f"""table inet eptest {{
                chain out {{ type filter hook output priority 0; tcp sport {sport} tcp flags rst drop; }}
            }}""")
            out = ep.ns_python(f"import sys; sys.argv=['x', {ep.ip!r}, {ep.tap!r}, '{sport}']\n" + OVERLAP,
                               timeout=60).stdout
            assert out.startswith("HTTP/1.1 200"), out
            assert "the small one" in out and "THE OTHER ONE" not in out, out
            assert ep.stats()["tcp"]["ooo_segments"] >= 2
            assert ep.stop() == 0


ABANDON = r"""
import socket, sys, time
ip, src, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
socks = []
for i in range(n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # a tiny window
    s.bind((src, 0))
    s.connect((ip, 80))
    s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    socks.append(s)
print("ready", flush=True)
time.sleep(600)   # never reads
"""


def test_clients_that_stop_reading_and_vanish_are_released():
    n = 20
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        data = os.urandom(16 * MIB)
        with open(os.path.join(tmp, "big.bin"), "wb") as f:
            f.write(data)
        # HTTP's own send timeout would reset them first (60 s); this test is
        # about TCP releasing them by itself. The peer wire is off: with it
        # on, the pinned-RAM share is split between HTTP's and the swarm's
        # streams, and 4 of these 20 readers of a 64 MiB store were closed
        # before their windows closed (seen in CI; the cause is not yet
        # pinned down, docs/swarm.md "Not yet").
        with Edgeplane(args=["--ram-mb", "64", "--http-send-timeout-s", "0",
                             "--swarm-port", "0"]) as ep:
            ep.ctl("ingest", tmp)
            # The abandoning clients use a second address, so that their
            # traffic alone can be dropped.
            src = ep.host_ip.rsplit(".", 1)[0] + ".3"
            ep.ns_run(["ip", "addr", "add", f"{src}/24", "dev", ep.tap])
            clients = subprocess.Popen(["ip", "netns", "exec", ep.ns, PYTHON, "-c", ABANDON, ep.ip, src, str(n)],
                                       stdout=subprocess.PIPE, text=True)
            try:
                assert clients.stdout.readline().strip() == "ready"
                # Their windows close; the probes are answered: all stay open
                # (RFC 1122 4.2.2.17).
                deadline = time.time() + 30
                while ep.stats()["tcp"]["persist_probes"] < n and time.time() < deadline:
                    time.sleep(0.2)
                time.sleep(3)
                s = ep.stats()["tcp"]
                assert s["persist_probes"] >= n
                assert s["connections_open"] == n and s["user_timeouts"] == 0
                # They vanish without a word: nothing from that address gets out.
                nft(ep, f"""table inet eptest {{
                    chain out {{ type filter hook output priority 0; ip saddr {src} drop; }}
                }}""")
                clients.send_signal(signal.SIGKILL)
                clients.wait(10)
                gone_at = time.time()
                # Meanwhile a normal client downloads, byte-exact.
                r = ep.ns_run(["sh", "-c", f"curl -sS -m 120 http://{ep.ip}/big.bin | sha256sum"], timeout=130)
                assert r.stdout.split()[0] == hashlib.sha256(data).hexdigest(), r.stderr
                bound = USER_TIMEOUT_S + PERSIST_CAP_S + 10
                while ep.stats()["tcp"]["connections_open"] > 0 and time.time() < gone_at + bound:
                    time.sleep(1)
                s = ep.stats()["tcp"]
                assert s["connections_open"] == 0, s
                assert s["user_timeouts"] >= n, s
                print(f"released {time.time() - gone_at:.0f} s after the clients vanished")
            finally:
                if clients.poll() is None:
                    clients.kill()
                    clients.wait()
            assert ep.stop() == 0


FORGE = r"""
import sys
from scapy.all import IP, ICMP, TCP, conf, send
ep_ip, client_ip, cport, router_ip = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
conf.verb = 0
for seq in (0x12345678, 0x9abcdef0, 7):
    quoted = IP(src=ep_ip, dst=client_ip, flags="DF", len=1500) / TCP(sport=80, dport=cport, seq=seq, flags="A")
    send(IP(src=router_ip, dst=ep_ip) / ICMP(type=3, code=4, nexthopmtu=576) / bytes(quoted)[:48])
"""

IDLE = r"""
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=10)
print(s.getsockname()[1], flush=True)
time.sleep(30)
"""


def routed_download(icmp):
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        data = os.urandom(16 * MIB)
        with open(os.path.join(tmp, "big.bin"), "wb") as f:
            f.write(data)
        ep = Edgeplane(args=["--ram-mb", "64"])
        ep.args += ["--gateway", ep.host_ip]
        with ep, RoutedClient(ep, mtu=1400) as cl:
            ep.ctl("ingest", tmp)
            if not icmp:
                # A black hole: the router drops what does not fit and says nothing.
                nft(ep, """table inet eptest {
                    chain out { type filter hook output priority 0; icmp type destination-unreachable drop; }
                }""")
            r = cl.ns_run(["sh", "-c", f"curl -sS -m 120 http://{ep.ip}/big.bin | sha256sum"], timeout=130)
            assert r.stdout.split()[0] == hashlib.sha256(data).hexdigest(), r.stderr
            s = ep.stats()
            print({k: s["tcp"][k] for k in ("icmp_frag_needed", "icmp_frag_ignored", "pmtu_blackhole", "rto_fires",
                                            "retransmits")}, s["total"]["drops"]["icmp_frag_rejected"])
            if icmp:
                assert s["tcp"]["icmp_frag_needed"] > 0, s["tcp"]
                # Forged ICMP (a sequence number we never sent) for a live
                # connection: ignored and counted.
                idle = subprocess.Popen(["ip", "netns", "exec", cl.ns, PYTHON, "-c", IDLE, ep.ip],
                                        stdout=subprocess.PIPE, text=True)
                try:
                    cport = int(idle.stdout.readline())
                    before = ep.stats()["tcp"]
                    ep.ns_python(f"import sys; sys.argv=['x', {ep.ip!r}, {cl.ip!r}, '{cport}', {ep.host_ip!r}]\n"
                                 + FORGE, timeout=60)
                    deadline = time.time() + 10
                    while (ep.stats()["tcp"]["icmp_frag_out_of_window"] < before["icmp_frag_out_of_window"] + 3
                           and time.time() < deadline):
                        time.sleep(0.2)
                    after = ep.stats()
                    assert after["tcp"]["icmp_frag_out_of_window"] == before["icmp_frag_out_of_window"] + 3
                    assert after["tcp"]["icmp_frag_needed"] == before["icmp_frag_needed"]
                    assert after["total"]["drops"]["icmp_frag_rejected"] >= 3
                finally:
                    idle.kill()
                    idle.wait()
            else:
                assert s["tcp"]["icmp_frag_needed"] == 0, s["tcp"]
                assert s["tcp"]["pmtu_blackhole"] > 0, s["tcp"]
            assert ep.stop() == 0


def test_smaller_mtu_hop_with_icmp_frag_needed():
    routed_download(icmp=True)


def test_smaller_mtu_hop_black_hole():
    routed_download(icmp=False)

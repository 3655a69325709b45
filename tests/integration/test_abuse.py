"""Survival under abuse (issue 17): ten thousand idle connections and a
slowloris client while a real client downloads, mbuf exhaustion, and a SYN
flood while four downloads run. The per-lcore limits are hit and counted,
never crash the data plane; header and idle timeouts fire and free what the
abusers held; SYN cookies answer what the SYN queue cannot hold; the real
clients are served byte-exact."""

import hashlib
import json
import os
import re
import subprocess
import tempfile
import time

from harness import BUILD, Edgeplane

CHUNK = 256 * 1024
# Mbufs the TSO exhaustion test takes out of a 1200-mbuf pool (with 256-slot
# rings) so that only a dozen or so stay free for the data plane: with 44
# free (RESERVE 900) a fresh-clone CI once served all 32 downloads without
# ever running out, and the exhaustion this test is about never happened.
RESERVE = 930

# Opens N connections as fast as the kernel lets it, keeps every one that
# connected open (sending nothing), and reports how many connected and how
# many were refused or timed out. Non-blocking connects with epoll: 10k
# threads or blocking connects would take minutes.
IDLE = r"""
import errno, resource, select, socket, sys, time
ip, n, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 1024, n + 1024))
ep = select.epoll()
pending, up, failed = {}, [], 0
for i in range(n):
    s = socket.socket()
    s.setblocking(False)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    try:
        s.connect((ip, 80))
    except BlockingIOError:
        pass
    pending[s.fileno()] = s
    ep.register(s.fileno(), select.EPOLLOUT)
    if i % 256 == 255:  # let the handshakes keep up
        for fd, ev in ep.poll(0.05):
            s = pending.pop(fd)
            ep.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                up.append(s)
            else:
                failed += 1
                s.close()
deadline = time.time() + 30
while pending and time.time() < deadline:
    for fd, ev in ep.poll(0.2):
        s = pending.pop(fd)
        ep.unregister(fd)
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            up.append(s)
        else:
            failed += 1
            s.close()
print("idle", len(up), "failed", failed, "pending", len(pending), flush=True)
time.sleep(hold)
closed = 0
for s in up:  # how many the server closed meanwhile (EOF or reset)
    try:
        s.setblocking(False)
        closed += s.recv(1) == b""
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
print("closed_by_server", closed, flush=True)
"""

# One byte of a request head every `gap` seconds (the test: 2 s, half the
# header timeout, so a timer re-armed by each byte would never fire), for
# ever: the server must answer 408 and close once its header timeout runs
# out.
SLOWLORIS = r"""
import socket, sys, time
ip, gap = sys.argv[1], float(sys.argv[2])
s = socket.create_connection((ip, 80), timeout=5)
head = b"GET /real.bin HTTP/1.1\r\nHost: x\r\nX-a: " + b"b" * 1000
t0 = time.time()
try:
    for c in head:
        s.send(bytes([c]))
        time.sleep(gap)
        s.settimeout(0.01)
        try:
            got = s.recv(4096)
        except socket.timeout:
            continue
        finally:
            s.settimeout(5)
        print("answer", got.split(b"\r\n")[0].decode(), "after", round(time.time() - t0, 1), flush=True)
        break
except OSError as e:
    print("error", e, "after", round(time.time() - t0, 1), flush=True)
"""


# The flooder: bare SYNs (no options) from source ports
# lo..hi round-robin, with random sequence numbers, until `count` are sent or
# `secs` pass. The kernel of the sending namespace answers each SYN-ACK with
# a RST (it has no socket for it); the server must not care either way.
# Checksums by hand: one 20-byte header per packet.
SYN_FLOOD = r"""
import os, signal, socket, struct, sys, time
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))  # the test ends the flood
src, dst, lo, hi, count, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
sa, da = socket.inet_aton(src), socket.inet_aton(dst)
pseudo = sum(struct.unpack("!4H", sa + da)) + socket.IPPROTO_TCP + 20
seqs = struct.unpack("!4096I", os.urandom(4 * 4096))
sent = refused = 0
t0 = time.time()
print("flooding (python)", flush=True)
while sent < count and time.time() - t0 < secs and not stop:
    for k in range(512):
        sport = lo + (sent + refused) % (hi - lo + 1)
        seq = seqs[(sent + k) & 4095] ^ sent
        h = struct.pack("!HHIIBBHHH", sport, 80, seq & 0xFFFFFFFF, 0, 5 << 4, 0x02, 65535, 0, 0)
        t = pseudo + sum(struct.unpack("!10H", h))
        t = (t & 0xFFFF) + (t >> 16)
        t = (t & 0xFFFF) + (t >> 16)
        h = h[:16] + struct.pack("!H", ~t & 0xFFFF) + h[18:]
        try:
            s.sendto(h, (dst, 0))
            sent += 1
        except OSError as e:  # ENOBUFS: the TAP's queue is full, the flood is at its rate
            refused += 1
print("sent", sent, "refused", refused, "seconds", round(time.time() - t0, 2), flush=True)
"""


def _flood_cmd(ep, secs):
    """The flooder's command line (in the client namespace): 3 000 000 SYNs
    or `secs` seconds. The Python loop, not `edgebench synflood --rate 0`:
    on two CPUs the C flooder starves the downloads for as long as it runs
    (a fresh-clone CI saw all four time out at 120 s under its 90 s flood),
    and this test is about surviving a flood, not the goodput share, which
    bench/syn_flood_goodput.py measures with edgebench."""
    return ["ip", "netns", "exec", ep.ns, "/usr/bin/python3", "-c",
            f"import sys; sys.argv=['x', {ep.host_ip!r}, {ep.ip!r}, '40000', '65000', "
            f"'3000000', '{secs}']\n" + SYN_FLOOD]


def _flood_result(out):
    """(sent, seconds) from either flooder's last line."""
    last = out.strip().splitlines()[-1] if out.strip() else ""
    if last.startswith("{"):
        r = json.loads(last)
        return r["sent"], r["seconds"]
    f = last.split()  # sent N refused M seconds S
    return (int(f[1]), float(f[5])) if len(f) == 6 else (0, 0.0)


def _four_downloads(ep, want, retries):
    """Four concurrent downloads; returns (wall seconds, sha256 list, stderr)."""
    cmd = (f"for i in 1 2 3 4; do (curl -sS -m 120 --retry {retries} --retry-delay 1 --retry-all-errors "
           f"http://{ep.ip}/flood.bin | sha256sum) & done; wait")
    t0 = time.monotonic()
    r = ep.ns_run(["sh", "-c", cmd], timeout=240, check=False)
    return time.monotonic() - t0, [l.split()[0] for l in r.stdout.splitlines() if l.strip()], r.stderr


def test_syn_flood_while_four_downloads_run():
    """SYN flood from the client namespace while four downloads run: the
    downloads finish byte-exact, the SYN queue overflows into SYN cookies
    (the cookie counters move), and the data plane keeps serving. The
    goodput share (baseline time / time under flood, same bytes) is printed
    as a measurement, never asserted (a shared machine: docs/testing.md)."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        data = os.urandom(32 * CHUNK)
        with open(os.path.join(tmp, "flood.bin"), "wb") as f:
            f.write(data)
        want = hashlib.sha256(data).hexdigest()
        # A small SYN queue, so the flood overflows it at once and the
        # stateless path (RFC 4987 cookies) answers the rest.
        with Edgeplane(args=["--ram-mb", "64", "--tcp-syn-backlog", "64"]) as ep:
            assert "stored 1 objects" in ep.ctl("ingest", tmp).stdout
            # The downloads' ports stay below the flood's, so no flood SYN
            # ever lands on a real connection's 4-tuple.
            ep.ns_run(["sysctl", "-qw", "net.ipv4.ip_local_port_range=20000 39999"])
            base_s, shas, err = _four_downloads(ep, want, 0)
            assert shas == [want] * 4, err
            before = ep.stats()["tcp"]
            flood = subprocess.Popen(_flood_cmd(ep, 90), stdout=subprocess.PIPE, text=True)
            try:
                assert flood.stdout.readline().startswith("flooding")
                time.sleep(1)  # the flood is at its rate before the downloads start
                mid = ep.stats()["tcp"]
                flood_s, shas, err = _four_downloads(ep, want, 20)
                still_flooding = flood.poll() is None
            finally:
                flood.terminate()
                try:
                    sent, secs = _flood_result(flood.communicate(timeout=10)[0])
                except subprocess.TimeoutExpired:
                    flood.kill()
                    flood.wait()
                    sent, secs = 0, 0.0
            assert shas == [want] * 4, err
            after = ep.stats()["tcp"]
            rate = sent / secs if secs else 0
            print(f"\nSYN flood: {sent} sent in {secs:.1f} s ({rate:.0f} SYN/s); four downloads of {len(data)} bytes: "
                  f"{base_s:.2f} s alone, {flood_s:.2f} s under flood (flood still running at the end: "
                  f"{still_flooding}); goodput share {base_s / flood_s:.1%}; syncookies_sent "
                  f"{after['syncookies_sent'] - before['syncookies_sent']}, syncookies_valid "
                  f"{after['syncookies_valid'] - before['syncookies_valid']}, syn_queue_full "
                  f"{after['syn_queue_full'] - before['syn_queue_full']}")
            assert sent > 0, "the flooder sent nothing"
            # The flood overflowed the SYN queue and cookies answered it.
            assert mid["syncookies_sent"] > before["syncookies_sent"], (before, mid)
            assert after["syn_queue_full"] > before["syn_queue_full"], after
            assert ep.stop() == 0


def test_ten_thousand_idle_connections_and_slowloris_while_a_client_downloads():
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        data = os.urandom(4 * CHUNK + 999)
        with open(os.path.join(tmp, "real.bin"), "wb") as f:
            f.write(data)
        want = hashlib.sha256(data).hexdigest()
        # Limits below the attack: 10k connections against 6000 TCP control
        # blocks and 3000 HTTP sessions per lcore; timeouts short enough to
        # see them fire in the test.
        args = ["--ram-mb", "64", "--tcp-max-conns", "6000", "--http-max-conns", "3000",
                "--http-header-timeout-ms", "4000", "--http-idle-timeout-ms", "4000"]
        with Edgeplane(args=args) as ep:
            assert "stored 1 objects" in ep.ctl("ingest", tmp).stdout
            ep.ns_run(["sysctl", "-qw", "net.ipv4.ip_local_port_range=20000 60999"])
            slow = subprocess.Popen(["ip", "netns", "exec", ep.ns, "/usr/bin/python3", "-c",
                                     f"import sys; sys.argv=['x', {ep.ip!r}, '2']\n" + SLOWLORIS],
                                    stdout=subprocess.PIPE, text=True)
            time.sleep(1)  # connected before the pool is full
            idle = subprocess.Popen(["ip", "netns", "exec", ep.ns, "/usr/bin/python3", "-c",
                                     f"import sys; sys.argv=['x', {ep.ip!r}, '10000', '12']\n" + IDLE],
                                    stdout=subprocess.PIPE, text=True)
            try:
                line = idle.stdout.readline().split()
                assert line[0] == "idle", line
                opened, failed = int(line[1]), int(line[3])
                # The real client, while the idle ones still hold what they
                # got: retried until served, it must get every byte.
                r = ep.ns_run(["sh", "-c", f"curl -sS -m 60 --retry 20 --retry-delay 1 --retry-all-errors "
                                            f"http://{ep.ip}/real.bin | sha256sum"], timeout=90, check=False)
                assert r.stdout.split()[0] == want, r.stderr
                slow_out = slow.stdout.readline().split()
                closed = idle.stdout.readline().split()
                idle.wait(60)
                slow.wait(30)
            finally:
                for p in (idle, slow):
                    if p.poll() is None:
                        p.kill()
            s = ep.stats()
            tcp, http = s["tcp"], s["http"]
            # The attack was more than the limits: refusals were counted.
            assert opened + failed >= 9000, (opened, failed)
            assert tcp["conn_limit"] + http["conn_pool_exhausted"] > 0, (tcp, http)
            # Timeouts fired: the idle ones were closed by the server, the
            # slowloris got its 408 within the header timeout (plus slack).
            assert closed[0] == "closed_by_server" and int(closed[1]) >= min(opened, 3000) * 0.9, (closed, opened)
            assert http["header_timeouts"] + http["idle_timeouts"] >= min(opened, 3000) * 0.9, http
            assert slow_out[:2] == ["answer", "HTTP/1.1"] and slow_out[2] == "408", slow_out
            assert float(slow_out[-1]) < 10, slow_out
            assert ep.stop() == 0


def test_a_pool_too_small_for_the_rings_is_refused_at_start():
    ep = Edgeplane(args=["--mbufs", "1023"])
    try:
        # The daemon creates the TAP, then refuses the pool and exits: the
        # harness fails either waiting for it or configuring the TAP it took
        # away. Either way the verdict is the daemon's exit and its log.
        try:
            ep.start(timeout=30)
            raise AssertionError("edgeplane started with 1023 mbufs for 2048 ring slots")
        except (RuntimeError, subprocess.CalledProcessError):
            pass
        assert ep.proc.wait(30) != 0, ep.log()
        assert "--mbufs 1023 is too small" in ep.log() and "give --mbufs" in ep.log(), ep.log()
    finally:
        ep.cleanup()


def test_mbuf_exhaustion_under_load_is_counted_and_recovers():
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        data = os.urandom(16 * CHUNK)
        with open(os.path.join(tmp, "big.bin"), "wb") as f:
            f.write(data)
        want = hashlib.sha256(data).hexdigest()
        # Just above what the rings and the lcore's cache need (1088 with
        # 256-slot rings): 32 concurrent downloads need more buffers in
        # flight than are left. TSO off: with it a super-segment of up to 45
        # MSS takes a header and a slice or two, so the same load exhausts
        # the pool only sometimes (a fresh-clone CI run saw no exhaustion).
        with Edgeplane(args=["--ram-mb", "64", "--rx-desc", "256", "--tx-desc", "256", "--mbufs", "1200",
                             "--tso", "false"]) as ep:
            assert "stored 1 objects" in ep.ctl("ingest", tmp).stdout
            idle_in_use = ep.stats()["port"]["mbufs_in_use"]
            r = ep.ns_run(["sh", "-c", f"for i in $(seq 32); do (curl -sS -m 120 http://{ep.ip}/big.bin | sha256sum) & done; wait"],
                          timeout=180, check=False)
            assert r.stdout.count(want) == 32, (r.stdout, r.stderr)
            s = ep.stats()
            assert s["total"]["drops"]["tcp_mbuf_exhausted"] > 0, s["total"]["drops"]
            # Recovered: a new download works, and the pool is back where it was.
            r = ep.ns_run(["sh", "-c", f"curl -sS -m 60 http://{ep.ip}/big.bin | sha256sum"], timeout=90)
            assert r.stdout.split()[0] == want
            time.sleep(1)
            assert ep.stats()["port"]["mbufs_in_use"] <= idle_in_use + 256 + 64, (idle_in_use, ep.stats()["port"])
            assert ep.stop() == 0
            assert "all 1200 mbufs returned" in ep.log(), ep.log()[-2000:]


def test_mbuf_exhaustion_with_tso_is_counted_and_recovers():
    """The same abuse with TSO on. A super-segment takes a header mbuf and
    one attached slice per chunk piece, and net_tap frees them in the same
    flush, so the smallest pool the start-up check allows never runs dry:
    --test-reserve-mbufs holds all but a few dozen of the free mbufs on the
    control thread (returned at exit). Then the header allocation and the
    slice attach both fail now and then; each failure is a frame not sent,
    counted tcp_mbuf_exhausted, that TCP repairs as a loss. Every download
    completes byte-exact (none is reset: the connections only lose frames),
    a later one works, and every mbuf is back in the pool at exit."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        data = os.urandom(16 * CHUNK)
        with open(os.path.join(tmp, "big.bin"), "wb") as f:
            f.write(data)
        want = hashlib.sha256(data).hexdigest()
        args = ["--ram-mb", "64", "--rx-desc", "256", "--tx-desc", "256", "--mbufs", "1200",
                "--test-reserve-mbufs", str(RESERVE)]
        with Edgeplane(args=args) as ep:
            assert re.search(r"tso on", ep.log()), ep.log()
            m = re.search(r"test reserve: holding (\d+) mbufs, (\d+) left free", ep.log())
            assert m and int(m.group(1)) == RESERVE, ep.log()
            assert int(m.group(2)) <= 64, m.group(0)  # a spare pool a few bursts deep
            assert "stored 1 objects" in ep.ctl("ingest", tmp).stdout
            idle_in_use = ep.stats()["port"]["mbufs_in_use"]
            before = ep.stats()
            r = ep.ns_run(["sh", "-c", f"for i in $(seq 32); do (curl -sS -m 150 http://{ep.ip}/big.bin | sha256sum) & done; wait"],
                          timeout=200, check=False)
            assert r.stdout.count(want) == 32, (r.stdout, r.stderr)
            s = ep.stats()
            tcp = s["tcp"]
            print(f"\n{m.group(0)}; tso_sends {tcp['tso_sends'] - before['tcp']['tso_sends']}, "
                  f"tcp_mbuf_exhausted {s['total']['drops']['tcp_mbuf_exhausted']}, rx_nombuf "
                  f"{s['port']['rx_nombuf']}, retransmits {tcp['retransmits'] - before['tcp']['retransmits']}")
            # The load went out in super-segments, and some could not be built.
            assert tcp["tso_sends"] - before["tcp"]["tso_sends"] > 100, tcp
            assert s["total"]["drops"]["tcp_mbuf_exhausted"] > 0, s["total"]["drops"]
            assert tcp["rst_tx"] == before["tcp"]["rst_tx"], tcp
            # Recovered: a new download works, and the pool is back where it was.
            r = ep.ns_run(["sh", "-c", f"curl -sS -m 60 http://{ep.ip}/big.bin | sha256sum"], timeout=90)
            assert r.stdout.split()[0] == want
            time.sleep(1)
            assert ep.stats()["port"]["mbufs_in_use"] <= idle_in_use + 64, (idle_in_use, ep.stats()["port"])
            assert ep.stop() == 0
            assert "all 1200 mbufs returned" in ep.log(), ep.log()[-2000:]

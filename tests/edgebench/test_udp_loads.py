"""edgebench's DPDK UDP loads against edgeplane over net_memif: `edgebench
udp` (echo), `edgebench dns` and `edgebench tracker --dpdk-port` each run
to the end with every reply checked, their reports keep the fields and the
line the bench scripts parse (udp_echo.py, dns_bench.py,
swarm_tracker_bench.py), and the server counted what the load says it
answered. Counts, not timings: a loaded machine changes how many, never
whether they add up."""

import json
import os
import re
import subprocess
import sys
import tempfile
import shutil

import pytest

SRC = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(SRC, "bench", "edgebench"))
import compare  # noqa: E402
import dns_bench  # noqa: E402  (the bench zone, its steered name and the two mixes)

BUILD = os.environ.get("EDGEPLANE_BUILD", os.path.join(SRC, "build"))
EDGEBENCH = os.path.join(BUILD, "bench", "edgebench")

UDP_KEYS = {"seconds", "size", "window", "sent", "received", "mismatched", "lost", "tx_refused",
            "alloc_failed", "echoes_per_s"}
DNS_KEYS = {"seconds", "window", "sent", "answered", "bad", "truncated", "unknown_id", "lost",
            "tx_refused", "alloc_failed", "answers_per_s"}
TRACKER_KEYS = {"proto", "seconds", "announces", "connects", "errors", "bad", "timeouts",
                "reconnects", "reply_bytes", "announces_per_s"}
UDP_LINE = re.compile(r"^(\d+) sent, (\d+) echoed byte-exact, (\d+) mismatched, (\d+) lost "
                      r"in \d+\.\d\d s: \d+ echoes/s$")
DNS_LINE = re.compile(r"^(\d+) sent, (\d+) answered as expected, (\d+) bad "
                      r"\(\d+ with an id not in flight\), (\d+) lost "
                      r"in \d+\.\d\d s: \d+/s$")
TRACKER_LINE = re.compile(r"^udp: (\d+) announces in \d+\.\d\d s \(\d+/s\), (\d+) connects, "
                          r"(\d+) error replies, (\d+) bad, (\d+) timeouts, (\d+) reconnects$")


@pytest.fixture(scope="module")
def edgeplane():
    work = tempfile.mkdtemp(prefix="edgebench-udp-loads-")
    zone = os.path.join(work, "bench.test.zone")
    with open(zone, "w") as f:
        f.write(dns_bench.ZONE)
    tag = f"u{os.getpid() % 100000}"
    ep = compare.Edgeplane(BUILD, tag, f"/run/edgeplane-bench/test-{tag}.sock", ram_mb=192,
                           extra=["--udp-echo-port", "7", "--dns-port", "53", "--dns-zone", zone,
                                  "--dns-steer", dns_bench.STEER, "--dns-tcp-conns", "0",
                                  "--tracker-open", "true", "--tracker-port", "6969"])
    try:
        ep.start()
        yield ep
        assert ep.stop() == 0, ep.log()  # clean exit: no mbuf leaked
    finally:
        ep.cleanup()
        shutil.rmtree(work, ignore_errors=True)


def port_of(ep):
    return f"net_memif0,role=client,socket={ep.memif}" + (
        f",{compare.MEMIF_OPTS}" if compare.MEMIF_OPTS else "")


def edgebench(ep, cmd, *args, port_flag="--port", timeout=90):
    """Runs `edgebench CMD` as the bench scripts do; returns (rc, stdout lines, stderr)."""
    argv = [EDGEBENCH, cmd, port_flag, port_of(ep), "--ip", "10.79.0.1/24", "--server", "10.79.0.2",
            "--lcore", "0"] + list(args)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout.strip().splitlines(), p.stderr


def counter(ep, section, name):
    return compare.section(ep.stats(), section).get(name, 0)


def test_udp_echo_report(edgeplane):
    before = counter(edgeplane, "udp_echo", "datagrams")
    rc, out, err = edgebench(edgeplane, "udp", "--size", "200", "--window", "64", "-n", "3000",
                             "-d", "60", "--json")
    assert rc == 0, err
    rep = json.loads(out[-1])
    assert set(rep) == UDP_KEYS
    assert rep["size"] == 200 and rep["window"] == 64
    assert rep["sent"] == 3000  # -n: the count, whatever the speed
    assert rep["mismatched"] == 0
    assert rep["received"] > 0 and rep["received"] + rep["lost"] == rep["sent"]
    # every echo the load saw, the server sent (a late one is only the server's)
    echoed = counter(edgeplane, "udp_echo", "datagrams") - before
    assert rep["received"] <= echoed <= rep["sent"]

    rc, out, err = edgebench(edgeplane, "udp", "-n", "500", "-d", "60")
    assert rc == 0, err
    m = UDP_LINE.match(out[-1])
    assert m, out
    sent, received, mismatched, lost = map(int, m.groups())
    assert sent == 500 and mismatched == 0 and received + lost == sent


@pytest.mark.parametrize("mix", ["plain", "ecs"])
def test_dns_report(edgeplane, mix):
    name, ecs = dns_bench.MIXES[mix]
    extra = ["--ecs", ecs, "--min-answers", "2"] if ecs else []
    before = counter(edgeplane, "dns", "queries")
    rc, out, err = edgebench(edgeplane, "dns", "--name", name, "--window", "64", "-n", "2000",
                             "-d", "60", "--json", *extra)
    assert rc == 0, err
    rep = json.loads(out[-1])
    assert set(rep) == DNS_KEYS
    assert rep["sent"] == 2000 and rep["bad"] == 0 and rep["truncated"] == 0
    assert rep["unknown_id"] == 0  # every response matched a query in flight, once
    assert rep["answered"] > 0 and rep["answered"] + rep["lost"] == rep["sent"]
    queries = counter(edgeplane, "dns", "queries") - before
    assert rep["answered"] <= queries <= rep["sent"]

    rc, out, err = edgebench(edgeplane, "dns", "--name", name, "-n", "300", "-d", "60", *extra)
    assert rc == 0, err
    m = DNS_LINE.match(out[-1])
    assert m, out
    sent, answered, bad, lost = map(int, m.groups())
    assert sent == 300 and bad == 0 and answered + lost == sent


def test_dns_unexpected_answers_fail(edgeplane):
    """The check has teeth: a name outside the zone's records (NXDOMAIN) is a
    bad response every time, and the command exits 1 after its report,
    saying why on stderr."""
    rc, out, err = edgebench(edgeplane, "dns", "--name", "nowhere.bench.test", "-n", "200",
                             "-d", "60", "--json")
    assert rc == 1, (out, err)
    assert "edgebench dns: unexpected responses" in err, err
    rep = json.loads(out[-1])
    assert rep["answered"] == 0 and rep["bad"] > 0 and rep["bad"] + rep["lost"] == 200


@pytest.mark.parametrize("connect_each", [False, True])
def test_tracker_dpdk_report(edgeplane, connect_each):
    before = counter(edgeplane, "tracker", "announces")
    args = ["--port", "6969", "--proto", "udp", "--window", "32", "--duration", "1",
            "--peers", "50", "--hashes", "4"] + (["--connect-each"] if connect_each else [])
    rc, out, err = edgebench(edgeplane, "tracker", *args, "--json", port_flag="--dpdk-port")
    assert rc == 0, err
    rep = json.loads(out[-1])
    assert set(rep) == TRACKER_KEYS
    assert rep["proto"] == "udp"
    assert rep["announces"] > 0 and rep["bad"] == 0 and rep["errors"] == 0
    assert rep["reconnects"] == 0  # HTTP only
    if connect_each:  # every other datagram a connect: as many as the announces, within the window
        assert abs(rep["connects"] - rep["announces"]) <= 32
    else:
        assert rep["connects"] == 0  # the first ID is kept (its connect is not in the report)
    # 98-byte announces answered with 20 bytes and the peers (6 bytes each)
    assert rep["reply_bytes"] >= 20 * rep["announces"] + 16 * rep["connects"]
    served = counter(edgeplane, "tracker", "announces") - before
    assert served >= rep["announces"]

    rc, out, err = edgebench(edgeplane, "tracker", *args, port_flag="--dpdk-port")
    assert rc == 0, err
    m = TRACKER_LINE.match(out[-1])
    assert m, out
    assert int(m.group(1)) > 0 and int(m.group(4)) == 0


@pytest.mark.parametrize("argv, option", [
    (["udp", "--server", "10.79.0"], "--server"),
    (["udp", "--size", "7"], "--size"),
    (["udp", "--server", "nowhere", "--size", "7"], "--server"),  # the server is checked first
    (["dns", "--name", "a..b"], "--name"),
    (["dns", "--type", "MX"], "--type"),
    (["dns", "--server", "x", "--name", "a..b"], "--server"),
    (["dns", "--ecs", "198.51.100.0/33"], "--ecs"),
    (["tracker", "--dpdk-port", "net_memif0", "--server", "10.79.0"], "--server"),
])
def test_options_are_checked_before_eal(argv, option):
    """A wrong option is refused before EAL starts (no port, no hugepages
    touched: the vdev named here does not exist)."""
    base = [] if argv[0] == "tracker" else ["--port", "net_null0", "--ip", "10.79.0.1/24"]
    p = subprocess.run([EDGEBENCH] + argv[:1] + base + argv[1:], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode != 0
    assert option in p.stderr, p.stderr
    assert "EAL" not in p.stderr


def test_tracker_kernel_requests_are_bep15(tmp_path):
    """`edgebench tracker` over a kernel socket (as against opentracker), to a
    scripted tracker on loopback: every datagram is a BEP 15 connect or an
    announce whose fields follow from its key k (hash k % hashes, peer
    -EB0001-<k % peers>, port 10000 + k % peers, half of them seeds), with
    the connection ID this tracker handed out; connect replies lead to
    announces, announce replies are counted."""
    import socket
    import struct
    import threading
    hashes = ["11" * 20, "22" * 20]
    cid = 0x0123456789ABCDEF
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    srv.settimeout(0.2)
    seen = {"connects": 0, "announces": 0, "wrong": []}
    done = threading.Event()

    def serve():
        while not done.is_set():
            try:
                d, peer = srv.recvfrom(2048)
            except socket.timeout:
                continue
            if len(d) == 16 and d[:12] == struct.pack(">QI", 0x41727101980, 0):
                seen["connects"] += 1
                srv.sendto(struct.pack(">IIQ", 0, struct.unpack(">I", d[12:16])[0], cid), peer)
                continue
            k = struct.unpack(">I", d[88:92])[0] if len(d) == 98 else 0
            want = (struct.pack(">QII", cid, 1, struct.unpack(">I", d[12:16])[0] if len(d) >= 16 else 0)
                    + bytes.fromhex(hashes[k % 2]) + f"-EB0001-{k % 50:012d}".encode()
                    + struct.pack(">QQQIIIiH", 0, 0 if k & 1 else 1 << 20, 0, 0, 0, k, 30, 10000 + k % 50))
            if d != want:
                seen["wrong"].append(d.hex())
                continue
            seen["announces"] += 1
            srv.sendto(struct.pack(">IIIII", 1, struct.unpack(">I", d[12:16])[0], 1800, 0, 1), peer)

    t = threading.Thread(target=serve)
    t.start()
    try:
        p = subprocess.run([EDGEBENCH, "tracker", "--server", "127.0.0.1", "--port",
                            str(srv.getsockname()[1]), "--proto", "udp", "--window", "8", "--duration",
                            "1", "--peers", "50", "--numwant", "30", "--hash", hashes[0], "--hash", hashes[1],
                            "--json"], capture_output=True, text=True, timeout=60)
    finally:
        done.set()
        t.join()
        srv.close()
    assert p.returncode == 0, p.stderr
    assert seen["wrong"] == []
    rep = json.loads(p.stdout.strip().splitlines()[-1])
    assert set(rep) == TRACKER_KEYS
    assert 0 < rep["announces"] <= seen["announces"] and rep["bad"] == 0 and rep["errors"] == 0
    assert 8 <= rep["connects"] <= seen["connects"]


def test_a_failing_subcommand_says_why():
    """A subcommand's CLI::RuntimeError reaches stderr with its exit code
    (CLI11 alone prints nothing for it): `http` without URLs fails before
    EAL with its reason."""
    p = subprocess.run([EDGEBENCH, "http", "--port", "net_null0", "--ip", "10.79.0.1/24"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, p
    assert "no URLs (--url or --url-file)" in p.stderr, p.stderr
    assert "EAL" not in p.stderr

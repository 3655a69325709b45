"""Foundation: the appliance answers ARP and ping through a TAP and exits cleanly."""

import re
import signal
import time

from harness import Edgeplane


def test_ping_small_and_large_and_arp_resolved():
    with Edgeplane() as ep:
        r = ep.ns_run(["ping", "-c", "3", "-i", "0.2", "-W", "2", ep.ip])
        assert " 0% packet loss" in r.stdout, r.stdout
        r = ep.ns_run(["ping", "-c", "3", "-i", "0.2", "-W", "2", "-s", "1400", ep.ip])
        assert " 0% packet loss" in r.stdout, r.stdout
        assert "1408 bytes from" in r.stdout

        # The kernel's neighbour table learned our MAC through ARP.
        mac = re.search(r"mac (\S+)", ep.ctl("ports").stdout).group(1).lower()
        neigh = ep.ns_run(["ip", "neigh", "show", ep.ip]).stdout.lower()
        assert mac in neigh, (mac, neigh)

        c = ep.stats()["total"]["counters"]
        assert c["icmp_echo_replies"] >= 6
        assert c["arp_replies"] >= 1
        assert c["tx_packets"] >= 7
        assert c["rx_packets"] >= c["tx_packets"]
        assert ep.stop() == 0
        assert "all" in ep.log() and "mbufs returned" in ep.log()


def test_ping_larger_than_mtu_is_fragmented_and_dropped_by_counter():
    with Edgeplane() as ep:
        r = ep.ns_run(["ping", "-c", "1", "-W", "1", "-s", "2000", ep.ip], check=False)
        assert r.returncode != 0
        assert ep.counter("ipv4_fragment") >= 2


MALFORMED = r"""
from scapy.all import Ether, IP, ICMP, ARP, Raw, sendp, get_if_hwaddr
import sys
iface, ip, mac, src = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
eth = Ether(dst=mac)
frames = [
    eth / IP(src=src, dst=ip, chksum=0x1234) / ICMP(),                          # ipv4_bad_checksum
    eth / IP(src=src, dst=ip, ihl=4) / ICMP(),                                  # ipv4_bad_ihl
    eth / IP(src=src, dst=ip, len=1000) / ICMP(),                               # ipv4_bad_length
    eth / IP(src=src, dst=ip, version=6) / ICMP(),                              # ipv4_bad_version
    eth / IP(src=src, dst="10.99.99.99") / ICMP(),                              # ipv4_not_for_us
    eth / IP(src=src, dst=ip) / ICMP(chksum=0x4321),                            # icmp_bad_checksum
    eth / IP(src=src, dst=ip) / ICMP(type=13),                                  # icmp_unsupported_type
    eth / IP(src=src, dst=ip, proto=99) / Raw(b"x" * 8),                        # ipv4_unknown_protocol
    Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst="10.99.99.99"),          # arp_not_for_us
    Ether(dst=mac, type=0x0800) / Raw(b"\x45\x00"),                    # ipv4_truncated
]
sendp(frames, iface=iface, verbose=False)
"""

EXPECTED_DROPS = ["ipv4_bad_checksum", "ipv4_bad_ihl", "ipv4_bad_length", "ipv4_bad_version",
                  "ipv4_not_for_us", "icmp_bad_checksum", "icmp_unsupported_type",
                  "ipv4_unknown_protocol", "arp_not_for_us", "ipv4_truncated"]


def test_malformed_packets_are_counted_by_reason_and_service_continues():
    with Edgeplane() as ep:
        mac = re.search(r"mac (\S+)", ep.ctl("ports").stdout).group(1)
        ep.ns_run(["ping", "-c", "1", "-W", "2", ep.ip])  # warm up ARP
        before = ep.stats()["total"]["drops"]
        code = "import sys; sys.argv = ['x', %r, %r, %r, %r]\n" % (ep.tap, ep.ip, mac, ep.host_ip) + MALFORMED
        ep.ns_python(code)
        deadline = time.time() + 10
        while True:
            after = ep.stats()["total"]["drops"]
            missing = [d for d in EXPECTED_DROPS if after[d] <= before[d]]
            if not missing or time.time() > deadline:
                break
            time.sleep(0.1)
        assert not missing, f"drop counters that did not move: {missing}"
        r = ep.ns_run(["ping", "-c", "2", "-i", "0.2", "-W", "2", ep.ip])
        assert " 0% packet loss" in r.stdout
        assert ep.stop() == 0


def test_sigint_and_sigterm_exit_zero_with_no_mbuf_leaked():
    for sig in (signal.SIGINT, signal.SIGTERM):
        with Edgeplane() as ep:
            # Traffic in flight while stopping; the count matters less than mbufs moving.
            ep.ns_run(["ping", "-c", "20", "-i", "0.01", "-W", "2", ep.ip], check=False)
            assert ep.counter("icmp_echo_replies") > 0
            assert ep.stop(sig) == 0, ep.log()
            assert re.search(r"all \d+ mbufs returned", ep.log()), ep.log()


def test_tap_frames_raise_no_pending_signals():
    """net_tap signals each received frame (F_SETSIG); the daemon ignores
    those signals once the port is up and polls instead. Left blocked, they
    queued without end: after a few thousand frames the user's pending-signal
    limit was full and EAL's shutdown hung on pthread_cancel."""
    with Edgeplane() as ep:
        r = ep.ns_run(["ping", "-c", "3000", "-i", "0.0005", "-q", "-W", "2", ep.ip], check=False, timeout=60)
        assert ep.counter("icmp_echo_replies") > 2000, r.stdout
        with open(f"/proc/{ep.proc.pid}/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
        assert int(status["ShdPnd"], 16) == 0 and int(status["SigPnd"], 16) == 0, status
        assert ep.stop() == 0, ep.log()


def test_bad_flags_give_clear_error():
    import subprocess
    from harness import EDGEPLANE
    r = subprocess.run([EDGEPLANE, "--port", "net_null0", "--ip", "10.0.0.1"], capture_output=True, text=True)
    assert r.returncode != 0
    assert "A.B.C.D/LEN" in r.stderr

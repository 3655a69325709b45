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


def slow_download(ep, name, rate, timeout):
    return ep.ns_run(["sh", "-c", f"curl -sS -m {timeout} --limit-rate {rate} http://{ep.ip}/{name} | sha256sum"],
                     timeout=timeout + 30, check=False)


def content(tmp, nbytes):
    data = os.urandom(nbytes)
    with open(os.path.join(tmp, "slow.bin"), "wb") as f:
        f.write(data)
    return hashlib.sha256(data).hexdigest()


def test_stale_neighbour_is_polled_by_unicast_and_kept():
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        digest = content(tmp, 8 * CHUNK)  # 2 MiB at 400 KB/s: ~5 s
        with Edgeplane(args=["--ram-mb", "64", "--arp-reachable-s", "1"]) as ep:
            assert "stored 1 objects" in ep.ctl("ingest", tmp).stdout
            # A small receive buffer, so the appliance sends for as long as
            # curl reads (autotuning would take the whole object in 1 s).
            ep.ns_run(["sysctl", "-qw", "net.ipv4.tcp_rmem=4096 65536 131072"])
            r = slow_download(ep, "slow.bin", "400k", 60)
            assert r.stdout.split()[0] == digest, r.stderr
            t = ep.stats()["total"]
            # Stale after 1 s, polled at most once a second: a few polls, each
            # answered (an unanswered one would have let the entry expire).
            assert t["counters"]["arp_polls_sent"] >= 2, t["counters"]
            assert t["counters"]["arp_expired"] == 0, t["counters"]
            assert t["drops"].get("tcp_no_route", 0) == 0, t["drops"]
            assert ep.stop() == 0

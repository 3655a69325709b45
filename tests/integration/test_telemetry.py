"""DPDK telemetry: the daemon's counters as /edgeplane/stats commands on EAL's
telemetry socket, read with Debian's dpdk-telemetry.py (and a plain socket
client of the v2 protocol): a counter that moved reads moved."""

import json
import os
import shutil
import socket
import subprocess

import pytest

from harness import Edgeplane

TOOL = shutil.which("dpdk-telemetry.py")


def telemetry(ep, cmd):
    """One command through dpdk-telemetry.py (it finds the socket by --file-prefix)."""
    r = subprocess.run([TOOL, "-f", ep.prefix], input=cmd + "\n", capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    line = next(l for l in r.stdout.splitlines() if l.startswith("{"))
    return json.loads(line)[cmd.split(",")[0]]


def raw(path, cmd):
    """The v2 protocol by hand: SOCK_SEQPACKET, a JSON greeting, then one
    JSON answer per command."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    greeting = json.loads(s.recv(1 << 16))
    s.send(cmd.encode())
    reply = json.loads(s.recv(1 << 16))
    s.close()
    return greeting, reply


@pytest.mark.skipif(not TOOL, reason="dpdk-telemetry.py (Debian package dpdk) is not installed")
def test_telemetry_reads_counters_that_moved():
    with Edgeplane(args=["--ram-mb", "64"]) as ep:
        # --in-memory still gives EAL a runtime folder, named after --file-prefix.
        path = f"/var/run/dpdk/{ep.prefix}/dpdk_telemetry.v2"
        assert path in ep.log()
        assert os.path.exists(path)
        sections = telemetry(ep, "/edgeplane/stats")
        assert {"lcore", "tcp", "http", "cache", "chunkstore"} <= set(sections), sections
        before = telemetry(ep, "/edgeplane/stats,lcore")["icmp_echo_replies"]
        ep.ns_run(["ping", "-c", "3", "-i", "0.2", ep.ip])
        after = telemetry(ep, "/edgeplane/stats,lcore")
        assert after["icmp_echo_replies"] == before + 3, after
        assert after["drops_ipv4_bad_checksum"] == 0
        # One lcore's share, and the same through a socket client of our own.
        assert telemetry(ep, "/edgeplane/stats,lcore,1")["icmp_echo_replies"] == before + 3
        greeting, reply = raw(path, "/edgeplane/stats,lcore")
        assert greeting["version"].startswith("DPDK 22.11") and greeting["max_output_len"] > 0, greeting
        assert reply["/edgeplane/stats"]["icmp_echo_replies"] == before + 3
        # EAL's own commands are still there; a section we do not have is null.
        assert telemetry(ep, "/ethdev/list") == [0]
        assert telemetry(ep, "/edgeplane/stats,nope") is None
        assert ep.stop() == 0, ep.log()

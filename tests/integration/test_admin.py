"""The admin socket never lets one client stall the control thread: a client
that sends a command and never reads its (large) answer, or that connects
and sends nothing, leaves `edgectl ping` prompt and SIGTERM honoured."""

import os
import socket
import subprocess
import tempfile
import time

import pytest

from harness import EDGECTL, Edgeplane

AdminWriteStall = 5.0  # AdminSocket::kWriteStallMs
# A liveness bound, not a performance one: before the fix a control thread
# behind a client that does not read never answered, and one behind silent
# clients answered only after 2 s per client (20 s for the ten here).
PING_WAIT = 10


def ping(ep):
    r = subprocess.run([EDGECTL, "--socket", ep.sock, "ping"], capture_output=True, text=True,
                       timeout=PING_WAIT)
    assert r.returncode == 0 and "pong" in r.stdout, r
    return True


@pytest.fixture
def many_objects():
    """450 objects with ~530-byte names: an `objects` answer of ~250 KB,
    bigger than a Unix socket's send buffer (~210 KiB). (Longer names are cut
    at 600 bytes by the `objects` command, newline included.)"""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        deep = os.path.join(tmp, "d" * 200, "e" * 200)
        os.makedirs(deep)
        for i in range(450):
            with open(os.path.join(deep, f"{i:03d}" + "n" * 120), "wb") as f:
                f.write(b"x")
        yield tmp


def test_client_that_never_reads_a_large_answer_stalls_nothing(many_objects):
    with Edgeplane(args=["--ram-mb", "128"]) as ep:
        assert "stored 450 objects" in ep.ctl("ingest", many_objects).stdout
        hogs = []
        try:
            for _ in range(3):  # several at once
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.connect(ep.sock)
                s.sendall(b"objects\n")
                hogs.append(s)
            time.sleep(0.5)
            for _ in range(5):
                assert ping(ep)
            # The stats the control thread keeps still move (it is not stuck),
            # and a client that reads gets the whole large answer.
            assert ep.stats()["chunkstore"]["objects"] == 450
            assert len(ep.ctl("objects").stdout.splitlines()) == 450
            time.sleep(AdminWriteStall + 0.5)
            counters = dict(l.split() for l in ep.ctl("call", "admin").stdout.splitlines())
            assert int(counters["write_timeouts"]) == 3, counters  # the hogs were dropped
            assert ping(ep)
            # SIGTERM is honoured while the clients still hold their sockets.
            assert ep.stop(timeout=10) == 0, ep.log()
        finally:
            for s in hogs:
                s.close()


def test_client_that_sends_nothing_does_not_hold_the_control_thread():
    with Edgeplane() as ep:
        idle = []
        try:
            for _ in range(10):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(ep.sock)
                idle.append(s)
            for _ in range(5):
                assert ping(ep)
            # A client that sends half a line and stalls is dropped after the
            # request timeout; the others are unaffected meanwhile.
            idle[0].sendall(b"pi")
            assert ping(ep)
            idle[0].settimeout(10)
            assert idle[0].recv(100) == b""  # closed by the daemon, never answered
            counters = dict(l.split() for l in ep.ctl("call", "admin").stdout.splitlines())
            assert int(counters["request_timeouts"]) >= 10, counters
            assert ep.stop(timeout=10) == 0
        finally:
            for s in idle:
                s.close()

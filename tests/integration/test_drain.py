"""Graceful drain: `edgectl drain` and SIGTERM stop new connections (refused)
while a download in progress finishes byte-exact, then the daemon exits 0
(every mbuf back)."""

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from harness import Edgeplane

SIZE = 6 * 1024 * 1024
RATE = "1M"  # curl reads this slowly: the download is still going when the drain starts


@pytest.fixture
def content():
    d = tempfile.mkdtemp(prefix="edgeplane-drain-", dir="/var/tmp")
    data = os.urandom(SIZE)
    with open(os.path.join(d, "big.bin"), "wb") as f:
        f.write(data)
    with open(os.path.join(d, "small.txt"), "wb") as f:
        f.write(b"hello\n")
    yield d, hashlib.sha256(data).hexdigest()
    shutil.rmtree(d, ignore_errors=True)


def start_download(ep, out, max_s=120):
    # A small receive buffer in the client's namespace keeps the response in
    # flight on the appliance's side while curl reads slowly (the kernel
    # would otherwise take the whole object into its buffer at once).
    ep.ns_run(["sysctl", "-qw", "net.ipv4.tcp_rmem=4096 32768 65536"])
    p = subprocess.Popen(["ip", "netns", "exec", ep.ns, "curl", "-sS", "-m", str(max_s), "--limit-rate", RATE,
                          "-o", out, f"http://{ep.ip}/big.bin"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while not (os.path.exists(out) and os.path.getsize(out) > 0):
        assert p.poll() is None, p.communicate()
        assert time.time() < deadline, "the download never started"
        time.sleep(0.05)
    return p


def check_drained(ep, p, out, digest, tmp):
    # A new connection is refused (RST: no listener any more).
    deadline = time.time() + 10
    while True:
        r = ep.ns_run(["curl", "-sS", "-m", "10", "-o", "/dev/null", f"http://{ep.ip}/small.txt"], check=False)
        if r.returncode == 7:  # couldn't connect
            break
        assert time.time() < deadline, f"new connections still accepted: {r.returncode} {r.stderr}"
        time.sleep(0.1)
    assert p.poll() is None, "the download ended before the drain could be seen"
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    with open(out, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == digest
    # ... and then the daemon leaves by itself, with every mbuf back.
    ep.proc.wait(timeout=60)
    assert ep.proc.returncode == 0, ep.log()
    assert "drain: every connection finished" in ep.log()
    assert "mbufs returned" in ep.log()


def test_edgectl_drain_finishes_downloads_refuses_new_and_exits_0(content):
    d, digest = content
    tmp = tempfile.mkdtemp(prefix="edgeplane-drain-out-")
    ep = Edgeplane(args=["--ram-mb", "64"])
    try:
        ep.start()
        ep.ctl("ingest", d)
        out = os.path.join(tmp, "big.bin")
        p = start_download(ep, out)
        r = ep.ctl("drain", "--deadline", "60")
        assert r.stdout.startswith("draining: no new connections; 1 open"), r.stdout
        check_drained(ep, p, out, digest, tmp)
    finally:
        ep.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def test_sigterm_drains_with_its_deadline(content):
    d, digest = content
    tmp = tempfile.mkdtemp(prefix="edgeplane-drain-out-")
    ep = Edgeplane(args=["--ram-mb", "64", "--drain-deadline-s", "60"])
    try:
        ep.start()
        ep.ctl("ingest", d)
        out = os.path.join(tmp, "big.bin")
        p = start_download(ep, out)
        ep.proc.send_signal(signal.SIGTERM)
        check_drained(ep, p, out, digest, tmp)
    finally:
        ep.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def test_deadline_cuts_what_is_left_and_still_exits_0(content):
    d, _ = content
    tmp = tempfile.mkdtemp(prefix="edgeplane-drain-out-")
    ep = Edgeplane(args=["--ram-mb", "64"])
    try:
        ep.start()
        ep.ctl("ingest", d)
        # Connections left at the deadline are reset: curl learns at once
        # ("Connection reset by peer", exit 56), not from its own timeout.
        out = os.path.join(tmp, "big.bin")
        p = start_download(ep, out, max_s=100)
        ep.ctl("drain", "--deadline", "1")
        ep.proc.wait(timeout=60)
        assert ep.proc.returncode == 0, ep.log()
        assert "drain: deadline passed with 1 connections open" in ep.log()
        _, err = p.communicate(timeout=120)
        assert p.returncode == 56, (p.returncode, err)  # reset, not its -m timeout (28)
        assert "drain: 1 connections reset" in ep.log(), ep.log()
        assert os.path.getsize(out) < SIZE
    finally:
        ep.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)

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


def test_drain_marks_our_cluster_draining_and_logs_the_responses_it_cuts(content, tmp_path):
    # With cluster selection, a drain steers DNS away from this appliance's
    # cluster; the download the deadline resets is in the access log with
    # the bytes it got and incomplete.
    import json
    d, _ = content
    ep = Edgeplane(args=["--ram-mb", "64"])
    (tmp_path / "clients.csv").write_text("prefix,lat,lon,asn,demand_gbps\n"
                                          "198.51.100.0/24,48.80,2.30,64500,1\n")
    (tmp_path / "clusters.toml").write_text(
        'policy = "geo"\nclients = "clients.csv"\n\n'
        f'[[cluster]]\nname = "self"\nlat = 48.86\nlon = 2.35\ncapacity_gbps = 40\nv4 = ["{ep.ip}"]\n\n'
        '[[cluster]]\nname = "other"\nlat = 51.51\nlon = -0.13\ncapacity_gbps = 40\n'
        'v4 = ["10.77.0.99"]\n\n[[name]]\nowner = "video.kingcdn.test"\nttl = 30\n')
    log = str(tmp_path / "access.json")
    ep.args += ["--clusters", str(tmp_path / "clusters.toml"), "--access-log", log,
                "--access-log-format", "json"]
    try:
        ep.start()
        ep.ctl("ingest", d)
        assert ep.stats()["clusters"]["up.self"] == 1
        assert ep.stats()["clusters"]["load_mbps.self"] > 0
        out = str(tmp_path / "big.bin")
        p = start_download(ep, out, max_s=100)
        ep.ctl("drain", "--deadline", "3")
        st = ep.stats()["clusters"]
        assert st["up.self"] == 0 and st["up.other"] == 1, st
        assert st["load_mbps.self"] == 0 and st["load_mbps.other"] > 0, st  # steered away
        assert "drain: cluster self marked draining" in ep.log()
        ep.proc.wait(timeout=60)
        assert ep.proc.returncode == 0, ep.log()
        _, err = p.communicate(timeout=120)
        assert p.returncode == 56, (p.returncode, err)
        got = os.path.getsize(out)
        recs = [json.loads(l) for l in open(log).read().splitlines()]
        cut = [r for r in recs if r["path"] == "/big.bin"]
        assert len(cut) == 1 and cut[0]["complete"] is False, recs
        assert got <= cut[0]["bytes"] < SIZE, (cut, got)
    finally:
        ep.cleanup()

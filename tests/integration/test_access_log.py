"""Access log (--access-log): one line per response, written by the control
thread from the data lcores' rings, in nginx combined or JSON lines; SIGUSR1
reopens the file so logrotate works."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from harness import Edgeplane

FILES = {
    "small.txt": b"hello\n",
    "title/seg.m4s": os.urandom(700_001),  # 3 chunks
}

# nginx combined, then our fields (docs/operations.md "Access log").
COMBINED = re.compile(
    r'^(?P<addr>\d+\.\d+\.\d+\.\d+) - - \[(?P<time>\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000)\] '
    r'"(?P<method>\S+) (?P<path>\S+) (?P<proto>HTTP/1\.[01])" (?P<status>\d{3}) (?P<bytes>\d+) '
    r'"-" "-" rt=(?P<rt>\d+\.\d{3}) cache=(?P<cache>hit|fill|miss|-) range="(?P<range>[^"]*)" '
    r'svc=(?P<svc>http) lcore=(?P<lcore>\d+)$')


@pytest.fixture
def content():
    d = tempfile.mkdtemp(prefix="edgeplane-alog-", dir="/var/tmp")
    for name, data in FILES.items():
        p = os.path.join(d, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    logdir = tempfile.mkdtemp(prefix="edgeplane-alog-out-")
    yield d, logdir
    shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(logdir, ignore_errors=True)


def requests(ep):
    """A mix of answers; returns [(method, path, range, status, body bytes)] from curl."""
    plan = [("GET", "/small.txt", None)] * 5 + [
        ("GET", "/title/seg.m4s", None),
        ("GET", "/title/seg.m4s", "100-299999"),
        ("GET", "/title/seg.m4s", "699990-"),
        ("HEAD", "/small.txt", None),
        ("GET", "/missing.bin", None),
        ("GET", "/nope/", None),
    ]
    seen = []
    for method, path, rng in plan:
        cmd = ["curl", "-sS", "-m", "20", "-o", "/dev/null", "-w", "%{http_code} %{size_download}"]
        if method == "HEAD":
            cmd.append("-I")
        if rng:
            cmd += ["-r", rng]
        r = ep.ns_run(cmd + [f"http://{ep.ip}{path}"])
        code, size = r.stdout.split()
        seen.append((method, path, f"bytes={rng}" if rng else "", int(code), int(size)))
    return seen


def wait_lines(path, n, timeout=20):
    deadline = time.time() + timeout
    while True:
        lines = open(path).read().splitlines() if os.path.exists(path) else []
        if len(lines) >= n or time.time() > deadline:
            return lines
        time.sleep(0.05)


def test_json_lines_match_every_response(content):
    d, logdir = content
    path = os.path.join(logdir, "access.json")
    with Edgeplane(args=["--ram-mb", "64", "--access-log", path, "--access-log-format", "json"]) as ep:
        ep.ctl("ingest", d)
        sent = requests(ep)
        lines = wait_lines(path, len(sent))
        assert len(lines) == len(sent), lines
        recs = [json.loads(l) for l in lines]
        for (method, p, rng, code, size), rec in zip(sent, recs):
            assert rec["service"] == "http"
            assert rec["method"] == method and rec["path"] == p, rec
            assert rec["status"] == code, (rec, code)
            assert rec["range"] == rng
            assert rec["client"] == ep.host_ip and rec["client_port"] > 0
            assert rec["protocol"] == "HTTP/1.1"
            # curl's size_download is the body; a HEAD gets none.
            assert rec["bytes"] == (0 if method == "HEAD" else size), (rec, size)
            assert rec["head_bytes"] > 0 and rec["duration_ms"] >= 0
            assert rec["cache"] == ("miss" if code == 404 else "hit" if code in (200, 206) and method == "GET" else "-"), rec
        assert ep.stats()["access_log"]["lines_written"] == len(sent)
        assert ep.counter("response_log_drops") == 0


def test_combined_lines_and_sigusr1_reopen_after_rename(content):
    d, logdir = content
    path = os.path.join(logdir, "access.log")
    with Edgeplane(args=["--ram-mb", "64", "--access-log", path]) as ep:
        ep.ctl("ingest", d)
        sent = requests(ep)
        lines = wait_lines(path, len(sent))
        assert len(lines) == len(sent), lines
        for (method, p, rng, code, size), line in zip(sent, lines):
            m = COMBINED.match(line)
            assert m, line
            assert (m["addr"], m["method"], m["path"], int(m["status"]), m["range"]) == \
                (ep.host_ip, method, p, code, rng)
            assert int(m["bytes"]) == (0 if method == "HEAD" else size)
        # logrotate: rename, then SIGUSR1; new lines go to a new file at the
        # old path, none to the renamed one.
        rotated = path + ".1"
        os.rename(path, rotated)
        ep.proc.send_signal(signal.SIGUSR1)
        deadline = time.time() + 10
        while not os.path.exists(path):
            assert time.time() < deadline, ep.log()
            time.sleep(0.05)
        more = requests(ep)
        new_lines = wait_lines(path, len(more))
        assert len(new_lines) == len(more)
        assert all(COMBINED.match(l) for l in new_lines)
        assert len(open(rotated).read().splitlines()) == len(sent)
        assert "access log" in ep.log() and "reopened" in ep.log()
        assert ep.stats()["access_log"]["reopens"] == 1


def test_sampling_keeps_one_in_n(content):
    d, logdir = content
    path = os.path.join(logdir, "sampled.log")
    with Edgeplane(args=["--ram-mb", "64", "--access-log", path, "--access-log-sample", "4"]) as ep:
        ep.ctl("ingest", d)
        for _ in range(12):
            ep.ns_run(["curl", "-sS", "-m", "20", "-o", "/dev/null", f"http://{ep.ip}/small.txt"])
        lines = wait_lines(path, 3)
        time.sleep(0.2)  # a fourth line would be a bug; give it a chance to appear
        assert len(open(path).read().splitlines()) == 3

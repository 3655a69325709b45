"""`edgectl top` under tmux: the live view redraws every second and its
figures move while a client downloads (read back with capture-pane)."""

import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from harness import EDGECTL, Edgeplane

SIZE = 4 * 1024 * 1024


@pytest.fixture
def content():
    d = tempfile.mkdtemp(prefix="edgeplane-top-", dir="/var/tmp")
    os.makedirs(os.path.join(d, "movie"))
    with open(os.path.join(d, "movie", "seg.m4s"), "wb") as f:
        f.write(os.urandom(SIZE))
    logdir = tempfile.mkdtemp(prefix="edgeplane-top-log-")
    yield d, logdir
    shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(logdir, ignore_errors=True)


def capture(session):
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], check=True,
                          capture_output=True, text=True).stdout


def lcore_row(screen):
    """The first lcore row: (rx pkt/s, tx bit/s as text)."""
    for line in screen.splitlines():
        m = re.match(r"^(\d+)\s+(\S+(?: [kMGT])?)\s+(\S+(?: [kMGT])?)\s+", line)
        if m:
            return line
    return None


def test_top_shows_moving_figures_under_tmux(content):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (scripts/packages.txt)")
    d, logdir = content
    alog = os.path.join(logdir, "access.log")
    session = f"eptop{os.getpid()}"
    with Edgeplane(args=["--ram-mb", "64", "--access-log", alog]) as ep:
        ep.ctl("ingest", d)
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "150", "-y", "45",
                        f"{EDGECTL} --socket {ep.sock} top --interval 0.5"], check=True)
        load = None
        try:
            # Traffic for the view to show: downloads in a loop.
            load = subprocess.Popen(
                ["ip", "netns", "exec", ep.ns, "sh", "-c",
                 f"while true; do curl -sS -o /dev/null http://{ep.ip}/movie/seg.m4s || exit 1; done"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            screens = []
            deadline = time.time() + 60
            while True:
                s = capture(session)
                screens.append(s)
                moving = [x for x in screens if re.search(r"^http\s+[1-9]", x, re.M)]
                titles = [x for x in screens if re.search(r"^movie\s+[\d.]+ [kMG]?B", x, re.M)]
                rows = {lcore_row(x) for x in screens if lcore_row(x)}
                if moving and titles and len(rows) >= 3:
                    break
                assert time.time() < deadline, "figures never moved:\n" + "\n----\n".join(screens[-3:])
                time.sleep(0.3)
            last = screens[-1]
            assert "edgeplane top" in last and "busy %" in last
            assert "cache" in last and "hit ratio" in last and "RAM" in last
            # The lcore row reads traffic in both directions: non-zero rates.
            row = lcore_row(moving[-1]).split()
            assert row[1] != "0" and any(c.isdigit() and c != "0" for c in "".join(row[2:4])), row
        finally:
            if load:
                load.kill()
                load.wait()
            subprocess.run(["tmux", "kill-session", "-t", session], check=False)

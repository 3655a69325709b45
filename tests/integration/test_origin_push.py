"""Off-peak push (issue 14, docs/origin.md "Off-peak push"): nginx, one router
hop behind the appliance, serves a popularity list and five titles. The
appliance starts with its push clock outside the window (--push-clock-offset-s),
so it only pulls on miss; `edgectl fill now 03:00` moves the clock inside
02:00-06:00, and the control thread pushes the most popular titles that fit
through the fill path, under the bandwidth cap.

What is judged: nginx's access log (what was fetched, each aligned range
once, nothing before the window, nothing for a skipped title, no request when
a client then GETs a pushed title, and the rate computed from its own request
times and byte counts), the bytes a client gets against the files, and what
`edgectl fill` says was pushed or skipped and why."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from harness import Edgeplane, RoutedClient
from test_origin import CHUNK, ORIGIN_PORT, Nginx, chunk_range

CAP_MBPS = 8  # 1 MB/s: the ~2.6 MB pushed take a few seconds, enough to measure a rate
SHARE_PCT = 25  # of --ram-mb 32: 8 MiB; t2 (10 MiB) cannot fit


def clock_offset_to(h, m):
    """--push-clock-offset-s that makes the local clock read h:m now."""
    t = time.localtime()
    return h * 3600 + m * 60 - (t.tm_hour * 3600 + t.tm_min * 60 + t.tm_sec)


def timed_nginx(ns, ip, root):
    """The test_origin nginx, its log lines also carrying when each request
    ended ($msec) and how long it took ($request_time): the rate check's input."""
    return Nginx(ns, ip, root, log_extra="$msec $request_time")


def log_rows(nginx):
    """(uri, range, status, bytes, start time) of every logged request."""
    rows = []
    with open(nginx.log) as f:
        for line in f:
            p = line.split()
            if len(p) >= 7:
                rows.append((p[0], p[1], p[2], int(p[3]), float(p[5]) - float(p[6])))
    return rows


def fill(ep, *args):
    return ep.ctl("fill", *args).stdout


def titles(report):
    """{path: state line} from `edgectl fill`."""
    out = {}
    for line in report.splitlines():
        m = re.match(r"title \d+ (\S+) size \d+ (.*)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def test_push_window_stores_the_top_titles_before_anyone_asks():
    content = tempfile.mkdtemp(prefix="edgeplane-push-", dir="/var/tmp")
    os.chmod(content, 0o755)
    files = {
        "vod/t1.bin": os.urandom(4 * CHUNK + 1234),  # most popular, 5 chunks
        "vod/t2.bin": os.urandom(40 * CHUNK),  # 10 MiB: more than the share
        "vod/t4.bin": os.urandom(2 * CHUNK + 7),  # pulled by a client before the window
        "vod/t3.bin": os.urandom(3 * CHUNK - 99),  # 3 chunks
        "vod/t5.bin": os.urandom(CHUNK + 5),  # listed without a size: learned
        "probe": b"ok\n",
    }
    listing = [{"path": "/vod/t1.bin", "size": len(files["vod/t1.bin"])},
               {"path": "/vod/t2.bin", "size": len(files["vod/t2.bin"])},
               "/vod/t4.bin",
               {"path": "/vod/t3.bin", "size": len(files["vod/t3.bin"])},
               "/vod/t5.bin"]
    files["vod/popular.json"] = json.dumps(listing).encode()
    for name, data in files.items():
        p = os.path.join(content, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    ep = Edgeplane(args=["--ram-mb", "32"])
    cl = RoutedClient(ep, mtu=1500)
    ep.args += ["--gateway", ep.host_ip, "--origin", f"/vod={cl.ip}:{ORIGIN_PORT}",
                "--push-list", "/vod/popular.json", "--push-window", "02:00-06:00",
                "--push-mbps", str(CAP_MBPS), "--push-share-pct", str(SHARE_PCT),
                "--push-clock-offset-s", str(clock_offset_to(12, 0))]
    nginx = None
    try:
        ep.start()
        cl.start()
        nginx = timed_nginx(cl.ns, cl.ip, content).start()
        url = f"http://{ep.ip}"

        def get(path):
            r = subprocess.run(["ip", "netns", "exec", ep.ns, "curl", "-sS", "-m", "30", url + path],
                               capture_output=True, timeout=60)
            assert r.returncode == 0, r.stderr
            return r.stdout

        # Outside the window: no push, not even the list; a miss still pulls.
        rep = fill(ep)
        assert "outside" in rep.splitlines()[0], rep
        assert "only pull on miss" in rep, rep
        assert get("/vod/t4.bin") == files["vod/t4.bin"]
        assert [r for r, _ in nginx.lines("/vod/t4.bin")] == [chunk_range(i) for i in range(3)]
        assert nginx.lines("/vod/popular.json") == []
        assert ep.stats()["http"]["origin_push_asks"] == 0

        # Inside the window: the list is read and the titles that fit pushed.
        rep = fill(ep, "now", "03:00")
        assert "inside" in rep.splitlines()[0], rep
        deadline = time.time() + 60
        while "phase: done" not in rep:
            assert time.time() < deadline, rep
            time.sleep(0.2)
            rep = fill(ep)
        print(rep)  # the report as an operator sees it (pytest -s)
        st = titles(rep)
        assert st["/vod/t1.bin"].startswith("pushed 5/5"), rep
        assert st["/vod/t3.bin"].startswith("pushed 3/3"), rep
        assert st["/vod/t5.bin"].startswith("pushed 2/2"), rep
        assert st["/vod/t2.bin"].startswith("skipped share: does not fit"), rep
        assert st["/vod/t4.bin"].startswith("skipped stored: already stored"), rep

        # The origin saw each aligned range of the pushed titles once, and
        # nothing of the skipped ones (t4 only its earlier pull).
        for name, n in (("t1", 5), ("t3", 3), ("t5", 2)):
            got = nginx.lines(f"/vod/{name}.bin")
            assert sorted(r for r, _ in got) == sorted(chunk_range(i) for i in range(n)), got
            assert all(s == "206" for _, s in got), got
        assert nginx.lines("/vod/t2.bin") == []
        assert len(nginx.lines("/vod/t4.bin")) == 3
        assert len(nginx.lines("/vod/popular.json")) == 1
        counters = ep.stats()["http"]
        assert counters["origin_push_fetches"] == 1 + 5 + 3 + 2, counters

        # The rate, from nginx's own clock: every push request started within
        # [first, last]; the token bucket lets at most one chunk (its burst)
        # plus the cap's rate through, so the bytes after the first request
        # over the span are under the cap. Generous: 1.5x.
        pushed = [r for r in log_rows(nginx)
                  if r[0] in ("/vod/popular.json", "/vod/t1.bin", "/vod/t3.bin", "/vod/t5.bin")]
        pushed.sort(key=lambda r: r[4])
        span = pushed[-1][4] - pushed[0][4]
        later_bytes = sum(r[3] for r in pushed[1:])
        assert span > 0, pushed
        rate_mbps = later_bytes * 8 / span / 1e6
        assert rate_mbps < CAP_MBPS * 1.5, (rate_mbps, pushed)
        m = re.search(r"pushed: (\d+) bytes in (\d+) chunks over ([\d.]+) s: ([\d.]+) Mbit/s", rep)
        assert m, rep
        assert int(m.group(1)) >= sum(len(files[f"vod/{n}.bin"]) for n in ("t1", "t3", "t5"))

        # A client now: byte-exact, and the origin is not asked.
        before = len(log_rows(nginx))
        for name in ("t1", "t3", "t5"):
            assert hashlib.sha256(get(f"/vod/{name}.bin")).digest() == \
                hashlib.sha256(files[f"vod/{name}.bin"]).digest()
        assert len(log_rows(nginx)) == before

        # `fill now` outside again: the round is over, only pull on miss.
        rep = fill(ep, "now", "07:00")
        assert "outside" in rep.splitlines()[0] and "only pull on miss" in rep, rep
        nginx.kill()
        assert ep.stop() == 0, ep.log()
    finally:
        if nginx:
            nginx.cleanup()
        cl.cleanup()
        ep.cleanup()
        shutil.rmtree(content, ignore_errors=True)

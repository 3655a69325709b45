"""Pull on miss with two data lcores (docs/origin.md "More than one data
lcore"): each lcore opens its origin connections from its own slice of the
ephemeral ports, and a segment for one of them that reaches the other
lcore's queue is handed over (tcp/port_steer.h). nginx is the origin one
router hop behind, as in test_origin.py.

What is judged: every body against the origin's file, nginx's access log
(only aligned 206 ranges, each at most once per lcore), both lcores'
origin_chunks_stored (from `top`, per lcore), and no RST for a segment
that reached a lcore that does not own its connection."""

import hashlib
import os
import shutil
import tempfile

from harness import Edgeplane, RoutedClient
from test_origin import CHUNK, ORIGIN_PORT, Nginx, chunk_range


def per_lcore(ep, section, name):
    out = {}
    for line in ep.ctl("call", "top").stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == section and parts[1] == name:
            out[int(parts[2])] = out.get(int(parts[2]), 0) + int(parts[3])
    return out


def test_two_data_lcores_fill_from_the_origin_byte_exact():
    content = tempfile.mkdtemp(prefix="edgeplane-origin2-", dir="/var/tmp")
    os.chmod(content, 0o755)
    files = {f"vod/o{i}.bin": os.urandom((i % 3 + 1) * CHUNK + 1000 + i) for i in range(24)}
    files["probe"] = b"ok\n"
    for name, data in files.items():
        p = os.path.join(content, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    ep = Edgeplane(args=["--ram-mb", "128"], data_lcores="1,2")
    cl = RoutedClient(ep, mtu=1500)
    # Enough origin connections per lcore for every cold object at once
    # (beyond them a cold request is 503, origin_busy).
    ep.args += ["--gateway", ep.host_ip, "--origin", f"/vod={cl.ip}:{ORIGIN_PORT}",
                "--origin-fetches", "32"]
    nginx = None
    tmpd = tempfile.mkdtemp(prefix="edgeplane-bodies-", dir="/var/tmp")
    try:
        ep.start()
        cl.start()
        nginx = Nginx(cl.ns, cl.ip, content).start()
        names = [n for n in files if n.startswith("vod/")]
        # Two clients per object, all at once: 48 connections spread over
        # both lcores by the TAP, so both fill (and some objects twice).
        # Each line: curl's exit code, the object, the body's size and digest.
        script = " ".join(
            f"(c=$(curl -sS -m 60 -w '%{{http_code}}' -o {tmpd}/{k}-{i} http://{ep.ip}/{n}); "
            f"echo $? {n} $(wc -c < {tmpd}/{k}-{i}) $(sha256sum < {tmpd}/{k}-{i}) $c) &"
            for i, n in enumerate(names) for k in range(2)) + " wait"
        r = ep.ns_run(["sh", "-c", script], timeout=180)
        got = {}
        for line in r.stdout.splitlines():
            rc, name, size, digest, _, code = line.split()
            got.setdefault(name, []).append((int(rc), int(size), digest, code))
        for n in names:
            want = (0, len(files[n]), hashlib.sha256(files[n]).hexdigest(), "200")
            assert got.get(n) == [want] * 2, (n, got.get(n), r.stderr)
        for n in names:
            nchunks = (len(files[n]) + CHUNK - 1) // CHUNK
            lines = nginx.lines("/" + n)
            assert all(s == "206" for _, s in lines), lines
            ranges = [rg for rg, _ in lines]
            assert set(ranges) == {chunk_range(i) for i in range(nchunks)}, (n, ranges)
            assert all(ranges.count(rg) <= 2 for rg in ranges), (n, ranges)  # once per lcore
        stored = per_lcore(ep, "http", "origin_chunks_stored")
        assert set(stored) == {1, 2} and all(v > 0 for v in stored.values()), stored
        s = ep.stats()
        assert s["tcp"]["no_listener"] == 0  # no answer reached a lcore without its connection
        assert s["total"]["drops"]["steer_ring_full"] == 0
        # Served from the store now, on whichever lcore: no origin request.
        before = sum(len(nginx.lines("/" + n)) for n in names)
        r = ep.ns_run(["sh", "-c", " ".join(
            f"(curl -sS -m 60 http://{ep.ip}/{n} | sha256sum) &" for n in names) + " wait"])
        assert sorted(l.split()[0] for l in r.stdout.splitlines()) == sorted(
            hashlib.sha256(files[n]).hexdigest() for n in names)
        assert sum(len(nginx.lines("/" + n)) for n in names) == before
        print("steering:", {k: s["total"]["counters"][k]
                            for k in ("steer_handed_over", "steer_received", "steer_arp_shared")})
        nginx.kill()
        assert ep.stop() == 0, ep.log()
    finally:
        if nginx:
            nginx.cleanup()
        cl.cleanup()
        ep.cleanup()
        shutil.rmtree(content, ignore_errors=True)
        shutil.rmtree(tmpd, ignore_errors=True)

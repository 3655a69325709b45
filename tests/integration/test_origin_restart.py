"""Objects pulled from an origin on the disk tier (issue 14, docs/origin.md
"Disk tier and restart"): a partial fill is written to v3 records, a restart
with the same store file brings it back with its holes, the cached chunk is
served without asking the origin (nginx's access log) and the rest fills,
byte-exact. And admission: a scan of one-hit cold objects through the origin
does not evict the hot set (counted: no RAM miss when the hot set is read
again, and chunks the policy declined are not written to disk).

nginx, the routed client and the helpers are test_origin.py's."""

import os
import shutil
import tempfile
import time

import pytest

from harness import Edgeplane, RoutedClient
from test_origin import CHUNK, ORIGIN_PORT, Nginx, chunk_range, get


@pytest.fixture(scope="module")
def content():
    d = tempfile.mkdtemp(prefix="edgeplane-origin-restart-", dir="/var/tmp")
    os.chmod(d, 0o755)
    files = {"vod/big.bin": os.urandom(12 * CHUNK + 4321), "probe": b"ok\n"}
    for i in range(2):
        files[f"vod/hot{i}.bin"] = os.urandom(2 * CHUNK)
    for i in range(40):
        files[f"vod/cold/{i}.bin"] = os.urandom(CHUNK - 100 - i)
    for name, data in files.items():
        p = os.path.join(d, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    yield d, files
    shutil.rmtree(d, ignore_errors=True)


class Appliance:
    """One life of the appliance on a store file: edgeplane, the routed
    client namespace that holds nginx, nginx with a fresh access log."""

    def __init__(self, root, store, extra=()):
        self.ep = Edgeplane(args=["--store", store, "--disk-mb", "64", "--ram-mb", "8",
                                  "--origin-readahead", "1", *extra])
        self.cl = RoutedClient(self.ep, mtu=1500)
        self.ep.args += ["--gateway", self.ep.host_ip, "--origin", f"/vod={self.cl.ip}:{ORIGIN_PORT}"]
        self.root = root
        self.nginx = None

    def __enter__(self):
        try:
            self.ep.start()
            self.cl.start()
            self.nginx = Nginx(self.cl.ns, self.cl.ip, self.root).start()
            self.ep.url = f"http://{self.ep.ip}"
        except BaseException:
            self.cleanup()
            raise
        return self

    def stop(self):
        code = self.ep.stop()
        assert code == 0, self.ep.log()

    def cleanup(self):
        if self.nginx:
            self.nginx.cleanup()
        self.cl.cleanup()
        self.ep.cleanup()

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def stats(self, section):
        return self.ep.stats()[section]


def wait_for(fn, what, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return
        time.sleep(0.05)
    raise AssertionError(what() if callable(what) else what)


def test_partial_fill_survives_a_restart_and_the_rest_fills(content):
    root, files = content
    src = files["vod/big.bin"]
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        store = os.path.join(tmp, "edge.store")
        first, last = 7 * CHUNK + 1000, 7 * CHUNK + 90000  # inside chunk 7 of 13
        with Appliance(root, store) as a:
            rc, body, code = get(a.ep, "/vod/big.bin", "-r", f"{first}-{last}")
            assert code == 206 and body == src[first:last + 1]
            fetched = [r for r, _ in a.nginx.lines("/vod/big.bin")]
            assert fetched == [chunk_range(7)], fetched
            # Its record is written once the fill landed (control thread, async).
            wait_for(lambda: a.stats("chunkstore")["fill_disk_writes"] >= 1, "no record written")
            a.stop()
        with Appliance(root, store) as a:
            # The cached chunk: served from its disk record, nginx never asked.
            rc, body, code = get(a.ep, "/vod/big.bin", "-r", f"{first}-{last}")
            assert code == 206 and body == src[first:last + 1]
            assert a.nginx.lines("/vod/big.bin") == [], a.nginx.lines("/vod/big.bin")
            cs = a.stats("chunkstore")
            assert cs["promotions"] >= 1 and cs["checksum_failures"] == 0, cs
            # The holes fill from the origin: every chunk but 7, once each.
            rc, body, code = get(a.ep, "/vod/big.bin")
            assert code == 200 and body == src
            got = sorted(r for r, _ in a.nginx.lines("/vod/big.bin"))
            assert got == sorted(chunk_range(i) for i in range(13) if i != 7), got
            wait_for(lambda: a.stats("chunkstore")["fill_disk_writes"] >= 12, "holes not written")
            a.stop()
        # A third life: the whole object from disk, no origin request at all.
        with Appliance(root, store) as a:
            rc, body, code = get(a.ep, "/vod/big.bin")
            assert code == 200 and body == src
            assert a.nginx.lines("/vod/big.bin") == []
            a.stop()


@pytest.mark.parametrize("policy", ["default", "tinylfu+s3fifo", "tinylfu+lru", "lru"])
def test_scan_of_one_hit_objects_does_not_evict_the_hot_set(content, policy):
    """8 MiB of RAM (32 slots, high watermark 28, low 25) with a disk tier:
    4 hot chunks read four times, then 40 cold one-chunk objects read once
    each through the origin (more than the RAM tier holds), then the hot set
    again. S3-FIFO (the default) keeps the scan in its small queue and evicts
    it there; TinyLFU in front declines the scan once RAM is at the
    watermark, and the declined chunks are not written to disk. Plain LRU,
    with no admission filter, is the control: the scan flushes the hot set
    there, so the count below does see an eviction when one happens."""
    root, files = content
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        store = os.path.join(tmp, "edge.store")
        with Appliance(root, store, ["--cache-policy", policy]) as a:
            hot = [f"/vod/hot{i}.bin" for i in range(2)]
            for _ in range(4):
                for uri in hot:
                    rc, body, code = get(a.ep, uri)
                    assert code == 200 and body == files[uri[1:]]
            for i in range(40):
                uri = f"/vod/cold/{i}.bin"
                rc, body, code = get(a.ep, uri)
                assert code == 200 and body == files[uri[1:]]
            # Each cold object was fetched once: a declined chunk stays until
            # the response that waited for it has pinned it.
            for i in range(40):
                assert len(a.nginx.lines(f"/vod/cold/{i}.bin")) == 1, i
            before = a.stats("cache")
            cs = a.stats("chunkstore")
            assert cs["fill_not_admitted"] == before["admission_declined"], (cs, before)
            if not policy.startswith("tinylfu"):
                # Everything admitted; the scan went past the high watermark.
                assert before["admission_declined"] == 0, before
                assert before["eviction_runs"] >= 1, before
            else:
                assert before["admission_declined"] > 0, before
            # Declined chunks never get a disk record; every admitted one is
            # written, or counted as skipped (gone from RAM before its write
            # started).
            admitted = 4 + 40 - cs["fill_not_admitted"]

            def settled():
                c = a.stats("chunkstore")
                return c["fill_disk_writes"] + c["fill_disk_skipped"] == admitted

            wait_for(settled, lambda: ("records of admitted fills", a.stats("chunkstore")))
            c = a.stats("chunkstore")
            assert 0 < c["fill_disk_writes"] <= admitted, c
            for uri in hot:
                rc, body, code = get(a.ep, uri)
                assert code == 200 and body == files[uri[1:]]
                assert len(a.nginx.lines(uri)) == 2  # its two chunks, fetched once
            # Hits and RAM misses reach the control thread through the access
            # ring, a loop turn after the reply: wait for the four chunk
            # starts' records before comparing.
            counted = "ram_misses" if policy == "lru" else "hits"
            wait_for(lambda: a.stats("cache")[counted] - before[counted] >= 4,
                     lambda: ("4 more " + counted, before, a.stats("cache")))
            after = a.stats("cache")
            if policy == "lru":
                # No filter, no scan resistance: the hot chunks were evicted
                # (promoted from their disk records, not fetched again).
                assert after["ram_misses"] - before["ram_misses"] == 4, (before, after)
            else:
                # Every hot chunk start was a RAM hit: the scan evicted none.
                assert after["ram_misses"] == before["ram_misses"], (before, after)
                assert after["hits"] - before["hits"] >= 4, (before, after)
            a.stop()

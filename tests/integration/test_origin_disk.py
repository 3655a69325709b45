"""Disk eviction of filled content (issue 14, docs/origin.md "Disk tier and
restart"): a 4 MiB disk tier (15 record slots) under 26 filled chunks, one
hot object read again after every cold fill. When a record finds the disk
full, the keeper drops the coldest filled records (S3-FIFO's order: the
hot object's chunks have been hit and move to its main queue) down to the
low watermark, and the new chunk is written: nothing is left RAM-only for
want of room, the evictions are counted, the hot object keeps its disk copy.
After a restart every object is served byte-exact, either from disk with no
origin request or fetched again from nginx: exactly the chunks `edgectl
store` said were not on disk before the stop.

The appliance and nginx are test_origin_restart.py's."""

import os
import shutil
import tempfile

import pytest

from test_origin import CHUNK, get
from test_origin_restart import Appliance, wait_for

COLD = 24
DISK_SLOTS = (4 << 20) // (4096 + 8192 + CHUNK)  # --disk-mb 4: 268 KiB record slots


@pytest.fixture(scope="module")
def content():
    d = tempfile.mkdtemp(prefix="edgeplane-origin-disk-", dir="/var/tmp")
    os.chmod(d, 0o755)
    files = {"vod/hot.bin": os.urandom(2 * CHUNK)}
    for i in range(COLD):
        files[f"vod/cold/{i}.bin"] = os.urandom(CHUNK - 100 - i)
    for name, data in files.items():
        p = os.path.join(d, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    yield d, files
    shutil.rmtree(d, ignore_errors=True)


def small_disk(root, store):
    """test_origin_restart's appliance with a 4 MiB disk tier."""
    a = Appliance(root, store)
    i = a.ep.args.index("--disk-mb")
    a.ep.args[i + 1] = "4"
    return a


def store_report(a):
    """{name: (chunks on disk, chunks)} from `edgectl store`, and its text."""
    out = a.ep.ctl("store").stdout
    objs = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and "/" in parts[0] and parts[2] in ("filled", "ingested"):
            disk, n = parts[0].split("/")
            objs[parts[3]] = (int(disk), int(n))
    return objs, out


def test_full_disk_evicts_cold_filled_records_and_keeps_the_hot_one(content):
    root, files = content
    hot = "/vod/hot.bin"
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        store = os.path.join(tmp, "edge.store")
        # 8 MiB of RAM (32 slots, high watermark 28): all 26 chunks stay in
        # RAM, so only the disk tier is short of room.
        with small_disk(root, store) as a:
            cs = a.stats("chunkstore")
            assert cs["disk_capacity_bytes"] == DISK_SLOTS * (4096 + 8192 + CHUNK), cs
            written = 0

            def records_settled():
                c = a.stats("chunkstore")
                return c["fill_disk_writes"] + c["fill_disk_skipped"] >= written

            def read_hot():
                rc, body, code = get(a.ep, hot)
                assert code == 200 and body == files[hot[1:]]

            read_hot()
            written += 2
            wait_for(records_settled, lambda: a.stats("chunkstore"))
            for _ in range(2):
                read_hot()  # hits on its records too: the disk ranking sees them
            for i in range(COLD):
                uri = f"/vod/cold/{i}.bin"
                rc, body, code = get(a.ep, uri)
                assert code == 200 and body == files[uri[1:]]
                written += 1
                wait_for(records_settled, lambda: a.stats("chunkstore"))
                read_hot()
            before, text = store_report(a)
            assert before.get("vod/hot.bin") == (2, 2), text  # the hot object kept its copy
            cs, cache = a.stats("chunkstore"), a.stats("cache")
            # Every admitted fill got a record: room was made, none refused.
            assert cs["fill_disk_skipped"] == 0 and cs["fill_disk_no_room"] == 0, cs
            assert cs["fill_disk_writes"] == 2 + COLD, cs
            # 26 records through 15 slots: at least 11 were dropped.
            assert cs["fill_disk_evicted"] >= 2 + COLD - DISK_SLOTS, cs
            assert cs["fill_disk_evicted"] == cache["disk_evictions"], (cs, cache)
            assert cs["fill_disk_evicted_objects"] == cs["fill_disk_evicted"], cs  # one-chunk
            assert cache["disk_eviction_runs"] >= 1 and cache["disk_stale_victims"] == 0, cache
            assert cache["disk_tracked_chunks"] == 2 + COLD - cs["fill_disk_evicted"], cache
            assert cs["disk_bytes_used"] <= cs["disk_capacity_bytes"], cs
            # Nothing was served from anywhere but RAM and each object was
            # fetched once: a disk eviction dropped records, never RAM copies.
            for i in range(COLD):
                assert len(a.nginx.lines(f"/vod/cold/{i}.bin")) == 1, i
            assert len(a.nginx.lines(hot)) == 2
            assert len(before) == 1 + COLD, text
            on_disk = sum(d for d, _ in before.values())
            assert on_disk == 2 + COLD - cs["fill_disk_evicted"], text
            a.stop()
        # A second life on the same store file: every byte exact; what was on
        # disk comes with no origin request, the rest is fetched again. The
        # objects kept on disk are read first: refilling the others makes
        # room on the disk again, by evicting records not read yet in this
        # life (the ranking starts afresh after a restart).
        order = sorted(before.items(), key=lambda kv: (kv[1][0] < kv[1][1], kv[0]))
        with small_disk(root, store) as a:
            for name, (disk, n) in order:
                uri = "/" + name
                rc, body, code = get(a.ep, uri)
                assert code == 200 and body == files[name], name
                assert len(a.nginx.lines(uri)) == n - disk, (name, disk, a.nginx.lines(uri))
            cs = a.stats("chunkstore")
            assert cs["checksum_failures"] == 0, cs
            assert cs["promotions"] == on_disk, cs
            a.stop()

"""Shared chunk streaming (dataplane/chunk_stream.*, issue 11): a connection
that needs a chunk only on disk asks for its promotion once and is woken
when the store settles it, never re-polled and re-asked every loop."""

import hashlib
import os
import tempfile

from harness import Edgeplane

CHUNK = 256 * 1024


def test_disk_waits_are_woken_by_the_promotion_and_ask_once():
    """A 40-chunk object through an 8 MiB RAM tier (32 slots): downloads
    wait for promotions. Every wait asked the store once (the old loop asked
    again every millisecond until the chunk came), and settled promotions
    woke the waiting connections."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        src = os.path.join(tmp, "src")
        os.makedirs(src)
        data = os.urandom(40 * CHUNK - 777)
        with open(os.path.join(src, "big.bin"), "wb") as f:
            f.write(data)
        args = ["--store", os.path.join(tmp, "edge.store"), "--disk-mb", "64", "--ram-mb", "8"]
        with Edgeplane(args=args) as ep:
            assert "stored 1 objects" in ep.ctl("ingest", src).stdout
            want = hashlib.sha256(data).hexdigest()
            for rnd in range(3):
                r = ep.ns_run(["sh", "-c", f"curl -sS -f -m 60 http://{ep.ip}/big.bin | sha256sum"], timeout=90)
                assert r.stdout.split()[0] == want, (rnd, r.stderr)
            s = ep.stats()
            h, cs = s["http"], s["chunkstore"]
            assert h["chunk_waits"] > 0, h
            assert h["promotion_wakes"] > 0, h
            assert h["chunk_wait_timeouts"] == 0, h
            # HTTP is the only one asking for promotions here: one request per
            # wait, plus one for each promotion that settled without the chunk.
            assert cs["promotion_requests"] == h["chunk_waits"] + h["promotion_rerequests"], (h, cs)
            assert h["promotion_rerequests"] <= h["chunk_waits"] // 10, h
            assert ep.stop() == 0

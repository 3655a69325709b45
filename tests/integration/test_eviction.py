"""Eviction never loses what it should keep (issue 18).

A RAM-only store holds the only copy of its content: eviction there deletes,
so it runs only to make room for new content, in whole objects the policy
picks, never the one being written and never a freshly ingested one first.
With a disk tier, RAM eviction only drops the RAM copy. In both, the policy's
tracked bytes equal what the store has resident after every run."""

import concurrent.futures
import hashlib
import os
import subprocess
import tempfile
import time

import pytest

from harness import EDGECTL, Edgeplane

CHUNK = 256 * 1024
# curl -f: an error status hashes as an empty body, never as its error page.
FAIL = ("-f",)


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def _objects(ep):
    out = ep.ctl("objects").stdout
    return {line.split()[2]: int(line.split()[1]) for line in out.splitlines() if line.strip()}


def _tracked_matches_resident(s):
    return s["cache"]["tracked_bytes"] == s["chunkstore"]["ram_resident_chunks"] * CHUNK


def test_ram_only_store_keeps_every_object_that_fits():
    """The README's reproduction, scaled down: 32 MiB RAM-only, five files of
    22 chunks each plus a title of small files. They fit in RAM (122 of 128
    slots) though they pass the 90 % high watermark: nothing may go."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        files = {}
        for i in range(5):
            d = os.path.join(tmp, f"in{i}")
            os.makedirs(d)
            data = os.urandom(22 * CHUNK - 4096)
            files[f"big{i}.bin"] = data
            _write(os.path.join(d, f"big{i}.bin"), data)
        title = os.path.join(tmp, "title")
        os.makedirs(os.path.join(title, "demo"))
        for j in range(12):
            data = os.urandom(100_000 + j)
            files[f"demo/seg{j}.m4s"] = data
            _write(os.path.join(title, "demo", f"seg{j}.m4s"), data)
        with Edgeplane(args=["--ram-mb", "32"]) as ep:
            ep.ctl("ingest", title)
            for i in range(5):
                out = ep.ctl("ingest", os.path.join(tmp, f"in{i}")).stdout
                assert "stored 1 objects, 22 chunks" in out, out
                s = ep.stats()
                assert _tracked_matches_resident(s), s["cache"]
            s = ep.stats()
            assert s["chunkstore"]["objects"] == len(files), _objects(ep)
            assert s["cache"]["evictions"] == 0, s["cache"]
            for name, data in files.items():
                got, err = ep.download_sha256(f"/{name}", FAIL)
                assert got == hashlib.sha256(data).hexdigest(), (name, err)
            # cache.misses counts requests for content the store does not hold.
            for i in range(5):
                r = ep.ns_run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"http://{ep.ip}/nope{i}"])
                assert r.stdout == "404"
            chunks = sum((len(d) + CHUNK - 1) // CHUNK for d in files.values())
            s = ep.stats_when(lambda s: s["cache"]["misses"] >= 5 and s["cache"]["hits"] >= chunks,
                              "5 misses and a hit per chunk served")
            assert s["cache"]["misses"] == 5, s["cache"]
            assert ep.stop() == 0


def test_ram_only_ingest_past_capacity_evicts_whole_old_objects_only():
    """Objects of different ages, one of them popular: an ingest that does
    not fit evicts just enough whole objects, the coldest first, never the
    popular one, never the new one, and leaves no object with holes."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        files = {}
        for i in range(6):
            d = os.path.join(tmp, f"in{i}")
            os.makedirs(d)
            data = os.urandom(20 * CHUNK)
            files[f"obj{i}.bin"] = data
            _write(os.path.join(d, f"obj{i}.bin"), data)
        with Edgeplane(args=["--ram-mb", "32", "--cache-policy", "lru"]) as ep:  # 128 slots
            for i in range(5):  # 100 slots
                ep.ctl("ingest", os.path.join(tmp, f"in{i}"))
            # obj0 is the oldest but popular; obj1 is the coldest.
            for _ in range(3):
                got, _err = ep.download_sha256("/obj0.bin", FAIL)
                assert got == hashlib.sha256(files["obj0.bin"]).hexdigest()
            out = ep.ctl("ingest", os.path.join(tmp, "in5")).stdout  # needs 20, 28 free
            assert "stored 1 objects" in out, out
            extra = os.path.join(tmp, "in6")
            os.makedirs(extra)
            more = os.urandom(20 * CHUNK)
            files["obj6.bin"] = more
            _write(os.path.join(extra, "obj6.bin"), more)
            out = ep.ctl("ingest", extra).stdout  # needs 20, 8 free: one object goes
            assert "stored 1 objects" in out, out
            objs = _objects(ep)
            s = ep.stats()
            assert s["cache"]["object_evictions"] == 1, (s["cache"], objs)
            assert "obj1.bin" not in objs, objs
            for keep in ("obj0.bin", "obj5.bin", "obj6.bin", "obj2.bin"):
                assert keep in objs, objs
            assert _tracked_matches_resident(s), (s["cache"], s["chunkstore"])
            # Every object still listed is whole and byte-exact.
            for name in objs:
                got, err = ep.download_sha256(f"/{name}", FAIL)
                assert got == hashlib.sha256(files[name]).hexdigest(), (name, err)
            assert "evicted obj1.bin" in ep.log(), ep.log()[-2000:]
            assert ep.stop() == 0


def test_ram_only_ingest_that_cannot_fit_fails_and_says_why():
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        _write(os.path.join(tmp, "huge.bin"), os.urandom(40 * CHUNK))
        with Edgeplane(args=["--ram-mb", "8"]) as ep:  # 32 slots
            r = ep.ctl("ingest", tmp, check=False)
            assert "RAM tier full" in r.stdout and "needs 40" in r.stdout, r.stdout
            s = ep.stats()
            assert s["chunkstore"]["objects"] == 0
            assert _tracked_matches_resident(s)
            assert ep.stop() == 0


@pytest.mark.parametrize("clients,size", [(24, 6_000_000), (64, 3_000_000)])
def test_disk_tier_parallel_downloads_with_small_ram_are_exact(clients, size):
    """24 parallel downloads of different 6 MB objects (and 64 of 3 MB)
    through a 16 MiB RAM tier (64 slots; 576 and 768 chunks on disk):
    every download completes exactly."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        src = os.path.join(tmp, "src")
        os.makedirs(src)
        files = {}
        for i in range(clients):
            data = os.urandom(size + i)
            files[f"v{i}.bin"] = data
            _write(os.path.join(src, f"v{i}.bin"), data)
        # The peer wire off (--swarm-port 0): with it on, HTTP's pinned-RAM
        # share is half of a 16 MiB tier even though no peer connects
        # (docs/swarm.md "Not yet"), and on a loaded machine a curl thread
        # that stalls a second is then reset as the pin cap requires
        # (pin_resets; seen once in CI with 64 clients). The test is about
        # the disk tier, not that cap.
        args = ["--store", os.path.join(tmp, "edge.store"), "--disk-mb", "400", "--ram-mb", "16",
                "--swarm-port", "0"]
        with Edgeplane(args=args) as ep:
            ep.ctl("ingest", src)
            with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as ex:
                futs = {n: ex.submit(ep.download_sha256, f"/{n}", FAIL, 120) for n in files}
                for n, f in futs.items():
                    got, err = f.result()
                    if got != hashlib.sha256(files[n]).hexdigest():
                        h = ep.stats()["http"]
                        aborts = {k: v for k, v in h.items() if k.endswith(("_aborts", "_resets", "_timeouts"))}
                        raise AssertionError((n, err, aborts))
            s = ep.stats()
            assert s["http"]["pin_resets"] == 0, s["http"]
            assert s["http"]["chunk_wait_timeouts"] == 0, s["http"]
            assert s["chunkstore"]["objects"] == clients
            assert s["cache"]["evictions"] > 0
            assert _tracked_matches_resident(s), (s["cache"], s["chunkstore"])
            assert ep.stop() == 0


def test_title_played_while_eviction_runs_stays_whole():
    """A disk-tier title is fetched over and over while other downloads push
    its chunks out of RAM: every segment of every pass is exact, and the
    manifest never outlives its segments."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        src = os.path.join(tmp, "src")
        os.makedirs(os.path.join(src, "t"))
        files = {}
        for j in range(10):
            data = os.urandom(CHUNK + 5000 * j)
            files[f"t/seg{j}.m4s"] = data
            _write(os.path.join(src, "t", f"seg{j}.m4s"), data)
        for i in range(8):
            data = os.urandom(3_000_000)
            files[f"other{i}.bin"] = data
            _write(os.path.join(src, f"other{i}.bin"), data)
        args = ["--store", os.path.join(tmp, "edge.store"), "--disk-mb", "128", "--ram-mb", "8"]
        with Edgeplane(args=args) as ep:
            ep.ctl("ingest", src)
            with concurrent.futures.ThreadPoolExecutor(max_workers=9) as ex:
                others = [ex.submit(ep.download_sha256, f"/other{i}.bin", FAIL, 120) for i in range(8)]
                for _ in range(3):
                    for j in range(10):
                        got, err = ep.download_sha256(f"/t/seg{j}.m4s", FAIL)
                        assert got == hashlib.sha256(files[f"t/seg{j}.m4s"]).hexdigest(), (j, err)
                for i, f in enumerate(others):
                    got, err = f.result()
                    assert got == hashlib.sha256(files[f"other{i}.bin"]).hexdigest(), (i, err)
            s = ep.stats()
            assert s["cache"]["evictions"] > 0
            assert s["chunkstore"]["objects"] == len(files)
            assert _tracked_matches_resident(s), (s["cache"], s["chunkstore"])
            assert ep.stop() == 0


RECORD = 4096 + 8192 + CHUNK  # chunkstore/record.h: header, checksum area, payload
PAYLOAD_OFF = 4096 + 8192


def test_download_of_a_removed_object_is_reset_at_once():
    """RAM-only: the chunks a slow download still needs are deleted with the
    object; the response ends as soon as it needs one, not after the wait
    for a promotion that can never come."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        _write(os.path.join(tmp, "gone.bin"), os.urandom(100 * CHUNK))
        with Edgeplane(args=["--ram-mb", "64"]) as ep:
            ep.ctl("ingest", tmp)
            slow = subprocess.Popen(["ip", "netns", "exec", ep.ns, "curl", "-sS", "-o", "/dev/null",
                                     "--limit-rate", "200k", "-m", "200", f"http://{ep.ip}/gone.bin"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                # Remove it once the response is under way (25 MB at 200 kB/s
                # is far from done then).
                for _ in range(100):
                    if ep.stats()["http"]["body_bytes_out"] > 0:
                        break
                    time.sleep(0.1)
                assert "removed" in ep.ctl("remove", "gone.bin").stdout
                _out, err = slow.communicate(timeout=200)
            finally:
                slow.kill()
            assert slow.returncode != 0, "the download of a deleted object must not complete"
            s = ep.stats()
            assert s["http"]["object_gone_aborts"] == 1, s["http"]
            assert s["http"]["chunk_wait_timeouts"] == 0, s["http"]
            assert ep.stop() == 0


def test_corrupt_record_loses_only_its_chunk():
    """A flipped byte in chunk 5 of a 12-chunk object: after a restart the
    object is still listed, ranges that avoid chunk 5 are exact, a response
    that needs it is reset (counted), and nothing else is lost."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        src = os.path.join(tmp, "src")
        os.makedirs(src)
        data = os.urandom(12 * CHUNK)
        other = os.urandom(3 * CHUNK)
        _write(os.path.join(src, "a.bin"), data)
        store = os.path.join(tmp, "edge.store")
        args = ["--store", store, "--disk-mb", "64", "--ram-mb", "8"]
        with Edgeplane(args=args) as ep:
            assert "stored 1 objects" in ep.ctl("ingest", os.path.join(src, "a.bin")).stdout
            _write(os.path.join(tmp, "b.bin"), other)
            ep.ctl("ingest", os.path.join(tmp, "b.bin"))
            assert ep.stop() == 0
        with open(store, "r+b") as f:  # slots are handed out lowest first: chunk 5 is slot 5
            at = 5 * RECORD + PAYLOAD_OFF + 1234
            f.seek(at)
            b = f.read(1)
            f.seek(at)
            f.write(bytes([b[0] ^ 0x40]))
        with Edgeplane(args=args) as ep:
            assert "a.bin" in _objects(ep)
            for lo, hi in ((0, 5 * CHUNK - 1), (6 * CHUNK, 12 * CHUNK - 1), (100, 200)):
                r = ep.ns_run(["sh", "-c", f"curl -sS -f -m 30 -r {lo}-{hi} http://{ep.ip}/a.bin | sha256sum"])
                assert r.stdout.split()[0] == hashlib.sha256(data[lo:hi + 1]).hexdigest(), (lo, hi, r.stderr)
            got, _err = ep.download_sha256("/a.bin", FAIL, timeout=30)
            assert got != hashlib.sha256(data).hexdigest()
            got, err = ep.download_sha256("/b.bin", FAIL, timeout=30)
            assert got == hashlib.sha256(other).hexdigest(), err
            s = ep.stats()
            assert s["http"]["chunk_lost_aborts"] == 1, s["http"]
            assert s["http"]["chunk_wait_timeouts"] == 0, s["http"]
            assert s["chunkstore"]["checksum_failures"] >= 1
            assert ep.stop() == 0


def test_downloads_keep_going_during_a_large_ingest():
    """During a 3 GiB ingest (on the ingest worker, which hands the store to
    the control loop between chunks), downloads that need disk promotions
    must still finish (before the background hook, promotions stopped for
    the ingest's whole duration)."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        src = os.path.join(tmp, "src")
        os.makedirs(src)
        files = {}
        for i in range(2):
            data = os.urandom(40 * CHUNK)
            files[f"d{i}.bin"] = data
            _write(os.path.join(src, f"d{i}.bin"), data)
        big = os.path.join(tmp, "big")
        os.makedirs(big)
        with open(os.path.join(big, "huge.bin"), "wb") as f:
            f.truncate(3 << 30)  # sparse: reading it is cheap, writing it to the store is not
        args = ["--store", os.path.join(tmp, "edge.store"), "--disk-mb", "3300", "--ram-mb", "8"]
        with Edgeplane(args=args) as ep:
            ep.ctl("ingest", src)
            ingest = subprocess.Popen([EDGECTL, "--socket", ep.sock, "ingest", big],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                # Wait until the ingest is under way (its progress stream has begun).
                time.sleep(0.5)
                finished_during = 0
                for rnd in range(3):
                    for name, data in files.items():
                        got, err = ep.download_sha256(f"/{name}", FAIL, timeout=60)
                        assert got == hashlib.sha256(data).hexdigest(), (rnd, name, err)
                        if ingest.poll() is None:
                            finished_during += 1
                out, _ = ingest.communicate(timeout=300)
            finally:
                ingest.kill()
            assert "stored 1 objects" in out, out
            assert finished_during >= 2, "downloads must finish while the ingest runs"
            s = ep.stats()
            assert s["chunkstore"]["promotions"] > 0
            assert s["http"]["chunk_wait_timeouts"] == 0, s["http"]
            assert _tracked_matches_resident(s), (s["cache"], s["chunkstore"])
            assert ep.stop() == 0


def _rchar(pid):
    """Bytes the process has read through read(2)/pread(2) so far."""
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    return 0


def test_control_loop_serves_admin_commands_during_a_large_ingest():
    """Ingest runs on the ingest worker, off the control loop (issue 17):
    while a 1 GiB title is being written, the admin socket answers `objects`
    and `stats` (before, every command waited for the whole ingest), and the
    title is listed only once it is complete. The ingest is known to be under
    way (the daemon has read 64 MiB of the title) before the commands go out,
    so a command served before the ingest began cannot pass for one served
    during it."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        big = os.path.join(tmp, "big")
        os.makedirs(big)
        with open(os.path.join(big, "huge.bin"), "wb") as f:
            f.truncate(1 << 30)  # sparse: cheap to read, not to write to the store
        args = ["--store", os.path.join(tmp, "edge.store"), "--disk-mb", "1100", "--ram-mb", "8"]
        with Edgeplane(args=args) as ep:
            pid = ep.proc.pid  # `ip netns exec` execs the daemon: same pid
            base = _rchar(pid)
            ingest = subprocess.Popen([EDGECTL, "--socket", ep.sock, "ingest", big],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                deadline = time.time() + 300
                while _rchar(pid) - base < (64 << 20):
                    assert ingest.poll() is None, ingest.communicate()
                    assert time.time() < deadline, "the ingest never started reading"
                    time.sleep(0.005)
                objects_during = ep.ctl("objects").stdout
                stats_during = ep.stats()
                still_running = ingest.poll() is None
                out, err = ingest.communicate(timeout=900)
            finally:
                ingest.kill()
                ingest.wait()
            assert "huge.bin" not in objects_during, (
                "`objects` was answered only after the ingest finished: " + objects_during)
            assert stats_during["chunkstore"]["objects"] == 0, stats_during["chunkstore"]
            assert still_running, "the ingest ended before the commands were answered"
            assert "stored 1 objects" in out, (out, err)
            assert "huge.bin" in ep.ctl("objects").stdout
            assert ep.stop() == 0


def test_sigterm_during_a_large_ingest_stops_cleanly_and_keeps_no_half_title():
    """A daemon told to stop while the ingest worker is mid-title cancels
    the ingest (the title is abandoned, never published), exits 0 with every
    mbuf back, and after a restart on the same store file the half-written
    title is not there while what was stored before is.

    The SIGTERM cannot race past the ingest: `--test-ingest-hold` makes the
    worker stop at its first yield point inside the title (a chunk written,
    the title not finished) and wait there until the daemon stops; the test
    signals only once the daemon has logged "ingest held", and checks that
    the ingest was still unfinished (no reply, no object) at that moment."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        small = os.path.join(tmp, "small")
        os.makedirs(small)
        data = os.urandom(3 * CHUNK + 5)
        _write(os.path.join(small, "keep.bin"), data)
        big = os.path.join(tmp, "big")
        os.makedirs(big)
        with open(os.path.join(big, "huge.bin"), "wb") as f:
            f.truncate(1 << 30)
        args = ["--store", os.path.join(tmp, "edge.store"), "--disk-mb", "1100", "--ram-mb", "8"]
        with Edgeplane(args=args) as ep:  # no hold: it would hold this one too
            assert "stored 1 objects" in ep.ctl("ingest", small).stdout
            assert ep.stop() == 0
        with Edgeplane(args=args + ["--test-ingest-hold", "true"]) as ep:
            ingest = subprocess.Popen([EDGECTL, "--socket", ep.sock, "ingest", big],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                deadline = time.time() + 300
                while "ingest held" not in ep.log():
                    assert ingest.poll() is None, ingest.communicate()
                    assert time.time() < deadline, "the ingest never reached its hold point"
                    time.sleep(0.01)
                # Held mid-title: unfinished, so the signal lands during it.
                assert ingest.poll() is None, ingest.communicate()
                objects_held = _objects(ep)
                assert "huge.bin" not in objects_held and "keep.bin" in objects_held, objects_held
                rc = ep.stop()
                out, _err = ingest.communicate(timeout=60)
            finally:
                ingest.kill()
                ingest.wait()
            assert rc == 0, ep.log()[-3000:]
            assert "stored 1 objects" not in out, out  # cancelled, not finished
            assert "stopped; all" in ep.log() and "mbufs returned" in ep.log(), ep.log()[-2000:]
        with Edgeplane(args=args) as ep:
            objs = _objects(ep)
            assert "keep.bin" in objs and "huge.bin" not in objs, objs
            got, err = ep.download_sha256("/keep.bin", FAIL, timeout=30)
            assert got == hashlib.sha256(data).hexdigest(), err
            assert ep.stop() == 0

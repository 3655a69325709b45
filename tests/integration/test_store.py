"""The chunk store inside the daemon: ingest over the admin socket, restart
rebuilds the index from the store file, bytes read back exactly."""

import os
import subprocess
import tempfile

from harness import BUILD, EDGECTL, Edgeplane

EPSTORE = os.path.join(BUILD, "chunkstore", "epstore")


def make_tree(root):
    files = {
        "manifest.mpd": b"<MPD>" + b"x" * 1000 + b"</MPD>",
        "video/seg-1.m4s": os.urandom(700_000),   # 3 chunks, the last one short
        "video/seg-2.m4s": os.urandom(256 * 1024),  # exactly one chunk
        "empty.txt": b"",
    }
    for name, data in files.items():
        p = os.path.join(root, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    return files


def cat(store, name):
    return subprocess.run([EPSTORE, "cat", "--store", store, name], check=True,
                          capture_output=True).stdout


def test_ingest_restart_and_read_back_byte_exact():
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        src = os.path.join(tmp, "src")
        files = make_tree(src)
        store = os.path.join(tmp, "edge.store")
        args = ["--store", store, "--disk-mb", "64", "--ram-mb", "32"]
        with Edgeplane(args=args) as ep:
            out = ep.ctl("ingest", src, "--name", "demo").stdout
            assert f"stored {len(files)} objects" in out, out
            assert "progress" in out
            listing = ep.ctl("objects").stdout
            for name in files:
                assert f"demo/{name}" in listing
            s = ep.stats()["chunkstore"]
            assert s["objects"] == len(files)
            assert s["disk_writes"] >= 5
            assert ep.stop() == 0

        # Offline read-back of every object, byte for byte.
        for name, data in files.items():
            assert cat(store, f"demo/{name}") == data, name

        # A restart rebuilds the same content from the records.
        with Edgeplane(args=args) as ep:
            assert f"{len(files)} objects" in ep.log()
            assert ep.stats()["chunkstore"]["objects"] == len(files)
            r = ep.ctl("remove", "demo/empty.txt")
            assert "removed" in r.stdout
            assert ep.stats()["chunkstore"]["objects"] == len(files) - 1
            assert ep.stop() == 0


def test_ingest_without_daemon_goes_to_the_store_file():
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        src = os.path.join(tmp, "src")
        files = make_tree(src)
        store = os.path.join(tmp, "offline.store")
        r = subprocess.run([EDGECTL, "-s", os.path.join(tmp, "nobody.sock"), "ingest", src,
                            "--name", "t", "--store", store], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert cat(store, "t/video/seg-1.m4s") == files["video/seg-1.m4s"]


def test_ingest_errors_are_clear():
    with Edgeplane() as ep:
        r = ep.ctl("ingest", "/nonexistent/path", check=False)
        assert r.returncode != 0
        r = ep.ctl("remove", "no/such/object", check=False)
        assert r.returncode != 0 and "error" in r.stdout


def test_objects_lists_long_names_whole():
    """Names may be up to 2048 bytes: `objects` prints each on its own line, whole."""
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        deep = os.path.join(tmp, *(c * 200 for c in "abcde"))
        os.makedirs(deep)
        with open(os.path.join(deep, "leaf.bin"), "wb") as f:
            f.write(b"x" * 10)
        with open(os.path.join(tmp, "short.bin"), "wb") as f:
            f.write(b"y")
        with Edgeplane() as ep:
            ep.ctl("ingest", tmp)
            lines = ep.ctl("objects").stdout.splitlines()
            names = sorted(l.split()[2] for l in lines)
            want = "/".join(c * 200 for c in "abcde") + "/leaf.bin"
            assert names == sorted([want, "short.bin"]), lines
            assert ep.stop() == 0

"""Helpers test_swarm.py and test_peer_wire.py share: a seeded random file in
the daemon's work directory, a file's SHA-256, and `edgectl torrent NAME`
as a dict."""

import hashlib
import os
import random


def make_file(ep, name, size, seed=1):
    path = os.path.join(ep.workdir, name)
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        f.write(rnd.randbytes(size))
    return path


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def torrent_fields(ep, name):
    out = ep.ctl("torrent", name).stdout
    return dict(line.split(" ", 1) for line in out.strip().splitlines())

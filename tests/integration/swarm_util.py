"""Helpers the swarm tests share: a seeded random file in the daemon's work
directory, a file's SHA-256, `edgectl torrent NAME` as a dict, and the fill
jobs of `edgectl swarm`."""

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


def fetch_jobs(ep):
    """`edgectl swarm`'s fill jobs: {name: (job fields, [peer fields])}.
    A job line is `fetch NAME info_hash H PHASE key value ... [seeding]`, a
    peer line `peer ADDR STATE key value ...`; values stay strings."""
    out, cur = {}, None
    for line in ep.ctl("swarm").stdout.splitlines():
        w = line.split()
        if w[0] == "fetch":
            cur = w[1]
            f = dict(zip(w[5::2], w[6::2]))
            f["info_hash"], f["phase"], f["seeding"] = w[3], w[4], w[-1] == "seeding"
            out[cur] = (f, [])
        elif w[0] == "peer":
            peer = dict(zip(w[3::2], w[4::2]))
            peer["addr"], peer["state"] = w[1], w[2]
            out[cur][1].append(peer)
    return out

"""Membership in etcd (docs/cluster_selection.md "Membership"): a real etcd
(Debian's etcd-server) in a namespace of its own, two appliances in two
clusters, each in its namespace with a veth to etcd's. Both register with a
lease and each one's `edgectl clusters` lists both; the appliance near the
client is the one the other's DNS answers. Then that one is SIGKILLed: it
renews nothing, etcd expires its lease, and the survivor drops it and
answers its own address instead. A drain revokes the lease at once.
Without --etcd, test_clusters.py covers the model alone."""

import os
import signal
import time

import pytest

from cluster_util import cluster_table, clusters_toml
from etcd_util import Etcd, wait_members
from harness import Edgeplane

HERE = os.path.dirname(__file__)
EXAMPLES = os.path.join(HERE, "..", "..", "docs", "examples", "dns")
TTL = 2          # --etcd-lease-ttl (etcd's minimum is 1.5 s with default raft timings)
MARGIN = 10      # reading, deciding, publishing; a loaded CI machine


def clusters_file(policy, paris, london):
    """Paris and London, one address each (the fallback etcd replaces)."""
    return clusters_toml(f'''policy = "{policy}"
clients = "clients.csv"
recompute_s = 3600          # membership changes recompute at once''',
                         [cluster_table("paris", [paris]), cluster_table("london", [london])],
                         [("video.kingcdn.test", 5)])


# Every test client (the namespaces' host sides, 10.78.x.1) is in London.
CLIENTS = """prefix,lat,lon
10.78.0.0/16,51.50,-0.12
"""


def appliance(tmp, name, cluster, endpoint_holder, etcd_index):
    ep = Edgeplane(args=["--clusters", str(tmp / "clusters.toml"), "--dns-port", "53",
                         "--dns-zone", os.path.join(EXAMPLES, "kingcdn.test.zone"),
                         "--etcd", f"172.31.{etcd_index}.1:2379", "--etcd-lease-ttl", str(TTL),
                         "--etcd-poll-ms", "200", "--appliance-name", name,
                         "--appliance-cluster", cluster])
    return ep


def kdig_a(ep):
    r = ep.ns_run(["kdig", f"@{ep.ip}", "-p", "53", "+notcp", "+retry=3", "+time=2", "+short",
                   "video.kingcdn.test", "A"], check=False, timeout=60)
    return r.stdout.split()


def make_world(tmp_path, specs, policy, title=""):
    """specs: (appliance name, cluster) per appliance; the first of each
    cluster's address goes in the file (a fallback that etcd replaces)."""
    tag = f"{(os.getpid() * 13 + len(specs)) % 10000:04d}"
    etcd = Etcd(tag)
    eps = []
    try:
        etcd.start(list(range(1, len(specs) + 1)))
        for i, (name, cluster) in enumerate(specs, 1):
            eps.append(appliance(tmp_path, name, cluster, etcd, i))
        first = {}
        for ep, (name, cluster) in zip(eps, specs):
            first.setdefault(cluster, ep.ip)
        (tmp_path / "clients.csv").write_text(CLIENTS)
        text = clusters_file(policy, first["paris"], first["london"])
        if title:
            text += f'title = "{title}"\n'
        (tmp_path / "clusters.toml").write_text(text)
        for ep in eps:
            ep.start()
        for i, ep in enumerate(eps, 1):
            etcd.link(ep, i)
        etcd.run()
        for ep in eps:
            ep.ns_run(["ping", "-c", "1", "-W", "2", ep.ip])  # ARP first
        yield (etcd, *eps)
    finally:
        for ep in eps:
            ep.stop()
            ep.cleanup()
        etcd.cleanup()


@pytest.fixture
def world(tmp_path):
    yield from make_world(tmp_path, [("paris-1", "paris"), ("london-1", "london")], "geo")


@pytest.fixture
def world3(tmp_path):
    yield from make_world(tmp_path, [("paris-1", "paris"), ("london-1", "london"),
                                     ("london-2", "london")], "content", title="6Y7B23V")


def test_members_register_and_a_killed_one_goes(world):
    etcd, pa, pb = world
    # Both registered: each one lists both (its own record too, read back
    # from etcd), and etcd holds the two keys.
    for ep in (pa, pb):
        out = wait_members(ep, ["london-1", "paris-1"], timeout=30)
        assert "registered, lease" in out, out
    assert sorted(etcd.keys()) == ["/edgeplane/appliances/london/london-1",
                                   "/edgeplane/appliances/paris/paris-1"]
    # The client is in London: Paris's DNS sends it to London's appliance,
    # whose address came from its own registration.
    deadline = time.time() + MARGIN
    while kdig_a(pa) != [pb.ip]:
        assert time.time() < deadline, (kdig_a(pa), pa.ctl("clusters").stdout)
        time.sleep(0.2)
    assert kdig_a(pb) == [pb.ip]
    # Two appliances share this machine's cores: their data lcores, idle
    # between queries, back off (dataplane/idle_backoff.h) and still answer.
    for ep in (pa, pb):
        assert ep.counter("idle_sleeps") > 0 and ep.counter("idle_sleep_cycles") > 0, ep.stats()
    why = pa.ctl("why", pa.host_ip).stdout
    assert "decided london" in why and "appliances (all live members): london-1" in why, why

    # London dies without a word: no revoke, the lease runs out.
    pb.proc.send_signal(signal.SIGKILL)
    pb.proc.wait()
    out = wait_members(pa, ["paris-1"], timeout=TTL + MARGIN)
    assert "london           bring-home down" in out, out
    # ... and Paris's DNS answers with its own address now.
    deadline = time.time() + MARGIN
    while kdig_a(pa) != [pa.ip]:
        assert time.time() < deadline, (kdig_a(pa), pa.ctl("clusters").stdout)
        time.sleep(0.2)
    assert pb.ip not in kdig_a(pa)
    assert "decided paris" in pa.ctl("why", pa.host_ip).stdout
    assert etcd.keys() == ["/edgeplane/appliances/paris/paris-1"]


def test_drain_revokes_the_lease_at_once(world):
    etcd, pa, pb = world
    wait_members(pa, ["london-1", "paris-1"], timeout=30)
    # A long TTL would keep a dead appliance listed; a drain does not wait
    # for it: the lease is revoked when the drain begins.
    pb.ctl("drain", "--deadline", "30", check=False)  # with nothing open it exits at once
    out = wait_members(pa, ["paris-1"], timeout=MARGIN)
    assert etcd.keys() == ["/edgeplane/appliances/paris/paris-1"]
    assert "left (lease revoked)" in pb.log(), pb.log()


def test_content_answer_names_the_placed_appliance_and_moves_when_it_dies(world3):
    etcd, pa, l1, l2 = world3
    # Every appliance reads etcd on its own: each must have seen all three
    # before its answers can agree (CI once asked London's second one
    # before it had read the first's record).
    for ep in (pa, l1, l2):
        wait_members(ep, ["london-1", "london-2", "paris-1"], timeout=30)
    # Content-aware: the title is placed on one of London's two appliances
    # by rendezvous hashing; Paris's DNS answers that one's address only.
    deadline = time.time() + MARGIN
    while True:
        why = pa.ctl("why", pa.host_ip).stdout
        line = [x for x in why.splitlines() if "appliances for title 6Y7B23V" in x]
        if line and "decided london" in why:
            break
        assert time.time() < deadline, why
        time.sleep(0.2)
    placed = line[0].split("replicas 1):")[1].split()[0]
    assert placed in ("london-1", "london-2"), why
    winner, other = (l1, l2) if placed == "london-1" else (l2, l1)
    deadline = time.time() + MARGIN
    while kdig_a(pa) != [winner.ip]:
        assert time.time() < deadline, (kdig_a(pa), why)
        time.sleep(0.2)
    # The same placement on every appliance: London's own DNS agrees (once
    # it has recomputed with the members it has read).
    deadline = time.time() + MARGIN
    while kdig_a(other) != [winner.ip]:
        assert time.time() < deadline, (kdig_a(other), other.ctl("why", other.host_ip).stdout)
        time.sleep(0.2)
    # The placed one dies: the title moves to the other London appliance.
    winner.proc.send_signal(signal.SIGKILL)
    winner.proc.wait()
    deadline = time.time() + TTL + MARGIN
    while kdig_a(pa) != [other.ip]:
        assert time.time() < deadline, (kdig_a(pa), pa.ctl("why", pa.host_ip).stdout)
        time.sleep(0.2)
    assert "decided london" in pa.ctl("why", pa.host_ip).stdout

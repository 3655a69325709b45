"""The passive measurement feed end to end (docs/cluster_selection.md,
"Passive measurements"): two clusters, one appliance each, a real etcd, the
measured policy. A client network in Paris (198.51.100.0/24: an address of it in
each appliance's namespace, so one client block talks to both) downloads
from both appliances; their TCP stacks measure each connection's RTT and
retransmissions, the data lcores' rings carry them to the control thread,
and each appliance publishes its own cluster's figures in its etcd record
and reads the other's. Then Paris's path is made worse: its data plane's
fault stage delays every transmitted frame by 40 ms (a reload). After more
downloads both appliances' `edgectl why` show Paris's higher RTT, one from
its own connections and one from its member's record, and both DNS servers
answer London for the client's subnet: not the geo-nearest cluster."""

import os
import re
import time

import pytest

from cluster_util import cluster_table, clusters_toml
from etcd_util import Etcd, wait_members
from harness import Edgeplane

HERE = os.path.dirname(__file__)
ZONE = os.path.join(HERE, "..", "..", "docs", "examples", "dns", "kingcdn.test.zone")
TTL = 2
CLIENT_NET = "198.51.100.0/24"  # a documentation range: DNS takes it from ECS (private ones it ignores)
DELAY = "delay=1,delay-us=40000,dir=tx"


def clusters_file(paris, london):
    return clusters_toml('''policy = "measured"
clients = "clients.csv"
recompute_s = 1
measure_half_life_s = 20    # the old, fast figures fade within the test''',
                         [cluster_table("paris", [paris]), cluster_table("london", [london])],
                         [("video.kingcdn.test", 5)])


# The client network is in Paris: the geo-nearest cluster is paris.
CLIENTS = f"prefix,lat,lon\n{CLIENT_NET},48.85,2.35\n"


def write(path, text):
    with open(str(path) + ".tmp", "w") as f:
        f.write(text)
    os.rename(str(path) + ".tmp", path)


@pytest.fixture
def world(tmp_path):
    tag = f"{(os.getpid() * 17 + 3) % 10000:04d}"
    etcd = Etcd(tag)
    title = tmp_path / "title"
    title.mkdir()
    (title / "f.bin").write_bytes(os.urandom(512 * 1024))
    conf = tmp_path / "paris.toml"
    write(conf, "# the fault spec goes here (reload)\n")
    eps = []
    try:
        etcd.start([1, 2])
        for i, (name, cluster) in enumerate([("paris-1", "paris"), ("london-1", "london")], 1):
            args = ["--clusters", str(tmp_path / "clusters.toml"), "--dns-port", "53",
                    "--dns-zone", ZONE, "--etcd", f"172.31.{i}.1:2379", "--etcd-lease-ttl",
                    str(TTL), "--etcd-poll-ms", "200", "--appliance-name", name,
                    "--appliance-cluster", cluster, "--title", f"t={title}"]
            if cluster == "paris":
                args += ["--config", str(conf)]
            eps.append(Edgeplane(args=args))
        pa, lo = eps
        # The client's addresses are off the appliances' /24: they answer it
        # through their namespace's side of the TAP.
        for ep in eps:
            ep.args += ["--gateway", ep.host_ip]
        (tmp_path / "clients.csv").write_text(CLIENTS)
        (tmp_path / "clusters.toml").write_text(clusters_file(pa.ip, lo.ip))
        for ep in eps:
            ep.start()
        for i, ep in enumerate(eps, 1):
            etcd.link(ep, i)
        etcd.run()
        for k, ep in enumerate(eps, 1):
            ep.client = f"198.51.100.{k}"
            ep.ns_run(["ip", "addr", "add", f"{ep.client}/32", "dev", ep.tap])
            ep.ns_run(["ping", "-c", "1", "-W", "2", ep.ip])  # ARP first
        yield etcd, pa, lo, conf
    finally:
        for ep in eps:
            ep.stop()
            ep.cleanup()
        etcd.cleanup()


def download(ep, n):
    """n downloads of the title's file from the client's address in ep's namespace."""
    for _ in range(n):
        r = ep.ns_run(["curl", "-sS", "-m", "30", "--interface", ep.client, "-o", "/dev/null",
                       "-w", "%{http_code} %{size_download}", f"http://{ep.ip}/t/f.bin"],
                      check=False, timeout=60)
        assert r.stdout == f"200 {512 * 1024}", r.stdout + r.stderr


def dns_answer(ep):
    r = ep.ns_run(["kdig", f"@{ep.ip}", "+notcp", "+retry=3", "+time=2", f"+subnet={CLIENT_NET}",
                   "+short", "video.kingcdn.test", "A"], check=False, timeout=60)
    return r.stdout.split()


def measured(why, cluster):
    """{source: rtt_ms} of `why`'s measurement lines for `cluster`."""
    out = {}
    for m in re.finditer(rf"^    {cluster} +\S+ +([\d.]+) +[\d.]+ +[\d.]+ +\d+  (.+)$", why,
                         re.MULTILINE):
        out[m.group(2)] = float(m.group(1))
    return out


def wait_for(what, fn, timeout):
    deadline = time.time() + timeout
    while True:
        ok, info = fn()
        if ok:
            return info
        assert time.time() < deadline, f"{what}: {info}"
        time.sleep(0.3)


def test_a_degraded_cluster_loses_its_clients_to_the_measured_other(world):
    etcd, pa, lo = world[:3]
    conf = world[3]
    for ep in (pa, lo):
        wait_members(ep, ["london-1", "paris-1"], timeout=30)
    # Nothing measured yet: geography, the client is in Paris.
    for ep in (pa, lo):
        wait_for("geo answer", lambda ep=ep: (dns_answer(ep) == [pa.ip], dns_answer(ep)), 10)

    # Downloads from both: each appliance measures its own cluster and
    # reads the other's figures from etcd.
    download(pa, 3)
    download(lo, 3)
    for ep, own, other, name in ((pa, "paris", "london", "london-1"),
                                 (lo, "london", "paris", "paris-1")):
        def both(ep=ep, own=own, other=other, name=name):
            why = ep.ctl("why", ep.client).stdout
            return ("this appliance" in measured(why, own) and
                    f"member {name}" in measured(why, other)), why + "\n".join(
                        l for l in ep.ctl("stats").stdout.splitlines() if "rtt" in l or "measure" in l)
        wait_for("both clusters measured", both, 20)
    assert pa.counter("rtt_records_sent") >= 3, pa.stats()
    assert pa.counter("rtt_ring_full") == 0
    fast = measured(pa.ctl("why", pa.client).stdout, "paris")["this appliance"]
    assert fast < 20, pa.ctl("why", pa.client).stdout

    # Paris's path gets 40 ms worse (its fault stage delays what it sends).
    write(conf, f'fault = "{DELAY}"\n')
    r = pa.ctl("reload")
    assert f"-> '{DELAY}'" in r.stdout, r.stdout
    download(pa, 6)
    download(lo, 3)

    # Both appliances see Paris slow (Paris from its own connections, London
    # from Paris's record) and steer the Paris client to London.
    for ep, src in ((pa, "this appliance"), (lo, "member paris-1")):
        def moved(ep=ep, src=src):
            why = ep.ctl("why", ep.client).stdout
            rtt = measured(why, "paris").get(src, 0)
            return rtt > fast + 15 and "decided london" in why, why
        why = wait_for("steered to london", moved, 30)
        assert "london" in why and "measured" in why
        wait_for("DNS answers london", lambda ep=ep: (dns_answer(ep) == [lo.ip], dns_answer(ep)),
                 10)
    assert pa.counter("fault_delayed") > 0

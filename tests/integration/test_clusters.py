"""Cluster selection in the running appliance (docs/cluster_selection.md):
the daemon starts with a --clusters file and a client CSV, `edgectl
clusters` shows the model with load and health, `edgectl why ADDRESS` shows
the candidates, their scores and what decided; a measurement fed through
the admin socket and a cluster marked down move the client, and `why` says
so. A bad clusters file keeps the daemon from starting, with the file and
line, and --check-config judges it too."""

import os
import subprocess

import pytest

from cluster_util import clients_csv, paris_london_model, wait_for_server
from harness import EDGEPLANE, Edgeplane

CLUSTERS = """
policy = "measured"
clients = "clients.csv"
recompute_s = 3600          # the test recomputes when it wants

[[cluster]]
name = "paris"
kind = "enter-deep"
lat = 48.86
lon = 2.35
capacity_gbps = 40
v4 = ["10.77.0.2", "10.77.0.12"]

[[cluster]]
name = "london"
lat = 51.51
lon = -0.13
capacity_gbps = 400
v4 = ["10.77.0.3"]
v6 = ["2001:db8::3"]

[[cluster]]
name = "newyork"
lat = 40.71
lon = -74.0
capacity_gbps = 400
v4 = ["10.77.0.4"]

[[name]]
owner = "video.kingcdn.test"
ttl = 30
"""

CLIENTS = """prefix,lat,lon,asn,demand_gbps
198.51.100.0/24,48.80,2.30,64500,1
198.51.101.0/24,48.90,2.40,64500,1
203.0.113.0/24,40.80,-73.90,64501,2
2001:db8:1::/48,51.40,-0.30,64502,1
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("clusters")
    (d / "clusters.toml").write_text(CLUSTERS)
    (d / "clients.csv").write_text(CLIENTS)
    return d


@pytest.fixture(scope="module")
def ep(files):
    with Edgeplane(args=["--clusters", str(files / "clusters.toml")]) as e:
        yield e
        assert e.stop() == 0, e.log()


def why(ep, addr):
    return ep.ctl("why", addr).stdout


def decided(text):
    for line in text.splitlines():
        if ": decided " in line:
            return line.split(": decided ")[1].split()[0]
    raise AssertionError(text)


def test_clusters_shows_model_load_and_health(ep):
    out = ep.ctl("clusters").stdout
    assert "policy measured" in out, out
    assert "clients 4 (4 from" in out and "clients.csv" in out, out
    assert "video.kingcdn.test (ttl 30)" in out, out
    rows = {line.split()[0]: line.split() for line in out.splitlines()
            if line.split() and line.split()[0] in ("paris", "london", "newyork")}
    assert set(rows) == {"paris", "london", "newyork"}, out
    assert rows["paris"][1] == "enter-deep" and rows["paris"][2] == "up", out
    # The two Paris /24s (2 Gbit/s) are Paris's: 5 % of 40.
    assert float(rows["paris"][6]) == pytest.approx(2.0), out
    assert float(rows["paris"][7]) == pytest.approx(5.0), out
    assert rows["paris"][9] == "10.77.0.2,10.77.0.12", out
    assert rows["newyork"][8] == "1", out
    # The map went to the DNS side (the stub counts it): the two Paris /24s
    # aggregated into one /23, so 3 routes.
    assert "routes per name 3" in out, out
    assert "published 1 maps to DNS" in out, out


def test_why_explains_geo_fallback(ep):
    out = why(ep, "198.51.100.77")
    assert "client network 198.51.100.0/24 AS64500" in out, out
    assert "policy measured" in out, out
    assert decided(out) == "paris", out
    assert "(lowest score)" in out, out
    assert "route 198.51.100.0/23 (ECS scope 23)" in out, out
    # Every candidate with its score; nothing measured yet: geo estimates.
    lines = [l for l in out.splitlines() if "geo estimate" in l]
    assert len(lines) == 3, out
    assert lines[0].split()[0] == "*" and lines[0].split()[1] == "paris", out
    v6 = why(ep, "2001:db8:1::99")
    assert decided(v6) == "london", v6


def test_measurement_moves_the_client_and_why_says_so(ep):
    # Paris is slow for this network (bad peering), London fast.
    assert "measured paris 198.51.100.0/24" in ep.ctl("call", "measure", "paris",
                                                      "198.51.100.5", "70", "0", "20").stdout
    ep.ctl("call", "measure", "london", "198.51.100.9", "9", "0.5", "20")
    assert "recomputed" in ep.ctl("call", "recompute").stdout
    out = why(ep, "198.51.100.77")
    assert decided(out) == "london", out
    london = [l for l in out.splitlines() if " london " in l and "measured" in l]
    assert london and "9.00" in london[0] and "0.50" in london[0], out  # RTT and loss shown
    # The neighbour /24 is no longer the same answer: scopes split again.
    assert "route 198.51.100.0/24 (ECS scope 24)" in out, out
    assert decided(why(ep, "198.51.101.1")) == "paris"


def test_a_down_cluster_is_steered_away_from(ep):
    assert "paris is down" in ep.ctl("call", "cluster-health", "paris", "down").stdout
    out = why(ep, "198.51.101.1")
    assert decided(out) == "london", out
    assert " paris " not in out, out  # no longer a candidate
    rows = ep.ctl("clusters").stdout
    assert any(l.split()[:3] == ["paris", "enter-deep", "down"] for l in rows.splitlines()), rows
    ep.ctl("call", "cluster-health", "paris", "up")
    assert decided(why(ep, "198.51.101.1")) == "paris"


def test_why_errors(ep):
    r = ep.ctl("why", "192.0.2.1", check=False)
    assert r.returncode == 1 and "no client network contains 192.0.2.1" in r.stdout, r.stdout
    r = ep.ctl("why", "not-an-address", check=False)
    assert r.returncode == 1 and "error:" in r.stdout, r.stdout


def test_bad_clusters_file_is_refused_with_its_line(files, tmp_path):
    bad = tmp_path / "bad.toml"
    text = CLUSTERS.replace('kind = "enter-deep"', 'kind = "enter-deep"\ncolour = "red"')
    bad.write_text(text)
    line = text.splitlines().index('colour = "red"') + 1
    r = subprocess.run([EDGEPLANE, "--check-config", "/dev/null", "--ip", "10.0.0.1/24",
                        "--port", "net_null0", "--clusters", str(bad)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{bad}:{line}: unknown key 'colour'" in r.stderr, r.stderr
    good = subprocess.run([EDGEPLANE, "--check-config", "/dev/null", "--ip", "10.0.0.1/24",
                           "--port", "net_null0", "--clusters", str(files / "clusters.toml")],
                          capture_output=True, text=True, timeout=30)
    assert good.returncode == 0, good.stdout + good.stderr


# Cluster selection answered by the appliance's own DNS server: the map is
# published into the DNS steering tables (control/dns_tables.h), so kdig
# from the client namespace, with ECS for a client network, gets the
# decided cluster's addresses and the deciding route's length as SCOPE; a
# measurement that moves the network moves the answer.
EXAMPLE_ZONES = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "examples", "dns")


@pytest.fixture(scope="module")
def ep_dns(files):
    args = ["--clusters", str(files / "clusters.toml"), "--dns-port", "53",
            "--dns-zone", os.path.join(EXAMPLE_ZONES, "kingcdn.test.zone")]
    with Edgeplane(args=args) as e:
        e.ns_run(["ping", "-c", "1", "-W", "2", e.ip])  # ARP first
        yield e
        assert e.stop() == 0, e.log()


def ecs_answer(ep, subnet):
    r = ep.ns_run(["kdig", f"@{ep.ip}", "+notcp", "+retry=3", "+time=2", f"+subnet={subnet}",
                   "video.kingcdn.test", "A"], check=False, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    addrs = sorted(l.split()[-1] for l in r.stdout.splitlines()
                   if "\tA\t" in l or (" A " in l and l.startswith("video.")))
    scope = [l for l in r.stdout.splitlines() if "CLIENT-SUBNET" in l]
    return addrs, scope[0] if scope else r.stdout


def test_dns_answers_the_decided_cluster_with_its_scope(ep_dns):
    addrs, scope = ecs_answer(ep_dns, "198.51.100.7/32")
    assert addrs == ["10.77.0.12", "10.77.0.2"], (addrs, scope)  # paris, both appliances
    assert scope.rstrip().endswith("/23"), scope  # the two Paris /24s aggregated
    addrs, scope = ecs_answer(ep_dns, "203.0.113.9/32")
    assert addrs == ["10.77.0.4"], (addrs, scope)  # newyork
    assert scope.rstrip().endswith("/24"), scope
    out = ep_dns.ctl("clusters").stdout
    assert "dns: on, published 1, refused 0" in out, out


def test_a_measurement_moves_the_dns_answer(ep_dns):
    ep_dns.ctl("call", "measure", "paris", "198.51.100.5", "70", "0", "20")
    ep_dns.ctl("call", "measure", "london", "198.51.100.9", "9", "0.5", "20")
    assert "recomputed" in ep_dns.ctl("call", "recompute").stdout
    addrs, scope = ecs_answer(ep_dns, "198.51.100.7/32")
    assert addrs == ["10.77.0.3"], (addrs, scope)  # london now
    assert scope.rstrip().endswith("/24"), scope
    addrs, _ = ecs_answer(ep_dns, "198.51.101.7/32")
    assert addrs == ["10.77.0.12", "10.77.0.2"], addrs  # the neighbour stays in Paris
    assert "dns: on, published 2, refused 0" in ep_dns.ctl("clusters").stdout


# ---- How clients are steered: HTTP redirects and DASH content steering
# (dataplane/http/steer.h). This appliance is "paris" (--cluster-self);
# "london" is a plain HTTP server in the namespace holding the same files
# (its http_host is that server's address and port). The namespace's own
# address is a London client network, a second address on the same TAP a
# Paris one.

STEER_PORT = 18081


@pytest.fixture(scope="module")
def steered(tmp_path_factory):
    d = tmp_path_factory.mktemp("steer")
    content = d / "content"
    (content / "t").mkdir(parents=True)
    files = {"t/manifest.mpd": b'<?xml version="1.0"?><MPD>' + os.urandom(2000).hex().encode()
             + b"</MPD>\n",
             "t/seg-1.m4s": os.urandom(300_001)}
    for name, data in files.items():
        (content / name).write_bytes(data)
    e = Edgeplane()
    paris_client = e.host_ip.rsplit(".", 1)[0] + ".3"
    (d / "clusters.toml").write_text(paris_london_model(e, STEER_PORT, names=["video.kingcdn.test"]))
    (d / "clients.csv").write_text(clients_csv(e, paris_client))
    e.args = ["--clusters", str(d / "clusters.toml"), "--cluster-self", "paris",
              "--http-redirect-margin-ms", "5"] + e.args
    server = None
    with e:
        try:
            e.ns_run(["ip", "addr", "add", f"{paris_client}/24", "dev", e.tap])
            out = e.ctl("ingest", str(content)).stdout
            assert "stored 2 objects" in out, out
            assert "steering: t/manifest.mpd carries ContentSteering (2 pathways)" in out, out
            # The stored MPD is the steered one; "london" holds the same.
            mpd = subprocess.run(["ip", "netns", "exec", e.ns, "curl", "-sS", "-m", "20",
                                  f"http://{e.ip}/t/manifest.mpd?ep_steered=1"],
                                 capture_output=True, timeout=60, check=True).stdout
            e.original_mpd = files["t/manifest.mpd"]
            files["t/manifest.mpd"] = mpd
            (content / "t/manifest.mpd").write_bytes(mpd)
            # "london": a plain server in the namespace, the same files.
            server = subprocess.Popen(["ip", "netns", "exec", e.ns, "/usr/bin/python3", "-m",
                                       "http.server", str(STEER_PORT), "--bind", e.host_ip,
                                       "--directory", str(content)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_for_server(e, f"http://{e.host_ip}:{STEER_PORT}/t/seg-1.m4s")
            e.files = files
            e.paris_client = paris_client
            yield e
        finally:
            if server:
                server.kill()
                server.wait()
        assert e.stop() == 0, e.log()


def steer_counter(ep, name):
    return ep.stats()["http"][name]


def test_manifest_is_redirected_to_the_better_cluster(steered):
    ep = steered
    out = ep.ctl("clusters").stdout
    assert "http steering: self paris, published 1" in out, out
    before = steer_counter(ep, "redirects")
    r = ep.ns_run(["curl", "-sS", "-m", "20", "-D", "/dev/stderr", "-o", "/dev/null",
                   f"http://{ep.ip}/t/manifest.mpd"])
    assert r.stderr.startswith("HTTP/1.1 302 Found"), r.stderr
    assert f"Location: http://{ep.host_ip}:{STEER_PORT}/t/manifest.mpd?ep_steered=1" in r.stderr
    # curl -L follows to "london" and gets the bytes, byte-exact.
    body = subprocess.run(["ip", "netns", "exec", ep.ns, "curl", "-sS", "-m", "20", "-L",
                           f"http://{ep.ip}/t/manifest.mpd"], capture_output=True, timeout=60)
    assert body.returncode == 0, body.stderr
    assert body.stdout == ep.files["t/manifest.mpd"]
    assert steer_counter(ep, "redirects") == before + 2


def test_segments_and_marked_requests_are_not_redirected(steered):
    ep = steered
    seg = subprocess.run(["ip", "netns", "exec", ep.ns, "curl", "-sS", "-m", "20", "-L",
                          "-w", "%{http_code} %{num_redirects}", "-o", "/dev/stdout",
                          f"http://{ep.ip}/t/seg-1.m4s"], capture_output=True, timeout=60)
    assert seg.stdout[-5:] == b"200 0", seg.stdout[-20:]
    assert seg.stdout[:-5] == ep.files["t/seg-1.m4s"]
    loops = steer_counter(ep, "redirect_skip_loop")
    r = subprocess.run(["ip", "netns", "exec", ep.ns, "curl", "-sS", "-m", "20",
                        f"http://{ep.ip}/t/manifest.mpd?ep_steered=1"], capture_output=True,
                       timeout=60)
    assert r.stdout == ep.files["t/manifest.mpd"]  # served here: never redirected twice
    assert steer_counter(ep, "redirect_skip_loop") == loops + 1
    # A Paris client is served here.
    local = steer_counter(ep, "redirect_skip_local_best")
    r = subprocess.run(["ip", "netns", "exec", ep.ns, "curl", "-sS", "-m", "20", "--interface",
                        ep.paris_client, f"http://{ep.ip}/t/manifest.mpd"],
                       capture_output=True, timeout=60)
    assert r.stdout == ep.files["t/manifest.mpd"], r.stderr
    assert steer_counter(ep, "redirect_skip_local_best") == local + 1


def test_the_stored_mpd_carries_content_steering(steered):
    ep = steered
    mpd = ep.files["t/manifest.mpd"].decode()
    orig = ep.original_mpd.decode()
    added = (f'\n  <BaseURL serviceLocation="paris">http://{ep.ip}/t/</BaseURL>'
             f'\n  <BaseURL serviceLocation="london">http://{ep.host_ip}:{STEER_PORT}/t/</BaseURL>'
             f'\n  <ContentSteering defaultServiceLocation="paris" queryBeforeStart="true">'
             f'http://{ep.ip}/steer</ContentSteering>')
    at = orig.index("<MPD>") + len("<MPD>")
    assert mpd == orig[:at] + added + orig[at:], mpd[:600]


def test_steering_manifest_answers_per_client(steered):
    import json
    ep = steered
    n = steer_counter(ep, "steer_manifests")
    london = json.loads(ep.ns_run(["curl", "-sS", "-m", "20",
                                   f"http://{ep.ip}/steer?_DASH_pathway=%22paris%22"]).stdout)
    paris = json.loads(ep.ns_run(["curl", "-sS", "-m", "20", "--interface", ep.paris_client,
                                  f"http://{ep.ip}/steer"]).stdout)
    assert london["VERSION"] == 1 and london["TTL"] == 10, london
    assert london["RELOAD-URI"] == f"http://{ep.ip}/steer", london
    assert london["PATHWAY-PRIORITY"] == ["london", "paris"], london
    assert paris["PATHWAY-PRIORITY"] == ["paris", "london"], paris
    assert steer_counter(ep, "steer_manifests") == n + 2
    # London down: nobody is steered there any more.
    ep.ctl("call", "cluster-health", "london", "down")
    try:
        again = json.loads(ep.ns_run(["curl", "-sS", "-m", "20", f"http://{ep.ip}/steer"]).stdout)
        assert again["PATHWAY-PRIORITY"] == ["paris"], again
        r = ep.ns_run(["curl", "-sS", "-m", "20", "-o", "/dev/null", "-w", "%{http_code}",
                       f"http://{ep.ip}/t/manifest.mpd"])
        assert r.stdout == "200", r.stdout
    finally:
        ep.ctl("call", "cluster-health", "london", "up")

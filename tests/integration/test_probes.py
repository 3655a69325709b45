"""Active probes of cluster selection (docs/cluster_selection.md "Active
probes"): the appliance ("paris", measured policy) probes its client
networks' representatives and their LDNS, in namespaces the test made, and
feeds the RTTs to the decision.

- the LDNS (an address on the appliance namespace's side of the TAP)
  answers ICMP echo: its RTT is in `edgectl probes` and `edgectl why`;
- client A (its own namespace behind a router) drops ICMP echo requests
  (nftables): the TCP SYN to port 80, where a listener answers with a
  SYN-ACK, answers instead; the appliance resets that SYN-ACK, so the
  listener keeps nothing half open; A, a London network, is then decided
  paris by its measured RTT, not london by geography;
- client B drops ICMP and the TCP probes: shown unanswered by every
  method, and decided by geography (london);
- 40 more targets that nothing answers keep the prober busy: the probes
  leaving the appliance, counted by nftables over a window, stay within
  --probe-rate x window + burst;
- the data plane's fault stage delaying every transmitted frame by 30 ms
  (a reload) raises the LDNS's measured RTT and moves its network to
  london.
"""

import re
import subprocess
import time

import pytest

from cluster_util import cluster_table, clusters_toml
from harness import Edgeplane, RoutedClient, nft, nft_counter

RATE = 20  # --probe-rate; its burst is RATE / 10
BURST = 2


def clusters_file(ep_ip, policy):
    """Paris is this appliance, London (400 Gbit/s) an address nobody
    serves: only the probes' figures tell them apart."""
    return clusters_toml(f'''policy = "{policy}"
clients = "clients.csv"
recompute_s = 1
stick_ms = 0               # no hysteresis: the test watches decisions move
stick_pct = 0
geo_base_ms = 20           # distance alone: London ~20 ms, Paris ~25 ms from London
measure_half_life_s = 3    # a changed path shows within a few probes
measure_max_age_s = 600''',
                         [cluster_table("paris", [ep_ip]),
                          cluster_table("london", ["192.0.2.3"], gbps=400)])


def svc(ep, section, name):
    """A service's counter (`edgectl stats --json`, section `section`)."""
    return ep.stats()[section].get(name, 0)


def probes_line(ep, addr):
    for line in ep.ctl("probes").stdout.splitlines():
        if line.split()[:1] == [addr]:
            return line
    return ""


def wait_for(what, fn, timeout=20):
    deadline = time.time() + timeout
    while True:
        got = fn()
        if got:
            return got
        assert time.time() < deadline, what
        time.sleep(0.2)


def decided(text):
    m = re.search(r": decided (\S+)", text)
    return m.group(1) if m else None


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("probes")
    ep = Edgeplane()
    a = RoutedClient(ep, index=0)  # 10.79.S.2: drops ICMP echo, listens on 80
    b = RoutedClient(ep, index=1)  # 10.80.S.2: drops ICMP echo and the TCP probes
    subnet = ep.ip.split(".")[2]
    ldns = f"10.78.{subnet}.53"
    extra = [f"10.81.{subnet}.{k}" for k in range(1, 41)]  # routed nowhere
    # geo at first: --probes auto leaves the prober idle until the targets
    # and their filters are in place, then a reload makes it measured.
    (d / "clusters.toml").write_text(clusters_file(ep.ip, "geo"))
    rows = ["prefix,lat,lon,probe,ldns",
            f"10.79.{subnet}.0/24,51.50,-0.12,{a.ip},{ldns}",
            f"10.80.{subnet}.0/24,51.50,-0.12,{b.ip},",
            f"10.78.{subnet}.0/24,48.85,2.35,{ldns},"]
    rows += [f"{x}/32,51.50,-0.12,," for x in extra]
    (d / "clients.csv").write_text("\n".join(rows) + "\n")
    conf = d / "edgeplane.toml"
    conf.write_text("")
    ep.args += ["--config", str(conf), "--clusters", str(d / "clusters.toml"),
                "--cluster-self", "paris", "--gateway", ep.host_ip,
                "--probe-rate", str(RATE), "--probe-interval-s", "1", "--probe-retry-s", "60",
                "--probe-timeout-ms", "400"]
    listener = None
    try:
        ep.start()
        out = ep.ctl("probes").stdout
        assert "probes: off (--probes auto, policy geo)" in out, out
        ep.ns_run(["ip", "addr", "add", f"{ldns}/24", "dev", ep.tap])
        a.start()
        b.start()
        nft(a, """
table inet probe_t {
  counter echo { }
  counter syn { }
  counter rst { }
  chain in {
    type filter hook input priority 0;
    icmp type echo-request counter name echo drop
    tcp dport 80 tcp flags & (syn|ack|rst) == syn counter name syn
    tcp dport 80 tcp flags & rst == rst counter name rst
  }
}
""")
        nft(b, """
table inet probe_t {
  counter dropped { }
  chain in {
    type filter hook input priority 0;
    icmp type echo-request counter name dropped drop
    tcp dport { 80, 443 } counter name dropped drop
  }
}
""")
        # What leaves the appliance as a probe, seen where it arrives.
        nft(ep, f"""
table inet probe_t {{
  counter probes {{ }}
  chain pre {{
    type filter hook prerouting priority -300;
    ip saddr {ep.ip} icmp type echo-request counter name probes
    ip saddr {ep.ip} tcp sport 61000-61255 tcp flags & (syn|ack|rst) == syn counter name probes
  }}
}}
""")
        listener = subprocess.Popen(
            ["ip", "netns", "exec", a.ns, "/usr/bin/python3", "-c",
             "import socket,time\n"
             "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
             "s.bind(('0.0.0.0', 80)); s.listen(16); time.sleep(600)\n"])
        (d / "clusters.toml").write_text(clusters_file(ep.ip, "measured"))
        r = ep.ctl("reload")
        assert "clusters: model reloaded" in r.stdout, r.stdout
        assert "probes: on, from cluster paris" in ep.ctl("probes").stdout
        yield {"ep": ep, "a": a, "b": b, "ldns": ldns, "conf": conf, "extra": extra}
        assert ep.stop() == 0, ep.log()
    finally:
        if listener:
            listener.kill()
            listener.wait()
        b.cleanup()
        a.cleanup()
        ep.cleanup()


def test_the_rate_is_bounded_whatever_the_targets(world):
    ep = world["ep"]
    # 43 targets, 40 of which answer nothing (each tried by ICMP, then TCP
    # 80 and 443): the prober has more to send than the rate allows.
    n0, t0 = nft_counter(ep, "probe_t", "probes"), time.time()
    time.sleep(3)
    n1, t1 = nft_counter(ep, "probe_t", "probes"), time.time()
    sent = n1 - n0
    assert sent > 0
    # A count bound over the window the test measured (not a timing assert):
    # at most rate x window + the bucket's burst (+1 for the reads' skew).
    assert sent <= RATE * (t1 - t0) + BURST + 1, (sent, t1 - t0)


def test_the_ldns_answers_icmp_and_its_rtt_is_measured(world):
    ep, ldns = world["ep"], world["ldns"]
    line = wait_for("the LDNS answered no ICMP probe",
                    lambda: (lambda l: l if " icmp " in l and "answered" in l else "")(
                        probes_line(ep, ldns)))
    assert " ldns " in line, line
    assert float(line.split()[3]) > 0, line
    # Its network (in Paris) is decided by the measured RTT: a loaded
    # machine may make one probe slow, so wait for a recompute that shows it.
    why = wait_for("the LDNS's network was not decided paris by its RTT",
                   lambda: (lambda w: w if decided(w) == "paris" else "")(
                       ep.ctl("why", ldns).stdout))
    assert f"probe {ldns} (ldns): answered by icmp" in why, why
    assert re.search(r"\* paris\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+0\.00.*measured", why), why
    assert svc(ep, "probe", "answered_icmp") > 0


def test_icmp_dropped_the_tcp_syn_answers_and_is_reset(world):
    ep, a = world["ep"], world["a"]
    line = wait_for("client A was not measured by its TCP probe",
                    lambda: (lambda l: l if " tcp:80 " in l else "")(probes_line(ep, a.ip)),
                    timeout=30)
    assert float(line.split()[3]) > 0, line
    assert nft_counter(a, "probe_t", "echo") > 0  # ICMP was tried, and dropped
    assert nft_counter(a, "probe_t", "syn") > 0
    # Our SYN met a listener: SYN-ACK, which the appliance answered with a
    # RST (not the TCP stack's path), so nothing stays half open there.
    wait_for("no RST reached the listener", lambda: nft_counter(a, "probe_t", "rst") > 0)
    assert svc(ep, "probe", "answered_synack") > 0
    assert svc(ep, "probe", "rst_sent") > 0
    wait_for("a half-open connection stayed at the target",
             lambda: a.ns_run(["ss", "-Htn", "state", "syn-recv"]).stdout.strip() == "")
    ep.ctl("call", "recompute")
    why = wait_for("A was not moved to paris by its measurement",
                   lambda: (lambda w: w if decided(w) == "paris" else "")(
                       ep.ctl("why", a.ip).stdout))
    # A London network, decided paris: by the probe's RTT, not by distance.
    assert "answered by tcp:80" in why, why
    assert re.search(r"\* paris .*measured", why), why


def test_both_dropped_the_target_is_unanswered_and_geography_decides(world):
    ep, b = world["ep"], world["b"]
    line = wait_for("B was never marked unanswered",
                    lambda: (lambda l: l if "unanswered by every method" in l else "")(
                        probes_line(ep, b.ip)), timeout=30)
    assert " - " in line, line  # no method answered, no RTT
    why = ep.ctl("why", b.ip).stdout
    assert decided(why) == "london", why
    assert "unanswered by icmp, tcp:80, tcp:443: no probe measurement, geography decides" in why, why
    assert re.search(r"paris .*no measurement", why), why
    assert svc(ep, "probe", "unanswered") > 0
    assert svc(ep, "clusters", "probe_rounds_dark") > 0
    wait_for("the targets routed nowhere did not all go dark",  # B and the 40
             lambda: svc(ep, "clusters", "probe_targets_dark") >= 41, timeout=30)


def test_the_fault_stage_delay_raises_the_measured_rtt(world):
    ep, ldns, conf = world["ep"], world["ldns"], world["conf"]
    conf.write_text('fault = "delay=1,delay-us=30000,dir=tx"\n')
    r = ep.ctl("reload")
    assert "fault '' -> 'delay=1,delay-us=30000,dir=tx'" in r.stdout, r.stdout
    line = wait_for("the LDNS's RTT did not rise with the 30 ms delay",
                    lambda: (lambda l: l if float(l.split()[3]) >= 29 else "")(
                        probes_line(ep, ldns)))
    # Every RTT now includes the 30 ms, so the decayed mean behind the
    # decision follows (half-life 3 s): the LDNS's network, in Paris, goes
    # to london (a geo estimate of ~25 ms).
    why = wait_for("paris's measured RTT to the LDNS's network did not rise",
                   lambda: (lambda w: w if decided(w) == "london" else "")(
                       ep.ctl("why", ldns).stdout), timeout=30)
    m = re.search(r"paris\s+[\d.]+\s+[\d.]+\s+([\d.]+)\s+0\.00.*measured", why)
    assert m and float(m.group(1)) > 25, why
    conf.write_text("")
    ep.ctl("reload")

"""The textbook's six steps as a world of namespaces on this machine (issue
16), shared by tests/integration/test_six_steps.py and scripts/six_steps.sh.

    client ──┐                          ┌── paris-1    (cluster paris)
    ldns ────┼── "internet" (a router) ─┼── london-1   (cluster london)
    netcinema┘                          ├── london-2   (cluster london)
                                        └── newyork-1  (cluster newyork)
    etcd: its own namespace with a veth to each appliance (etcd_util.Etcd)

1. the client asks its LDNS (unbound) for video.netcinema.example;
2. the LDNS asks NetCinema's authoritative server (Knot DNS), which answers
   a CNAME into kingcdn.example;
3. the LDNS asks KingCDN's authoritative servers (every edgeplane appliance
   answers kingcdn.example, NS and glue included), with the client's /24 in
   ECS (RFC 7871);
4. an appliance answers the address of the cluster chosen for that /24;
5. the LDNS gives the client that address;
6. the client fetches the title from it over HTTP (curl, ffmpeg, dash.js).

Every name here is made by the world and removed by cleanup(), on failure
too: namespaces, veths (they go with the namespaces), /etc/netns/<client>/
(the client's resolv.conf: `ip netns exec` bind-mounts it over /etc), the
servers, the appliances and their hugepage files.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

from cluster_util import cluster_table, clusters_toml
from etcd_util import Etcd, wait_members
from harness import Edgeplane, _sh, nft

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
PACKAGE = os.path.join(ROOT, "control", "package", "package.sh")
WEB = os.path.join(ROOT, "web")
TITLE = "6Y7B23V"
DNS_TTL = 5        # of video.kingcdn.example (what unbound may cache it for)
LEASE_TTL = 2      # --etcd-lease-ttl
SPECS = [("paris-1", "paris"), ("london-1", "london"), ("london-2", "london"),
         ("newyork-1", "newyork")]

# The client and its LDNS are in Paris: paris is their nearest cluster,
# london the next one (geo policy: the textbook's baseline).
GEO = ("geo", "recompute_s = 3600          # membership changes recompute at once")
# The degraded case (set_policy): decided by what the appliances' TCP
# connections measured. Recomputed every second, and old figures fade fast
# (a 3 s half-life): the fast RTTs measured before a cluster got worse must
# not outweigh the slow ones for long. Loss weighs 1 ms per % here, not 10:
# the world's links lose nothing, and the few % of retransmissions its TCP
# connections count on this loaded machine (spurious ones: RTOs of a
# descheduled peer) would otherwise decide, on every path alike, by noise.
# Hysteresis of 15 ms (stick_ms, not the default 5): before the delay both
# clusters are about as fast, and one CI run saw london-1's own 0.5 ms beat
# paris's 2.9 ms + 3.3 % loss (6.2 ms) by more than 5 ms on noise alone;
# the 40 ms delay the test adds clears 15 ms by far.
MEASURED = ("measured",
            "recompute_s = 1\nmeasure_half_life_s = 3\nloss_ms_per_pct = 1\nstick_ms = 15")
# Documentation ranges (RFC 5737), not private ones: an ECS option with a
# private address locates nobody, so the appliances' DNS decides such a
# query by the resolver's address (dataplane/dns/answer.cc ecs_usable).
CLIENT_NET, LDNS_NET, NETCINEMA_NET = "198.51.100", "203.0.113", "192.0.2"


def clusters_file(policy, settings, ttl, paris, london, newyork):
    """KingCDN's three clusters, one address each (the fallback etcd
    replaces), and the one name they steer."""
    return clusters_toml(f'policy = "{policy}"\nclients = "clients.csv"\n{settings}',
                         [cluster_table("paris", [paris]), cluster_table("london", [london]),
                          cluster_table("newyork", [newyork])],
                         [("video.kingcdn.example", ttl)])


CLIENTS = f"""prefix,lat,lon,asn
{CLIENT_NET}.0/24,48.85,2.35,64500
{LDNS_NET}.0/24,48.85,2.35,64500
"""

# KingCDN's zone, served by every appliance. The address of
# video.kingcdn.example here is only the fallback for a client in no
# client network (ECS scope 0); cluster selection answers the others.
KINGCDN_ZONE = """$ORIGIN kingcdn.example.
$TTL {ttl}
@       IN SOA  ns1 hostmaster 2026120101 3600 600 604800 {ttl}
{ns}
video   IN A    {paris}
"""

NETCINEMA_ZONE = f"""$ORIGIN netcinema.example.
$TTL 300
@       IN SOA  ns1 hostmaster 2026120101 3600 600 604800 300
        IN NS   ns1
ns1     IN A    {NETCINEMA_NET}.2
; The content provider hands its video to the CDN (the textbook's step 2).
video   IN CNAME video.kingcdn.example.
www     IN A    {NETCINEMA_NET}.2
"""

KNOT_CONF = """
server:
    listen: {addr}@53
    rundir: {dir}
database:
    storage: {dir}
template:
  - id: default
    storage: {dir}
    journal-content: none
    zonefile-sync: -1
zone:
  - domain: netcinema.example
    file: {zone}
"""

UNBOUND_CONF = """
server:
    interface: {addr}
    port: 53
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{dir}"
    pidfile: "{dir}/unbound.pid"
    logfile: ""
    use-syslog: no
    verbosity: 1
    access-control: 0.0.0.0/0 allow
    do-ip6: no
    qname-minimisation: no
    # RFC 7871 toward KingCDN: the client's /24 goes to its servers.
    module-config: "subnetcache iterator"
{kingcdn_ecs}    max-client-subnet-ipv4: 24
    # A dead server is given up on quickly (the appliance the test kills).
    infra-host-ttl: 60
remote-control:
    control-enable: no
# No root servers here: both zones are stubs, their servers given.
stub-zone:
    name: "netcinema.example"
    stub-addr: {netcinema}@53
stub-zone:
    name: "kingcdn.example"
{kingcdn_stubs}
"""


def _write(path, text):
    """Whole or not at all: a reload never reads half a file."""
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def ns_run(ns, cmd, check=True, timeout=120, **kw):
    return subprocess.run(["ip", "netns", "exec", ns] + list(cmd), check=check,
                          capture_output=True, text=True, timeout=timeout, **kw)


class SixSteps:
    def __init__(self, workdir=None, duration=20):
        self.tag = f"{(os.getpid() * 11) % 10000:04d}"
        t = self.tag
        self.inet, self.client, self.ldns, self.netcinema = (f"ep6i{t}", f"ep6c{t}", f"ep6l{t}",
                                                             f"ep6n{t}")
        self.own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix=f"edgeplane-six-{t}-", dir="/var/tmp")
        self.duration = duration
        self.client_ip, self.ldns_ip = f"{CLIENT_NET}.2", f"{LDNS_NET}.2"
        self.netcinema_ip = f"{NETCINEMA_NET}.2"
        self.netns_etc = f"/etc/netns/{self.client}"
        self.procs = {}
        self.eps = {}
        self.etcd = None
        self.namespaces = []

    # ---- building ----
    def _ns(self, name):
        _sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        _sh("ip", "-n", name, "link", "set", "lo", "up")

    def _veth(self, a_ns, a_name, a_addr, b_ns, b_name, b_addr):
        _sh("ip", "link", "add", a_name, "netns", a_ns, "type", "veth", "peer", "name", b_name,
            "netns", b_ns)
        _sh("ip", "-n", a_ns, "addr", "add", a_addr, "dev", a_name)
        _sh("ip", "-n", b_ns, "addr", "add", b_addr, "dev", b_name)
        _sh("ip", "-n", a_ns, "link", "set", a_name, "up")
        _sh("ip", "-n", b_ns, "link", "set", b_name, "up")

    def _host(self, ns, net, index):
        """A host namespace on the internet: NET.2, the router NET.1."""
        self._ns(ns)
        self._veth(self.inet, f"i{self.tag}h{index}", f"{net}.1/24", ns, "eth0", f"{net}.2/24")
        _sh("ip", "-n", ns, "route", "add", "default", "via", f"{net}.1")

    def package(self):
        title = os.path.join(self.dir, "title")
        if not os.path.exists(os.path.join(title, "manifest.mpd")):
            subprocess.run([PACKAGE, "--duration", str(self.duration), "--preset", "ultrafast",
                            "--ladder", "640x360:800k,512x288:400k,384x216:200k", "--out", title],
                           check=True, capture_output=True, timeout=300)
        self.title_dir = title
        site = os.path.join(self.dir, "site")
        self.site_dir = None
        if os.path.exists(os.path.join(site, "player.html")) or subprocess.run(
                [os.path.join(WEB, "build.sh"), site], capture_output=True).returncode == 0:
            self.site_dir = site

    def start(self):
        self.package()
        self._ns(self.inet)
        _sh("ip", "netns", "exec", self.inet, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        self._host(self.client, CLIENT_NET, 1)
        self._host(self.ldns, LDNS_NET, 2)
        self._host(self.netcinema, NETCINEMA_NET, 3)
        os.makedirs(self.netns_etc, exist_ok=True)
        with open(os.path.join(self.netns_etc, "resolv.conf"), "w") as f:
            f.write(f"nameserver {self.ldns_ip}\noptions timeout:2 attempts:3\n")

        # The appliances: the harness's TAP namespaces, each joined to the
        # internet by a veth; its namespace forwards (the TAP's kernel side
        # is the appliance's gateway).
        self.etcd = Etcd(self.tag)
        self.etcd.start(list(range(1, len(SPECS) + 1)))
        eps = []
        for name, cluster in SPECS:
            # No active probes: every appliance is as near to the client on
            # this machine, so a probe's RTT would say nothing of the
            # geography the world draws (newyork would probe as near as
            # paris). The measured case goes by the passive feed alone.
            ep = Edgeplane(args=["--ram-mb", "64", "--dns-port", "53", "--cluster-self", cluster,
                                 "--probes", "off",
                                 "--appliance-name", name, "--appliance-cluster", cluster,
                                 "--etcd-lease-ttl", str(LEASE_TTL), "--etcd-poll-ms", "200"])
            ep.name, ep.cluster = name, cluster
            eps.append(ep)
            self.eps[name] = ep
        first = {}
        for ep in eps:
            first.setdefault(ep.cluster, ep.ip)
        self.first = first
        self._write_clusters(*GEO)
        with open(os.path.join(self.dir, "clients.csv"), "w") as f:
            f.write(CLIENTS)
        ns_lines = "".join(f"        IN NS   ns{i}\n" for i in range(1, len(eps) + 1)) + "".join(
            f"ns{i}     IN A    {ep.ip}\n" for i, ep in enumerate(eps, 1))
        zone = os.path.join(self.dir, "kingcdn.example.zone")
        with open(zone, "w") as f:
            f.write(KINGCDN_ZONE.format(ttl=DNS_TTL, ns=ns_lines, paris=first["paris"]))
        for i, ep in enumerate(eps, 1):
            # Each appliance's own config file: empty, until degrade() puts
            # a fault-stage delay in it (reloaded).
            ep.conf = os.path.join(self.dir, f"{ep.name}.toml")
            _write(ep.conf, "# degrade() writes the fault stage's spec here\n")
            ep.args += ["--clusters", os.path.join(self.dir, "clusters.toml"), "--dns-zone", zone,
                        "--etcd", f"172.31.{i}.1:2379", "--gateway", ep.host_ip, "--config",
                        ep.conf]
            ep.start(timeout=90)  # four appliances starting on a loaded 2-core machine
            self._veth(self.inet, f"i{self.tag}a{i}", f"10.61.{i}.1/24", ep.ns, "inet0",
                       f"10.61.{i}.2/24")
            _sh("ip", "-n", ep.ns, "route", "add", "default", "via", f"10.61.{i}.1")
            _sh("ip", "netns", "exec", ep.ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            _sh("ip", "-n", self.inet, "route", "add", ep.ip.rsplit(".", 1)[0] + ".0/24", "via",
                f"10.61.{i}.2")
            # A dead appliance (no TAP, so its /24 routes back out where it
            # came from) is answered for by its namespace at once, with a
            # TCP reset or ICMP, as the last router before a dead host
            # would after its ARP fails: clients do not wait for timeouts.
            net = ep.ip.rsplit(".", 1)[0] + ".0/24"
            dead = f'iifname "inet0" oifname "inet0" ip daddr {net}'
            nft(ep, "table ip dead {\n chain deadfw {\n"
                    "  type filter hook forward priority 0;\n"
                    f"  {dead} meta l4proto tcp reject with tcp reset\n"
                    f"  {dead} reject with icmp type host-unreachable\n }}\n}}\n")
            self.etcd.link(ep, i)
        self.etcd.run()

        # NetCinema's authoritative server and the client's LDNS.
        nzone = os.path.join(self.dir, "netcinema.example.zone")
        with open(nzone, "w") as f:
            f.write(NETCINEMA_ZONE)
        kdir = os.path.join(self.dir, "knot")
        os.makedirs(kdir, exist_ok=True)
        with open(os.path.join(kdir, "knot.conf"), "w") as f:
            f.write(KNOT_CONF.format(addr=self.netcinema_ip, dir=kdir, zone=nzone))
        self._spawn("knotd", self.netcinema, [shutil.which("knotd") or "/usr/sbin/knotd", "-c",
                                              os.path.join(kdir, "knot.conf")])
        udir = os.path.join(self.dir, "unbound")
        os.makedirs(udir, exist_ok=True)
        with open(os.path.join(udir, "unbound.conf"), "w") as f:
            f.write(UNBOUND_CONF.format(
                addr=self.ldns_ip, dir=udir, netcinema=self.netcinema_ip,
                kingcdn_ecs="".join(f"    send-client-subnet: {ep.ip}\n" for ep in eps),
                kingcdn_stubs="".join(f"    stub-addr: {ep.ip}@53\n" for ep in eps)))
        self._spawn("unbound", self.ldns, [shutil.which("unbound") or "/usr/sbin/unbound", "-d",
                                           "-c", os.path.join(udir, "unbound.conf")])

        for ep in eps:
            self._ingest(ep)
        # Each appliance reads etcd on its own: wait for every one of them
        # to list all four (test_membership.py's CI flake) before anything
        # asks them.
        names = sorted(n for n, _ in SPECS)
        for ep in eps:
            wait_members(ep, names, timeout=30)
        for srv, name, typ in ((self.netcinema_ip, "netcinema.example", "SOA"),
                               (self.ldns_ip, "netcinema.example", "SOA")):
            deadline = time.time() + 20
            while ns_run(self.client, ["kdig", f"@{srv}", "+time=1", "+retry=0", "+short", name,
                                       typ], check=False).stdout.strip() == "":
                for p, proc in self.procs.items():
                    if proc.poll() is not None:
                        raise RuntimeError(f"{p} exited: {self.server_log(p)}")
                if time.time() > deadline:
                    raise RuntimeError(f"{srv} does not answer {name}")
                time.sleep(0.2)
        return self

    def _spawn(self, what, ns, cmd):
        log = open(os.path.join(self.dir, f"{what}.log"), "w")
        self.procs[what] = subprocess.Popen(["ip", "netns", "exec", ns] + cmd, stdout=log,
                                            stderr=subprocess.STDOUT)

    def _ingest(self, ep):
        out = ep.ctl("ingest", self.title_dir, "--name", TITLE).stdout
        assert "stored" in out and "carries ContentSteering" in out, out
        if self.site_dir:
            assert "stored" in ep.ctl("ingest", self.site_dir).stdout

    def server_log(self, what):
        try:
            with open(os.path.join(self.dir, f"{what}.log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    # ---- using ----
    def client_run(self, cmd, **kw):
        return ns_run(self.client, cmd, **kw)

    def _write_clusters(self, policy, settings):
        _write(os.path.join(self.dir, "clusters.toml"),
               clusters_file(policy, settings, DNS_TTL, **self.first))

    def set_policy(self, policy, settings):
        """Every live appliance decides by `policy` from now on (a reload of
        the clusters file: measurements and last decisions are kept)."""
        self._write_clusters(policy, settings)
        for ep in self.alive():
            out = ep.ctl("reload").stdout
            assert "clusters: model reloaded" in out, out

    def degrade(self, name, fault):
        """The appliance's fault stage takes `fault` (e.g. a delay of what
        it transmits: its clients' path gets worse); "" removes it."""
        ep = self.eps[name]
        _write(ep.conf, f'fault = "{fault}"\n' if fault else "# no fault\n")
        out = ep.ctl("reload").stdout
        assert out.rstrip().endswith("reloaded"), out
        return out

    def kill(self, name):
        ep = self.eps[name]
        ep.proc.send_signal(signal.SIGKILL)
        ep.proc.wait()

    def alive(self):
        return [ep for ep in self.eps.values() if ep.proc and ep.proc.poll() is None]

    def by_ip(self, ip):
        return next((ep for ep in self.eps.values() if ep.ip == ip), None)

    # ---- cleaning up ----
    def cleanup(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for ep in self.eps.values():
            ep.stop()
            ep.cleanup()
        if self.etcd:
            self.etcd.cleanup()
        for ns in reversed(self.namespaces):
            _sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(self.netns_etc, ignore_errors=True)
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc):
        self.cleanup()
        return False

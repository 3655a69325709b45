"""Origin health checks, failover and names (issue 14, docs/origin.md "Health").

Two nginx origins (ports A and B on one address) in the namespace of a
harness.RoutedClient, one router hop behind the appliance, serve the same
files; each has its own access log, which shows the method, so the HEAD
checks and the range fills are told apart.

Names: `ip netns exec` bind-mounts the files of /etc/netns/NAME/ over /etc
in the daemon's mount namespace, so the test's own /etc/netns/<ns>/hosts
(origin-b.test -> the origin's address) and resolv.conf (a nameserver on
the namespace's loopback, where nothing listens: an unknown name fails at
once) are what the system resolver (getaddrinfo) sees. Nothing outside the
namespace is touched.

What is judged: bytes against the source files, curl's exit code (no client
error while a server dies), each nginx's log (which server got the fills),
`edgectl origins` (state, passes/fails, fill attempts per server) and the
http counters."""

import os
import shutil
import subprocess
import tempfile
import time

import pytest

import test_origin
from harness import Edgeplane, RoutedClient

CHUNK = 256 * 1024
PORT_A = 8090
PORT_B = 8092
INTERVAL_MS = 300
RISE, FALL = 2, 3



class Nginx(test_origin.Nginx):
    """test_origin's nginx on one port, its log lines also carrying the
    method (the health checks are HEADs, the fills GETs)."""

    def __init__(self, ns, ip, port, root):
        super().__init__(ns, ip, root, port=port, log_extra="$request_method")

    def _rows(self):
        with open(self.log) as f:
            return [p for p in (line.split() for line in f) if len(p) >= 6]

    def gets(self, uri):
        """Range of every GET logged for uri."""
        return [p[1] for p in self._rows() if p[0] == uri and p[5] == "GET"]

    def heads(self):
        return sum(1 for p in self._rows() if p[5] == "HEAD")

    def cleanup(self):
        super().cleanup()
        shutil.rmtree(self.prefix, ignore_errors=True)


def chunk_ranges(size):
    n = (size + CHUNK - 1) // CHUNK
    return sorted(f"bytes={i * CHUNK}-{(i + 1) * CHUNK - 1}" for i in range(n))


@pytest.fixture(scope="module")
def env():
    content = tempfile.mkdtemp(prefix="edgeplane-origin-health-", dir="/var/tmp")
    os.chmod(content, 0o755)
    files = {f"ha/{n}.bin": os.urandom(2 * CHUNK + 17 * (i + 1))
             for i, n in enumerate(["one", "gap", "two", "three", "four", "five"])}
    files["named/n.bin"] = os.urandom(3 * CHUNK + 5)
    for name, data in files.items():
        p = os.path.join(content, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    ep = Edgeplane(args=["--ram-mb", "64"])
    cl = RoutedClient(ep, mtu=1500)
    etc = f"/etc/netns/{ep.ns}"
    ep.args += ["--gateway", ep.host_ip,
                "--origin", f"/ha={cl.ip}:{PORT_A},{cl.ip}:{PORT_B}",
                "--origin", f"/named=origin-b.test:{PORT_B}",
                "--origin", "/lost=nowhere.invalid:80",
                "--origin-health-interval-ms", str(INTERVAL_MS),
                "--origin-health-rise", str(RISE), "--origin-health-fall", str(FALL),
                "--origin-health-path", "/ha/",
                "--origin-timeout-ms", "1000", "--origin-fail-hold-ms", "200"]
    na = nb = None
    try:
        os.makedirs(etc, exist_ok=True)
        with open(f"{etc}/hosts", "w") as f:
            f.write(f"127.0.0.1 localhost\n{cl.ip} origin-b.test\n")
        with open(f"{etc}/resolv.conf", "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        ep.start()
        cl.start()
        na = Nginx(cl.ns, cl.ip, PORT_A, content).start()
        nb = Nginx(cl.ns, cl.ip, PORT_B, content).start()
        ep.files, ep.na, ep.nb, ep.cl, ep.etc = files, na, nb, cl, etc
        yield ep
        assert ep.stop() == 0, ep.log()
    finally:
        for n in (na, nb):
            if n:
                n.cleanup()
        cl.cleanup()
        ep.cleanup()
        shutil.rmtree(etc, ignore_errors=True)
        shutil.rmtree(content, ignore_errors=True)


def get(ep, path):
    """curl in the TAP's namespace: (exit code, body, status)."""
    r = subprocess.run(["ip", "netns", "exec", ep.ns, "curl", "-sS", "-m", "20", "-o", "-",
                        "-w", "\n%{http_code}", f"http://{ep.ip}{path}"],
                       capture_output=True, timeout=40)
    body, _, code = r.stdout.rpartition(b"\n")
    return r.returncode, body, int(code or 0)


def origins(ep):
    """edgectl origins, by (route, server's first word): the line's fields."""
    out = {}
    for line in ep.ctl("origins").stdout.splitlines():
        words = line.split()
        fields = {"line": line, "state": words[2] if "(" not in words[2] else words[3]}
        for w in words:
            if "=" in w:
                k, v = w.split("=", 1)
                fields[k] = v
        out[(words[0], words[1])] = fields
    return out


def server(ep, route, who):
    return origins(ep)[(route, who)]


def wait_for(pred, what, timeout=15):
    """Polls pred() (bounded); returns its last truthy value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"never: {what}")


def http(ep):
    return ep.stats()["http"]


def cold_get_ok(ep, name):
    rc, body, code = get(ep, "/" + name)
    assert rc == 0 and code == 200, (rc, code)
    assert body == ep.files[name]


def test_a_named_route_resolves_and_fills_byte_exact(env):
    who = f"origin-b.test:{PORT_B}"
    line = wait_for(lambda: (s := server(env, "/named", who)) and s["state"] == "up" and s,
                    "origin-b.test resolved")
    assert f"({env.cl.ip})" in line["line"], line
    cold_get_ok(env, "named/n.bin")
    assert sorted(env.nb.gets("/named/n.bin")) == chunk_ranges(len(env.files["named/n.bin"]))
    assert env.na.gets("/named/n.bin") == []


def test_a_name_that_does_not_resolve_is_shown_counted_and_502(env):
    s = wait_for(lambda: http(env)["origin_resolve_failures"] > 0 and
                 server(env, "/lost", "nowhere.invalid:80"), "nowhere.invalid looked up")
    assert s["state"] == "unresolved", s
    before = http(env)["origin_unresolved"]
    rc, body, code = get(env, "/lost/x.bin")
    assert code == 502
    assert http(env)["origin_unresolved"] > before
    assert http(env)["origin_resolves"] >= 2  # both names


def test_a_dead_server_is_marked_down_skipped_and_back_after_rise(env):
    a, b = f"{env.cl.ip}:{PORT_A}", f"{env.cl.ip}:{PORT_B}"
    # Both are checked (HEADs in both logs) and up.
    wait_for(lambda: env.na.heads() >= 1 and env.nb.heads() >= 1, "checks reach both")
    wait_for(lambda: all(server(env, "/ha", w)["state"] == "up" for w in (a, b)), "both up")
    # While both are up the primary fills.
    cold_get_ok(env, "ha/one.bin")
    assert sorted(env.na.gets("/ha/one.bin")) == chunk_ranges(len(env.files["ha/one.bin"]))
    assert env.nb.gets("/ha/one.bin") == []

    env.na.kill()
    # Before it is marked down a fill fails over (no client error) and counts
    # toward its fall.
    cold_get_ok(env, "ha/gap.bin")
    assert sorted(env.nb.gets("/ha/gap.bin")) == chunk_ranges(len(env.files["ha/gap.bin"]))
    # Marked down after `fall` consecutive failures: the fills that failed
    # over (passive) and the checks (refused) both count.
    down = wait_for(lambda: (s := server(env, "/ha", a))["state"] == "down" and s,
                    "A marked down", timeout=10)
    assert int(down["fails"]) >= FALL, down
    assert server(env, "/ha", b)["state"] == "up"
    st = http(env)
    assert st["origin_marked_down"] >= 1, st
    assert st["origin_passive_fails"] + st["origin_checks_failed"] >= FALL, st
    # The checks keep failing while it is dead.
    wait_for(lambda: server(env, "/ha", a)["last"] == "refused", "a refused check of A")
    assert http(env)["origin_checks_failed"] >= 1

    # Down: cold GETs go straight to B, not one fill attempt to A.
    attempts_a = int(server(env, "/ha", a)["attempts"])
    failovers, skipped = st["origin_failovers"], st["origin_down_skipped"]
    for name in ("ha/two.bin", "ha/three.bin", "ha/four.bin"):
        cold_get_ok(env, name)
        assert sorted(env.nb.gets("/" + name)) == chunk_ranges(len(env.files[name]))
    assert int(server(env, "/ha", a)["attempts"]) == attempts_a
    st = http(env)
    assert st["origin_failovers"] == failovers  # nothing was tried on A and failed
    assert st["origin_down_skipped"] > skipped

    # Back: up after `rise` passed checks, and the primary fills again.
    heads = env.na.heads()
    env.na.start()
    up = wait_for(lambda: (s := server(env, "/ha", a))["state"] == "up" and s, "A up again",
                  timeout=10)
    assert int(up["passes"]) >= RISE, up
    assert env.na.heads() - heads >= RISE
    assert http(env)["origin_marked_up"] >= 1
    cold_get_ok(env, "ha/five.bin")
    assert sorted(env.na.gets("/ha/five.bin")) == chunk_ranges(len(env.files["ha/five.bin"]))
    assert env.nb.gets("/ha/five.bin") == []


def test_a_reload_looks_the_names_up_again(env):
    who = f"origin-b.test:{PORT_B}"
    # The name moves (the router's address: nothing listens there on B's port).
    with open(f"{env.etc}/hosts", "w") as f:
        f.write(f"127.0.0.1 localhost\n{env.cl.router_ip} origin-b.test\n")
    changes = http(env)["origin_resolve_changes"]
    env.ctl("reload")
    wait_for(lambda: f"({env.cl.router_ip})" in server(env, "/named", who)["line"],
             "origin-b.test at its new address")
    assert http(env)["origin_resolve_changes"] > changes
    with open(f"{env.etc}/hosts", "w") as f:
        f.write(f"127.0.0.1 localhost\n{env.cl.ip} origin-b.test\n")

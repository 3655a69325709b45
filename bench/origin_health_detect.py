# How long an origin server's death and return take to show (docs/origin.md
# "Health"): with no client traffic (checks only, no passive marking), the
# time from SIGKILL of nginx to `edgectl origins` showing it down, and from
# its restart to up again, for --origin-health-interval-ms 300, rise 2,
# fall 3 (expected about fall x interval and rise x interval, plus the 10 ms
# check scan and the edgectl polling). An ad-hoc figure. Run as root:
#   EDGEPLANE_BUILD=build /usr/bin/python3 bench/origin_health_detect.py
import os, shutil, statistics, sys, tempfile, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from harness import Edgeplane, RoutedClient
from test_origin_health import Nginx, PORT_A, PORT_B

INTERVAL_MS, RISE, FALL, ROUNDS = 300, 2, 3, 5
content = tempfile.mkdtemp(prefix="edgeplane-measure-", dir="/var/tmp")
os.chmod(content, 0o755)
os.makedirs(os.path.join(content, "ha"))
ep = Edgeplane(args=["--ram-mb", "64"])
cl = RoutedClient(ep, mtu=1500)
ep.args += ["--gateway", ep.host_ip, "--origin", f"/ha={cl.ip}:{PORT_A},{cl.ip}:{PORT_B}",
            "--origin-health-interval-ms", str(INTERVAL_MS), "--origin-health-rise", str(RISE),
            "--origin-health-fall", str(FALL)]
ng = None


def state():
    for line in ep.ctl("origins").stdout.splitlines():
        w = line.split()
        if w[1] == f"{cl.ip}:{PORT_A}":
            return w[2]


def until(want):
    t0 = time.monotonic()
    while state() != want:
        if time.monotonic() - t0 > 30:
            raise SystemExit(f"never {want}")
        time.sleep(0.01)
    return time.monotonic() - t0


try:
    ep.start(); cl.start(); ng = Nginx(cl.ns, cl.ip, PORT_A, content).start()
    until("up")
    down, up = [], []
    for _ in range(ROUNDS):
        time.sleep(1)
        ng.kill()
        down.append(until("down"))
        ng.start()
        up.append(until("up"))
    print(f"interval {INTERVAL_MS} ms, rise {RISE}, fall {FALL}, {ROUNDS} rounds, load {os.getloadavg()[0]:.1f}")
    print(f"kill -> down: median {statistics.median(down) * 1000:.0f} ms "
          f"(min {min(down) * 1000:.0f}, max {max(down) * 1000:.0f})")
    print(f"restart -> up: median {statistics.median(up) * 1000:.0f} ms "
          f"(min {min(up) * 1000:.0f}, max {max(up) * 1000:.0f}; from nginx answering again)")
finally:
    if ng:
        ng.cleanup()
    cl.cleanup()
    ep.stop()
    ep.cleanup()
    shutil.rmtree(content, ignore_errors=True)

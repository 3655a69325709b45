# Cold vs warm GET of an 8 MiB object through pull on miss (docs/origin.md),
# nginx origin one router hop behind, as in tests/integration/test_origin.py.
# An ad-hoc figure, not the side-by-side benchmark issue 14 asks for. Run as root:
#   EDGEPLANE_BUILD=build /usr/bin/python3 bench/origin_cold_warm.py
import os, subprocess, sys, tempfile, shutil, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from harness import Edgeplane, RoutedClient
from test_origin import Nginx, ORIGIN_PORT

content = tempfile.mkdtemp(prefix="edgeplane-measure-", dir="/var/tmp")
os.chmod(content, 0o755)
os.makedirs(os.path.join(content, "vod"))
data = os.urandom(8 << 20)
open(os.path.join(content, "vod/8m.bin"), "wb").write(data)
ep = Edgeplane(args=["--ram-mb", "128"])
cl = RoutedClient(ep, mtu=1500)
ep.args += ["--gateway", ep.host_ip, "--origin", f"/vod={cl.ip}:{ORIGIN_PORT}"]
ng = None
try:
    ep.start(); cl.start(); ng = Nginx(cl.ns, cl.ip, content).start()
    def curl(url):
        r = subprocess.run(["ip", "netns", "exec", ep.ns, "curl", "-s", "-o", "/dev/null", "-w",
                            "%{http_code} %{time_starttransfer} %{time_total} %{size_download}", url],
                           capture_output=True, text=True)
        return r.stdout.split()
    for i in range(5):
        cold = curl(f"http://{ep.ip}/vod/8m.bin")
        warm = curl(f"http://{ep.ip}/vod/8m.bin")
        direct = subprocess.run(["ip", "netns", "exec", ep.ns, "curl", "-s", "-o", "/dev/null", "-w",
                                 "%{time_starttransfer} %{time_total}", f"http://{cl.ip}:{ORIGIN_PORT}/vod/8m.bin"],
                                capture_output=True, text=True).stdout.split()
        print("cold", cold, "warm", warm, "nginx-direct", direct, flush=True)
        ep.ctl("purge", "/vod/8m.bin")
    print("origin requests logged:", len(ng.lines("/vod/8m.bin")))
finally:
    if ng: ng.cleanup()
    cl.cleanup(); ep.stop(); ep.cleanup(); shutil.rmtree(content, ignore_errors=True)

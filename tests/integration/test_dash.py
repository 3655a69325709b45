"""DASH end to end on the appliance: a title packaged with ffmpeg, served by
edgeplane through the TAP, read by ffmpeg's DASH demuxer and played to the
end by dash.js in headless Chromium, which switches quality when the test
squeezes the link."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

from cluster_util import clients_csv, paris_london_model, wait_for_server
from harness import Edgeplane

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
PACKAGE = os.path.join(ROOT, "control", "package", "package.sh")
WEB = os.path.join(ROOT, "web")
BROWSER = os.path.join(ROOT, "tests", "http", "browser")
DURATION = 24
FPS = 30
LADDER = "640x360:800k,512x288:400k,384x216:200k"


def need(tool):
    if not shutil.which(tool):
        pytest.skip(f"{tool} is not installed")


@pytest.fixture(scope="module")
def title():
    need("ffmpeg")
    tmp = tempfile.TemporaryDirectory(dir="/var/tmp")
    out = os.path.join(tmp.name, "title")
    subprocess.run([PACKAGE, "--duration", str(DURATION), "--preset", "ultrafast", "--ladder", LADDER,
                    "--out", out], check=True, capture_output=True, timeout=300)
    with Edgeplane(args=["--ram-mb", "128"]) as ep:
        r = ep.ctl("package", "--help")  # the subcommand exists
        assert "ffmpeg" in r.stdout
        assert "stored" in ep.ctl("ingest", out, "--name", "demo").stdout
        ep.content = tmp.name
        yield ep
        assert ep.stop() == 0, ep.log()
    tmp.cleanup()


def test_manifest_is_served_as_dash(title):
    r = title.ns_run(["curl", "-sS", "-D", "-", "-o", "/dev/null", f"http://{title.ip}/demo/manifest.mpd"])
    assert "application/dash+xml" in r.stdout
    mpd = title.ns_run(["curl", "-sS", f"http://{title.ip}/demo/manifest.mpd"]).stdout
    assert len(re.findall(r"<Representation ", mpd)) >= 4  # 3 video + audio


@pytest.mark.parametrize("rep", [0, 1, 2])
def test_ffmpeg_decodes_every_frame_of_each_representation(title, rep):
    r = title.ns_run(["ffmpeg", "-nostdin", "-v", "error", "-i", f"http://{title.ip}/demo/manifest.mpd",
                      "-map", f"0:v:{rep}", "-f", "null", "-", "-progress", "pipe:1"], check=False, timeout=180)
    # FIELD-NOTES: ffmpeg's DASH demuxer asks for one segment past the end and
    # complains; judge by exit code and frame count.
    assert r.returncode == 0, r.stderr[-2000:]
    frames = [int(x) for x in re.findall(r"^frame=(\d+)", r.stdout, re.M)]
    assert frames and frames[-1] >= DURATION * FPS, (frames[-3:], r.stderr[-500:])


def test_dashjs_plays_to_the_end_and_switches_quality(title):
    need("chromium")
    need("npm")
    site = os.path.join(title.content, "site")
    if subprocess.run([os.path.join(WEB, "build.sh"), site], capture_output=True).returncode != 0:
        pytest.skip("npm registry unreachable: no dash.js")
    if subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                      cwd=BROWSER, capture_output=True).returncode != 0:
        pytest.skip("npm registry unreachable: no puppeteer-core")
    assert "stored" in title.ctl("ingest", site).stdout

    squeezed = {}

    def squeeze():
        # After the player settled on a high rung, shape what reaches the
        # client below the top rung's rate: dash.js must switch down. The
        # kernel has no netem or police action: redirect the TAP's ingress
        # to an ifb device and put a tbf on it.
        time.sleep(7)
        try:
            title.ns_run(["ip", "link", "add", "epifb0", "type", "ifb"])
            title.ns_run(["ip", "link", "set", "epifb0", "up"])
            title.ns_run(["tc", "qdisc", "add", "dev", title.tap, "handle", "ffff:", "ingress"])
            title.ns_run(["tc", "filter", "add", "dev", title.tap, "parent", "ffff:", "protocol", "ip", "u32",
                          "match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", "epifb0"])
            title.ns_run(["tc", "qdisc", "add", "dev", "epifb0", "root", "tbf", "rate", "600kbit",
                          "burst", "20kb", "latency", "300ms"])
            squeezed["at"] = time.time()
        except subprocess.CalledProcessError as e:
            squeezed["error"] = f"{e.cmd}: {e.stderr}"

    t = threading.Thread(target=squeeze)
    t.start()
    try:
        r = title.ns_run(["node", os.path.join(BROWSER, "play.mjs"),
                          f"http://{title.ip}/player.html?title=demo&buffer=4", "150"],
                         check=False, timeout=200, env=dict(os.environ, CHROMIUM="/usr/bin/chromium"))
    finally:
        t.join()
        title.ns_run(["tc", "qdisc", "del", "dev", title.tap, "ingress"], check=False)
        title.ns_run(["ip", "link", "del", "epifb0"], check=False)
    assert "at" in squeezed, squeezed
    state = json.loads(r.stdout.strip().splitlines()[-1])
    assert r.returncode == 0, state
    assert state["ended"] and not state["errors"], state
    assert state["switches"] >= 1, state
    b = state["bitrates"]
    assert any(b[i] < b[i - 1] for i in range(1, len(b))), f"no down-switch after the squeeze: {b}"
    assert title.stats()["http"]["status_200"] > 10


# DASH content steering (docs/cluster_selection.md "How clients are
# steered"): an appliance that is "paris" of a two-cluster model serves the
# player and the steered MPD; "london" is a plain HTTP server (with CORS) in
# the namespace holding the same title. The client's network is a London
# one, so the steering manifest dash.js asks for before starting
# (queryBeforeStart) puts london first and the segments come from there.
# Redirects are off here so that only content steering moves the player.
CORS_SERVER = """
import http.server, sys
class H(http.server.SimpleHTTPRequestHandler):
    def end_headers(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()
    def log_message(self, fmt, *args):
        sys.stderr.write("%s\\n" % self.requestline)
        sys.stderr.flush()
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
"""



def test_dashjs_follows_the_steering_manifest(title):
    need("chromium")
    need("npm")
    site = os.path.join(title.content, "site2")
    if subprocess.run([os.path.join(WEB, "build.sh"), site], capture_output=True).returncode != 0:
        pytest.skip("npm registry unreachable: no dash.js")
    if subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                      cwd=BROWSER, capture_output=True).returncode != 0:
        pytest.skip("npm registry unreachable: no puppeteer-core")
    port = 18082
    e = Edgeplane()
    model = os.path.join(title.content, "steer.toml")
    with open(model, "w") as f:
        f.write(paris_london_model(e, port))
    with open(os.path.join(title.content, "clients.csv"), "w") as f:
        f.write(clients_csv(e))
    e.args = ["--ram-mb", "128", "--clusters", model, "--cluster-self", "paris",
              "--http-redirect", "false"] + e.args
    london_dir = os.path.join(title.content, "london")
    server = None
    with e:
        try:
            out = e.ctl("ingest", os.path.join(title.content, "title"), "--name", "demo").stdout
            assert "steering: demo/manifest.mpd carries ContentSteering" in out, out
            assert "stored" in e.ctl("ingest", site).stdout
            # London holds the same title, the steered MPD included.
            shutil.copytree(os.path.join(title.content, "title"), os.path.join(london_dir, "demo"))
            mpd = e.ns_run(["curl", "-sS", "-m", "20", f"http://{e.ip}/demo/manifest.mpd"]).stdout
            assert 'serviceLocation="london"' in mpd and "<ContentSteering" in mpd, mpd[:800]
            with open(os.path.join(london_dir, "demo", "manifest.mpd"), "w") as f:
                f.write(mpd)
            log = open(os.path.join(title.content, "london.log"), "w")
            server = subprocess.Popen(["ip", "netns", "exec", e.ns, "/usr/bin/python3", "-c",
                                       CORS_SERVER, e.host_ip, str(port)],
                                      cwd=london_dir, stdout=subprocess.DEVNULL, stderr=log)
            wait_for_server(e, f"http://{e.host_ip}:{port}/demo/manifest.mpd")
            r = e.ns_run(["node", os.path.join(BROWSER, "play.mjs"),
                          f"http://{e.ip}/player.html?title=demo&buffer=4", "150"],
                         check=False, timeout=200, env=dict(os.environ, CHROMIUM="/usr/bin/chromium"))
            state = json.loads(r.stdout.strip().splitlines()[-1])
            assert r.returncode == 0, state
            assert state["ended"] and not state["errors"], state
            http = e.stats()["http"]
            assert http["steer_manifests"] >= 1, http
            with open(os.path.join(title.content, "london.log")) as f:
                segs = [l for l in f if l.startswith("GET /demo/") and ".m4s" in l]
            # Every media segment came from the pathway the manifest named.
            assert len(segs) >= DURATION // 4, segs[:5]
        finally:
            if server:
                server.kill()
                server.wait()
        assert e.stop() == 0, e.log()

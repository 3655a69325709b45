"""Prometheus /metrics: a real Prometheus (Debian's) scrapes the appliance
every second; what PromQL says the HTTP service sent matches what curl
downloaded, and promtool accepts the exposition."""

import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from harness import Edgeplane

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
METRICS_PORT = 9101   # inside the appliance's own namespace: nothing else listens there
PROM_PORT = 19090
CHUNK = 256 * 1024


class Prometheus:
    """Prometheus in the appliance's namespace (its /metrics is on that
    namespace's loopback), with a temporary config and storage."""

    def __init__(self, ep, target):
        self.ep = ep
        self.dir = tempfile.mkdtemp(prefix="edgeplane-prom-")
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: edgeplane\n    scrape_interval: 1s\n"
                    f"    static_configs:\n      - targets: ['{target}']\n")
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ep.ns, PROMETHEUS, f"--config.file={cfg}",
             f"--storage.tsdb.path={self.dir}/data", f"--web.listen-address=127.0.0.1:{PROM_PORT}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while self.ep.ns_run(["curl", "-sf", f"http://127.0.0.1:{PROM_PORT}/-/ready"],
                             check=False).returncode != 0:
            assert self.proc.poll() is None, self.logtext()
            assert time.time() < deadline, "prometheus never became ready\n" + self.logtext()
            time.sleep(0.2)

    def logtext(self):
        self.log.flush()
        with open(os.path.join(self.dir, "prometheus.log")) as f:
            return f.read()[-3000:]

    def query(self, q, at=None):
        args = ["curl", "-sf", f"http://127.0.0.1:{PROM_PORT}/api/v1/query", "--data-urlencode", f"query={q}"]
        if at is not None:
            args += ["--data-urlencode", f"time={at}"]
        r = json.loads(self.ep.ns_run(args).stdout)
        assert r["status"] == "success", r
        return r["data"]["result"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_for(fn, what, timeout=30):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


@pytest.mark.skipif(not PROMETHEUS or not PROMTOOL, reason="Debian package prometheus is not installed")
def test_prometheus_scrapes_what_curl_downloaded():
    content = tempfile.mkdtemp(prefix="edgeplane-metrics-", dir="/var/tmp")
    sizes = {"a.bin": 3 * CHUNK + 1234, "b.bin": 700_001}
    for name, n in sizes.items():
        with open(os.path.join(content, name), "wb") as f:
            f.write(os.urandom(n))
    ep = Edgeplane(args=["--ram-mb", "64", "--metrics-listen", f"127.0.0.1:{METRICS_PORT}"])
    prom = None
    try:
        ep.start()
        assert f"metrics at http://127.0.0.1:{METRICS_PORT}/metrics" in ep.log()
        ep.ctl("ingest", content)
        prom = Prometheus(ep, f"127.0.0.1:{METRICS_PORT}")
        series = "edgeplane_http_body_bytes_out_total"
        # A sample before any download: the counter's 0 is in Prometheus.
        wait_for(lambda: prom.query(f'up{{job="edgeplane"}} == 1') and prom.query(series), "a first scrape")
        assert float(prom.query(f"sum({series})")[0]["value"][1]) == 0

        downloaded = 0
        for _ in range(3):
            for name in sizes:
                r = ep.ns_run(["curl", "-sS", "-m", "30", "-o", "/dev/null", "-w", "%{size_download}",
                               f"http://{ep.ip}/{name}"])
                downloaded += int(r.stdout)
        assert downloaded == 3 * sum(sizes.values())

        # Prometheus has scraped the final value: take the time of that sample...
        def final_sample():
            r = prom.query(f"sum({series}) == {downloaded}")
            return r and prom.query(f"timestamp({series})")
        at = float(wait_for(final_sample, "Prometheus to scrape the final counter")[0]["value"][1])
        # ... and ask PromQL what was sent. At a sample's own time increase()
        # does not extrapolate past it, and a counter that started at 0 is
        # not extrapolated before its first sample: the figure is exact.
        inc = float(prom.query(f"sum(increase({series}[10m]))", at=at)[0]["value"][1])
        assert abs(inc - downloaded) < 0.5, (inc, downloaded)
        rate = float(prom.query(f"sum(rate({series}[10m]))", at=at)[0]["value"][1])
        assert rate > 0
        # Per lcore and port, and other sources with their help text.
        labels = prom.query(series)[0]["metric"]
        assert labels["lcore"] == "1" and labels["port"] == "net_tap0", labels
        # body_bytes_out counts a response when it is planned; the frames
        # follow: wait for a scrape that has them all.
        wait_for(lambda: prom.query(f"sum(edgeplane_lcore_tx_bytes_total) > {downloaded}"),
                 "the frames of the downloads in lcore tx_bytes")
        assert prom.query("edgeplane_chunkstore_ram_bytes_used > 0")
        assert prom.query("edgeplane_cache_hit_ratio > 0")

        text = ep.ns_run(["curl", "-sf", f"http://127.0.0.1:{METRICS_PORT}/metrics"]).stdout
        assert "# HELP edgeplane_tcp_rx_segments_total segments handed to input()\n" in text
        assert "# TYPE edgeplane_tcp_connections_open gauge\n" in text
        assert 'edgeplane_lcore_drops_total{lcore="1",reason="ipv4_bad_checksum"} 0\n' in text
        lint = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout + lint.stderr
        assert ep.stop() == 0, ep.log()
    except BaseException:
        if prom:
            print(prom.logtext())
        raise
    finally:
        if prom:
            prom.close()
        ep.cleanup()
        shutil.rmtree(content, ignore_errors=True)


EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "examples")


@pytest.mark.skipif(not PROMETHEUS, reason="Debian package prometheus is not installed")
def test_state_fill_and_cluster_gauges_move():
    """Connections per TCP state, origin fill progress and per-cluster load,
    as Prometheus sees them: non-zero while a slow origin fill runs, back to
    zero after; a cluster taken down loses its load."""
    from harness import RoutedClient
    from test_origin import Nginx, ORIGIN_PORT
    content = tempfile.mkdtemp(prefix="edgeplane-metrics-origin-", dir="/var/tmp")
    os.chmod(content, 0o755)
    data = os.urandom(6 * CHUNK)
    os.makedirs(os.path.join(content, "vod", "gauge"))
    with open(os.path.join(content, "vod", "gauge", "s.bin"), "wb") as f:
        f.write(data)
    with open(os.path.join(content, "probe"), "wb") as f:
        f.write(b"ok\n")
    ep = Edgeplane(args=["--ram-mb", "64", "--metrics-listen", f"127.0.0.1:{METRICS_PORT}",
                         "--clusters", os.path.join(EXAMPLES, "clusters", "clusters.toml")])
    cl = RoutedClient(ep, mtu=1500)
    ep.args += ["--gateway", ep.host_ip, "--origin", f"/vod={cl.ip}:{ORIGIN_PORT}"]
    prom = nginx = None
    try:
        ep.start()
        cl.start()
        # 64 KB/s a connection (the server's limit_rate; /vod/gauge/ has no
        # location of its own): a chunk takes 4 s, so the fill outlasts
        # several 1 s scrapes whatever the read-ahead (at /vod/slow/'s 1 MB/s
        # a parallel fill could end between two scrapes: CI once saw
        # fetches_active never above 0).
        nginx = Nginx(cl.ns, cl.ip, content, rate="64k").start()
        prom = Prometheus(ep, f"127.0.0.1:{METRICS_PORT}")
        wait_for(lambda: prom.query("edgeplane_http_origin_fetches_active"), "a first scrape")
        assert float(prom.query("sum(edgeplane_http_origin_fetches_active)")[0]["value"][1]) == 0
        client = subprocess.Popen(["ip", "netns", "exec", ep.ns, "curl", "-sS", "-m", "60", "-o",
                                   "-", f"http://{ep.ip}/vod/gauge/s.bin"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # While the fill runs: a fetch under way with bytes, a viewer
        # waiting for it, connections established (the viewer's and the
        # origin's).
        wait_for(lambda: prom.query("sum(edgeplane_http_origin_fetches_active) > 0"), "fetches_active")
        wait_for(lambda: prom.query("sum(edgeplane_http_origin_fills_in_flight) > 0"), "fills_in_flight")
        wait_for(lambda: prom.query("sum(edgeplane_http_origin_fetch_bytes) > 0"), "fetch_bytes")
        wait_for(lambda: prom.query("sum(edgeplane_http_fill_waiters) > 0"), "fill_waiters")
        wait_for(lambda: prom.query("sum(edgeplane_tcp_state_established) >= 2"), "established")
        out, err = client.communicate(timeout=90)
        assert client.returncode == 0 and out == data, err
        wait_for(lambda: prom.query("sum(edgeplane_http_origin_fetches_active) == 0 and "
                                    "sum(edgeplane_http_fill_waiters) == 0"), "the fill to end")
        wait_for(lambda: prom.query("sum(edgeplane_http_origin_chunks_stored_total) >= 6"), "chunks")
        # Per-cluster load, labelled by cluster.
        loads = wait_for(lambda: prom.query('edgeplane_clusters_load_mbps{cluster="paris"} > 0'),
                         "paris's load")
        assert prom.query('edgeplane_clusters_up{cluster="paris"} == 1')
        ep.ctl("call", "cluster-health", "paris", "down")
        wait_for(lambda: prom.query('edgeplane_clusters_load_mbps{cluster="paris"} == 0'),
                 "paris's load to move elsewhere")
        assert prom.query('edgeplane_clusters_up{cluster="paris"} == 0')
        text = ep.ns_run(["curl", "-sf", f"http://127.0.0.1:{METRICS_PORT}/metrics"]).stdout
        assert "# TYPE edgeplane_tcp_state_established gauge\n" in text
        if PROMTOOL:
            lint = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                                  text=True)
            assert lint.returncode == 0, lint.stdout + lint.stderr
        # The same gauges in edgectl stats (one visitor for every output).
        st = ep.stats()
        assert "state_established" in st["tcp"] and "origin_fetches_active" in st["http"]
        # Every open connection is in exactly one state (TIME-WAIT is apart).
        states = sum(v for k, v in st["tcp"].items() if k.startswith("state_"))
        assert states == st["tcp"]["connections_open"], st["tcp"]
        assert st["clusters"]["up.paris"] == 0
        nginx.kill()
        assert ep.stop() == 0, ep.log()
    except BaseException:
        if prom:
            print(prom.logtext())
        raise
    finally:
        if prom:
            prom.close()
        if nginx:
            nginx.cleanup()
        cl.cleanup()
        ep.cleanup()
        shutil.rmtree(content, ignore_errors=True)

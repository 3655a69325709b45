"""Live reload (SIGHUP, edgectl reload): during a long download, a changed
cache policy and a new title apply without dropping the download; a broken
config is rejected with the reason and the running one keeps serving."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from harness import Edgeplane

SIZE = 6 * 1024 * 1024


@pytest.fixture
def content():
    root = tempfile.mkdtemp(prefix="edgeplane-reload-", dir="/var/tmp")
    one, two = os.path.join(root, "one"), os.path.join(root, "two")
    os.makedirs(one)
    os.makedirs(two)
    big = os.urandom(SIZE)
    with open(os.path.join(one, "big.bin"), "wb") as f:
        f.write(big)
    new = os.urandom(300_000)
    with open(os.path.join(two, "seg.m4s"), "wb") as f:
        f.write(new)
    yield root, one, two, hashlib.sha256(big).hexdigest(), hashlib.sha256(new).hexdigest()
    shutil.rmtree(root, ignore_errors=True)


def write_config(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def wait_log(ep, needle, count=1, timeout=30):
    deadline = time.time() + timeout
    while ep.log().count(needle) < count:
        assert time.time() < deadline, f"no {needle!r} in the log\n{ep.log()}"
        time.sleep(0.05)


def test_sighup_during_download_applies_policy_and_title_and_rejects_broken(content):
    root, one, two, big_sha, new_sha = content
    conf = os.path.join(root, "edgeplane.toml")
    write_config(conf, f'cache-policy = "lru"\ntitle = ["one={one}"]\n')
    ep = Edgeplane(args=["--config", conf, "--ram-mb", "64"])
    tmp = tempfile.mkdtemp(prefix="edgeplane-reload-out-")
    try:
        ep.start()
        assert ep.stats()["cache"]["policy.lru"] == 1
        # A slow reader keeps the download in flight through both reloads.
        ep.ns_run(["sysctl", "-qw", "net.ipv4.tcp_rmem=4096 32768 65536"])
        out = os.path.join(tmp, "big.bin")
        dl = subprocess.Popen(["ip", "netns", "exec", ep.ns, "curl", "-sS", "-m", "120",
                               "--limit-rate", "1M", "-o", out, f"http://{ep.ip}/one/big.bin"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        while not (os.path.exists(out) and os.path.getsize(out) > 0):
            assert dl.poll() is None, dl.communicate()
            assert time.time() < deadline
            time.sleep(0.05)

        # The title is not there before the reload.
        r = ep.ns_run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                       f"http://{ep.ip}/two/seg.m4s"])
        assert r.stdout == "404"
        write_config(conf, f'cache-policy = "sieve"\ncache-high-pct = 85\n'
                           f'title = ["one={one}", "two={two}"]\n')
        ep.proc.send_signal(signal.SIGHUP)
        wait_log(ep, "SIGHUP: reloaded")
        cache = ep.stats()["cache"]
        assert cache.get("policy.sieve") == 1 and "policy.lru" not in cache, cache
        assert cache["reconfigures"] == 1
        assert ep.download_sha256("/two/seg.m4s", ("-f",), 20)[0] == new_sha
        assert dl.poll() is None, "the download ended before the reload could be judged"

        # Broken: an unknown key. Rejected with the reason, over both doors.
        write_config(conf, 'cache-policy = "fifo"\ncache_policy = "x"\n')
        r = ep.ctl("reload", check=False)
        assert r.returncode == 1, r.stdout
        assert "reload rejected" in r.stdout and "unknown key 'cache_policy'" in r.stdout, r.stdout
        ep.proc.send_signal(signal.SIGHUP)
        wait_log(ep, "SIGHUP: error: reload rejected")
        cache = ep.stats()["cache"]
        assert cache.get("policy.sieve") == 1 and cache["reconfigures"] == 1, cache
        assert ep.download_sha256("/two/seg.m4s", ("-f",), 20)[0] == new_sha

        # The download went on through all of it, byte-exact.
        assert dl.poll() is None, "the download ended before the broken reload was judged"
        _, err = dl.communicate(timeout=120)
        assert dl.returncode == 0, err
        with open(out, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == big_sha
        assert ep.stop() == 0, ep.log()
    finally:
        ep.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def test_edgectl_reload_names_keys_that_need_a_restart(content):
    root, one, two, _, _ = content
    conf = os.path.join(root, "edgeplane.toml")
    write_config(conf, 'http-idle-timeout-ms = 60000\n')
    with Edgeplane(args=["--config", conf, "--ram-mb", "64", "--log-format", "json"]) as ep:
        write_config(conf, 'http-idle-timeout-ms = 5000\ntcp-max-conns = 999\nlog-level = "debug"\n')
        r = ep.ctl("reload")
        assert "http: idle-timeout-ms 60000 -> 5000" in r.stdout, r.stdout
        assert "log-level info -> debug" in r.stdout
        assert "not applied (needs a restart): --tcp-max-conns" in r.stdout
        assert r.stdout.rstrip().endswith("reloaded")
        # The daemon's own lines are JSON objects (--log-format json), the
        # reload's among them, one per line.
        ours = [json.loads(l) for l in ep.log().splitlines() if l.startswith('{"ts":')]
        msgs = [o["msg"] for o in ours if o["level"] == "notice"]
        assert "edgectl reload: reloaded" in msgs, ours


def test_reload_switches_fault_injection_and_pin_limits_without_dropping_a_download(content):
    root, one, two, big_sha, _ = content
    conf = os.path.join(root, "edgeplane.toml")
    write_config(conf, f'title = ["one={one}"]\n')
    ep = Edgeplane(args=["--config", conf, "--ram-mb", "64"])
    tmp = tempfile.mkdtemp(prefix="edgeplane-reload-out-")
    try:
        ep.start()
        ep.ns_run(["sysctl", "-qw", "net.ipv4.tcp_rmem=4096 32768 65536"])
        out = os.path.join(tmp, "big.bin")
        dl = subprocess.Popen(["ip", "netns", "exec", ep.ns, "curl", "-sS", "-m", "120",
                               "--limit-rate", "1M", "-o", out, f"http://{ep.ip}/one/big.bin"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        while not (os.path.exists(out) and os.path.getsize(out) > 0):
            assert dl.poll() is None, dl.communicate()
            assert time.time() < deadline
            time.sleep(0.05)
        assert ep.counter("fault_dropped") == 0

        # Faults on, and smaller pin limits, while the download runs.
        write_config(conf, f'title = ["one={one}"]\nfault = "drop=0.05,seed=5"\n'
                           'http-pin-conn-kb = 512\nhttp-pin-ram-pct = 40\n')
        r = ep.ctl("reload")
        assert "fault '' -> 'drop=0.05,seed=5' (1 of 1 queues)" in r.stdout, r.stdout
        assert "http: pin limits 1024 KiB, 50% -> 512 KiB, 40%" in r.stdout, r.stdout
        assert "needs a restart" not in r.stdout, r.stdout
        deadline = time.time() + 30
        while ep.counter("fault_dropped") == 0:
            assert time.time() < deadline, "no fault after the reload"
            time.sleep(0.1)

        # A broken spec: rejected with the reason; the running one goes on.
        write_config(conf, f'title = ["one={one}"]\nfault = "drop=2"\n')
        r = ep.ctl("reload", check=False)
        assert r.returncode == 1 and "reload rejected" in r.stdout and "fault" in r.stdout, r.stdout
        before = ep.counter("fault_dropped")
        for _ in range(3):
            ep.ns_run(["curl", "-sS", "-m", "20", "-o", "/dev/null", f"http://{ep.ip}/one/big.bin",
                       "-r", "0-99999"])
        assert ep.counter("fault_dropped") > before, "the running spec stopped"

        # Faults off again: once the reload returns, not one more drop.
        write_config(conf, f'title = ["one={one}"]\n')
        r = ep.ctl("reload")
        assert "fault 'drop=0.05,seed=5' -> '' (1 of 1 queues)" in r.stdout, r.stdout
        still = ep.counter("fault_dropped")
        for _ in range(3):
            ep.ns_run(["curl", "-sS", "-m", "20", "-o", "/dev/null", f"http://{ep.ip}/one/big.bin",
                       "-r", "0-99999"])
        assert ep.counter("fault_dropped") == still

        assert dl.poll() is None, "the download ended before the reloads could be judged"
        _, err = dl.communicate(timeout=120)
        assert dl.returncode == 0, err
        with open(out, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == big_sha
        assert ep.stop() == 0, ep.log()
    finally:
        ep.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def test_reload_publishes_new_origin_routes_and_rejects_a_broken_one():
    from harness import RoutedClient
    from test_origin import Nginx, ORIGIN_PORT
    content = tempfile.mkdtemp(prefix="edgeplane-reload-origin-", dir="/var/tmp")
    os.chmod(content, 0o755)
    files = {"vod/slow/long.bin": os.urandom(4 * 1024 * 1024 + 5),
             "extra/new.bin": os.urandom(600_001), "probe": b"ok\n"}
    for name, data in files.items():
        p = os.path.join(content, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    conf = os.path.join(content, "edgeplane.toml")
    ep = Edgeplane(args=["--config", conf, "--ram-mb", "64"])
    cl = RoutedClient(ep, mtu=1500)
    origin = f"{cl.ip}:{ORIGIN_PORT}"
    write_config(conf, f'origin = ["/vod={origin}"]\ngateway = ["{ep.host_ip}"]\n')
    nginx = None
    try:
        ep.start()
        cl.start()
        nginx = Nginx(cl.ns, cl.ip, content).start()  # /vod/slow/: limit_rate 1m: ~4 s
        # A fill from the origin runs across the reloads.
        dl = subprocess.Popen(["ip", "netns", "exec", ep.ns, "curl", "-sS", "-m", "60", "-o", "-",
                               f"http://{ep.ip}/vod/slow/long.bin"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while not nginx.lines("/vod/slow/long.bin"):
            assert time.time() < deadline
            time.sleep(0.05)
        r = ep.ns_run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                       f"http://{ep.ip}/extra/new.bin"])
        assert r.stdout == "404"  # no route for /extra yet

        write_config(conf, f'origin = ["/vod={origin}", "/extra={origin}"]\n'
                           f'gateway = ["{ep.host_ip}"]\n')
        r = ep.ctl("reload")
        assert "http: origin routes 1 -> 2 published" in r.stdout, r.stdout
        assert "needs a restart" not in r.stdout, r.stdout
        assert ep.download_sha256("/extra/new.bin", ("-f",), 20)[0] == hashlib.sha256(files["extra/new.bin"]).hexdigest()

        # Broken: rejected with the reason; both routes keep working.
        write_config(conf, f'origin = ["/vod={origin}", "/bad=no_where"]\n'
                           f'gateway = ["{ep.host_ip}"]\n')
        r = ep.ctl("reload", check=False)
        assert r.returncode == 1 and "reload rejected" in r.stdout and "'/bad=no_where'" in r.stdout, \
            r.stdout
        ep.ctl("purge", "/extra/new.bin")
        assert ep.download_sha256("/extra/new.bin", ("-f",), 20)[0] == hashlib.sha256(files["extra/new.bin"]).hexdigest()
        assert len(nginx.lines("/extra/new.bin")) == 6  # 3 chunks, twice

        assert dl.poll() is None, "the fill ended before the reloads could be judged"
        body, err = dl.communicate(timeout=60)
        assert dl.returncode == 0 and body == files["vod/slow/long.bin"], err
        nginx.kill()
        assert ep.stop() == 0, ep.log()
    finally:
        if nginx:
            nginx.cleanup()
        cl.cleanup()
        ep.cleanup()
        shutil.rmtree(content, ignore_errors=True)

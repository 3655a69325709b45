"""systemd: the units pass `systemd-analyze verify`; the daemon speaks the
notify protocol (READY=1, STATUS=, WATCHDOG=1, STOPPING=1) to a
NOTIFY_SOCKET the test owns; SIGHUP (ExecReload) reloads it live (RELOADING=1, READY=1);
`--check-config` judges a file without starting EAL."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from harness import EDGEPLANE, Edgeplane

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
UNITS = os.path.join(ROOT, "scripts", "systemd")
ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.skipif(not ANALYZE, reason="systemd-analyze is not installed")
def test_units_verify():
    d = tempfile.mkdtemp(prefix="edgeplane-units-")
    try:
        names = []
        for u in ("edgeplane-hugepages.service", "edgeplane.service"):
            with open(os.path.join(UNITS, u + ".in")) as f:
                text = f.read()
            # verify checks that the binaries exist: point them at this build.
            text = text.replace("@BINDIR@", os.path.dirname(os.path.abspath(EDGEPLANE)))
            text = text.replace("@DOCDIR@", os.path.abspath(os.path.join(ROOT, "docs")))
            with open(os.path.join(d, u), "w") as f:
                f.write(text)
            names.append(os.path.join(d, u))
        r = subprocess.run([ANALYZE, "verify", "--man=no"] + names, capture_output=True, text=True)
        assert r.returncode == 0 and r.stderr.strip() == "", r.stdout + r.stderr
        with open(names[1]) as f:
            unit = f.read()
        for line in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "Requires=edgeplane-hugepages.service",
                     "WatchdogSec="):
            assert line in unit
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_notify_protocol_ready_status_watchdog_stopping():
    d = tempfile.mkdtemp(prefix="edgeplane-notify-")
    path = os.path.join(d, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    saved = {k: os.environ.get(k) for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
    os.environ["NOTIFY_SOCKET"] = path
    os.environ["WATCHDOG_USEC"] = "400000"  # WATCHDOG=1 every 200 ms
    ep = Edgeplane(args=["--ram-mb", "64"])
    try:
        ep.start()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        msgs = []

        def until(pred, what):
            while not any(pred(m) for m in msgs):
                try:
                    msgs.append(sock.recv(4096).decode())
                except socket.timeout:
                    pytest.fail(f"no {what} in {msgs}\n{ep.log()}")

        until(lambda m: "READY=1" in m.splitlines(), "READY=1")
        ready = next(m for m in msgs if "READY=1" in m.splitlines())
        status = [l for l in ready.splitlines() if l.startswith("STATUS=")]
        assert status and "1 data lcore(s)" in status[0] and "\n" not in status[0], ready
        for _ in range(3):  # the control loop keeps it coming
            msgs.clear()
            until(lambda m: m == "WATCHDOG=1", "WATCHDOG=1")
        # SIGHUP (systemctl reload): a live reload, told to systemd as
        # RELOADING=1 then READY=1; still serving.
        msgs.clear()
        ep.proc.send_signal(signal.SIGHUP)
        until(lambda m: "RELOADING=1" in m.splitlines(), "RELOADING=1")
        until(lambda m: "READY=1" in m.splitlines(), "READY=1 after the reload")
        assert "SIGHUP: reloaded" in ep.log(), ep.log()
        assert ep.ctl("ping").stdout == "pong\n"
        msgs.clear()
        assert ep.stop() == 0, ep.log()
        until(lambda m: "STOPPING=1" in m.splitlines(), "STOPPING=1")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        ep.cleanup()
        sock.close()
        shutil.rmtree(d, ignore_errors=True)


def test_check_config_judges_a_file_without_eal():
    d = tempfile.mkdtemp(prefix="edgeplane-check-")
    try:
        good = os.path.join(d, "good.toml")
        with open(good, "w") as f:
            f.write('port = ["net_tap0,iface=x"]\nip = ["10.0.0.2/24"]\nmetrics-listen = "127.0.0.1:9100"\n')
        r = subprocess.run([EDGEPLANE, "--check-config", good], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"{good}: ok" in r.stdout
        assert "EAL" not in r.stdout + r.stderr  # nothing was started
        bad = os.path.join(d, "bad.toml")
        with open(bad, "w") as f:
            f.write('port = ["net_tap0,iface=x"]\nip = ["10.0.0.2/24"]\ncache-high-pct = 150\n')
        r = subprocess.run([EDGEPLANE, "--check-config", bad], capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, r.stdout + r.stderr
        assert "--cache-high-pct" in r.stderr and f"{bad}:3" in r.stderr, r.stderr
        assert "EAL" not in r.stdout + r.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)

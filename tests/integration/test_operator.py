"""The operator's first hour: signals and clean-up, the start-up summary,
edgectl's errors, and stats an operator can read."""

import os
import re
import signal
import subprocess
import tempfile
import time

from harness import EDGECTL, EDGEPLANE, Edgeplane


def leftovers(prefix):
    """Hugepage files and the DPDK runtime folder a process with this prefix left."""
    files = [f for f in os.listdir("/dev/hugepages") if f.startswith(prefix)] \
        if os.path.isdir("/dev/hugepages") else []
    runtime = f"/var/run/dpdk/{prefix}"
    return files + ([runtime] if os.path.exists(runtime) else [])


def test_sighup_reloads_and_keeps_serving():
    with Edgeplane() as ep:
        ep.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while "SIGHUP: reloaded" not in ep.log() and time.time() < deadline and ep.proc.poll() is None:
            time.sleep(0.05)
        assert ep.proc.poll() is None, f"SIGHUP killed the daemon ({ep.proc.returncode})\n{ep.log()}"
        assert "SIGHUP: reloaded" in ep.log(), ep.log()
        r = ep.ns_run(["ping", "-c", "2", "-i", "0.2", "-W", "2", ep.ip])
        assert " 0% packet loss" in r.stdout
        assert ep.stop() == 0, ep.log()
        assert leftovers(ep.prefix) == []


def test_clean_stop_leaves_no_hugepage_files_or_runtime_dir():
    for sig in (signal.SIGTERM, signal.SIGINT):
        with Edgeplane() as ep:
            ep.ns_run(["ping", "-c", "2", "-i", "0.2", "-W", "2", ep.ip])
            assert ep.stop(sig) == 0, ep.log()
            # Checked before the harness's own clean-up runs.
            assert leftovers(ep.prefix) == [], (sig, leftovers(ep.prefix))


def test_killed_daemon_leaves_no_hugepage_files():
    """--in-memory unlinks each hugepage file once mapped: even SIGKILL,
    which runs no clean-up, leaves none (only the runtime folder stays)."""
    with Edgeplane() as ep:
        assert ep.stop(signal.SIGKILL) == -signal.SIGKILL
        files = [f for f in leftovers(ep.prefix) if not f.startswith("/")]
        assert files == [], files


def test_start_logs_one_summary():
    with Edgeplane(args=["--http-port", "8080", "--cache-policy", "sieve", "--ram-mb", "64"]) as ep:
        lines = [l for l in ep.log().splitlines() if l.startswith("edgeplane: summary:")]
        assert len(lines) == 1, ep.log()
        s = lines[0]
        assert f"{ep.ip}/24" in s and "net_tap0" in s, s
        assert "http port 8080" in s, s
        assert "cache sieve" in s and "90%" in s and "80%" in s, s
        assert "ram tier 64 MiB" in s and "disk tier none" in s, s
        assert "hugepages" in s or "--no-huge" in s, s


def test_ram_tier_larger_than_memory_fails_before_eal():
    prefix = f"epop{os.getpid()}"
    try:
        r = subprocess.run([EDGEPLANE, "--port", "net_null0", "--ip", "10.0.0.1/24", "--ram-mb", "1000000",
                            "--file-prefix", prefix, "--admin-socket", f"/tmp/{prefix}.sock"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode != 0
        assert "--ram-mb 1000000" in r.stderr and "MiB" in r.stderr, r.stderr
        assert "EAL" not in r.stdout + r.stderr  # refused before EAL started
        assert leftovers(prefix) == []
    finally:
        for f in leftovers(prefix):
            subprocess.run(["rm", "-rf", f if f.startswith("/") else os.path.join("/dev/hugepages", f)])


def test_edgectl_names_unknown_command_and_says_when_daemon_is_off():
    r = subprocess.run([EDGECTL, "statz"], capture_output=True, text=True)
    assert r.returncode != 0
    assert "unknown command 'statz'" in r.stderr, r.stderr
    assert "stats" in r.stderr  # and lists the real ones

    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([EDGECTL, "-s", os.path.join(d, "none.sock"), "ports"], capture_output=True, text=True)
        assert r.returncode != 0
        assert "not running" in r.stderr and "none.sock" in r.stderr, r.stderr
        # A socket file left behind by a daemon that is gone.
        import socket
        stale = os.path.join(d, "stale.sock")
        s = socket.socket(socket.AF_UNIX)
        s.bind(stale)
        s.close()
        r = subprocess.run([EDGECTL, "-s", stale, "ping"], capture_output=True, text=True)
        assert r.returncode != 0
        assert "not running" in r.stderr, r.stderr


def test_command_against_a_service_that_is_off_fails():
    with Edgeplane() as ep:  # no --discard-port
        r = ep.ctl("sink", check=False)
        assert r.returncode != 0
        assert "discard" in r.stdout and "off" in r.stdout, r.stdout


def test_stats_busy_percent_and_section_filter():
    with Edgeplane() as ep:
        ep.ns_run(["ping", "-c", "2", "-i", "0.2", "-W", "2", ep.ip])
        text = ep.ctl("stats").stdout
        row = next(l for l in text.splitlines() if l.startswith("busy_pct"))
        pct = [float(v) for v in row.split()[1:]]
        assert pct and all(0 <= v <= 100 for v in pct), row
        assert "busy_cycles" in text

        only = ep.ctl("stats", "cache").stdout
        assert only.lstrip().startswith("cache"), only
        assert "rx_packets" not in only and "chunkstore" not in only, only
        j = ep.stats()
        assert 0 <= j["lcores"][0]["busy_pct"] <= 100
        import json
        j = json.loads(ep.ctl("stats", "chunkstore", "--json").stdout)
        assert list(j) == ["chunkstore"], j
        r = ep.ctl("stats", "nosuch", check=False)
        assert r.returncode != 0 and "chunkstore" in r.stdout, r.stdout


def test_stats_help_text_names_every_counter():
    # What /metrics will print as # HELP: every lcore counter and drop reason
    # (dataplane/counters.h), the TCP engine's and the store's, with its text.
    with Edgeplane() as ep:
        text = ep.ctl("stats", "--help-text").stdout
        lines = {}
        for l in text.splitlines():  # the first section naming it (lcores before port)
            if l.startswith("  "):
                lines.setdefault(l.split()[0], l)
        assert "packets received from the port" in lines["rx_packets"], text
        assert "TCP checksum wrong" in lines["drop.tcp_bad_checksum"], text
        assert "retransmitted" in lines["retransmits"], text
        assert "(gauge)" in lines["connections_open"], text
        for name in ("busy_cycles", "drop.fault_injected", "drop.udp_no_handler"):
            assert len(lines[name].split()) > 1, lines[name]  # help text present
        only = ep.ctl("stats", "--help-text", "tcp").stdout
        assert only.startswith("tcp\n") and "rx_packets" not in only, only
        r = ep.ctl("stats", "--help-text", "nosuch", check=False)
        assert r.returncode != 0 and "chunkstore" in r.stdout, r.stdout


def test_reingest_says_it_replaced():
    with Edgeplane(args=["--ram-mb", "32"]) as ep, tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "a.txt")
        with open(f, "w") as fh:
            fh.write("one\n")
        first = ep.ctl("ingest", f, "--name", "a.txt").stdout
        assert "replaced" not in first and not re.search(r"^replaced ", first, re.M), first
        with open(f, "w") as fh:
            fh.write("two\n")
        again = ep.ctl("ingest", f, "--name", "a.txt").stdout
        assert re.search(r"^replaced a\.txt$", again, re.M) and "(1 replaced)" in again, again
        r = ep.ns_run(["curl", "-s", f"http://{ep.ip}/a.txt"])
        assert r.stdout == "two\n"


def test_html_content_type_is_what_docs_http_md_says():
    """Ingest records a type per object (chunkstore's guess_content_type),
    which wins over the HTTP server's own extension table."""
    with Edgeplane(args=["--ram-mb", "32"]) as ep, tempfile.TemporaryDirectory() as d:
        for name in ("page.html", "page.htm"):
            with open(os.path.join(d, name), "w") as fh:
                fh.write("<p>x</p>\n")
        ep.ctl("ingest", d, "--name", "site/")
        types = {}
        for name in ("page.html", "page.htm"):
            r = ep.ns_run(["curl", "-s", "-o", "/dev/null", "-w", "%{content_type}",
                           f"http://{ep.ip}/site/{name}"])
            types[name] = r.stdout
        assert types == {"page.html": "text/html", "page.htm": "text/html; charset=utf-8"}, types

"""edgebench http against edgeplane over net_memif: each workload (fixed URLs,
Zipf catalogue, DASH players) completes with zero errors, sampled bodies
byte-exact (XXH3 against the source files), and edgeplane exits cleanly with
every mbuf back. Short and bounded: a few seconds per workload."""

import json
import os
import sys
import tempfile
import shutil

import pytest

SRC = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(SRC, "bench", "edgebench"))
import compare  # noqa: E402
import compare_content  # noqa: E402

BUILD = os.environ.get("EDGEPLANE_BUILD", os.path.join(SRC, "build"))
EDGEBENCH = os.path.join(BUILD, "bench", "edgebench")


@pytest.fixture(scope="module")
def content():
    d = tempfile.mkdtemp(prefix="edgebench-test-content-")
    compare_content.main_args([d, "--small", "30", "--segments", "2", "--titles", "2", "--seconds", "4"])
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def edgeplane(content):
    tag = f"t{os.getpid() % 100000}"
    ep = compare.Edgeplane(BUILD, tag, f"/run/edgeplane-bench/test-{tag}.sock", ram_mb=192)
    try:
        ep.start()
        out = ep.ingest(content)
        assert "stored" in out
        yield ep
        assert ep.stop() == 0, ep.log()  # clean exit: no mbuf leaked
    finally:
        ep.cleanup()


def run(ep, content, *args, seconds=2):
    rc, rep, err = compare.edgebench_http(
        EDGEBENCH, ep.memif, ["-d", str(seconds), "--verify-dir", content] + list(args),
        timeout=seconds + 60)
    assert rep is not None, err
    assert rc == 0, json.dumps(rep)
    assert rep["errors_total"] == 0, json.dumps(rep["errors"])
    assert rep["requests"] > 0
    assert set(rep["status"]) == {"200"}
    return rep


def test_fixed_urls(edgeplane, content):
    s0 = edgeplane.stats()
    rep = run(edgeplane, content, "--url-file", os.path.join(content, "small.txt"),
              "--url", "/seg/s0000.m4s", "-c", "8", "--pipeline", "4")
    # Every body hashed: all byte-exact.
    assert rep["verified"] == rep["requests"]
    assert rep["body_bytes"] >= rep["requests"] * 1024
    # The server counted the same requests.
    s1 = edgeplane.stats()
    served = compare.section(s1, "http")["requests"] - compare.section(s0, "http")["requests"]
    assert served == rep["requests"]


def test_zipf_catalogue(edgeplane, content):
    rep = run(edgeplane, content, "--workload", "zipf", "--url-file", os.path.join(content, "small.txt"),
              "--alpha", "1.0", "-c", "16", "--verify-every", "7")
    assert rep["verified"] >= rep["requests"] // 7 - 16


def test_request_bound(edgeplane, content):
    rep = run(edgeplane, content, "--url-file", os.path.join(content, "small.txt"), "-c", "4",
              "-n", "500", seconds=30)
    assert rep["requests"] == 500


@pytest.mark.parametrize("abr", ["throughput", "buffer"])
def test_dash_players(edgeplane, content, abr):
    rep = run(edgeplane, content, "--workload", "dash", "--url-file", os.path.join(content, "dash.txt"),
              "-c", "4", "--abr", abr, seconds=6)
    d = rep["dash"]
    assert d["sessions"] >= 4
    # 4 s titles of 2 s segments, played in real time: finished sessions fetched both.
    assert d["complete"] >= 1
    # The mean of the rungs chosen: each session picks a rung per segment, so a
    # complete one's mean is that of two rungs of the ladder (750k, 2M, 4.5M, 8M).
    ladder = [750_000, 2_000_000, 4_500_000, 8_000_000]
    means = {(a + b) / 2 for a in ladder for b in ladder}
    complete = [s for s in d["per_session"] if s["complete"]]
    for s in complete:
        assert s["segments"] == 2
        assert any(abs(s["avg_bitrate_bps"] - m) <= 1 for m in means), s
    if abr == "throughput":
        # Both start on the bottom rung; on this unconstrained link the first
        # segment measures far more than 8 Mbit/s, so the second is fetched
        # higher: the mean is above the bottom rung.
        assert all(s["avg_bitrate_bps"] > 750_000 for s in complete), complete
    # MPD + init + segments, all byte-exact except the MPDs (not sampled).
    assert rep["verified"] > 0


def test_corrupt_body_is_detected(edgeplane, content, tmp_path):
    """The check has teeth: against a source tree where one file differs from
    what edgeplane serves, every response for it is a body_mismatch and
    edgebench exits non-zero."""
    src = tmp_path / "src"
    shutil.copytree(content, src)
    victim = src / "small" / "o0003.bin"
    data = bytearray(victim.read_bytes())
    data[517] ^= 0x01
    victim.write_bytes(bytes(data))
    rc, rep, err = compare.edgebench_http(
        EDGEBENCH, edgeplane.memif, ["-d", "1", "--verify-dir", str(src), "--url", "/small/o0003.bin",
                                     "--url", "/small/o0004.bin", "-c", "2", "-n", "100"], timeout=60)
    assert rep is not None, err
    assert rc == 3
    assert rep["requests"] == 100
    assert rep["errors"]["body_mismatch"] == 50
    assert rep["verified"] == 50


def test_open_loop_rate(edgeplane, content):
    """--rate: 400 requests/s for 2 s on one schedule over 8 connections. The
    slots due in the window are 800 (k/400 s for k < 800); edgeplane keeps up
    easily, so the count is the schedule's, far below what the same
    connections do closed loop (thousands a second). A count, not a timing."""
    rep = run(edgeplane, content, "--url-file", os.path.join(content, "small.txt"), "-c", "8",
              "--rate", "400")
    assert rep["rate"] == 400 and rep["latency_from"] == "scheduled"
    assert rep["scheduled"] == rep["requests"]
    # 800 slots; a loaded machine may start the clock a poll late or end it
    # a slot short: a few of slack, never more than the schedule offers.
    assert 780 <= rep["requests"] <= 801, rep["requests"]


def test_wrk_open_loop_in_a_namespace_at_mtu_1500(content):
    """The baselines' client under the same schedule: wrk paced by
    compare.WRK_LUA at 300 requests/s for 2 s against nginx, both inside a
    namespace of the test's own whose lo is at MTU 1500 (the host's lo is
    never touched). About 600 requests, not the tens of thousands wrk does
    closed loop."""
    os.chmod(content, 0o755)  # nginx's worker runs unprivileged (as in compare.campaign)
    with compare.NetNs(1500, tag=f"t{os.getpid() % 100000}") as ns:
        assert ns.lo_mtu() == 1500
        ng = compare.Nginx(content, 18000 + os.getpid() % 1000, 1, netns=ns)
        try:
            ng.start()
            r = compare.wrk_run(os.path.join(content, "small.txt"), ng.port, 8, 2, 0, ng.work, rate=300,
                                netns=ns)
        finally:
            ng.cleanup()
    assert r["errors"] == 0
    assert 540 <= r["requests"] <= 640, r  # 600 slots; wrk's delay() is in whole ms


def test_compare_virtio_transport(content):
    """`edgebench compare --transport virtio`'s edgeplane run, short: edgeplane
    on net_virtio_user, edgebench on net_vhost with TSO and checksum offload
    negotiated. The 2 MiB segments go out as TSO super-segments (the server's
    counters), arrive whole on the vhost side (edgebench's rx_linearized:
    one copy per super-segment), and every sampled body is byte-exact; the
    bytes edgebench received are the bytes edgeplane says it sent, and
    edgeplane exits cleanly (every mbuf back) after its vhost peer left."""
    import argparse
    a = argparse.Namespace(transport="virtio", duration=2, ram_mb=192, server_cpu=1, client_cpu=0,
                           pipeline=1)
    tag = f"v{os.getpid() % 100000}"
    r = compare.run_edgeplane(a, BUILD, EDGEBENCH, content, os.path.join(content, "seg.txt"), "seg", 4, tag)
    rep = r["client"]
    assert r["errors"] == 0 and r["requests"] > 0, json.dumps(rep)
    assert r["verified"] > 0
    assert r["exit"] == 0
    assert r["bytes"] == rep["body_bytes"] + rep["head_bytes"]
    # No super-segment refused on the vhost side (a chain the packet path
    # would drop: TCP would still repair it MSS by MSS, slowly).
    assert "rx_multi_segment" not in rep["port"], rep["port"]
    assert r["tso_sends"] > 0 and r["tso_segments"] > 4 * r["tso_sends"], r
    assert r["rx_linearized"] >= r["tso_sends"] // 2, r
    assert 0 < r["client_cpu_share"] <= 1.05

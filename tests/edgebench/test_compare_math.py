"""compare.py's arithmetic and failure messages, without servers or timing.

Run by meson (suite unit) or:
  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/edgebench/test_compare_math.py
"""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "bench", "edgebench"))
import compare  # noqa: E402

HZ = 2_000_000_000


def ep_snap(busy, idle, tasks, t):
    return {"stats": {"total": {"counters": {"busy_cycles": busy, "idle_cycles": idle}}}, "tasks": tasks, "t": t}


def test_edgeplane_window_counts_lcore_busy_and_every_other_thread():
    # 1 s of wall time at 2 GHz: the lcore busy 0.5e9 of 2e9 cycles; the
    # control thread (tid 11) ran 0.1 s, an EAL thread (12) 0.05 s, a thread
    # started inside the window (13) 0.01 s; the lcore's own thread (10) ran
    # 0.8 s (1.6e9 cycles, idle polling included): the busy TSC is smaller.
    before = ep_snap(1_000, 5_000, {10: 0, 11: 1_000_000_000, 12: 0}, 100.0)
    after = ep_snap(1_000 + 500_000_000, 5_000 + 1_500_000_000,
                    {10: 800_000_000, 11: 1_100_000_000, 12: 50_000_000, 13: 10_000_000}, 101.0)
    c = compare.edgeplane_window(before, after, 10)
    assert c["hz"] == pytest.approx(HZ)
    assert c["lcore_busy_tsc"] == 500_000_000
    assert c["lcore_counted"] == "busy_tsc"
    assert c["other_threads_s"] == pytest.approx(0.16)
    assert c["server_cycles"] == pytest.approx(500_000_000 + 0.16 * HZ)
    assert c["busy_share"] == pytest.approx(0.25)
    assert c["server_on_cpu_share"] == pytest.approx(0.8)  # a column, never a factor


def test_edgeplane_window_takes_cpu_time_when_preemption_inflates_busy_tsc():
    # Busy 1.5e9 TSC cycles of 2e9, but the thread was on a CPU only 0.3 s
    # (0.6e9 cycles): most "busy" time was spent preempted. The CPU time is
    # the tighter bound; nothing is scaled.
    before = ep_snap(0, 0, {10: 0, 11: 0}, 0.0)
    after = ep_snap(1_500_000_000, 500_000_000, {10: 300_000_000, 11: 20_000_000}, 1.0)
    c = compare.edgeplane_window(before, after, 10)
    assert c["lcore_counted"] == "cpu_time"
    assert c["server_cycles"] == pytest.approx(0.3 * HZ + 0.02 * HZ)
    assert c["server_on_cpu_share"] == pytest.approx(0.3)


def test_edgeplane_window_refuses_an_empty_window():
    s = ep_snap(5, 5, {}, 3.0)
    with pytest.raises(RuntimeError, match="empty measurement window"):
        compare.edgeplane_window(s, s, None)


def test_nginx_window_adds_irq_time_of_the_server_core():
    before = {"tasks": {1: 0, 2: 3_000_000_000}, "irq_s": 10.0, "t": 50.0, "worker_tids": {2}}
    after = {"tasks": {1: 1_000_000, 2: 3_400_000_000}, "irq_s": 10.25, "t": 52.0, "worker_tids": {2}}
    c = compare.nginx_window(before, after, HZ)
    assert c["task_s"] == pytest.approx(0.401)
    assert c["irq_s"] == pytest.approx(0.25)
    assert c["server_cycles"] == pytest.approx((0.401 + 0.25) * HZ)
    assert c["server_on_cpu_share"] == pytest.approx(0.2)


def test_cpu_irq_seconds_reads_irq_and_softirq_columns():
    tck = os.sysconf("SC_CLK_TCK")
    text = "cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 1 1 1 1 1 100 200 1 0 0\ncpu1 9 9 9 9 9 30 70 9 0 0\n"
    assert compare.cpu_irq_seconds(1, text) == pytest.approx(100 / tck)
    with pytest.raises(RuntimeError, match="no line for cpu7"):
        compare.cpu_irq_seconds(7, text)


def run(server, pair, cpr, cpb, w="small", rps=1000.0, errors=0):
    return {"server": server, "workload": w, "pair": pair, "cycles_per_req": cpr, "cycles_per_byte": cpb,
            "rps": rps, "gbps": 1.0, "server_on_cpu_share": 0.9, "client_cpu_share": 0.5, "errors": errors}


def test_summarise_medians_and_per_pair_ratios():
    runs = []
    # nginx / edgeplane per pair: 10, 4, 6, 8, 2 -> median 6, min 2, max 10;
    # the median of the ratios (6) is not the ratio of the medians (20000/3000).
    for i, (e, n) in enumerate([(1000, 10000), (5000, 20000), (3000, 18000), (2500, 20000), (20000, 40000)]):
        runs += [run("edgeplane", i, e, e / 1000), run("nginx", i, n, n / 1000, errors=i == 3)]
    s = compare.summarise(runs)["small"]
    assert s["servers"]["edgeplane"]["cycles_per_req"] == 3000
    assert s["servers"]["nginx"]["cycles_per_req"] == 20000
    assert s["servers"]["nginx"]["runs"] == 5
    assert s["servers"]["nginx"]["errors"] == 1
    q = s["ratios"]["nginx"]["cycles_per_req"]
    assert q["pairs"] == pytest.approx([10, 4, 6, 8, 2])
    assert q["median"] == pytest.approx(6)
    assert (q["min"], q["max"]) == (pytest.approx(2), pytest.approx(10))
    assert s["ratios"]["nginx"]["cycles_per_byte"]["median"] == pytest.approx(6)


def test_summarise_skips_incomplete_pairs_and_keeps_workloads_apart():
    runs = [run("edgeplane", 0, 100, 1), run("nginx", 0, 300, 3), run("edgeplane", 1, 100, 1),
            run("edgeplane", 0, 50, 1, w="seg"), run("nginx", 0, 500, 2, w="seg")]
    s = compare.summarise(runs)
    assert s["small"]["ratios"]["nginx"]["cycles_per_req"]["pairs"] == pytest.approx([3])
    assert s["seg"]["ratios"]["nginx"]["cycles_per_req"]["pairs"] == pytest.approx([10])
    assert list(s) == ["small", "seg"]


def test_finish_run_divides_by_requests_and_bytes():
    r = compare.finish_run({"cycles": {"server_cycles": 6000.0, "server_on_cpu_share": 0.5},
                            "requests": 3, "bytes": 1200})
    assert (r["cycles_per_req"], r["cycles_per_byte"]) == (2000, 5)
    assert r["server_on_cpu_share"] == 0.5
    z = compare.finish_run({"cycles": {"server_cycles": 1.0, "server_on_cpu_share": None},
                            "requests": 0, "bytes": 0})
    assert z["cycles_per_req"] != z["cycles_per_req"]  # NaN, not a division error


def test_varnish_is_counted_like_nginx_with_its_backend():
    # Varnish.tasks(): the manager (tid 20), the cache child's threads (21,
    # 22) and the backend nginx's threads under ("backend", tid), so a tid
    # reused across the two processes can never collide. Every one counts.
    before = {"tasks": {20: 0, 21: 0, 22: 0, ("backend", 21): 0}, "irq_s": 1.0, "t": 10.0}
    after = {"tasks": {20: 10_000_000, 21: 200_000_000, 22: 100_000_000, ("backend", 21): 5_000_000},
             "irq_s": 1.05, "t": 11.0, "worker_tids": {21, 22}}
    c = compare.nginx_window(before, after, HZ)
    assert c["task_s"] == pytest.approx(0.315)
    assert c["server_cycles"] == pytest.approx((0.315 + 0.05) * HZ)
    assert c["server_on_cpu_share"] == pytest.approx(0.3)  # the child's threads only


def test_varnish_is_a_known_server():
    a = compare.parse_args(["--servers", "edgeplane,nginx,varnish"])
    assert a.servers.split(",") == ["edgeplane", "nginx", "varnish"]
    s = compare.summarise([run("edgeplane", 0, 1000.0, 1.0), run("varnish", 0, 4000.0, 2.0)])
    assert s["small"]["ratios"]["varnish"]["cycles_per_req"]["median"] == 4.0


def test_offered_load_is_its_own_series_beside_saturation():
    # Saturation: edgeplane 9000 req/s, nginx 4000 (medians). --offered 0.5
    # scales from the weaker one: 2000 req/s for both; those runs are the
    # series "small @2000/s", with their own medians and per-pair ratios.
    runs = []
    for i, (e, n) in enumerate([(9000, 4000), (8000, 3000), (9500, 5000)]):
        runs += [dict(run("edgeplane", i, 1000, 1), rps=e), dict(run("nginx", i, 20000, 20), rps=n)]
    rate = compare.offered_rate(runs, "small", 0.5, ["edgeplane", "nginx"])
    assert rate == pytest.approx(2000)
    for i in range(3):
        runs += [dict(run("edgeplane", i, 3000, 3), offered_rps=rate),
                 dict(run("nginx", i, 12000 + 1000 * i, 12), offered_rps=rate)]
    s = compare.summarise(runs)
    assert list(s) == ["small", "small @2000/s"]
    assert s["small"]["servers"]["nginx"]["cycles_per_req"] == 20000  # saturation runs only
    o = s["small @2000/s"]
    assert o["servers"]["edgeplane"]["runs"] == 3
    assert o["servers"]["nginx"]["offered_rps"] == pytest.approx(2000)
    assert o["ratios"]["nginx"]["cycles_per_req"]["pairs"] == pytest.approx([4, 13 / 3, 14 / 3])
    # An offered run never feeds the saturation rate it is scaled from.
    assert compare.offered_rate(runs, "small", 1.0, ["nginx"]) == pytest.approx(4000)
    with pytest.raises(RuntimeError, match="no saturation run of varnish"):
        compare.offered_rate(runs, "small", 0.5, ["varnish"])


def test_chart_bars_keep_saturation_and_offered_apart():
    runs = [run("edgeplane", i, c, 1) for i, c in enumerate([100, 300, 200])]
    runs += [dict(run("edgeplane", i, c, 1), offered_rps=50.0) for i, c in enumerate([1000, 4000])]
    assert compare.bar_of(runs, "edgeplane", "small", "cycles_per_req") == (200, 100, 100)
    assert compare.bar_of(runs, "edgeplane", "small @50/s", "cycles_per_req") == (2500, 1500, 1500)
    assert compare.bar_of(runs, "nginx", "small", "cycles_per_req") == (0, 0, 0)


def test_wrk_script_paces_only_when_asked():
    closed = compare.WRK_LUA % ("0.0", "/x/urls.txt")
    assert "local rate = 0.0" in closed and 'io.lines("/x/urls.txt")' in closed
    assert "delay = function" in compare.WRK_LUA % ("2500.0", "/u")  # defined under `if rate > 0`


def script(*args, env=None):
    return subprocess.run(["/usr/bin/python3", os.path.join(SRC, "bench", "edgebench", "compare.py"), *args],
                          capture_output=True, text=True, timeout=60, env=env)


def test_missing_binaries_say_which(tmp_path):
    p = script("--edgebench", str(tmp_path / "nope" / "edgebench"), "--out", str(tmp_path / "o"))
    assert p.returncode == 2
    assert "edgebench binary (--edgebench) not found" in p.stderr
    (tmp_path / "bench").mkdir()
    eb = tmp_path / "bench" / "edgebench"
    eb.write_text("")
    p = script("--edgebench", str(eb), "--out", str(tmp_path / "o"))
    assert p.returncode == 2
    assert "edgeplane binary (--build DIR) not found" in p.stderr


def test_bad_arguments_say_why(tmp_path):
    p = script("--workloads", "small,huge")
    assert p.returncode == 2 and "unknown workload(s) huge" in p.stderr
    p = script("--servers", "edgeplane,apache")
    assert p.returncode == 2 and "unknown server(s) apache" in p.stderr
    p = script("--pairs", "0")
    assert p.returncode == 2 and "--pairs must be >= 1" in p.stderr
    p = script("--rate", "100", "--offered", "0.5")
    assert p.returncode == 2 and "give one offered load" in p.stderr
    p = script("--offered", "1.5", "--workloads", "small")
    assert p.returncode == 2 and "a fraction in (0, 1]" in p.stderr
    p = script("--rate", "100")  # default workloads include dash
    assert p.returncode == 2 and "open loop is for small and seg" in p.stderr
    p = script("--mtu", "9000000")
    assert p.returncode == 2 and "--mtu must be in" in p.stderr


def edgebench_binary():
    b = os.environ.get("EDGEPLANE_BUILD", os.path.join(SRC, "build"))
    return os.path.join(b, "bench", "edgebench")


@pytest.mark.skipif(not os.path.exists(edgebench_binary()), reason="edgebench not built")
def test_edgebench_compare_names_what_it_looked_for(tmp_path):
    # A copy of the binary outside any source tree, with the env var pointing
    # nowhere: the message names the places tried, the status is 2.
    env = dict(os.environ, EDGEBENCH_COMPARE=str(tmp_path / "missing.py"))
    p = subprocess.run([edgebench_binary(), "compare"], capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 2
    assert "compare.py not found" in p.stderr and "missing.py (no such file)" in p.stderr
    # Without the variable it is found from the build dir (in or out of the tree).
    env.pop("EDGEBENCH_COMPARE")
    p = subprocess.run([edgebench_binary(), "compare", "--pairs", "0"], capture_output=True, text=True,
                       timeout=60, env=env)
    assert p.returncode == 2 and "--pairs must be >= 1" in p.stderr


@pytest.mark.skipif(not os.path.exists(edgebench_binary()), reason="edgebench not built")
def test_edgebench_outside_the_source_tree_finds_compare_py(tmp_path):
    # A build dir outside the tree (meson setup /tmp/b SRC): no compare.py in
    # any parent, so the configured source root is where it is found.
    import shutil
    copy = tmp_path / "b" / "bench" / "edgebench"
    copy.parent.mkdir(parents=True)
    shutil.copy(edgebench_binary(), copy)
    env = {k: v for k, v in os.environ.items() if k != "EDGEBENCH_COMPARE"}
    p = subprocess.run([str(copy), "compare", "--pairs", "0"], capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 2 and "--pairs must be >= 1" in p.stderr, p.stderr


def test_stop_process_signals_then_kills():
    # The one stop of every server the scripts start (edgeplane SIGTERM,
    # nginx SIGQUIT, Varnish, knotd): the signal first, a kill when it is
    # not enough; the exit status either way.
    assert compare.stop_process(None, 15, 1) is None
    p = subprocess.Popen(["sleep", "30"])
    assert compare.stop_process(p, 15, 10) == -15
    assert compare.stop_process(p, 15, 10) == -15  # already gone: the same status, no signal
    # exec: the sleep itself ignores SIGTERM (inherited), and the kill leaves no child behind
    p = subprocess.Popen(["/bin/sh", "-c", "trap '' TERM; echo ready; exec sleep 30"], stdout=subprocess.PIPE)
    p.stdout.readline()  # the trap is set
    assert compare.stop_process(p, 15, 0.2) == -9
    p.stdout.close()


def test_lcore_tid_finds_the_thread_dpdk_named():
    # A thread of ours named as DPDK names a data lcore's (both spellings);
    # no other lcore number matches.
    import threading
    go = threading.Event()
    t = threading.Thread(target=go.wait)
    t.start()
    try:
        comm = f"/proc/self/task/{t.native_id}/comm"
        assert compare.lcore_tid(os.getpid(), 3) is None
        for name in ("lcore-worker-3", "rte-worker-3"):
            with open(comm, "w") as f:
                f.write(name)
            assert compare.lcore_tid(os.getpid(), 3) == t.native_id
            assert compare.lcore_tid(os.getpid(), 1) is None
    finally:
        go.set()
        t.join()
    waits = compare.tasks_schedstat_ns(os.getpid(), 1)  # schedstat's second field: ns waiting
    assert os.getpid() in waits and all(v >= 0 for v in waits.values())

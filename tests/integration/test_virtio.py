"""edgeplane on net_virtio_user, the virtio PMD a VM's virtio-net uses, against
DPDK's net_vhost (vhost-user over a Unix socket, no kernel module) with
checksum offload and TSO negotiated (issue 20).

The vhost side is a second DPDK process, dpdk-testpmd (Debian's dpdk), in a
namespace this test makes: port 0 is net_vhost0, port 1 a net_tap whose
kernel side holds the client address. Its csum forwarding engine bridges
them: the TSO super-segments edgeplane hands to virtio arrive whole on the
vhost port (the virtio-net header carries gso_size; legacy-ol-flags turns it
into RTE_MBUF_F_TX_TCP_SEG), testpmd's software GSO cuts them into MSS
frames for the TAP and the TAP's checksum offload sums them. (csum rather
than io forwarding: the GSO'd segments need their IPv4 header sums redone,
which io leaves stale; csum also rewrites the MACs to the --eth-peer
addresses, hence the fixed MACs on both ends.) Both processes --no-pci,
unique --file-prefix; everything is removed even on failure.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from harness import EDGECTL, EDGEPLANE

EP_MAC = "02:00:00:00:00:10"
KERNEL_MAC = "02:00:00:00:00:20"

TESTPMD_CMDS = """port stop all
csum set ip hw 1
csum set tcp hw 1
set port 1 gso on
set gso segsz 1514
port start all
start
"""


def sh(*cmd, check=True, **kw):
    return subprocess.run(list(cmd), check=check, capture_output=True, text=True, **kw)


def test_download_over_virtio_user_with_tso_and_checksum_offload():
    if not shutil.which("dpdk-testpmd"):
        raise AssertionError("dpdk-testpmd (Debian package dpdk) is needed for the vhost side")
    tag = f"{os.getpid() % 10000:04d}"
    ns, tap = f"epvns{tag}", f"epvt{tag}"
    vh_prefix, vu_prefix = f"epvh{tag}", f"epvu{tag}"
    work = tempfile.mkdtemp(prefix=f"edgeplane-virtio-{tag}-", dir="/var/tmp")
    sock = os.path.join(work, "vhost.sock")
    admin = os.path.join(work, "admin.sock")
    content = os.path.join(work, "content")
    os.makedirs(content)
    data = os.urandom(8 * 1024 * 1024 + 777)
    with open(os.path.join(content, "big.bin"), "wb") as f:
        f.write(data)
    vh = ep = None
    vh_log = open(os.path.join(work, "testpmd.log"), "w")
    ep_log = open(os.path.join(work, "edgeplane.log"), "w")
    try:
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        vh = subprocess.Popen(
            ["ip", "netns", "exec", ns, "dpdk-testpmd", "-l", "0,1", "--main-lcore", "0", "--no-pci",
             "--file-prefix", vh_prefix, "-m", "512",
             "--vdev", f"net_vhost0,iface={sock},queues=1,tso=1,legacy-ol-flags=1",
             "--vdev", f"net_tap0,iface={tap}", "--", "-i", "--total-num-mbufs=16384",
             "--forward-mode=csum", f"--eth-peer=0,{EP_MAC}", f"--eth-peer=1,{KERNEL_MAC}"],
            stdin=subprocess.PIPE, stdout=vh_log, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 30
        while not (os.path.exists(sock) and sh("ip", "-n", ns, "link", "show", tap, check=False).returncode == 0):
            assert vh.poll() is None and time.time() < deadline, open(vh_log.name).read()
            time.sleep(0.1)
        vh.stdin.write(TESTPMD_CMDS)
        vh.stdin.flush()
        # testpmd's output is block-buffered into the log, so nothing there
        # says when the commands are done: give them a moment (the ping
        # below waits for the path itself).
        time.sleep(2)
        sh("ip", "-n", ns, "link", "set", tap, "address", KERNEL_MAC)
        sh("ip", "-n", ns, "addr", "add", "10.79.7.1/24", "dev", tap)
        sh("ip", "-n", ns, "link", "set", tap, "up")
        ep = subprocess.Popen(
            [EDGEPLANE, "--port", f"net_virtio_user0,path={sock},queues=1,mac={EP_MAC}", "--ip", "10.79.7.2/24",
             "--data-lcores", "0", "--control-lcore", "1", "--admin-socket", admin, "--file-prefix", vu_prefix,
             "--torrents", "false", "--ram-mb", "64", "--", "--single-file-segments"],
            stdout=ep_log, stderr=subprocess.STDOUT)
        while sh(EDGECTL, "--socket", admin, "ping", check=False).returncode != 0:
            assert ep.poll() is None and time.time() < deadline + 30, open(ep_log.name).read()
            time.sleep(0.1)
        log = open(ep_log.name).read()
        # The virtio PMD offers checksums and TSO once the vhost side does, and we use them.
        m = re.search(r"tx offloads on \[([^\]]*)\].*tso (on|off)", log)
        assert m and m.group(2) == "on" and "TCP_CKSUM" in m.group(1), log
        assert "stored 1 objects" in sh(EDGECTL, "--socket", admin, "ingest", content).stdout
        # The virtio link comes up a moment after the daemon is ready.
        for _ in range(20):
            if sh("ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "1", "10.79.7.2", check=False).returncode == 0:
                break
        else:
            raise AssertionError("no ping through vhost/virtio\n" + open(ep_log.name).read())
        r = sh("ip", "netns", "exec", ns, "sh", "-c", "curl -sS -m 60 http://10.79.7.2/big.bin | sha256sum",
               timeout=90)
        assert r.stdout.split()[0] == hashlib.sha256(data).hexdigest(), r.stderr
        tcp = json.loads(sh(EDGECTL, "--socket", admin, "stats", "--json").stdout)["tcp"]
        snmp = sh("ip", "netns", "exec", ns, "nstat", "-az", "TcpInCsumErrors", "IpInHdrErrors").stdout
        print({k: tcp[k] for k in ("tso_sends", "tso_segments", "tx_segments", "retransmits")}, snmp)
        assert tcp["tso_sends"] > 50 and tcp["tso_segments"] > 4 * tcp["tso_sends"], tcp
        for line in snmp.splitlines():
            f = line.split()
            if f and f[0] in ("TcpInCsumErrors", "IpInHdrErrors"):
                assert f[1] == "0", snmp
        ep.terminate()
        assert ep.wait(30) == 0, open(ep_log.name).read()
        # What the vhost side negotiated with the virtio PMD: the last
        # VHOST_USER_SET_FEATURES after edgeplane configured its offloads.
        vh.stdin.write("stop\nquit\n")
        vh.stdin.flush()
        vh.wait(30)
        feats = re.findall(r"negotiated Virtio features: (0x[0-9a-f]+)", open(vh_log.name).read())
        assert feats, open(vh_log.name).read()
        f = int(feats[-1], 16)
        bits = {"CSUM": 0, "GUEST_CSUM": 1, "HOST_TSO4": 11}
        print("negotiated virtio features", feats[-1], {k: bool(f >> b & 1) for k, b in bits.items()})
        assert all(f >> b & 1 for b in bits.values()), feats
    finally:
        for p in (ep, vh):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        sh("ip", "netns", "del", ns, check=False)
        for d in ("/dev/hugepages",):
            for name in os.listdir(d) if os.path.isdir(d) else []:
                if name.startswith((vh_prefix, vu_prefix)):
                    try:
                        os.unlink(os.path.join(d, name))
                    except OSError:
                        pass
        for p in (vh_prefix, vu_prefix):
            shutil.rmtree(f"/var/run/dpdk/{p}", ignore_errors=True)
        vh_log.close()
        ep_log.close()
        shutil.rmtree(work, ignore_errors=True)

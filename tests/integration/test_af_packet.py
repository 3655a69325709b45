"""edgeplane on net_af_packet (a Linux packet socket with mmap rings) over a
veth pair in the test's namespace: the port a host or VM without a DPDK NIC
can still run, and the one bench/syn_flood_goodput.py --port af_packet
measures beside net_tap. The PMD offers no checksum offload and no TSO, so
every checksum is edgeplane's own; the veth's offloads are off
(harness.Edgeplane(port="af_packet")), so the kernel's frames are whole and
summed too."""

import hashlib
import os
import re
import tempfile

from harness import Edgeplane

MIB = 1 << 20


def test_af_packet_serves_byte_exact_with_software_checksums():
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        data = os.urandom(8 * MIB + 4321)
        with open(os.path.join(tmp, "big.bin"), "wb") as f:
            f.write(data)
        with Edgeplane(args=["--ram-mb", "64"], port="af_packet") as ep:
            log = ep.log()
            assert "driver net_af_packet" in log and "tso off" in log, log
            r = ep.ns_run(["ping", "-c", "3", "-i", "0.2", "-W", "2", "-s", "1400", ep.ip])
            assert " 0% packet loss" in r.stdout, r.stdout
            mac = re.search(r"mac (\S+)", ep.ctl("ports").stdout).group(1).lower()
            assert mac in ep.ns_run(["ip", "neigh", "show", ep.ip]).stdout.lower()
            assert "stored 1 objects" in ep.ctl("ingest", tmp).stdout
            sha, err = ep.download_sha256("/big.bin")
            assert sha == hashlib.sha256(data).hexdigest(), err
            lo, hi = 777_777, 3 * MIB + 5
            sha, err = ep.download_sha256("/big.bin", ["-r", f"{lo}-{hi}"])
            assert sha == hashlib.sha256(data[lo:hi + 1]).hexdigest(), err
            # The kernel found no bad checksum in what edgeplane summed.
            snmp = ep.tcp_snmp()
            assert snmp["InCsumErrors"] == 0, snmp
            s = ep.stats()
            assert s["port"]["rx_packets"] > 100 and s["port"]["tx_packets"] > 8 * MIB // 1500, s["port"]
            assert s["tcp"]["tso_sends"] == 0
            assert ep.stop() == 0
            assert "mbufs returned" in ep.log()

"""TCP segmentation offload over net_tap (issue 20, docs/tcp.md "TSO"): the
stack emits one header per up to 64 KiB of new data and net_tap cuts it into
MSS segments in software (librte_gso). Downloads must stay byte-exact, the
kernel side must see segments no larger than the MTU with right checksums,
and the loss of one MSS in the middle of a super-segment must cost one MSS
of retransmission, not the super-segment."""

import hashlib
import json
import os
import re
import tempfile

from harness import PYTHON, Edgeplane, nft, nft_rule_packets

MIB = 1 << 20
MSS = 1448  # 1500 - 20 - 20 - 12 (timestamps)


def start_with_blob(tmp, size, extra=()):
    data = os.urandom(size)
    with open(os.path.join(tmp, "big.bin"), "wb") as f:
        f.write(data)
    ep = Edgeplane(args=["--ram-mb", "96", *extra])
    return ep, data


def tso_is_on(ep):
    m = re.search(r"tso (on|off)", ep.log())
    assert m, ep.log()
    return m.group(1) == "on"


def test_tso_download_byte_exact_and_the_kernel_sees_mss_segments():
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        ep, data = start_with_blob(tmp, 16 * MIB + 12345)  # odd length: a short tail
        with ep:
            ep.ctl("ingest", tmp)
            assert tso_is_on(ep), "net_tap offers TSO (software GSO): " + ep.log()
            nft(ep, f"""table inet eptso {{
                chain in {{ type filter hook input priority 0;
                    ip saddr {ep.ip} tcp sport 80 ip length > 1500 counter comment "over_mtu"
                    ip saddr {ep.ip} tcp sport 80 ip length 1400-1500 counter comment "full"
                    ip saddr {ep.ip} tcp sport 80 counter comment "all"
                }}
            }}""")
            before = ep.tcp_snmp()
            sha, err = ep.download_sha256("/big.bin", timeout=120)
            assert sha == hashlib.sha256(data).hexdigest(), err
            # A range that starts at an odd offset: body slices at odd
            # positions behind the head (net_tap's odd-boundary rule).
            lo, hi = 1_000_001, 5 * MIB + 333
            sha, err = ep.download_sha256("/big.bin", ["-r", f"{lo}-{hi}"])
            assert sha == hashlib.sha256(data[lo:hi + 1]).hexdigest(), err
            after = ep.tcp_snmp()
            tcp = ep.stats()["tcp"]
            seen = nft_rule_packets(ep, "eptso")
            print("tso_sends", tcp["tso_sends"], "tso_segments", tcp["tso_segments"], "tx_segments",
                  tcp["tx_segments"], "kernel saw", seen, "InCsumErrors",
                  after["InCsumErrors"] - before["InCsumErrors"])
            assert tcp["tso_sends"] > 100, tcp
            assert tcp["tso_segments"] > 4 * tcp["tso_sends"], tcp
            # Most of the 21 MiB went in super-segments.
            assert tcp["tso_segments"] * 1400 > 12 * MIB, tcp
            # The kernel got MTU-sized segments, none larger, none with a bad sum.
            assert seen["over_mtu"] == 0, seen
            assert seen["full"] > 12 * MIB // MSS, seen
            assert after["InCsumErrors"] == before["InCsumErrors"], (before, after)
            assert after["InErrs"] == before["InErrs"], (before, after)
            assert ep.stop() == 0


def test_tso_off_by_flag_sends_one_frame_per_mss():
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        ep, data = start_with_blob(tmp, 4 * MIB + 1, ["--tso", "false"])
        with ep:
            ep.ctl("ingest", tmp)
            assert not tso_is_on(ep)
            sha, err = ep.download_sha256("/big.bin")
            assert sha == hashlib.sha256(data).hexdigest(), err
            tcp = ep.stats()["tcp"]
            assert tcp["tso_sends"] == 0 and tcp["tso_segments"] == 0, tcp
            assert ep.stop() == 0


# In the namespace: connect, learn the server's ISN from its SYN-ACK, drop
# (once, with nftables) the segment that starts in the middle of the first
# flight — the initial window of 10 MSS, which leaves as super-segments — and
# download the whole object with a plain socket.
MIDDLE_LOSS = r"""
import hashlib, json, socket, subprocess, sys, time
from scapy.all import TCP, AsyncSniffer, conf
ip, iface, sport, ns = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
conf.verb = 0
sn = AsyncSniffer(iface=iface, count=1,
                  filter=f"tcp and src host {ip} and src port 80 and dst port {sport} and tcp[13] & 2 != 0")
sn.start()
time.sleep(0.5)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(("", sport))
s.connect((ip, 80))
sn.join(timeout=5)
isn = sn.results[0][TCP].seq
# About the sixth MSS of the flight: at least one segment starts in
# [x, x + 2000] whatever the size net_tap cuts at (1434 to 1448 bytes); the
# quota drops only the first one that arrives, never its retransmission.
x = (isn + 1 + 5 * 1448) % (1 << 32)
y = min(x + 2000, (1 << 32) - 1)
subprocess.run(["nft", "-f", "-"], check=True, text=True, input=f'''table inet eptso {{
    chain in {{ type filter hook input priority 0;
        ip saddr {ip} tcp sport 80 tcp dport {sport} tcp sequence {x}-{y} quota until 2500 bytes counter drop comment "dropped"
    }}
}}''')
s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
buf = bytearray()
while True:
    b = s.recv(1 << 20)
    if not b:
        break
    buf += b
head, _, body = bytes(buf).partition(b"\r\n\r\n")
out = json.loads(subprocess.run(["nft", "-j", "list", "table", "inet", "eptso"], check=True,
                                capture_output=True, text=True).stdout)
dropped = [e["counter"]["packets"] for it in out["nftables"] if "rule" in it
           for e in it["rule"]["expr"] if "counter" in e][0]
print(json.dumps({"status": head.split(b"\r\n")[0].decode(), "sha": hashlib.sha256(body).hexdigest(),
                  "len": len(body), "dropped": dropped, "isn": isn}))
"""


def test_loss_of_a_super_segments_middle_mss_costs_one_mss():
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        ep, data = start_with_blob(tmp, 8 * MIB)
        with ep:
            ep.ctl("ingest", tmp)
            assert tso_is_on(ep)
            before = ep.stats()["tcp"]
            r = ep.ns_run([PYTHON, "-c", MIDDLE_LOSS, ep.ip, ep.tap, "47123", ep.ns], timeout=120)
            res = json.loads(r.stdout.strip().splitlines()[-1])
            after = ep.stats()["tcp"]
            d = {k: after[k] - before[k] for k in ("retransmits", "retransmit_bytes", "tso_sends",
                                                   "tso_segments", "fast_retransmits",
                                                   "recovery_retransmits", "rto_fires", "tlp_probes")}
            print(res, d)
            assert res["status"] == "HTTP/1.1 200 OK", res
            assert res["len"] == len(data) and res["sha"] == hashlib.sha256(data).hexdigest(), res
            assert res["dropped"] == 1, res  # exactly one MSS of the super-segment was lost
            assert d["tso_sends"] > 0, d
            # Repaired by retransmitting that MSS, not the super-segment
            # around it (up to 45 MSS): a fast retransmit of one segment,
            # every retransmission one MSS at most. Tail-loss probes (one
            # MSS each, counted in retransmits too) fire now and then on
            # this path whether or not anything was lost (PTO floor 40 us
            # against a loaded VM's scheduling): they are allowed for.
            assert d["fast_retransmits"] >= 1 and 1 <= d["recovery_retransmits"] <= 2, d
            assert d["retransmit_bytes"] <= d["retransmits"] * MSS, d
            assert d["retransmit_bytes"] <= (d["tlp_probes"] + 2) * MSS, d
            assert ep.stop() == 0

#!/usr/bin/python3
"""Writes the hand-made seed inputs into corpus/<target>/ (run once; the
files are committed). Fuzzing adds its finds to the same directories."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OURS = bytes([2, 0, 0, 0, 0, 1])
PEER = bytes([2, 0, 0, 0, 0, 2])
BCAST = b"\xff" * 6


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(proto, payload, src=b"\x0a\x00\x00\x02", dst=b"\x0a\x00\x00\x01", ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, ttl, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def icmp_echo(data=b"ping"):
    m = struct.pack("!BBHHH", 8, 0, 0, 7, 1) + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def arp(op, sha, sip, tha, tip):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha, sip, tha, tip)


# Ethernet
put("fuzz_eth", "ipv4", OURS + PEER + b"\x08\x00" + b"\0" * 46)
put("fuzz_eth", "arp_bcast", BCAST + PEER + b"\x08\x06" + b"\0" * 46)
put("fuzz_eth", "ipv6", OURS + PEER + b"\x86\xdd" + b"\0" * 46)
put("fuzz_eth", "short", OURS + PEER)
put("fuzz_eth", "vlan", OURS + PEER + b"\x81\x00\x00\x01\x08\x00")
# ARP (whole frames)
put("fuzz_arp", "request", BCAST + PEER + b"\x08\x06" +
    arp(1, PEER, b"\x0a\0\0\x02", b"\0" * 6, b"\x0a\0\0\x01") + b"\0" * 18)
put("fuzz_arp", "reply", OURS + PEER + b"\x08\x06" +
    arp(2, PEER, b"\x0a\0\0\x02", OURS, b"\x0a\0\0\x01"))
put("fuzz_arp", "probe", BCAST + PEER + b"\x08\x06" +
    arp(1, PEER, b"\0\0\0\0", b"\0" * 6, b"\x0a\0\0\x01"))
put("fuzz_arp", "other", BCAST + PEER + b"\x08\x06" +
    arp(1, PEER, b"\x0a\0\0\x03", b"\0" * 6, b"\x0a\0\0\x09"))
put("fuzz_arp", "truncated", BCAST + PEER + b"\x08\x06" + arp(1, PEER, b"\x0a\0\0\x02", b"", b"")[:20])
# IPv4 (+ ICMP)
put("fuzz_ipv4", "icmp_echo", ipv4(1, icmp_echo()))
put("fuzz_ipv4", "icmp_echo_padded", ipv4(1, icmp_echo(b"x" * 40)) + b"\0" * 6)
put("fuzz_ipv4", "tcp", ipv4(6, b"\0" * 20))
put("fuzz_ipv4", "ttl0", ipv4(1, icmp_echo(), ttl=0))
put("fuzz_ipv4", "martian", ipv4(1, icmp_echo(), src=b"\x7f\0\0\x01"))
opts = b"\x44\x0c\x05\x00" + b"\0" * 8
h = struct.pack("!BBHHHBBH4s4s", 0x48, 0, 32 + 8, 1, 0, 64, 1, 0, b"\x0a\0\0\x02", b"\x0a\0\0\x01") + opts
h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
put("fuzz_ipv4", "options", h + icmp_echo(b""))
frag = bytearray(ipv4(1, icmp_echo()))
frag[6] = 0x20
put("fuzz_ipv4", "fragment", bytes(frag))
# TCP options
put("fuzz_tcp_options", "syn", b"\x02\x04\x05\xb4\x04\x02\x08\x0a\0\0\0\x64\0\0\0\0\x01\x03\x03\x07")
put("fuzz_tcp_options", "ts", b"\x01\x01\x08\x0a\0\0\0\x65\0\0\0\x64")
put("fuzz_tcp_options", "sack", b"\x01\x01\x05\x12" + struct.pack("!IIII", 1000, 2000, 3000, 4000))
put("fuzz_tcp_options", "sack4", b"\x01\x01\x05\x22" + struct.pack("!8I", *range(8)))
put("fuzz_tcp_options", "end", b"\x02\x04\x05\xb4\x00\x99")
put("fuzz_tcp_options", "unknown", b"\x1e\x06\0\0\0\0\x01\x01")
put("fuzz_tcp_options", "bad_len", b"\x02\x05\x05\xb4\x00")


# TCP input: mode byte, then 11-byte records (see fuzz_tcp_input.cc).
def tcp_rec(flags, seq=0, ack=0, win=65535, plen8=0, opts=b"", ms=1, act=0):
    head = struct.pack("!BhhHBB", flags, seq, ack, win, plen8, len(opts))
    return head + opts + bytes([ms, act])


ts = b"\x01\x01\x08\x0a\0\0\0\x70\0\0\0\0"
A, P, F, R, S = 0x10, 0x08, 0x01, 0x04, 0x02
tcp_seeds = {
    "acks": bytes([7]) + tcp_rec(A, ack=1448) + tcp_rec(A, ack=4000) +
    tcp_rec(A | P, plen8=10, ms=5) + tcp_rec(A | F, ms=50),
    "sack_loss": bytes([3]) + tcp_rec(A, ack=0, opts=b"\x01\x01\x05\x0a" +
    struct.pack("!II", 1448, 2896)) + tcp_rec(A, ack=0) + tcp_rec(A, ack=0) + tcp_rec(A, ack=0, ms=250),
    "zero_window": bytes([0x08]) + tcp_rec(A, win=0, ms=100) +
    tcp_rec(A, win=0, ms=250) + tcp_rec(A, win=4000, ack=500),
    "rst": bytes([1]) + tcp_rec(R) + tcp_rec(R, seq=1) + tcp_rec(R | A, opts=ts),
    "syn_in_window": bytes([5]) + tcp_rec(S) + tcp_rec(S | A, seq=-5),
    "close": bytes([0x47]) + tcp_rec(A | P, plen8=100, act=1) +
    tcp_rec(A | F, ms=20) + tcp_rec(A, ack=30000, ms=220),
    "out_of_order": bytes([2]) + tcp_rec(A | P, seq=800, plen8=20) +
    tcp_rec(A | P, seq=0, plen8=100) + tcp_rec(A | P, seq=-100, plen8=30),
}
# Mode bit 7 queues 64 KiB up front, as every input did before 16 KiB became
# the default: the seeds keep what they reached, and each has a 16 KiB twin.
for k, v in tcp_seeds.items():
    put("fuzz_tcp_input", k, bytes([v[0] | 0x80]) + v[1:])
    put("fuzz_tcp_input", k + "_16k", v)
# HTTP request (first byte also picks the split points)
reqs = {
    "get": b"\x05GET /v/seg.m4s HTTP/1.1\r\nHost: a\r\n\r\n",
    "range": b"\x11GET /v/seg.m4s HTTP/1.1\r\nHost: a\r\nRange: bytes=3-9,20-\r\n\r\n",
    "head_pipelined": b"\x03HEAD /index.html HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "conditional": b"\x07GET /index.html HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"x\"\r\n"
                   b"If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
    "body": b"\x02POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    "chunked": b"\x09POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "http10": b"\x01GET /v/seg.m4s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "bad": b"\x04GET  /x HTTP/1.1\r\nHost a\r\n\r\n",
}
for k, v in reqs.items():
    put("fuzz_http_request", k, v)
# HTTP response: split byte, HEAD flag, then the response bytes.
resps = {
    "length": b"\x05\x00HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    "two": b"\x09\x00HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 304 Not Modified\r\n\r\n",
    "close": b"\x01\x00HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nuntil close",
    "head": b"\x02\x01HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",
    "chunked": b"\x03\x00HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bad_length": b"\x04\x00HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    "partial": b"\x07\x00HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-3/10\r\n"
               b"Content-Length: 4\r\nKeep-Alive: timeout=5\r\n\r\nabcd",
    # What an origin answers a fill (dataplane/origin/fill_plan.cc checks it).
    "origin_chunk": b"\x0b\x00HTTP/1.1 206 Partial Content\r\nContent-Type: video/mp4\r\n"
                    b"Content-Range: bytes 0-3/10\r\nContent-Length: 4\r\nETag: \"5f1-4\"\r\n"
                    b"Last-Modified: Tue, 01 Dec 2026 10:00:00 GMT\r\n"
                    b"Cache-Control: public, s-maxage=\"30\", max-age=60, no-store\r\n\r\nabcd",
    "origin_416": b"\x06\x00HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */10\r\n"
                  b"Content-Length: 0\r\n\r\n",
    "origin_bad_range": b"\x08\x00HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 9-3/2\r\n"
                        b"Content-Length: 0\r\nETag: W/\"x\"\r\n\r\n",
}
for k, v in resps.items():
    put("fuzz_http_response", k, v)
# Bencode: a torrent, nested values, and near misses of the strict rules.
info = (b"d6:lengthi300000e4:name4:a.bi12:piece lengthi262144e6:pieces40:" + b"p" * 40 + b"e")
put("fuzz_bencode", "torrent", b"d8:announce29:udp://10.77.0.2:6969/announce4:info" + info +
    b"8:url-listl23:http://10.77.0.2/a.binee")
put("fuzz_bencode", "nested", b"d1:ald1:bi-1eee1:b0:1:cli0ei1e3:xyzee")
put("fuzz_bencode", "unsorted", b"d1:bi1e1:ai2ee")
put("fuzz_bencode", "leading_zero", b"li03ee")
put("fuzz_bencode", "deep", b"l" * 20 + b"e" * 20)
put("fuzz_bencode", "multifile", b"d4:infod5:filesld6:lengthi5e4:pathl1:aeed4:attr1:p6:lengthi262139e"
    b"4:pathl4:.pad6:262139eed6:lengthi3e4:pathl1:beee4:name4:demo12:piece lengthi262144e"
    b"6:pieces40:" + b"q" * 40 + b"ee")


# Peer wire: flags byte (fast|ext|handshake, split), pieces-1, stream.
def pw(msg_id, payload=b""):
    return struct.pack("!IB", 1 + len(payload), msg_id) + payload


hs = b"\x13BitTorrent protocol" + bytes([0, 0, 0, 0, 0, 0x10, 0, 0x04]) + b"\xab" * 20 + b"-EP0001-" + b"1" * 12
put("fuzz_peer_wire", "session", bytes([0x07 | (2 << 3), 9]) + hs + b"\0\0\0\0" + pw(2) +
    pw(6, struct.pack("!III", 0, 0, 16384)) + pw(0x0E) + pw(5, b"\xff\xc0") +
    pw(7, struct.pack("!II", 1, 0) + b"abcd") + pw(20, b"\x00d1:md11:ut_metadatai1eee"))
put("fuzz_peer_wire", "fast_msgs", bytes([0x01, 3]) + pw(0x0D, b"\0\0\0\1") + pw(0x11, b"\0\0\0\2") +
    pw(0x10, struct.pack("!III", 1, 0, 16384)) + pw(0x0F))
put("fuzz_peer_wire", "oversized_request", bytes([0x00, 3]) + pw(6, struct.pack("!III", 0, 0, 16385)))
put("fuzz_peer_wire", "huge_prefix", bytes([0x00, 3]) + b"\x80\0\0\0\x07")
put("fuzz_peer_wire", "garbage_handshake", bytes([0x04, 3]) + b"GET / HTTP/1.1\r\n\r\n")
put("fuzz_peer_wire", "unknown_id", bytes([0x00, 3]) + pw(99, b"zz"))


# Peer session: flags (known, split), pieces-1, harness ops, the peer's stream.
ext_hs = pw(20, b"\x00d1:md11:ut_metadatai3eee")
put("fuzz_peer_session", "download", bytes([0x01 | (5 << 1), 9, 0x03]) + hs + ext_hs + pw(0x0F) + pw(2) +
    b"".join(pw(6, struct.pack("!III", 0, b, 16384)) for b in range(0, 65536, 16384)) +
    pw(8, struct.pack("!III", 0, 16384, 16384)) + b"\0\0\0\0" + pw(3))
put("fuzz_peer_session", "metadata", bytes([0x01 | (9 << 1), 9, 0x02]) + hs + ext_hs +
    pw(20, b"\x01d8:msg_typei0e5:piecei0ee") + pw(20, b"\x01d8:msg_typei0e5:piecei7ee"))
put("fuzz_peer_session", "unknown_hash", bytes([0x00, 3, 0x00]) + hs + pw(2))
put("fuzz_peer_session", "flood", bytes([0x01 | (60 << 1), 3, 0x01]) + hs + pw(2) +
    b"".join(pw(6, struct.pack("!III", i % 4, 0, 16384)) for i in range(80)))
put("fuzz_peer_session", "hostile", bytes([0x01, 3, 0x06]) + hs + pw(5, b"\xf0") + pw(2) + pw(7, b"\0" * 12) +
    b"\x80\0\0\0\x07")


# Fetch session (fill mode): flags (auto handshake, fast, split), pieces-1,
# harness ops (drain, +30 s, second session), the remote's stream. Pieces
# are 32 KiB; all-zero blocks pass the hash.
def blocks(pieces, fill=b"\0"):
    out = b""
    for p in range(pieces):
        for b in (0, 16384):
            out += pw(7, struct.pack("!II", p, b) + fill * 16384)
    return out


put("fuzz_fetch_session", "download", bytes([0x03 | (40 << 2), 3, 0x01]) + pw(0x0E) + pw(1) + blocks(4))
put("fuzz_fetch_session", "corrupt_two_sessions", bytes([0x01 | (63 << 2), 3, 0x05]) + pw(5, b"\xf0") +
    pw(1) + blocks(4, b"\x01") + pw(0) + pw(1) + blocks(2))
put("fuzz_fetch_session", "wrong_hash", bytes([0x00 | (7 << 2), 3, 0x00]) +
    hs.replace(b"\xab" * 20, b"\xcd" * 20) + pw(0x0E))
put("fuzz_fetch_session", "messages", bytes([0x03 | (3 << 2), 9, 0x03]) + pw(4, b"\0\0\0\1") + pw(1) +
    pw(0x10, struct.pack("!III", 1, 0, 16384)) + pw(6, struct.pack("!III", 0, 0, 16384)) + pw(0) +
    b"\0\0\0\0" + pw(2) + pw(3) + pw(5, b"\xff\xc0") + pw(0x0F) + pw(99))
# Mode bit 6: the harness serves every request with a zero block, so 13
# bytes (have-all, unchoke) download all 4 pieces; bit 7 corrupts each
# piece's first block (3 bad pieces, then the ban).
put("fuzz_fetch_session", "served_download", bytes([0x03, 3, 0x41]) + pw(0x0E) + pw(1))
put("fuzz_fetch_session", "served_corrupt", bytes([0x03, 3, 0xC1]) + pw(0x0E) + pw(1))
# The remote's handshake in the stream, fast bit set (as real clients do):
# the harness's check must parse the fast-extension output (have-none).
put("fuzz_fetch_session", "served_stream_handshake", bytes([0x00, 3, 0x41]) + hs + pw(0x0E) + pw(1))


# UDP tracker: control byte (shard, source, valid-cid flag 0x02), clock, datagram.
ih = bytes(range(20))
put("fuzz_udp_tracker", "connect", b"\x00\x00" + struct.pack("!QII", 0x41727101980, 0, 1))
put("fuzz_udp_tracker", "announce", b"\x02\x01" + struct.pack("!QII", 0, 1, 2) + ih + b"P" * 20 +
    struct.pack("!QQQIIIiH", 0, 100, 0, 2, 0, 0, -1, 6881))
put("fuzz_udp_tracker", "announce_seed_other_shard", b"\x07\x01" + struct.pack("!QII", 0, 1, 3) + ih +
    b"Q" * 20 + struct.pack("!QQQIIIiH", 0, 0, 0, 1, 0, 0, 50, 6882))
put("fuzz_udp_tracker", "stopped", b"\x02\x01" + struct.pack("!QII", 0, 1, 4) + ih + b"P" * 20 +
    struct.pack("!QQQIIIiH", 0, 100, 0, 3, 0, 0, -1, 6881))
put("fuzz_udp_tracker", "scrape", b"\x02\x01" + struct.pack("!QII", 0, 2, 5) + ih + b"\x55" * 20)
put("fuzz_udp_tracker", "forged", b"\x00\x01" + struct.pack("!QII", 12345, 1, 6) + ih + b"P" * 20 +
    struct.pack("!QQQIIIiH", 0, 100, 0, 2, 0, 0, -1, 6881))

# HTTP tracker: control byte (bit 0 shard, bit 1 scrape, bit 2 IPv6 client,
# bits 3-5 address, 0xc0 a small reply room), clock, the query string.
def pct(b):
    return "".join("%%%02X" % c for c in b).encode()


hq = b"info_hash=" + pct(ih) + b"&peer_id=-qB4520-" + pct(b"abcdefghijkl")
put("fuzz_http_tracker", "announce_started", b"\x00\x01" + hq +
    b"&port=6881&uploaded=0&downloaded=0&left=1000&event=started&numwant=50&compact=1&key=x")
put("fuzz_http_tracker", "announce_seed_other_shard", b"\x09\x01" + hq +
    b"&port=6882&uploaded=10&downloaded=10&left=0&event=completed")
put("fuzz_http_tracker", "announce_v6_client", b"\x14\x01" + hq + b"&port=6883&left=5&compact=0")
put("fuzz_http_tracker", "announce_stopped", b"\x00\x02" + hq + b"&port=6881&left=0&event=stopped")
put("fuzz_http_tracker", "announce_small_room", b"\xc0\x01" + hq + b"&port=6881&left=7&ip=10.0.0.9")
put("fuzz_http_tracker", "announce_bad", b"\x00\x01info_hash=%zz&port=0&event=x&numwant=-1")
put("fuzz_http_tracker", "scrape_two", b"\x02\x01info_hash=" + pct(ih) + b"&info_hash=" +
    pct(bytes(20)) + b"&info_hash=" + pct(ih))
put("fuzz_http_tracker", "scrape_full", b"\x02\x01")

# fuzz_dns: a control byte (bit 0 TCP, bit 1 steering, bits 2-3 our payload
# size, bits 4-5 buffer size), then a DNS message.
def dns_name(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".") if l) + b"\0"


def dns_query(name, qtype=1, flags=0x0100, ar=b"", arcount=0, qd=1):
    return (struct.pack("!HHHHHH", 0xbeef, flags, qd, 0, 0, arcount) + dns_name(name) +
            struct.pack("!HH", qtype, 1) + ar)


def opt(payload=1232, version=0, options=b""):
    return b"\0" + struct.pack("!HHBBHH", 41, payload, 0, version, 0x8000, len(options)) + options


def ecs(family, source, addr):
    return struct.pack("!HHHBB", 8, 4 + len(addr), family, source, 0) + addr


put("fuzz_dns", "a", b"\0" + dns_query("www.example.test"))
put("fuzz_dns", "case", b"\0" + dns_query("WwW.eXample.TEST", 28))
put("fuzz_dns", "chain", b"\0" + dns_query("chain.example.test"))
put("fuzz_dns", "loop", b"\0" + dns_query("loop1.example.test"))
put("fuzz_dns", "wild", b"\0" + dns_query("x.y.wild.example.test"))
put("fuzz_dns", "referral", b"\x30" + dns_query("a.child.example.test"))
put("fuzz_dns", "ns", b"\0" + dns_query("example.test", 2))
put("fuzz_dns", "nx", b"\0" + dns_query("nope.example.test"))
put("fuzz_dns", "any", b"\0" + dns_query("www.example.test", 255))
put("fuzz_dns", "refused", b"\0" + dns_query("www.invalid"))
put("fuzz_dns", "big_tc", b"\0" + dns_query("big.example.test", 16))
put("fuzz_dns", "big_edns", b"\x04" + dns_query("big.example.test", 16, ar=opt(4096), arcount=1))
put("fuzz_dns", "big_tcp", b"\x01" + dns_query("big.example.test", 16))
put("fuzz_dns", "badvers", b"\0" + dns_query("www.example.test", ar=opt(version=1), arcount=1))
put("fuzz_dns", "ecs4", b"\x02" + dns_query("www.example.test", ar=opt(options=ecs(1, 24, b"\xc6\x33\x64")), arcount=1))
put("fuzz_dns", "ecs6", b"\0" + dns_query("www.example.test", ar=opt(options=ecs(2, 56, b"\x20\x01\x0d\xb8\0\0\0")), arcount=1))
put("fuzz_dns", "ecs_bad", b"\0" + dns_query("www.example.test", ar=opt(options=ecs(3, 24, b"\1\2\3")), arcount=1))
put("fuzz_dns", "two_opt", b"\0" + dns_query("www.example.test", ar=opt() + opt(), arcount=2))
put("fuzz_dns", "pointer", b"\0" + struct.pack("!HHHHHH", 1, 0, 1, 0, 0, 0) + b"\x03www\xc0\x0c\0\1\0\1")
put("fuzz_dns", "notimp", b"\0" + dns_query("www.example.test", flags=0x1000))
put("fuzz_dns", "qd2", b"\0" + dns_query("www.example.test", qd=2))
put("fuzz_dns", "tiny_buffer", b"\x30" + dns_query("www.example.test", ar=opt(), arcount=1))


# ---- fill mode: magnet links, tracker client replies, BEP 9 metadata session
IH_HEX = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
put("fuzz_magnet", "hex", ("magnet:?xt=urn:btih:" + IH_HEX + "&dn=movie.bin&tr=http%3A%2F%2F10.0.0.1%3A6969%2Fannounce&x.pe=10.0.0.2:6881").encode())
put("fuzz_magnet", "base32", b"magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK&tr=udp://10.0.0.1:6969")
put("fuzz_magnet", "bad_escape", ("magnet:?xt=urn:btih:" + IH_HEX + "&dn=%4").encode())
compact = b"\x0a\x00\x00\x02\x1a\xe1"
body = b"d8:intervali1800e12:min intervali60e5:peers6:" + compact + b"e"
put("fuzz_tracker_client", "http_compact", b"\x00HTTP/1.0 200 OK\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
put("fuzz_tracker_client", "http_eof_dict", b"\x01HTTP/1.1 200 OK\r\n\r\nd8:intervali900e5:peersld2:ip8:10.0.0.74:porti7000eeee")
put("fuzz_tracker_client", "http_failure", b"\x01HTTP/1.0 200 OK\r\n\r\nd14:failure reason5:nope!e")
put("fuzz_tracker_client", "udp_connect", b"\x02" + struct.pack("!IIQ", 0, 7, 0x0102030405060708))
put("fuzz_tracker_client", "udp_announce", b"\x03" + struct.pack("!IIIII", 1, 7, 60, 0, 1) + compact)
put("fuzz_tracker_client", "udp_error", b"\x03" + struct.pack("!II", 3, 7) + b"denied")
put("fuzz_tracker_client", "url", b"\x04http://10.0.0.1:6969/announce?k=v")


def ext(ext_id, payload):
    return struct.pack("!IBB", len(payload) + 2, 20, ext_id) + payload


info = b"d4:name1:xe"
put("fuzz_metadata_fetch", "whole", b"\x05" + ext(0, b"d1:md11:ut_metadatai7ee13:metadata_sizei11ee") +
    ext(3, b"d8:msg_typei1e5:piecei0e10:total_sizei11ee" + info))
put("fuzz_metadata_fetch", "reject", b"\x05" + ext(0, b"d1:md11:ut_metadatai7ee13:metadata_sizei11ee") +
    ext(3, b"d8:msg_typei2e5:piecei0ee"))
put("fuzz_metadata_fetch", "too_large", b"\x05" + ext(0, b"d1:md11:ut_metadatai7ee13:metadata_sizei99999999ee"))
put("fuzz_metadata_fetch", "other_msgs", b"\x02" + struct.pack("!IB", 1, 1) + struct.pack("!IBI", 5, 4, 3) +
    ext(0, b"d1:md6:ut_pexi1eee"))


# fuzz_probe_reply: answers to the two probes the target has in flight
# (an ICMP echo, sequence 0x0100; a SYN from port 61001 to 80 whose ISN is
# the first of xorshift64* seeded with 1).
def probe_isn(seed=1):
    m = (1 << 64) - 1
    r = seed
    r ^= r >> 12
    r ^= (r << 25) & m
    r ^= r >> 27
    return ((r * 0x2545F4914F6CDD1D) & m) >> 32


def probe_tcp(flags, ack, sport=80, dport=61001):
    src, dst = b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02"
    t = struct.pack("!HHIIBBHHH", sport, dport, 12345, ack, 5 << 4, flags, 65535, 0, 0)
    ph = src + dst + struct.pack("!BBH", 0, 6, len(t))
    t = t[:16] + struct.pack("!H", csum(ph + t)) + t[18:]
    return ipv4(6, t, src=src, dst=dst)


def probe_echo_reply(seq=0x0100, ident=0x4570):
    m = struct.pack("!BBHHH", 0, 0, 0, ident, seq) + bytes(8)
    m = m[:2] + struct.pack("!H", csum(m)) + m[4:]
    return ipv4(1, m, src=b"\x0a\x00\x00\x01", dst=b"\x0a\x00\x00\x02")


put("fuzz_probe_reply", "echo_reply", probe_echo_reply())
put("fuzz_probe_reply", "echo_other_ident", probe_echo_reply(ident=0x1234))
put("fuzz_probe_reply", "echo_late_seq", probe_echo_reply(seq=0x0200))
put("fuzz_probe_reply", "synack", probe_tcp(0x12, (probe_isn() + 1) & 0xFFFFFFFF))
put("fuzz_probe_reply", "synack_wrong_ack", probe_tcp(0x12, 5))
put("fuzz_probe_reply", "rst_ack", probe_tcp(0x14, (probe_isn() + 1) & 0xFFFFFFFF))
put("fuzz_probe_reply", "other_port", probe_tcp(0x12, 1, dport=40000))

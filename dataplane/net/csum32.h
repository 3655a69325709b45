// Internet checksum sums of headers (RFC 1071), four bytes a step. DPDK
// 22.11's rte_raw_cksum adds one 16-bit word per step; on the send path it
// ran over every segment's IPv4 and TCP headers and every ACK, a tenth of
// the instructions per segment (docs/benchmarks.md, "Send path"). RFC 1071
// 2(C): the sum may be taken in wider words and folded once, since
// 2^16 == 1 (mod 0xffff). Same convention as rte_raw_cksum: 16-bit words
// in host order, the folded result stored as is gives network order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ep::net {

// Unfolded sum of len bytes (any length, any alignment): eight bytes a
// step with the carry added back (end-around carry, RFC 1071 2(C)), so a
// 32-byte TCP header is four loads. Returns < 2^64.
inline uint64_t sum_bytes(const void *data, size_t len) {
    const auto *p = static_cast<const uint8_t *>(data);
    uint64_t s = 0;
    for (; len >= 8; len -= 8, p += 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        s += w;
        s += s < w;  // the carry out of bit 63 is worth 1 (2^64 == 1 mod 0xffff)
    }
    uint64_t t = 0;
    if (len >= 4) {
        uint32_t w;
        std::memcpy(&w, p, 4);
        t += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        std::memcpy(&w, p, 2);
        t += w;
        p += 2;
        len -= 2;
    }
    if (len) t += *p;  // the last odd byte is the first byte of a zero-padded word
    // Fold s to 33 bits before adding t (< 2^33): no overflow.
    return (s & 0xffffffff) + (s >> 32) + t;
}

inline uint16_t fold_sum(uint64_t s) {
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>((s & 0xffff) + (s >> 16));
}

// Unfolded IPv4 pseudo-header sum (RFC 9293 3.1) for protocol `proto` and
// an L4 length; addresses in network order as they sit in the header.
inline uint64_t pseudo_sum_v4(uint32_t src_be, uint32_t dst_be, uint8_t proto, uint16_t l4_len) {
    // {zero, protocol, length} as they would sit in memory: any byte order.
    const uint8_t w[4] = {0, proto, static_cast<uint8_t>(l4_len >> 8),
                          static_cast<uint8_t>(l4_len)};
    uint32_t tail;
    std::memcpy(&tail, w, 4);
    return uint64_t{src_be} + dst_be + tail;
}

}  // namespace ep::net

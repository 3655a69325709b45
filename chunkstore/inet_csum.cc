#include "chunkstore/inet_csum.h"

#include <cstring>

#include "chunkstore/types.h"

namespace ep::chunkstore {

uint32_t csum_lane_sum(const uint8_t *base, uint32_t a, uint32_t b) {
    // The edges of every TCP segment's payload sum (< 64 bytes each side,
    // two per segment): eight bytes per step. A little-endian 64-bit word at
    // an even position holds four lane-aligned 16-bit words, and
    // 2^16 == 1 (mod 0xffff), so adding the word adds all four.
    if (a >= b) return 0;
    uint64_t s = 0;
    if (a & 1) {
        s += static_cast<uint32_t>(base[a]) << 8;
        ++a;
    }
    for (; a + 8 <= b; a += 8) {  // eight bytes: the carry out of bit 63 is worth 1
        uint64_t w;
        std::memcpy(&w, base + a, 8);
        s += w;
        s += s < w;
    }
    s = (s & 0xffffffff) + (s >> 32);  // < 2^33: the tail's adds cannot overflow
    if (a + 4 <= b) {
        uint32_t w;
        std::memcpy(&w, base + a, 4);
        s += w;
        a += 4;
    }
    if (a + 2 <= b) {
        s += static_cast<uint32_t>(base[a]) | (uint32_t{base[a + 1]} << 8);
        a += 2;
    }
    if (a < b) s += base[a];
    // < 2^17 after the folds: callers add a few such sums into a uint32_t
    // before folding.
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffff) + (s >> 16);
    return static_cast<uint32_t>((s & 0xffff) + (s >> 16));
}

// One 64-byte block as 16 little-endian 32-bit words: since 2^16 == 1
// (mod 0xffff), a 32-bit word counts as the sum of its two 16-bit halves.
// Plain scalar adds beat the compiler's vectorised 16-bit widening here.
static inline uint64_t block_sum(const uint8_t *p) {
    uint64_t s = 0;
    for (unsigned k = 0; k < kCsumBlock / 4; ++k) {
        uint32_t w;
        std::memcpy(&w, p + 4 * k, 4);
        s += w;
    }
    return s;
}

uint32_t csum_extend_prefix(const uint8_t *data, uint32_t nblocks, uint16_t *prefix_next,
                            uint32_t acc) {
    uint64_t a = acc;  // < 2^16 + 4096 blocks * 2^36: no overflow
    for (uint32_t i = 0; i < nblocks; ++i) {
        a += block_sum(data + size_t{i} * kCsumBlock);
        prefix_next[i] = csum_fold(a);
    }
    return csum_fold(a);
}

void csum_build_prefix(const uint8_t *data, uint32_t len, uint16_t *prefix) {
    prefix[0] = 0;
    csum_extend_prefix(data, len / kCsumBlock, prefix + 1, 0);
}

uint32_t csum_range(const uint8_t *data, const uint16_t *prefix, uint32_t off, uint32_t len) {
    if (len == 0) return 0;
    const uint32_t a = off, b = off + len;
    const uint32_t first_full = (a + kCsumBlock - 1) / kCsumBlock;
    const uint32_t end_full = b / kCsumBlock;
    uint32_t s;
    if (first_full >= end_full) {
        s = csum_lane_sum(data, a, b);  // no whole block inside: < 128 edge bytes
    } else {
        // Ones-complement subtraction: x - y == x + ~y (mod 0xffff).
        uint32_t mid = uint32_t{prefix[end_full]} + uint16_t(~prefix[first_full]);
        s = csum_lane_sum(data, a, first_full * kCsumBlock) + mid +
            csum_lane_sum(data, end_full * kCsumBlock, b);
    }
    if (a & 1) {
        // Words of the segment start one byte later than the chunk's words:
        // the ones-complement sum of byte-swapped words is the swapped sum.
        uint16_t f = csum_fold(s);
        s = static_cast<uint16_t>((f >> 8) | (f << 8));
    }
    return s;
}

}  // namespace ep::chunkstore

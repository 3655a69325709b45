// Internet checksum (RFC 1071) partial sums kept per chunk, so the TCP send
// path on ports without checksum offload can combine a segment's payload sum
// without touching the payload (Sandstorm, SIGCOMM'14).
//
// Sums follow rte_raw_cksum(): 16-bit words loaded in host order (x86: little
// endian). A value is meaningful modulo 0xffff (ones-complement), so 0 and
// 0xffff are the same sum.
#pragma once

#include <cstdint>

namespace ep::chunkstore {

inline uint16_t csum_fold(uint64_t s) {
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(s);
}

// Ones-complement sum of bytes [a, b) of `base` where the byte at position p
// goes into the low half of a word if p is even, the high half if p is odd
// (that is, words aligned to `base`). Unfolded.
uint32_t csum_lane_sum(const uint8_t *base, uint32_t a, uint32_t b);

// prefix[i] = folded sum of the first i complete 64-byte blocks of data
// (i = 0 .. len / kCsumBlock). The tail after the last full block is not
// summed: queries read those (< 64) bytes directly.
void csum_build_prefix(const uint8_t *data, uint32_t len, uint16_t *prefix);

// Continues a prefix array over nblocks more complete blocks at data:
// writes prefix_next[0 .. nblocks-1] starting from the running value acc
// (the last prefix entry) and returns the new running value.
uint32_t csum_extend_prefix(const uint8_t *data, uint32_t nblocks, uint16_t *prefix_next,
                            uint32_t acc);

// Sum of bytes [off, off + len) of a chunk whose prefix array was built by
// csum_build_prefix, with words aligned to `off` (what a TCP segment whose
// payload starts at chunk offset `off` needs). Reads at most the unaligned
// edge bytes (< 64 on each side) of data. Result is unfolded (< 2^20) and
// combines with rte_raw_cksum / rte_ipv4_phdr_cksum style sums by addition.
uint32_t csum_range(const uint8_t *data, const uint16_t *prefix, uint32_t off, uint32_t len);

}  // namespace ep::chunkstore

// TCP checksum folding (RFC 9293 3.1, RFC 1071 computation, RFC 1624 incremental
// arithmetic). The glue computes the pseudo-header and header sums; the payload
// contributes the per-piece partial sums supplied by the buffer owner, so a port
// without checksum offload never reads payload bytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/net/tcp/segment.h"

namespace ep::tcp {

// One's-complement sum of len bytes (big-endian 16-bit words), not inverted.
uint32_t csum_partial(const void *data, size_t len, uint32_t sum = 0);

// Folds a 32-bit accumulator to 16 bits (not inverted).
inline uint16_t csum_fold(uint64_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(sum);
}

// Adds the sum of a block that starts at byte offset `offset` of the summed
// stream: a block at an odd offset contributes its byte-swapped sum (RFC 1071 2(B)).
inline uint64_t csum_add_at(uint64_t acc, uint32_t block_sum, size_t offset) {
    uint16_t s = csum_fold(block_sum);
    if (offset & 1) s = static_cast<uint16_t>((s << 8) | (s >> 8));
    return acc + s;
}

// Pseudo-header sum for IPv4 or IPv6 (both as IpAddr), protocol 6, given TCP length.
uint32_t pseudo_header_sum(const IpAddr &src, const IpAddr &dst, uint32_t tcp_len);

// Final TCP checksum (inverted, ready for the header, host order) of a segment:
// pseudo-header sum + header sum (header with checksum field zero, options
// included, header_len bytes, even) + payload pieces. Pieces of external items
// use ops->partial_sum when present, else the bytes are summed here.
uint16_t tcp_checksum(uint32_t pseudo_sum, uint32_t header_sum, size_t header_len,
                      const SegmentOut &seg);

}  // namespace ep::tcp

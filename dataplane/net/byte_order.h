// Big-endian (network order) loads and stores for the wire formats the data
// plane parses and writes: TCP's header and options, DNS, the probes, peer
// wire, the HTTP and UDP trackers. Byte by byte, so alignment never matters
// and the protocol code needs no DPDK (rte_be_to_cpu_* converts a value
// already loaded); compilers turn each into one load and a bswap.
#pragma once

#include <cstdint>

namespace ep::net {

inline uint16_t get16(const uint8_t *p) {
    return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
inline uint32_t get32(const uint8_t *p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
inline uint64_t get64(const uint8_t *p) {
    return (uint64_t{get32(p)} << 32) | get32(p + 4);
}
inline void put16(uint8_t *p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
inline void put32(uint8_t *p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}
inline void put64(uint8_t *p, uint64_t v) {
    put32(p, static_cast<uint32_t>(v >> 32));
    put32(p + 4, static_cast<uint32_t>(v));
}

}  // namespace ep::net

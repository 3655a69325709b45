// One bare TCP SYN (RFC 9293 3.1, no options) inside its IPv4 header (RFC
// 791), the packet `edgebench synflood` hands a raw socket with IP_HDRINCL.
// Both checksums are filled in here (the kernel would fix the IPv4 one, but
// the packet is then the same whoever sends it, and the builder is testable
// without a network). Pure: a spec in, 40 bytes out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ep::bench {

inline constexpr size_t kSynPacketLen = 20 + 20;  // IPv4 header + TCP header

struct SynSpec {
    uint32_t src_be = 0, dst_be = 0;  // addresses in network order
    uint16_t sport = 0, dport = 0;    // host order
    uint32_t seq = 0;                 // the ISN (host order)
    uint16_t ip_id = 0;
    uint16_t window = 65535;
    uint8_t ttl = 64;
};

// Writes the packet to out[0..kSynPacketLen).
void build_syn(const SynSpec &s, uint8_t *out);

// synflood's --src: "A" or "A/len" (8 <= len <= 32). The network in host
// order (host bits cleared) and the mask of the host part the flood draws at
// random (0 for a single address); false for anything else.
bool parse_syn_source(const std::string &s, uint32_t *net, uint32_t *host_mask);

}  // namespace ep::bench

// IPv4 receive checks (RFC 791 §3.1, RFC 1122 §3.2.1). Pure: bytes in,
// a parsed view or a drop reason out.
//
// Implemented: version, IHL >= 5, total length within the frame and >= the
// header, header checksum, TTL, destination must be ours (or limited/subnet
// broadcast for UDP later), martian sources (0/8, 127/8, multicast, broadcast).
// Not yet: reassembly — fragments are dropped and counted (ipv4_fragment);
// options are accepted and skipped (IHL > 5), never acted upon.
#pragma once

#include <cstdint>

#include "dataplane/counters.h"
#include "dataplane/net/port_address.h"

namespace ep::net {

struct Ipv4View {
    uint32_t src = 0;  // network order
    uint32_t dst = 0;  // network order
    uint16_t header_len = 0;
    uint16_t total_len = 0;  // from the header; the frame may carry padding beyond it
    uint8_t protocol = 0;
    uint8_t ttl = 0;
};

// `pkt` points at the IPv4 header, `len` is what the frame holds from there.
// `hw_csum`: what the port's RX checksum offload said of the header
// (RTE_MBUF_F_RX_IP_CKSUM_*): good skips the software check, bad drops.
enum class HwCsum : uint8_t { unknown, good, bad };
Drop parse_ipv4(const uint8_t *pkt, uint32_t len, const PortAddress &port, Ipv4View *out,
                HwCsum hw_csum = HwCsum::unknown);

}  // namespace ep::net

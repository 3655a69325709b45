// One passive RTT measurement (issue 16, policy "measured"): what a data
// lcore's TCP stack measured of one connection's path, carried to the
// control thread by dataplane/rtt_ring.h and folded into cluster selection's
// Measurements there (control/cluster/passive_feed.h). Plain struct, no DPDK,
// so control/cluster/ and its unit tests include it alone.
#pragma once

#include <cstdint>

namespace ep {

struct RttRecord {
    uint8_t addr[16] = {};      // the peer, IPv4-mapped for IPv4 (tcp::IpAddr)
    uint32_t srtt_us = 0;       // smoothed RTT (RFC 6298) at the time of the record
    uint32_t segs_out = 0;      // data segments sent since the connection's previous record
    uint32_t segs_retrans = 0;  // of which retransmissions
    uint8_t lcore = 0;
    uint8_t final = 0;  // 1: the connection ended; 0: a long-lived one's periodic record
    uint16_t pad = 0;
};
static_assert(sizeof(RttRecord) == 32, "rte_ring elements are multiples of 4 bytes; keep it small");

}  // namespace ep

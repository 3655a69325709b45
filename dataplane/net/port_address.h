// The addresses one port answers for. IPv4 values are kept in network byte
// order, as they appear on the wire, so the fast path compares without swaps.
#pragma once

#include <rte_ether.h>

#include <cstdint>

namespace ep::net {

struct PortAddress {
    rte_ether_addr mac{};
    uint32_t ip = 0;       // network order
    uint32_t netmask = 0;  // network order
    uint32_t gateway = 0;  // network order; 0 = none

    bool on_link(uint32_t dst) const { return (dst & netmask) == (ip & netmask); }
    // The next hop for dst: dst itself when on-link, else the gateway (0 if none).
    uint32_t next_hop(uint32_t dst) const { return on_link(dst) ? dst : gateway; }
    bool is_subnet_broadcast(uint32_t dst) const {
        return netmask != 0xffffffffu && (dst & ~netmask) == ~netmask;
    }
};

}  // namespace ep::net

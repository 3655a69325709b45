// Ethernet II classification (IEEE 802.3 framing as used by IP, RFC 894).
// Pure: bytes in, a verdict out. VLAN tags are not expected on the edge
// ports (the NIC strips them when configured) and count as unknown types.
#pragma once

#include <rte_ether.h>

#include <cstdint>

#include "dataplane/counters.h"

namespace ep::net {

enum class L3 : uint8_t { drop, arp, ipv4, ipv6 };

struct EthVerdict {
    L3 l3 = L3::drop;
    Drop reason = Drop::none;
};

// Accepts frames addressed to `ours` or to broadcast; multicast and other
// unicast destinations are not for us (promiscuous mode stays off).
EthVerdict classify_eth(const uint8_t *frame, uint32_t len, const rte_ether_addr &ours);

// Turns a received frame into a reply to its sender: destination becomes the
// old source, source becomes our MAC.
inline void eth_reply_in_place(uint8_t *frame, const rte_ether_addr &ours) {
    auto *eh = reinterpret_cast<rte_ether_hdr *>(frame);
    rte_ether_addr_copy(&eh->src_addr, &eh->dst_addr);
    rte_ether_addr_copy(&ours, &eh->src_addr);
}

}  // namespace ep::net

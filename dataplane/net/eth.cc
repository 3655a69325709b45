#include "dataplane/net/eth.h"

#include <rte_byteorder.h>

namespace ep::net {

EthVerdict classify_eth(const uint8_t *frame, uint32_t len, const rte_ether_addr &ours) {
    if (len < sizeof(rte_ether_hdr)) return {L3::drop, Drop::eth_truncated};
    const auto *eh = reinterpret_cast<const rte_ether_hdr *>(frame);
    if (!rte_is_same_ether_addr(&eh->dst_addr, &ours) && !rte_is_broadcast_ether_addr(&eh->dst_addr))
        return {L3::drop, Drop::eth_not_for_us};
    switch (eh->ether_type) {
        case RTE_BE16(RTE_ETHER_TYPE_IPV4): return {L3::ipv4, Drop::none};
        case RTE_BE16(RTE_ETHER_TYPE_ARP): return {L3::arp, Drop::none};
        case RTE_BE16(RTE_ETHER_TYPE_IPV6): return {L3::ipv6, Drop::none};
        default: return {L3::drop, Drop::eth_unknown_type};
    }
}

}  // namespace ep::net

#include "dataplane/net/arp.h"

#include <rte_arp.h>
#include <rte_byteorder.h>

#include <cstring>

#include "dataplane/net/eth.h"

namespace ep::net {

ArpVerdict process_arp(uint8_t *frame, uint32_t len, const PortAddress &port, ArpTable &table,
                       uint64_t now) {
    if (len < sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr)) return {ArpAction::drop, Drop::arp_truncated};
    auto *ah = reinterpret_cast<rte_arp_hdr *>(frame + sizeof(rte_ether_hdr));
    // RFC 826 "Packet Reception": only Ethernet hardware and IPv4 protocol.
    if (ah->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
        ah->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) || ah->arp_hlen != RTE_ETHER_ADDR_LEN ||
        ah->arp_plen != 4)
        return {ArpAction::drop, Drop::arp_unsupported_format};
    const uint16_t op = rte_be_to_cpu_16(ah->arp_opcode);
    if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)
        return {ArpAction::drop, Drop::arp_unsupported_op};

    const uint32_t sip = ah->arp_data.arp_sip;
    const uint32_t tip = ah->arp_data.arp_tip;
    // Merge flag: refresh a sender we already know, whoever the target is.
    // A sender of 0.0.0.0 is an address probe (RFC 5227) and teaches nothing.
    bool merged = sip != 0 && table.update(sip, ah->arp_data.arp_sha, now);
    if (tip != port.ip)
        return merged ? ArpVerdict{ArpAction::consumed} : ArpVerdict{ArpAction::drop, Drop::arp_not_for_us};

    bool learned = false;
    if (!merged && sip != 0) learned = table.learn(sip, ah->arp_data.arp_sha, now);
    if (op != RTE_ARP_OP_REQUEST) return {ArpAction::consumed, Drop::none, learned};

    // Reply in place: swap sender and target, fill in our hardware address.
    ah->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
    ah->arp_data.arp_tha = ah->arp_data.arp_sha;
    ah->arp_data.arp_tip = sip;
    ah->arp_data.arp_sha = port.mac;
    ah->arp_data.arp_sip = port.ip;
    eth_reply_in_place(frame, port.mac);
    return {ArpAction::reply, Drop::none, learned};
}

uint32_t build_arp_request(uint8_t *buf, const PortAddress &port, uint32_t target_ip,
                           const rte_ether_addr *unicast_to) {
    std::memset(buf, 0, kArpFrameLen);
    auto *eh = reinterpret_cast<rte_ether_hdr *>(buf);
    if (unicast_to)
        eh->dst_addr = *unicast_to;
    else
        std::memset(&eh->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
    eh->src_addr = port.mac;
    eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
    auto *ah = reinterpret_cast<rte_arp_hdr *>(buf + sizeof(rte_ether_hdr));
    ah->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
    ah->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    ah->arp_hlen = RTE_ETHER_ADDR_LEN;
    ah->arp_plen = 4;
    ah->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
    ah->arp_data.arp_sha = port.mac;
    ah->arp_data.arp_sip = port.ip;
    ah->arp_data.arp_tip = target_ip;  // target hardware address stays zero
    return kArpFrameLen;
}

}  // namespace ep::net

// Builds Ethernet/ARP/IPv4/ICMP frames byte by byte for the parser tests.
#pragma once

#include <arpa/inet.h>
#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include <cstring>
#include <vector>

#include "dataplane/net/port_address.h"

namespace ep::test {

inline uint32_t ip(const char *s) { return inet_addr(s); }

inline net::PortAddress test_port() {
    net::PortAddress p;
    p.mac = {{0x02, 0, 0, 0, 0, 0x02}};
    p.ip = ip("10.77.0.2");
    p.netmask = ip("255.255.255.0");
    p.gateway = ip("10.77.0.1");
    return p;
}

inline const rte_ether_addr kPeerMac = {{0x02, 0, 0, 0, 0, 0x01}};

inline std::vector<uint8_t> eth_frame(const rte_ether_addr &dst, uint16_t type, size_t payload) {
    std::vector<uint8_t> f(sizeof(rte_ether_hdr) + payload);
    auto *eh = reinterpret_cast<rte_ether_hdr *>(f.data());
    eh->dst_addr = dst;
    eh->src_addr = kPeerMac;
    eh->ether_type = htons(type);
    return f;
}

inline std::vector<uint8_t> arp_frame(uint16_t op, uint32_t sip, uint32_t tip,
                                      const rte_ether_addr &dst = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}) {
    auto f = eth_frame(dst, RTE_ETHER_TYPE_ARP, sizeof(rte_arp_hdr));
    auto *ah = reinterpret_cast<rte_arp_hdr *>(f.data() + sizeof(rte_ether_hdr));
    ah->arp_hardware = htons(RTE_ARP_HRD_ETHER);
    ah->arp_protocol = htons(RTE_ETHER_TYPE_IPV4);
    ah->arp_hlen = 6;
    ah->arp_plen = 4;
    ah->arp_opcode = htons(op);
    ah->arp_data.arp_sha = kPeerMac;
    ah->arp_data.arp_sip = sip;
    ah->arp_data.arp_tip = tip;
    return f;
}

inline rte_arp_hdr *arp_of(std::vector<uint8_t> &f) {
    return reinterpret_cast<rte_arp_hdr *>(f.data() + sizeof(rte_ether_hdr));
}
inline rte_ipv4_hdr *ip_of(std::vector<uint8_t> &f) {
    return reinterpret_cast<rte_ipv4_hdr *>(f.data() + sizeof(rte_ether_hdr));
}

// An ICMP echo request of `data` bytes from src to dst, checksums correct.
inline std::vector<uint8_t> ping_frame(uint32_t src, uint32_t dst, size_t data, uint8_t ttl = 64) {
    const size_t ip_len = sizeof(rte_ipv4_hdr) + sizeof(rte_icmp_hdr) + data;
    auto f = eth_frame(test_port().mac, RTE_ETHER_TYPE_IPV4, ip_len);
    auto *ih = ip_of(f);
    ih->version_ihl = 0x45;
    ih->total_length = htons(static_cast<uint16_t>(ip_len));
    ih->packet_id = htons(7);
    ih->time_to_live = ttl;
    ih->next_proto_id = IPPROTO_ICMP;
    ih->src_addr = src;
    ih->dst_addr = dst;
    ih->hdr_checksum = rte_ipv4_cksum(ih);
    auto *icmp = reinterpret_cast<rte_icmp_hdr *>(ih + 1);
    icmp->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
    icmp->icmp_ident = htons(0x1234);
    icmp->icmp_seq_nb = htons(1);
    auto *payload = reinterpret_cast<uint8_t *>(icmp + 1);
    for (size_t i = 0; i < data; ++i) payload[i] = static_cast<uint8_t>(i * 7);
    icmp->icmp_cksum = static_cast<uint16_t>(~rte_raw_cksum(icmp, sizeof(*icmp) + data));
    return f;
}

inline void fix_ip_checksum(std::vector<uint8_t> &f) {
    auto *ih = ip_of(f);
    ih->hdr_checksum = 0;
    ih->hdr_checksum = rte_ipv4_cksum(ih);
}

}  // namespace ep::test

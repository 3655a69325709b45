#include "dataplane/net/udp/udp.h"

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <cstring>

namespace ep::net::udp {

namespace {
constexpr uint8_t kReplyTtl = 64;
}

Drop parse(const uint8_t *ip, const Ipv4View &v, View *out) {
    const uint32_t avail = v.total_len - v.header_len;
    if (avail < kHeaderLen) return Drop::udp_truncated;
    const auto *uh = reinterpret_cast<const rte_udp_hdr *>(ip + v.header_len);
    const uint32_t ulen = rte_be_to_cpu_16(uh->dgram_len);
    // RFC 768: the length counts the header; it cannot exceed what IP carried.
    if (ulen < kHeaderLen) return Drop::udp_bad_length;
    if (ulen > avail) return Drop::udp_bad_length;
    if (uh->dgram_cksum != 0) {
        // Sum of pseudo-header, header and data, checksum included, is 0xffff
        // when correct. Only `ulen` bytes count: IP may carry trailing bytes.
        const auto *ih = reinterpret_cast<const rte_ipv4_hdr *>(ip);
        uint32_t sum = rte_raw_cksum(uh, ulen);
        const uint32_t src = ih->src_addr, dst = ih->dst_addr;
        sum += (src & 0xffff) + (src >> 16) + (dst & 0xffff) + (dst >> 16);
        sum += rte_cpu_to_be_16(IPPROTO_UDP) + rte_cpu_to_be_16(static_cast<uint16_t>(ulen));
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        if (sum != 0xffff) return Drop::udp_bad_checksum;
    }
    out->src_port = rte_be_to_cpu_16(uh->src_port);
    out->dst_port = rte_be_to_cpu_16(uh->dst_port);
    out->payload_len = static_cast<uint16_t>(ulen - kHeaderLen);
    out->payload_off = static_cast<uint16_t>(v.header_len + kHeaderLen);
    return Drop::none;
}

void strip_ip_options(uint8_t *ip, Ipv4View *v, View *u) {
    if (v->header_len == sizeof(rte_ipv4_hdr)) return;
    const uint16_t udp_len = static_cast<uint16_t>(kHeaderLen + u->payload_len);
    std::memmove(ip + sizeof(rte_ipv4_hdr), ip + v->header_len, udp_len);
    v->total_len = static_cast<uint16_t>(v->total_len - (v->header_len - sizeof(rte_ipv4_hdr)));
    v->header_len = sizeof(rte_ipv4_hdr);
    u->payload_off = static_cast<uint16_t>(sizeof(rte_ipv4_hdr) + kHeaderLen);
    auto *ih = reinterpret_cast<rte_ipv4_hdr *>(ip);
    ih->version_ihl = 0x45;
}

uint16_t reply_in_place(uint8_t *ip, const View &u, uint16_t reply_len) {
    auto *ih = reinterpret_cast<rte_ipv4_hdr *>(ip);
    const uint32_t hl = (ih->version_ihl & 0x0f) * 4u;
    auto *uh = reinterpret_cast<rte_udp_hdr *>(ip + hl);
    const uint16_t total = static_cast<uint16_t>(hl + kHeaderLen + reply_len);
    const uint32_t src = ih->src_addr;
    ih->src_addr = ih->dst_addr;
    ih->dst_addr = src;
    ih->total_length = rte_cpu_to_be_16(total);
    ih->time_to_live = kReplyTtl;
    ih->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);  // no fragmentation (RFC 8085 §3.2)
    ih->hdr_checksum = 0;
    ih->hdr_checksum = rte_ipv4_cksum(ih);
    uh->src_port = rte_cpu_to_be_16(u.dst_port);
    uh->dst_port = rte_cpu_to_be_16(u.src_port);
    uh->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(kHeaderLen + reply_len));
    uh->dgram_cksum = 0;
    // rte_ipv4_udptcp_cksum returns 0xffff for a computed 0 (RFC 768).
    uh->dgram_cksum = rte_ipv4_udptcp_cksum(ih, uh);
    return total;
}

}  // namespace ep::net::udp

#include "dataplane/net/icmp.h"

#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include <cstring>

#include "dataplane/net/byte_order.h"

namespace ep::net {

namespace {
constexpr uint8_t kReplyTtl = 64;

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changing from m to m'.
uint16_t cksum_update16(uint16_t hc, uint16_t m_old, uint16_t m_new) {
    uint32_t sum = static_cast<uint16_t>(~hc) + static_cast<uint16_t>(~m_old) + m_new;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}
}  // namespace

Drop icmp_echo_reply_in_place(uint8_t *ip, const Ipv4View &view) {
    const uint32_t icmp_len = view.total_len - view.header_len;
    if (icmp_len < sizeof(rte_icmp_hdr)) return Drop::icmp_truncated;
    auto *icmp = reinterpret_cast<rte_icmp_hdr *>(ip + view.header_len);
    if (rte_raw_cksum(icmp, icmp_len) != 0xffff) return Drop::icmp_bad_checksum;
    if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0)
        return Drop::icmp_unsupported_type;

    // Only the type byte changes, so patch the checksum instead of re-summing the data.
    const uint16_t old_word = *reinterpret_cast<uint16_t *>(icmp);
    icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
    const uint16_t new_word = *reinterpret_cast<uint16_t *>(icmp);
    icmp->icmp_cksum = cksum_update16(icmp->icmp_cksum, old_word, new_word);

    auto *ih = reinterpret_cast<rte_ipv4_hdr *>(ip);
    ih->dst_addr = view.src;
    ih->src_addr = view.dst;
    ih->time_to_live = kReplyTtl;
    ih->hdr_checksum = 0;
    ih->hdr_checksum = rte_ipv4_cksum(ih);
    return Drop::none;
}

Drop parse_icmp_frag_needed(const uint8_t *ip, const Ipv4View &view, FragNeeded *out) {
    constexpr uint8_t kDestUnreachable = 3, kFragNeeded = 4;  // RFC 792, RFC 1191 §4
    const uint32_t icmp_len = view.total_len - view.header_len;
    if (icmp_len < sizeof(rte_icmp_hdr)) return Drop::icmp_truncated;
    const uint8_t *icmp = ip + view.header_len;
    if (icmp[0] != kDestUnreachable || icmp[1] != kFragNeeded) return Drop::icmp_unsupported_type;
    if (rte_raw_cksum(icmp, icmp_len) != 0xffff) return Drop::icmp_bad_checksum;
    // Quoted: the IPv4 header we sent and at least 8 bytes of its TCP header.
    const uint8_t *q = icmp + sizeof(rte_icmp_hdr);
    const uint32_t qlen = icmp_len - sizeof(rte_icmp_hdr);
    if (qlen < sizeof(rte_ipv4_hdr) + 8) return Drop::icmp_truncated;
    const auto *qh = reinterpret_cast<const rte_ipv4_hdr *>(q);
    const uint32_t qihl = uint32_t{qh->version_ihl & 0x0fu} * 4;
    if ((qh->version_ihl >> 4) != 4 || qihl < sizeof(rte_ipv4_hdr)) return Drop::icmp_quote_invalid;
    if (qlen < qihl + 8) return Drop::icmp_truncated;
    if (qh->next_proto_id != IPPROTO_TCP || qh->src_addr != view.dst)
        return Drop::icmp_quote_invalid;
    const uint8_t *th = q + qihl;
    out->local = qh->src_addr;
    out->remote = qh->dst_addr;
    out->lport = get16(th);
    out->rport = get16(th + 2);
    out->seq = get32(th + 4);
    out->mtu = get16(icmp + 6);  // RFC 1191 §4: low 16 bits of the unused word
    return Drop::none;
}

uint16_t icmp_port_unreachable_in_place(uint8_t *ip, const Ipv4View &view, uint32_t room) {
    constexpr uint32_t kMaxError = 576;
    constexpr uint32_t kHeaders = sizeof(rte_ipv4_hdr) + sizeof(rte_icmp_hdr);
    uint32_t quote = view.total_len;
    if (quote > kMaxError - kHeaders) quote = kMaxError - kHeaders;
    if (room < kHeaders + quote) return 0;
    std::memmove(ip + kHeaders, ip, quote);

    auto *ih = reinterpret_cast<rte_ipv4_hdr *>(ip);
    const uint16_t total = static_cast<uint16_t>(kHeaders + quote);
    ih->version_ihl = 0x45;
    ih->type_of_service = 0;
    ih->total_length = rte_cpu_to_be_16(total);
    ih->packet_id = 0;
    ih->fragment_offset = 0;
    ih->time_to_live = kReplyTtl;
    ih->next_proto_id = IPPROTO_ICMP;
    ih->src_addr = view.dst;  // RFC 1812 §4.3.2.4: the address the datagram was sent to
    ih->dst_addr = view.src;
    ih->hdr_checksum = 0;
    ih->hdr_checksum = rte_ipv4_cksum(ih);

    auto *icmp = reinterpret_cast<rte_icmp_hdr *>(ip + sizeof(rte_ipv4_hdr));
    icmp->icmp_type = 3;  // destination unreachable
    icmp->icmp_code = 3;  // port unreachable
    icmp->icmp_cksum = 0;
    icmp->icmp_ident = 0;  // "unused", must be zero
    icmp->icmp_seq_nb = 0;
    icmp->icmp_cksum = static_cast<uint16_t>(~rte_raw_cksum(icmp, sizeof(*icmp) + quote));
    return total;
}

}  // namespace ep::net

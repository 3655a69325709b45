#include "dataplane/net/ipv4.h"

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "dataplane/net/csum32.h"

namespace ep::net {

namespace {
// RFC 1122 §3.2.1.3: never accept a datagram whose source is "this network",
// loopback, a class D/E address or the limited broadcast.
bool martian_source(uint32_t src_be) {
    const uint32_t a = rte_be_to_cpu_32(src_be);
    const uint32_t first = a >> 24;
    return first == 0 || first == 127 || first >= 224;
}
}  // namespace

Drop parse_ipv4(const uint8_t *pkt, uint32_t len, const PortAddress &port, Ipv4View *out,
                HwCsum hw_csum) {
    if (len < sizeof(rte_ipv4_hdr)) return Drop::ipv4_truncated;
    const auto *ih = reinterpret_cast<const rte_ipv4_hdr *>(pkt);
    if ((ih->version_ihl >> 4) != 4) return Drop::ipv4_bad_version;
    const uint32_t ihl = (ih->version_ihl & 0x0f) * 4u;
    if (ihl < sizeof(rte_ipv4_hdr)) return Drop::ipv4_bad_ihl;
    if (ihl > len) return Drop::ipv4_truncated;
    const uint32_t total = rte_be_to_cpu_16(ih->total_length);
    if (total < ihl || total > len) return Drop::ipv4_bad_length;
    // The ones-complement sum over a correct header, checksum included, is 0xffff.
    if (hw_csum == HwCsum::bad) return Drop::ipv4_bad_checksum;
    if (hw_csum != HwCsum::good && fold_sum(sum_bytes(pkt, ihl)) != 0xffff)
        return Drop::ipv4_bad_checksum;
    if (ih->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
        return Drop::ipv4_fragment;
    if (martian_source(ih->src_addr)) return Drop::ipv4_bad_source;
    if (ih->dst_addr != port.ip) return Drop::ipv4_not_for_us;
    // A datagram for us is delivered whatever its TTL (RFC 1122 §3.2.1.7), but a
    // TTL of 0 is never valid on the wire.
    if (ih->time_to_live == 0) return Drop::ipv4_ttl_expired;

    out->src = ih->src_addr;
    out->dst = ih->dst_addr;
    out->header_len = static_cast<uint16_t>(ihl);
    out->total_len = static_cast<uint16_t>(total);
    out->protocol = ih->next_proto_id;
    out->ttl = ih->time_to_live;
    return Drop::none;
}

}  // namespace ep::net

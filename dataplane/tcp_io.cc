#include "dataplane/tcp_io.h"

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <algorithm>
#include <cstring>

#include "chunkstore/chunk.h"
#include "dataplane/fault_stage.h"
#include "dataplane/lcore.h"
#include "dataplane/net/arp.h"
#include "dataplane/net/csum32.h"
#include "dataplane/net/eth.h"
#include "dataplane/net/tcp/wire.h"

namespace ep {

namespace {

constexpr uint8_t kTtl = 64;
constexpr uint64_t kArpRetryNs = 100'000'000;  // one ARP request per 100 ms at most

void chunk_ref(void *r) {
    chunkstore::pin(static_cast<chunkstore::Chunk *>(r));
}
void chunk_unref(void *r) {
    chunkstore::unpin(static_cast<chunkstore::Chunk *>(r));
}
uint32_t chunk_sum(void *r, const uint8_t *data, uint32_t len) {
    auto *c = static_cast<chunkstore::Chunk *>(r);
    // The chunk keeps host-order sums (rte_raw_cksum's convention); the engine
    // wants network-order ones: the two differ by a byte swap (RFC 1071 §2(B)).
    return rte_bswap16(
        chunkstore::payload_partial_sum16(c, static_cast<uint32_t>(data - c->data), len));
}

// Sum of `len` bytes at `data` of `item` placed at byte `offset` of the TCP
// payload, in rte_raw_cksum's host-order convention: odd offsets swap the
// sum's bytes.
uint32_t piece_sum_host(const tcp::SendItem *item, const uint8_t *data, uint32_t len,
                        uint32_t offset) {
    uint16_t s;
    if (item->ops == &kChunkBufOps) {
        auto *c = static_cast<chunkstore::Chunk *>(item->ref);
        s = chunkstore::payload_partial_sum16(c, static_cast<uint32_t>(data - c->data), len);
    } else {
        s = net::fold_sum(net::sum_bytes(data, len));  // inline bytes: small, ours to read
    }
    return (offset & 1) ? rte_bswap16(s) : s;
}

// The first payload offset in (from, to) where one mbuf of the frame ends
// and the next begins at an odd offset (net_tap then sums the next one
// misaligned); `to` if none. Mirrors build()'s layout: inline bytes join the
// header mbuf only while nothing external came before them.
uint32_t first_odd_boundary(const tcp::SegmentOut &seg, uint32_t from, uint32_t to,
                            uint32_t head_room) {
    uint32_t off = 0, head_bytes = 0;
    bool tail_is_head = true;
    for (uint8_t i = 0; i < seg.npieces; ++i) {
        const tcp::PayloadPiece &pc = seg.pieces[i];
        const uint32_t ps = off, pe = off + pc.len;
        off = pe;
        if (pe <= from) continue;
        if (ps >= to) break;
        const uint32_t s = ps > from ? ps : from;
        const uint32_t n = (pe < to ? pe : to) - s;
        if (pc.item->ops != &kChunkBufOps && tail_is_head && head_bytes + n <= head_room) {
            head_bytes += n;  // copied into the header mbuf: no boundary
            continue;
        }
        tail_is_head = false;
        if ((s - from) & 1) return s;
    }
    return to;
}

}  // namespace

const tcp::ExtBufOps kChunkBufOps = {chunk_ref, chunk_unref, chunk_sum};

TcpIo::~TcpIo() {
    for (uint16_t i = 0; i < ntx_; ++i) rte_pktmbuf_free(tx_[i]);
    for (uint16_t i = 0; i < npend_; ++i) rte_pktmbuf_free(pend_[i]);
}

bool TcpIo::init(Lcore *lc, LcoreQueue *q, const tcp::StackConfig &cfg, uint64_t tx_offload,
                 uint64_t now_ns) {
    lc_ = lc;
    q_ = q;
    tx_offload_ = tx_offload;
    const bool per_frame = q->port && q->port->tx_csum_per_frame;
    hw_ip_csum_ = per_frame && (tx_offload & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM);
    hw_tcp_csum_ = per_frame && (tx_offload & RTE_ETH_TX_OFFLOAD_TCP_CKSUM);
    tso_ip_csum_ = tx_offload & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
    tso_even_pieces_ = !per_frame;
    tso_frame_max_ = q->port ? q->port->tso_frame_max : 0;
    tcp::StackConfig c = cfg;
    if (!(tx_offload & RTE_ETH_TX_OFFLOAD_TCP_TSO)) c.tso_max_bytes = 0;
    return stack_.init(c, this, now_ns);
}

Drop TcpIo::input(const rte_mbuf *m, const uint8_t *ip, const net::Ipv4View &v, uint64_t now_ns) {
    const uint32_t l4_len = v.total_len - v.header_len;
    const uint8_t *th = ip + v.header_len;
    tcp::SegmentIn s;
    switch (tcp::parse_header(th, l4_len, s)) {
        case tcp::ParseError::kOk:
            break;
        case tcp::ParseError::kTooShort:
            return Drop::tcp_truncated;
        case tcp::ParseError::kBadDataOffset:
            return Drop::tcp_bad_offset;
        case tcp::ParseError::kBadOptions:
            return Drop::tcp_bad_options;
    }
    // RFC 9293 §3.1: verify the checksum, trusting the NIC when it checked.
    const uint64_t l4_flags = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
    if (l4_flags == RTE_MBUF_F_RX_L4_CKSUM_BAD) return Drop::tcp_bad_checksum;
    if (l4_flags != RTE_MBUF_F_RX_L4_CKSUM_GOOD) {
        const uint64_t sum =
            net::pseudo_sum_v4(v.src, v.dst, IPPROTO_TCP, static_cast<uint16_t>(l4_len)) +
            net::sum_bytes(th, l4_len);
        if (net::fold_sum(sum) != 0xffff) return Drop::tcp_bad_checksum;
    }
    s.src = tcp::IpAddr::v4(rte_be_to_cpu_32(v.src));
    s.dst = tcp::IpAddr::v4(rte_be_to_cpu_32(v.dst));

    // Replies go back through whoever sent this (the host or its gateway):
    // a SYN teaches us that neighbour's MAC.
    if (s.flags & tcp::kSyn) {
        const auto *eh = rte_pktmbuf_mtod(m, const rte_ether_hdr *);
        if (q_->arp.learn(q_->port->addr.next_hop(v.src), eh->src_addr, now_ns))
            ++lc_->counters.arp_learned;
    }
    stack_.input(s, now_ns);
    return Drop::none;
}

Drop TcpIo::frag_needed(const net::FragNeeded &fn, uint64_t now_ns) {
    tcp::FlowKey k;
    k.local = tcp::IpAddr::v4(rte_be_to_cpu_32(fn.local));
    k.remote = tcp::IpAddr::v4(rte_be_to_cpu_32(fn.remote));
    k.lport = fn.lport;
    k.rport = fn.rport;
    switch (stack_.icmp_frag_needed(k, fn.seq, fn.mtu, now_ns)) {
        case tcp::IcmpVerdict::kAccepted:
        case tcp::IcmpVerdict::kIgnored:
            return Drop::none;
        case tcp::IcmpVerdict::kNoConnection:
        case tcp::IcmpVerdict::kOutOfWindow:
            break;
    }
    return Drop::icmp_frag_rejected;
}

bool TcpIo::resolve(uint32_t dst_be, rte_ether_addr *mac) {
    const uint64_t now = stack_.now();
    // A bulk sender emits dozens of segments to one peer per loop iteration
    // (one `now`): the first one's fresh answer serves the rest. A table
    // change inside the iteration (an ARP reply or SYN in the same burst)
    // is seen at the next one, as if these frames had already left.
    if (dst_be == last_dst_ && now == last_now_) {
        *mac = last_mac_;
        return true;
    }
    const uint32_t hop = q_->port->addr.next_hop(dst_be);
    const net::ArpTable::Resolved r = q_->arp.resolve(hop, now);
    if (r.use == net::ArpTable::Use::fresh) {
        last_dst_ = dst_be;
        last_now_ = now;
        last_mac_ = r.mac;
    }
    if (r.use == net::ArpTable::Use::expired) ++lc_->counters.arp_expired;
    if (r.usable()) {
        *mac = r.mac;
        // Stale: send as before, and ask the neighbour (unicast) whether it
        // is still there at that address (RFC 1122 2.3.2.1).
        if (r.use == net::ArpTable::Use::poll) {
            // No mbuf: counted; the entry polls again after poll_every.
            if (rte_mbuf *m = rte_pktmbuf_alloc(lc_->pool)) {
                auto *buf = reinterpret_cast<uint8_t *>(rte_pktmbuf_append(m, net::kArpFrameLen));
                net::build_arp_request(buf, q_->port->addr, hop, &r.mac);
                ++lc_->counters.arp_polls_sent;
                if (ntx_ == kTxCap) flush();
                tx_[ntx_++] = m;
            } else {
                lc_->counters.drop(Drop::arp_mbuf_exhausted);
            }
        }
        return true;
    }
    if (hop != 0 && now - last_arp_ns_ > kArpRetryNs) {
        last_arp_ns_ = now;
        // No mbuf: counted; the next send after kArpRetryNs asks again.
        if (rte_mbuf *m = rte_pktmbuf_alloc(lc_->pool)) {
            auto *buf = reinterpret_cast<uint8_t *>(rte_pktmbuf_append(m, net::kArpFrameLen));
            net::build_arp_request(buf, q_->port->addr, hop);
            ++lc_->counters.arp_requests_sent;
            if (ntx_ == kTxCap) flush();
            tx_[ntx_++] = m;
        } else {
            lc_->counters.drop(Drop::arp_mbuf_exhausted);
        }
    }
    return false;
}

void TcpIo::emit(const tcp::SegmentOut &seg) {
    rte_ether_addr mac;
    if (!resolve(rte_cpu_to_be_32(seg.dst.v4_host()), &mac)) {
        lc_->counters.drop(Drop::tcp_no_route);  // TCP retransmits once ARP resolves
        return;
    }
    if (seg.tso_segsz) return emit_tso(seg, mac);
    queue(build(seg, mac, 0, seg.payload_len, 0));
}

bool TcpIo::send_udp(uint32_t dst_be, uint16_t sport, uint16_t dport, const uint8_t *payload,
                     uint16_t len) {
    rte_ether_addr mac;
    if (!resolve(dst_be, &mac)) return false;
    constexpr uint32_t kHdrs = sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr);
    if (len > 1400) return false;
    rte_mbuf *m = rte_pktmbuf_alloc(lc_->pool);
    if (!m) {
        lc_->counters.drop(Drop::udp_mbuf_exhausted);
        return false;
    }
    auto *eh = reinterpret_cast<rte_ether_hdr *>(
        rte_pktmbuf_append(m, static_cast<uint16_t>(kHdrs + len)));
    auto *ih = reinterpret_cast<rte_ipv4_hdr *>(eh + 1);
    auto *uh = reinterpret_cast<rte_udp_hdr *>(ih + 1);
    std::memcpy(uh + 1, payload, len);
    eh->dst_addr = mac;
    eh->src_addr = q_->port->addr.mac;
    eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    ih->version_ihl = RTE_IPV4_VHL_DEF;
    ih->type_of_service = 0;
    ih->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof *ih + sizeof *uh + len));
    ih->packet_id = 0;
    ih->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
    ih->time_to_live = kTtl;
    ih->next_proto_id = IPPROTO_UDP;
    ih->hdr_checksum = 0;
    ih->src_addr = q_->port->addr.ip;
    ih->dst_addr = dst_be;
    uh->src_port = rte_cpu_to_be_16(sport);
    uh->dst_port = rte_cpu_to_be_16(dport);
    uh->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof *uh + len));
    uh->dgram_cksum = 0;
    ih->hdr_checksum = rte_ipv4_cksum(ih);
    uh->dgram_cksum = rte_ipv4_udptcp_cksum(ih, uh);  // 0 comes out as 0xffff (RFC 768)
    queue(m);
    return true;
}

void TcpIo::queue(rte_mbuf *m) {
    if (!m) {
        lc_->counters.drop(Drop::tcp_mbuf_exhausted);
        return;
    }
    if (ntx_ == kTxCap) flush();
    tx_[ntx_++] = m;
}

// A super-segment: one TSO frame, or on net_tap as few as its checksum bug
// allows: where an mbuf would end at an odd payload offset, the segment
// holding that boundary goes as an ordinary frame (our own sum) and TSO
// frames carry the whole segments before and after it.
void TcpIo::emit_tso(const tcp::SegmentOut &seg, const rte_ether_addr &mac) {
    const uint32_t len = seg.payload_len;
    uint16_t segsz = seg.tso_segsz;
    // net_tap's segment size limit (port.h, tso_frame_max).
    const uint32_t hdrs = sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + tcp::header_length(seg);
    if (tso_frame_max_ && segsz + hdrs > tso_frame_max_)
        segsz = static_cast<uint16_t>(tso_frame_max_ - hdrs);
    const uint32_t head_room = RTE_MBUF_DEFAULT_DATAROOM - hdrs;
    uint32_t from = 0;
    while (from < len) {
        uint32_t to = len;
        if (tso_even_pieces_) {
            const uint32_t b = first_odd_boundary(seg, from, len, head_room);
            if (b < len) {
                const uint32_t cut = from + (b - from) / segsz * segsz;
                to = cut > from ? cut : std::min(from + segsz, len);
            }
        }
        queue(build(seg, mac, from, to, to - from > segsz ? segsz : 0));
        from = to;
    }
}

rte_mbuf *TcpIo::build(const tcp::SegmentOut &seg, const rte_ether_addr &dst_mac, uint32_t from,
                       uint32_t to, uint16_t tso_segsz) {
    rte_mbuf *head = rte_pktmbuf_alloc(lc_->pool);
    if (!head) return nullptr;
    // The TCP header first: write_header returns its length (options
    // included), which sizes the rest, so it is not computed twice.
    auto *p = rte_pktmbuf_mtod(head, uint8_t *);
    auto *eh = reinterpret_cast<rte_ether_hdr *>(p);
    auto *ih = reinterpret_cast<rte_ipv4_hdr *>(eh + 1);
    auto *th = reinterpret_cast<rte_tcp_hdr *>(ih + 1);
    const uint32_t tcp_len = static_cast<uint32_t>(
        tcp::write_header(seg, reinterpret_cast<uint8_t *>(th)));  // checksum zero
    const uint32_t hdr_len = sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + tcp_len;
    rte_pktmbuf_append(head, static_cast<uint16_t>(hdr_len));  // at p: the mbuf was empty
    const uint32_t plen = to - from;
    if (plen != seg.payload_len) {  // a part of a super-segment (emit_tso)
        th->sent_seq = rte_cpu_to_be_32(seg.seq + from);
        if (to != seg.payload_len) th->tcp_flags &= static_cast<uint8_t>(~(tcp::kFin | tcp::kPsh));
    }

    eh->dst_addr = dst_mac;
    eh->src_addr = q_->port->addr.mac;
    eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    ih->version_ihl = RTE_IPV4_VHL_DEF;
    ih->type_of_service = 0;
    ih->total_length =
        rte_cpu_to_be_16(static_cast<uint16_t>(sizeof(rte_ipv4_hdr) + tcp_len + plen));
    ih->packet_id = 0;
    ih->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);  // PMTU discovery (RFC 1191)
    ih->time_to_live = kTtl;
    ih->next_proto_id = IPPROTO_TCP;
    ih->hdr_checksum = 0;
    ih->src_addr = rte_cpu_to_be_32(seg.src.v4_host());
    ih->dst_addr = rte_cpu_to_be_32(seg.dst.v4_host());

    // Payload: inline bytes join the header mbuf while nothing external came
    // before them; chunk memory is attached, never copied.
    rte_mbuf *tail = head;
    const bool sw_csum = !tso_segsz && !hw_tcp_csum_;
    uint32_t payload_sum = 0, off = 0;
    for (uint8_t i = 0; i < seg.npieces; ++i) {
        const tcp::PayloadPiece &pc = seg.pieces[i];
        // This frame's part of the piece: payload bytes [from, to) only.
        const uint32_t ps = off, pe = off + pc.len;
        off = pe;
        if (pe <= from) continue;
        if (ps >= to) break;
        const uint32_t skip = ps < from ? from - ps : 0;
        const uint8_t *data = pc.data + skip;
        const uint32_t n = (pe < to ? pe : to) - (ps + skip);
        if (sw_csum) payload_sum += piece_sum_host(pc.item, data, n, ps + skip - from);
        rte_mbuf *seg_m;
        if (pc.item->ops == &kChunkBufOps) {
            auto *c = static_cast<chunkstore::Chunk *>(pc.item->ref);
            seg_m =
                chunkstore::attach_slice(c, static_cast<uint32_t>(data - c->data), n, lc_->pool);
        } else if (tail == head && rte_pktmbuf_tailroom(head) >= n) {
            std::memcpy(rte_pktmbuf_append(head, static_cast<uint16_t>(n)), data, n);
            continue;
        } else {
            seg_m = rte_pktmbuf_alloc(lc_->pool);
            if (seg_m) std::memcpy(rte_pktmbuf_append(seg_m, static_cast<uint16_t>(n)), data, n);
        }
        if (!seg_m || rte_pktmbuf_chain(head, seg_m) != 0) {
            if (seg_m) rte_pktmbuf_free(seg_m);
            rte_pktmbuf_free(head);
            return nullptr;
        }
        tail = seg_m;
    }

    head->l2_len = sizeof(rte_ether_hdr);
    head->l3_len = sizeof(rte_ipv4_hdr);
    head->l4_len = static_cast<uint8_t>(tcp_len);
    if (tso_segsz) {
        // DPDK's TSO contract (rte_mbuf_core.h, RTE_MBUF_F_TX_TCP_SEG): IPv4
        // flag, l2/l3/l4_len, tso_segsz, and the TCP checksum field holding
        // the pseudo-header sum without the length (rte_ipv4_phdr_cksum
        // leaves it out for TCP_SEG). The port sums each segment.
        head->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM;
        head->tso_segsz = tso_segsz;
        if (tso_ip_csum_) {
            head->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
        } else {
            // virtio: the host segments and writes each header's sum; ours
            // is right for the super-segment as it stands.
            ih->hdr_checksum =
                static_cast<uint16_t>(~net::fold_sum(net::sum_bytes(ih, sizeof *ih)));
        }
        th->cksum = rte_ipv4_phdr_cksum(ih, head->ol_flags);
        return head;
    }
    if (hw_ip_csum_) {
        head->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
    } else {
        ih->hdr_checksum = static_cast<uint16_t>(~net::fold_sum(net::sum_bytes(ih, sizeof *ih)));
    }
    if (!sw_csum) {
        head->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
        th->cksum = rte_ipv4_phdr_cksum(ih, head->ol_flags);
    } else {
        // Pseudo-header + TCP header + payload block sums: the payload is not read.
        const uint64_t sum = net::pseudo_sum_v4(ih->src_addr, ih->dst_addr, IPPROTO_TCP,
                                                static_cast<uint16_t>(tcp_len + plen)) +
                             net::sum_bytes(th, tcp_len) + payload_sum;
        th->cksum = static_cast<uint16_t>(~net::fold_sum(sum));
    }
    return head;
}

// A full TX ring means the link is busy for a moment, not that the segments
// are lost: keep what it refused (in order, bounded) and offer it first on
// the next iteration, instead of leaving TCP to find the hole by RTO.
uint16_t TcpIo::flush() {
    uint16_t handed = 0;
    if (npend_ > 0) {
        const uint16_t k = port_send(*lc_, *q_, pend_, npend_);
        if (k > 0) {
            refused_since_ns_ = 0;
        } else {
            // A full TX ring drains in microseconds. A head frame refused for
            // 50 ms is one the driver will never take (net_tap refuses some
            // frames by length for good), and keeping it would block every
            // frame behind it, retransmissions included, on every connection:
            // drop it, counted, and let TCP resend it as a lost segment.
            const uint64_t now = lc_->tsc_to_ns(rte_rdtsc());
            if (refused_since_ns_ == 0) {
                refused_since_ns_ = now;
            } else if (now - refused_since_ns_ > 50'000'000) {
                lc_->counters.drop(Drop::tx_refused);
                rte_pktmbuf_free(pend_[0]);
                std::memmove(pend_, pend_ + 1, (npend_ - 1) * sizeof(rte_mbuf *));
                --npend_;
                refused_since_ns_ = 0;
            }
        }
        std::memmove(pend_, pend_ + k, (npend_ - k) * sizeof(rte_mbuf *));
        npend_ = static_cast<uint16_t>(npend_ - k);
        handed = k;
    }
    if (ntx_ == 0) return handed;
    uint16_t n = ntx_;
    ntx_ = 0;
    if (q_->fault && (q_->fault->tx_enabled() || q_->fault->holding(true)))
        n = q_->fault->apply(true, *lc_, tx_, n, kTxCap, stack_.now());
    const uint16_t k = npend_ == 0 ? port_send(*lc_, *q_, tx_, n) : 0;  // never overtake
    handed = static_cast<uint16_t>(handed + k);
    for (uint16_t i = k; i < n; ++i) {
        if (npend_ < kTxCap) {
            pend_[npend_++] = tx_[i];
        } else {
            lc_->counters.drop(Drop::tx_queue_full);
            rte_pktmbuf_free(tx_[i]);
        }
    }
    return handed;
}

}  // namespace ep

// The receive path of a data lcore, from Ethernet up to the protocol that
// answers. Modelled on DPDK's l3fwd: one screen, one burst at a time, replies
// built in place in the received mbuf so the common case allocates nothing.
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "dataplane/lcore.h"
#include "dataplane/net/arp.h"
#include "dataplane/net/byte_order.h"
#include "dataplane/net/eth.h"
#include "dataplane/net/icmp.h"
#include "dataplane/net/ipv4.h"
#include "dataplane/net/udp/udp.h"
#include "dataplane/probe_service.h"
#include "dataplane/tcp_io.h"

namespace ep {

namespace {

// What became of one received packet.
struct Fate {
    bool transmit = false;   // rewritten in place; send it back out
    Drop drop = Drop::none;  // when not transmitted and not none: why it was dropped
    bool handed = false;     // given to another lcore (steering): not ours to free
};

// The steering stage (tcp/port_steer.h): a segment for a local port in
// another lcore's slice of the ephemeral range is that lcore's (an origin
// connection it opened); hand it over whole, it parses it again there.
Fate steer_tcp(Lcore &lc, LcoreQueue &q, rte_mbuf *m, const uint8_t *ip, const net::Ipv4View &v,
               bool *mine) {
    *mine = true;
    if (q.steer.lcores <= 1 || v.total_len < v.header_len + 4u) return {};
    const uint16_t dport = net::get16(ip + v.header_len + 2);
    const uint16_t owner = q.steer.owner(dport);
    if (owner == tcp::PortSteer::kNone || owner == q.steer_self) return {};
    *mine = false;
    if (rte_ring_mp_enqueue(q.steer_to[owner], m) != 0) return {false, Drop::steer_ring_full};
    ++lc.counters.steer_handed_over;
    return {false, Drop::none, true};
}

// Each lcore resolves its next hops in its own table, and the reply to the
// one that asked may reach any queue: every other lcore gets a copy of an
// ARP reply (rare: one per neighbour and aging period). A copy that finds no
// mbuf or no ring room is not shared (counted: arp_mbuf_exhausted,
// steer_ring_full): that lcore's ARP asks again.
void share_arp_reply(Lcore &lc, LcoreQueue &q, const rte_mbuf *m, const uint8_t *frame,
                     uint32_t len) {
    constexpr uint32_t kOp = sizeof(rte_ether_hdr) + 6;
    if (q.steer.lcores <= 1 || len < kOp + 2 || frame[kOp] != 0 || frame[kOp + 1] != 2) return;
    for (uint16_t i = 0; i < q.steer.lcores; ++i) {
        if (i == q.steer_self || !q.steer_to[i]) continue;
        rte_mbuf *c = rte_pktmbuf_copy(m, lc.pool, 0, UINT32_MAX);
        if (!c) {
            lc.counters.drop(Drop::arp_mbuf_exhausted);
            return;
        }
        if (rte_ring_mp_enqueue(q.steer_to[i], c) != 0) {
            lc.counters.drop(Drop::steer_ring_full);
            rte_pktmbuf_free(c);
            continue;
        }
        ++lc.counters.steer_arp_shared;
    }
}

// A datagram for a bound port goes to its service, which may answer in place;
// one for any other port is turned into an ICMP port unreachable, as long as
// this lcore's ICMP error budget lasts.
Fate handle_udp(Lcore &lc, LcoreQueue &q, rte_mbuf *m, uint8_t *ip, net::Ipv4View &v,
                uint64_t now) {
    net::udp::View u;
    if (Drop d = net::udp::parse(ip, v, &u); d != Drop::none) return {false, d};
    ++lc.counters.udp_datagrams;
    // What the buffer and the port's MTU let us write from the IPv4 header on.
    uint32_t room = m->buf_len - m->data_off - sizeof(rte_ether_hdr);
    if (room > q.port->mtu) room = q.port->mtu;
    net::udp::Handler *h = q.udp.find(u.dst_port);
    if (!h) {
        if (!lc.icmp_errors.allow(lc.tsc_to_ns(now))) return {false, Drop::udp_unreachable_limited};
        if (net::icmp_port_unreachable_in_place(ip, v, room) == 0)
            return {false, Drop::udp_no_handler};
        ++lc.counters.icmp_port_unreachables;
        return {true};
    }
    net::udp::strip_ip_options(ip, &v, &u);
    net::udp::Datagram d{v.src,
                         v.dst,
                         u.src_port,
                         u.dst_port,
                         ip + u.payload_off,
                         u.payload_len,
                         static_cast<uint16_t>(room - u.payload_off)};
    const int reply = h->on_datagram(d);
    if (reply < 0) return {};  // consumed
    net::udp::reply_in_place(ip, u, static_cast<uint16_t>(reply));
    ++lc.counters.udp_replies;
    return {true};
}

// What may answer one of the active prober's probes (an echo reply, a TCP
// segment to its reserved ports) is its, before the echo server and the TCP
// stack: a SYN-ACK to a port the stack never opened must not meet the
// stack's RST path. *mine false: not the prober's, go on as before.
Fate probe_input(Lcore &lc, LcoreQueue &q, uint8_t *frame, uint8_t *ip, const net::Ipv4View &v,
                 uint64_t now, bool *mine) {
    *mine = true;
    Drop d = Drop::none;
    switch (q.probe->input(ip, v.total_len, lc.tsc_to_ns(now), &d)) {
        case ProbeService::Verdict::kNotOurs:
            break;
        case ProbeService::Verdict::kConsumed:
            return {};
        case ProbeService::Verdict::kDropped:
            return {false, d};
        case ProbeService::Verdict::kReply:
            net::eth_reply_in_place(frame, q.port->addr.mac);
            return {true};
    }
    *mine = false;
    return {};
}

Fate handle_ipv4(Lcore &lc, LcoreQueue &q, rte_mbuf *m, uint8_t *frame, uint32_t len,
                 uint64_t now) {
    uint8_t *ip = frame + sizeof(rte_ether_hdr);
    net::Ipv4View v;
    // The port's RX checksum offload, where it was enabled (port.cc) and checked.
    const uint64_t ipf = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
    const net::HwCsum hw = ipf == RTE_MBUF_F_RX_IP_CKSUM_GOOD  ? net::HwCsum::good
                           : ipf == RTE_MBUF_F_RX_IP_CKSUM_BAD ? net::HwCsum::bad
                                                               : net::HwCsum::unknown;
    if (Drop d = net::parse_ipv4(ip, len - sizeof(rte_ether_hdr), q.port->addr, &v, hw);
        d != Drop::none)
        return {false, d};
    if (q.probe && (v.protocol == IPPROTO_ICMP || v.protocol == IPPROTO_TCP)) {
        bool mine;
        if (Fate f = probe_input(lc, q, frame, ip, v, now, &mine); mine) return f;
    }
    switch (v.protocol) {
        case IPPROTO_ICMP: {
            // Fragmentation needed for one of our segments (RFC 1191): the
            // engine validates it against the connection (RFC 5927) and
            // lowers its MSS; rejected ones count as icmp_frag_rejected.
            net::FragNeeded fn;
            if (Drop d = net::parse_icmp_frag_needed(ip, v, &fn);
                d != Drop::icmp_unsupported_type) {
                if (d != Drop::none) return {false, d};
                if (!q.tcp) return {false, Drop::tcp_no_handler};
                return {false, q.tcp->frag_needed(fn, lc.tsc_to_ns(now))};
            }
            if (Drop d = net::icmp_echo_reply_in_place(ip, v); d != Drop::none) return {false, d};
            net::eth_reply_in_place(frame, q.port->addr.mac);
            ++lc.counters.icmp_echo_replies;
            return {true};
        }
        case IPPROTO_TCP: {
            bool mine;
            if (Fate f = steer_tcp(lc, q, m, ip, v, &mine); !mine) return f;
            // Consumed by the engine (it copies what it keeps); the caller frees m.
            if (q.tcp) return {false, q.tcp->input(m, ip, v, lc.tsc_to_ns(now))};
            return {false, Drop::tcp_no_handler};
        }
        case IPPROTO_UDP: {
            Fate f = handle_udp(lc, q, m, ip, v, now);
            if (f.transmit) net::eth_reply_in_place(frame, q.port->addr.mac);
            return f;
        }
        default:
            return {false, Drop::ipv4_unknown_protocol};
    }
}

Fate handle_frame(Lcore &lc, LcoreQueue &q, rte_mbuf *m, uint64_t now, bool steered) {
    // Received frames fit one segment: the ports run without scattered RX.
    if (!RTE_MBUF_DIRECT(m) || m->nb_segs != 1) return {false, Drop::rx_multi_segment};
    uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
    const uint32_t len = rte_pktmbuf_data_len(m);
    const net::EthVerdict eth = net::classify_eth(frame, len, q.port->addr.mac);
    switch (eth.l3) {
        case net::L3::ipv4: {
            Fate f = handle_ipv4(lc, q, m, frame, len, now);
            if (f.transmit) {
                // Trim Ethernet padding: the reply is exactly the datagram.
                const auto *ih = reinterpret_cast<rte_ipv4_hdr *>(frame + sizeof(rte_ether_hdr));
                const uint32_t l = sizeof(rte_ether_hdr) + rte_be_to_cpu_16(ih->total_length);
                m->data_len = m->pkt_len = l;
            }
            return f;
        }
        case net::L3::arp: {
            if (!steered) share_arp_reply(lc, q, m, frame, len);
            net::ArpVerdict a =
                net::process_arp(frame, len, q.port->addr, q.arp, lc.tsc_to_ns(now));
            lc.counters.arp_learned += a.learned;
            if (a.action == net::ArpAction::reply) {
                m->data_len = m->pkt_len = net::kArpFrameLen;
                ++lc.counters.arp_replies;
                return {true};
            }
            return {false, a.action == net::ArpAction::consumed ? Drop::none : a.reason};
        }
        case net::L3::ipv6:
            return {false, Drop::ipv6_unsupported};
        case net::L3::drop:
            break;
    }
    return {false, eth.reason};
}

}  // namespace

uint16_t process_burst(Lcore &lc, LcoreQueue &q, rte_mbuf **pkts, uint16_t n, rte_mbuf **tx,
                       uint64_t now, bool steered) {
    uint16_t ntx = 0;
    // With TSO, TCP output waits for the end of the burst: a connection
    // sends once for all of the burst's ACKs, one super-segment rather than
    // one of two MSS per ACK (docs/tcp.md "TSO").
    tcp::Stack *batch = q.tcp && q.tcp->stack().config().tso_max_bytes ? &q.tcp->stack() : nullptr;
    if (batch) batch->begin_burst();
    for (uint16_t i = 0; i < n; ++i) {
        if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
        rte_mbuf *m = pkts[i];
        if (steered) {
            ++lc.counters.steer_received;  // rx_* counted where it arrived
        } else {
            ++lc.counters.rx_packets;
            lc.counters.rx_bytes += m->pkt_len;
        }
        const Fate f = handle_frame(lc, q, m, now, steered);
        if (f.handed) continue;
        if (f.transmit) {
            tx[ntx++] = m;
            continue;
        }
        if (f.drop != Drop::none) lc.counters.drop(f.drop);
        rte_pktmbuf_free(m);
    }
    if (batch) batch->end_burst();
    return ntx;
}

}  // namespace ep

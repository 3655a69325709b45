// Per-lcore counters. Each data lcore owns one LcoreCounters and is its only
// writer; readers (the control thread) load the fields relaxed and sum them.
// Every packet the data plane does not forward or answer ends in exactly one
// drop reason, so `edgectl stats` explains every loss by name.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace ep {

// Traffic and time accounting. busy/idle cycles let a load test turn a run into
// cycles per request and per byte on the server core. X(name, help): the help
// text is what /metrics prints as # HELP.
#define EP_TRAFFIC_COUNTERS(X)                                                        \
    X(rx_packets, "packets received from the port")                                   \
    X(rx_bytes, "bytes received from the port (Ethernet frames)")                     \
    X(tx_packets, "packets handed to the port for transmission")                      \
    X(tx_bytes, "bytes handed to the port for transmission (Ethernet frames)")        \
    X(rx_bursts, "receive bursts that returned at least one packet")                  \
    X(busy_cycles, "TSC cycles of loop turns that did work")                          \
    X(idle_cycles, "TSC cycles of loop turns that found nothing to do")               \
    X(arp_replies, "ARP replies sent for our address")                                \
    X(arp_requests_sent, "ARP requests sent to resolve a next hop")                   \
    X(arp_learned, "ARP entries learned or refreshed")                                \
    X(arp_polls_sent, "unicast ARP polls of stale neighbours (RFC 1122 2.3.2.1)")     \
    X(arp_expired, "neighbour entries forgotten: polls went unanswered")              \
    X(icmp_echo_replies, "ICMP echo replies sent")                                    \
    X(icmp_port_unreachables, "ICMP port unreachables sent for UDP to unbound ports") \
    X(udp_datagrams, "UDP datagrams received with a valid header")                    \
    X(udp_replies, "UDP replies sent by a service (answered in place)")               \
    X(fault_dropped, "packets dropped by the fault-injection stage")                  \
    X(fault_duplicated, "packets duplicated by the fault-injection stage")            \
    X(fault_delayed, "packets delayed (reordered) by the fault-injection stage")      \
    X(fault_corrupted, "packets corrupted by the fault-injection stage")              \
    X(access_ring_drops, "cache-policy access records lost: the ring to the control thread was full") \
    X(response_log_drops, "access-log lines lost: the response-log ring to the control thread was full") \
    X(rtt_records_sent, "passive RTT records (one per measured TCP connection) queued to the control thread") \
    X(rtt_ring_full, "passive RTT records lost: the RTT ring to the control thread was full") \
    X(drain_resets, "connections reset because they were still open at a drain's deadline") \
    X(steer_handed_over, "TCP segments for another lcore's local port handed to it over its steering ring") \
    X(steer_received, "TCP segments and ARP replies another lcore handed to this one") \
    X(steer_arp_shared, "ARP replies copied to the other lcores (each keeps its own neighbour table)") \
    X(idle_pauses, "loop turns ended with rte_pause(): idle back-off, no work for a while") \
    X(idle_sleeps, "sleeps of the idle back-off (nanosleep after many turns with no work)") \
    X(idle_sleep_cycles, "TSC cycles the idle back-off slept (also counted in idle_cycles)")

// Why a packet was dropped. Grouped by the layer that decided it.
#define EP_DROP_REASONS(X)                                                                  \
    X(eth_truncated, "frame shorter than an Ethernet header")                               \
    X(eth_not_for_us, "destination MAC neither ours nor broadcast")                         \
    X(eth_unknown_type, "EtherType other than IPv4, ARP, IPv6")                             \
    X(rx_multi_segment, "received mbuf chained or indirect (not supported)")                \
    X(arp_truncated, "ARP packet too short")                                                \
    X(arp_unsupported_format, "ARP not Ethernet/IPv4")                                      \
    X(arp_unsupported_op, "ARP operation neither request nor reply")                        \
    X(arp_not_for_us, "ARP request for another address")                                    \
    X(ipv4_truncated, "IPv4 packet shorter than its header")                                \
    X(ipv4_bad_version, "IP version field not 4")                                           \
    X(ipv4_bad_ihl, "IPv4 header length below 20 bytes")                                    \
    X(ipv4_bad_length, "IPv4 total length inconsistent with the frame")                     \
    X(ipv4_bad_checksum, "IPv4 header checksum wrong")                                      \
    X(ipv4_bad_source, "martian source: 0/8, 127/8, multicast or class E (RFC 1812 5.3.7)") \
    X(ipv4_ttl_expired, "IPv4 TTL zero")                                                    \
    X(ipv4_fragment, "IPv4 fragment (no reassembly)")                                       \
    X(ipv4_not_for_us, "IPv4 destination not our address")                                  \
    X(ipv4_unknown_protocol, "IPv4 protocol other than ICMP, TCP, UDP")                     \
    X(ipv6_unsupported, "IPv6 packet (not supported yet)")                                  \
    X(icmp_truncated, "ICMP message too short")                                             \
    X(icmp_bad_checksum, "ICMP checksum wrong")                                             \
    X(icmp_unsupported_type, "ICMP type/code we do not handle")                             \
    X(icmp_quote_invalid, "ICMP error quoting no valid IPv4/TCP header of ours")            \
    X(icmp_frag_rejected, "ICMP fragmentation-needed the TCP engine did not accept")        \
    X(probe_stray, "echo reply or TCP segment for the active prober with no probe in flight (late)") \
    X(tcp_no_handler, "TCP segment on a queue without a TCP stack")                         \
    X(tcp_truncated, "TCP segment shorter than its header")                                 \
    X(tcp_bad_offset, "TCP data offset out of range")                                       \
    X(tcp_bad_checksum, "TCP checksum wrong")                                               \
    X(tcp_bad_options, "TCP options malformed")                                             \
    X(tcp_no_route, "TCP segment not sent: next hop not resolved yet (ARP)")                \
    X(tcp_mbuf_exhausted, "TCP segment not sent: no mbuf")                                  \
    X(arp_mbuf_exhausted, "ARP request, poll, announcement, or reply copy for another lcore not sent: no mbuf") \
    X(udp_mbuf_exhausted, "UDP datagram this lcore originated not sent: no mbuf (its sender retries)") \
    X(udp_truncated, "UDP datagram shorter than its header")                                \
    X(udp_bad_length, "UDP length field inconsistent with the packet")                      \
    X(udp_bad_checksum, "UDP checksum wrong")                                               \
    X(udp_no_handler, "UDP to an unbound port, no room for the ICMP error")                 \
    X(udp_unreachable_limited, "UDP to an unbound port, ICMP error rate-limited")           \
    X(tx_queue_full, "packet not sent: the port's transmit queue was full")                 \
    X(tx_refused, "TCP frame dropped after the driver refused it for 50 ms (TCP resends it)") \
    X(fault_injected, "packet dropped by the fault-injection stage")                        \
    X(steer_ring_full, "segment for another lcore's port (or an ARP reply copy for it) dropped: its steering ring was full")

enum class Drop : uint16_t {
    none = 0,
#define EP_X(name, help) name,
    EP_DROP_REASONS(EP_X)
#undef EP_X
        count_
};
inline constexpr std::size_t kDropReasons = static_cast<std::size_t>(Drop::count_);

inline constexpr std::array<std::string_view, kDropReasons> kDropNames = {"none",
#define EP_X(name, help) #name,
                                                                          EP_DROP_REASONS(EP_X)
#undef EP_X
};

inline constexpr std::array<std::string_view, kDropReasons> kDropHelp = {"not dropped",
#define EP_X(name, help) help,
                                                                         EP_DROP_REASONS(EP_X)
#undef EP_X
};

inline constexpr std::string_view drop_name(Drop d) {
    return kDropNames[static_cast<std::size_t>(d)];
}
inline constexpr std::string_view drop_help(Drop d) {
    return kDropHelp[static_cast<std::size_t>(d)];
}

struct alignas(64) LcoreCounters {
#define EP_X(name, help) uint64_t name = 0;
    EP_TRAFFIC_COUNTERS(EP_X)
#undef EP_X
    std::array<uint64_t, kDropReasons> drops{};

    void drop(Drop d) {
        ++drops[static_cast<std::size_t>(d)];
    }
    uint64_t dropped(Drop d) const {
        return drops[static_cast<std::size_t>(d)];
    }

    // Adds every counter and drop reason of `o` (from the X-macro list, so a
    // new counter is summed without touching this). Plain reads: for a
    // snapshot copy, not for the live set another core writes.
    LcoreCounters &operator+=(const LcoreCounters &o) {
#define EP_X(name, help) name += o.name;
        EP_TRAFFIC_COUNTERS(EP_X)
#undef EP_X
        for (std::size_t i = 0; i < kDropReasons; ++i) drops[i] += o.drops[i];
        return *this;
    }
};

// Visits every counter as (name, help, value, is_drop): the traffic counters,
// then each drop reason (without "none"), reading each field once with a
// relaxed atomic load so a concurrent writer on another core is fine.
template <typename F>
void for_each_counter(const LcoreCounters &c, F &&f) {
#define EP_X(name, help)                                                                           \
    f(std::string_view(#name), std::string_view(help), __atomic_load_n(&c.name, __ATOMIC_RELAXED), \
      false);
    EP_TRAFFIC_COUNTERS(EP_X)
#undef EP_X
    for (std::size_t i = 1; i < kDropReasons; ++i)
        f(kDropNames[i], kDropHelp[i], __atomic_load_n(&c.drops[i], __ATOMIC_RELAXED), true);
}

}  // namespace ep

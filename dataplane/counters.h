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
// cycles per request and per byte on the server core.
#define EP_TRAFFIC_COUNTERS(X) \
    X(rx_packets)              \
    X(rx_bytes)                \
    X(tx_packets)              \
    X(tx_bytes)                \
    X(rx_bursts)               \
    X(busy_cycles)             \
    X(idle_cycles)             \
    X(arp_replies)             \
    X(arp_requests_sent)       \
    X(arp_learned)             \
    X(arp_polls_sent)          \
    X(arp_expired)             \
    X(icmp_echo_replies)       \
    X(icmp_port_unreachables)  \
    X(udp_datagrams)           \
    X(udp_replies)             \
    X(fault_dropped)           \
    X(fault_duplicated)        \
    X(fault_delayed)           \
    X(fault_corrupted)         \
    X(access_ring_drops)

// Why a packet was dropped. Grouped by the layer that decided it.
#define EP_DROP_REASONS(X)      \
    X(eth_truncated)            \
    X(eth_not_for_us)           \
    X(eth_unknown_type)         \
    X(rx_multi_segment)         \
    X(arp_truncated)            \
    X(arp_unsupported_format)   \
    X(arp_unsupported_op)       \
    X(arp_not_for_us)           \
    X(ipv4_truncated)           \
    X(ipv4_bad_version)         \
    X(ipv4_bad_ihl)             \
    X(ipv4_bad_length)          \
    X(ipv4_bad_checksum)        \
    X(ipv4_bad_source)          \
    X(ipv4_ttl_expired)         \
    X(ipv4_fragment)            \
    X(ipv4_not_for_us)          \
    X(ipv4_unknown_protocol)    \
    X(ipv6_unsupported)         \
    X(icmp_truncated)           \
    X(icmp_bad_checksum)        \
    X(icmp_unsupported_type)    \
    X(icmp_quote_invalid)       \
    X(icmp_frag_rejected)       \
    X(tcp_no_handler)           \
    X(tcp_truncated)            \
    X(tcp_bad_offset)           \
    X(tcp_bad_checksum)         \
    X(tcp_bad_options)          \
    X(tcp_no_route)             \
    X(tcp_mbuf_exhausted)       \
    X(udp_truncated)            \
    X(udp_bad_length)           \
    X(udp_bad_checksum)         \
    X(udp_no_handler)           \
    X(udp_unreachable_limited)  \
    X(tx_queue_full)            \
    X(fault_injected)

enum class Drop : uint16_t {
    none = 0,
#define EP_X(name) name,
    EP_DROP_REASONS(EP_X)
#undef EP_X
        count_
};
inline constexpr std::size_t kDropReasons = static_cast<std::size_t>(Drop::count_);

inline constexpr std::array<std::string_view, kDropReasons> kDropNames = {
    "none",
#define EP_X(name) #name,
    EP_DROP_REASONS(EP_X)
#undef EP_X
};

inline constexpr std::string_view drop_name(Drop d) {
    return kDropNames[static_cast<std::size_t>(d)];
}

struct alignas(64) LcoreCounters {
#define EP_X(name) uint64_t name = 0;
    EP_TRAFFIC_COUNTERS(EP_X)
#undef EP_X
    std::array<uint64_t, kDropReasons> drops{};

    void drop(Drop d) { ++drops[static_cast<std::size_t>(d)]; }
    uint64_t dropped(Drop d) const { return drops[static_cast<std::size_t>(d)]; }
};

// Visits every counter as (name, value, is_drop), reading each field once with
// a relaxed atomic load so a concurrent writer on another core is fine.
template <typename F>
void for_each_counter(const LcoreCounters &c, F &&f) {
#define EP_X(name) f(std::string_view(#name), __atomic_load_n(&c.name, __ATOMIC_RELAXED), false);
    EP_TRAFFIC_COUNTERS(EP_X)
#undef EP_X
    for (std::size_t i = 1; i < kDropReasons; ++i)
        f(kDropNames[i], __atomic_load_n(&c.drops[i], __ATOMIC_RELAXED), true);
}

}  // namespace ep

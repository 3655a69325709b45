// Per-lcore counters (dataplane/counters.h) and their rendering (control/stats.cc):
// every counter and drop reason has help text, sums go through the X-macro,
// and the help reaches what the control thread lists.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "control/stats.h"
#include "dataplane/counters.h"

namespace ep {
namespace {

TEST(LcoreCounters, EveryCounterAndDropReasonHasUniqueNameAndHelp) {
    LcoreCounters c;
    std::set<std::string> names;
    std::size_t traffic = 0, drops = 0;
    for_each_counter(c, [&](std::string_view name, std::string_view help, uint64_t, bool is_drop) {
        EXPECT_FALSE(help.empty()) << name;
        EXPECT_TRUE(names.insert(std::string(name)).second) << "duplicate " << name;
        ++(is_drop ? drops : traffic);
    });
    EXPECT_EQ(drops, kDropReasons - 1);  // all but "none"
    EXPECT_GT(traffic, 0u);
    EXPECT_EQ(drop_name(Drop::tcp_bad_checksum), "tcp_bad_checksum");
    EXPECT_EQ(drop_help(Drop::tcp_bad_checksum), "TCP checksum wrong");
}

TEST(LcoreCounters, SumAddsEveryFieldAndDropReason) {
    LcoreCounters a, b;
#define EP_X(name, help) \
    a.name = 1;          \
    b.name = 2;
    EP_TRAFFIC_COUNTERS(EP_X)
#undef EP_X
    for (std::size_t i = 1; i < kDropReasons; ++i) {
        a.drop(static_cast<Drop>(i));
        b.drops[i] = 2;
    }
    a += b;
    for_each_counter(a, [&](std::string_view name, std::string_view, uint64_t v, bool) {
        EXPECT_EQ(v, 3u) << name;
    });
}

TEST(Stats, TotalsCarryHelpAndSumLcores) {
    LcoreCounters l0, l1;
    l0.rx_packets = 5;
    l1.rx_packets = 7;
    l1.drop(Drop::ipv4_bad_checksum);
    const std::vector<LcoreStatsSource> src{{1, &l0}, {2, &l1}};
    const std::vector<StatValue> t = lcore_totals(src);
    bool saw_rx = false, saw_drop = false;
    for (const StatValue &v : t) {
        EXPECT_FALSE(v.help.empty()) << v.name;
        if (v.name == "rx_packets") {
            saw_rx = true;
            EXPECT_EQ(v.value, 12u);
            EXPECT_EQ(v.help, "packets received from the port");
        }
        if (v.name == "drop.ipv4_bad_checksum") {
            saw_drop = true;
            EXPECT_EQ(v.value, 1u);
            EXPECT_EQ(v.help, "IPv4 header checksum wrong");
        }
    }
    EXPECT_TRUE(saw_rx);
    EXPECT_TRUE(saw_drop);
    EXPECT_EQ(t.size(), lcore_totals({}).size());
}

TEST(Stats, HelpListsLcoreCountersDropReasonsAndSections) {
    LcoreCounters l0;
    const std::vector<LcoreStatsSource> src{{0, &l0}};
    const std::vector<StatsSection> sections{
        {"tcp",
         {{"retransmits", 4, "segments retransmitted (any reason)"},
          {"connections_open", 2, "TCP connections open", true}}},
        {"cache", {{"hits", 1}}}};
    const std::string h = format_stats_help(src, sections);
    EXPECT_NE(h.find("rx_packets"), std::string::npos);
    EXPECT_NE(h.find("packets received from the port"), std::string::npos);
    EXPECT_NE(h.find("drop.udp_unreachable_limited"), std::string::npos);
    EXPECT_NE(h.find("ICMP error rate-limited"), std::string::npos);
    EXPECT_NE(h.find("segments retransmitted (any reason)"), std::string::npos);
    EXPECT_NE(h.find("TCP connections open (gauge)"), std::string::npos);
    const std::string only = format_stats_help(src, sections, "tcp");
    EXPECT_EQ(only.find("rx_packets"), std::string::npos);
    EXPECT_NE(only.find("retransmits"), std::string::npos);
    std::string err;
    EXPECT_EQ(format_stats_help(src, sections, "nope", &err), "");
    EXPECT_NE(err.find("tcp"), std::string::npos);
    // The table keeps its layout: drop rows only when non-zero.
    l0.drop(Drop::fault_injected);
    const std::string text = format_stats_text(src, sections);
    EXPECT_NE(text.find("drop.fault_injected"), std::string::npos);
    EXPECT_EQ(text.find("drop.eth_truncated"), std::string::npos);
}

}  // namespace
}  // namespace ep

// Neighbour aging (RFC 1122 2.3.2.1): fresh entries are used as is, stale
// ones are used while the neighbour is polled by unicast at most once per
// poll interval, and unanswered ones are forgotten so the next send
// broadcasts a request and learns whatever MAC answers.
#include <gtest/gtest.h>

#include <cstring>

#include "dataplane/net/arp.h"
#include "dataplane/net/arp_table.h"

namespace {

using ep::net::ArpTable;
constexpr uint64_t kSec = 1'000'000'000;
constexpr uint32_t kIp = 0x0a4d0001;

rte_ether_addr mac(uint8_t last) {
    return rte_ether_addr{{0x02, 0, 0, 0, 0, last}};
}

ArpTable aged() {
    ArpTable t;
    t.set_aging({10 * kSec, 1 * kSec, 4 * kSec});
    return t;
}

TEST(ArpAging, FreshEntryIsUsedWithoutPolling) {
    ArpTable t = aged();
    t.learn(kIp, mac(1), 100 * kSec);
    const auto r = t.resolve(kIp, 109 * kSec);
    EXPECT_EQ(r.use, ArpTable::Use::fresh);
    EXPECT_EQ(r.mac.addr_bytes[5], 1);
}

TEST(ArpAging, StaleEntryIsPolledOncePerInterval) {
    ArpTable t = aged();
    t.learn(kIp, mac(1), 100 * kSec);
    EXPECT_EQ(t.resolve(kIp, 111 * kSec).use, ArpTable::Use::poll);
    // Still usable, but no second poll within the interval.
    EXPECT_EQ(t.resolve(kIp, 111 * kSec + kSec / 2).use, ArpTable::Use::fresh);
    EXPECT_EQ(t.resolve(kIp, 112 * kSec + 1).use, ArpTable::Use::poll);
}

TEST(ArpAging, AnsweredPollMakesTheEntryFreshAgain) {
    ArpTable t = aged();
    t.learn(kIp, mac(1), 100 * kSec);
    ASSERT_EQ(t.resolve(kIp, 111 * kSec).use, ArpTable::Use::poll);
    EXPECT_TRUE(t.update(kIp, mac(1), 111 * kSec));  // the reply (RFC 826 merge)
    EXPECT_EQ(t.resolve(kIp, 120 * kSec).use, ArpTable::Use::fresh);
}

TEST(ArpAging, UnansweredEntryExpiresAndANewMacIsLearned) {
    ArpTable t = aged();
    t.learn(kIp, mac(1), 100 * kSec);
    EXPECT_EQ(t.resolve(kIp, 111 * kSec).use, ArpTable::Use::poll);
    EXPECT_EQ(t.resolve(kIp, 114 * kSec + 1).use, ArpTable::Use::expired);
    EXPECT_EQ(t.resolve(kIp, 114 * kSec + 2).use, ArpTable::Use::missing);
    // The broadcast request's answer comes from the neighbour's new address.
    EXPECT_TRUE(t.learn(kIp, mac(2), 115 * kSec));
    const auto r = t.resolve(kIp, 115 * kSec);
    EXPECT_EQ(r.use, ArpTable::Use::fresh);
    EXPECT_EQ(r.mac.addr_bytes[5], 2);
}

TEST(ArpAging, PollIsAUnicastRequest) {
    ep::net::PortAddress port;
    port.mac = mac(9);
    port.ip = 0x0a4d0002;
    uint8_t frame[ep::net::kArpFrameLen];
    const rte_ether_addr to = mac(1);
    ep::net::build_arp_request(frame, port, kIp, &to);
    EXPECT_EQ(std::memcmp(frame, to.addr_bytes, 6), 0);
    ep::net::build_arp_request(frame, port, kIp);
    for (int i = 0; i < 6; ++i) EXPECT_EQ(frame[i], 0xff);
}

}  // namespace

// The passive measurement ring (dataplane/rtt_ring.h): a stack's samples
// become records in order, a full ring drops and counts instead of
// blocking, and what the control thread drains is what was measured.
#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "dataplane/rtt_ring.h"

namespace ep {
namespace {

TEST(RttRing, SamplesBecomeRecordsAndAFullRingCounts) {
    const uint32_t count = 16;
    void *mem = std::aligned_alloc(64, (RttRing::memsize(count) + 63) / 64 * 64);
    uint64_t sent = 0, full = 0;
    RttRing ring;
    ASSERT_TRUE(ring.init(mem, count, 3, &sent, &full));
    for (uint32_t i = 0; i < 40; ++i) {
        tcp::ConnSample s;
        s.remote = tcp::IpAddr::v4(198, 51, 100, static_cast<uint8_t>(i));
        s.srtt_ns = 1'000'000ull * (i + 1);  // i+1 ms
        s.segs_out = 100;
        s.segs_retrans = i;
        s.final = i % 2;
        ring.push(s);
    }
    // An rte_ring of 16 slots holds 15.
    EXPECT_EQ(sent, 15u);
    EXPECT_EQ(full, 25u);
    std::vector<RttRecord> out(64);
    ASSERT_EQ(ring.drain(out.data(), 64), 15u);
    for (uint32_t i = 0; i < 15; ++i) {
        EXPECT_EQ(out[i].addr[15], i);
        EXPECT_EQ(out[i].addr[10], 0xff);  // IPv4-mapped
        EXPECT_EQ(out[i].srtt_us, 1000 * (i + 1));
        EXPECT_EQ(out[i].segs_out, 100u);
        EXPECT_EQ(out[i].segs_retrans, i);
        EXPECT_EQ(out[i].final, i % 2);
        EXPECT_EQ(out[i].lcore, 3);
    }
    EXPECT_EQ(ring.drain(out.data(), 64), 0u);
    std::free(mem);
}

}  // namespace
}  // namespace ep

// The per-lcore access ring never blocks its producer: overflow is counted.
#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "dataplane/access_log.h"

namespace ep {
namespace {

TEST(AccessLog, OverflowDropsAndCountsWithoutBlocking) {
    const uint32_t count = 64;
    void *mem = std::aligned_alloc(64, (AccessLog::memsize(count) + 63) / 64 * 64);
    uint64_t drops = 0;
    AccessLog log;
    ASSERT_TRUE(log.init(mem, count, &drops));
    for (uint32_t i = 0; i < 1000; ++i) log.record(i, 4096, i % 2 == 0);
    const uint32_t capacity = rte_ring_get_capacity(log.ring());
    EXPECT_EQ(drops, 1000u - capacity);
    std::vector<AccessRec> out(2000);
    const unsigned n = log.drain(out.data(), 2000);
    ASSERT_EQ(n, capacity);
    for (unsigned i = 0; i < n; ++i) {  // the oldest records survive, in order
        EXPECT_EQ(out[i].key, i);
        EXPECT_EQ(out[i].hit, i % 2 == 0 ? 1u : 0u);
    }
    log.record(7, 1, true);  // room again after the drain
    EXPECT_EQ(log.drain(out.data(), 2000), 1u);
    EXPECT_EQ(drops, 1000u - capacity);
    std::free(mem);
}

}  // namespace
}  // namespace ep

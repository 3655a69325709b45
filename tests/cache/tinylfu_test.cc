#include <gtest/gtest.h>

#include "cache/count_min.h"
#include "cache/factory.h"

namespace ep::cache {
namespace {

TEST(CountMin, CountsAndAges) {
    CountMinSketch s(1024);
    for (int i = 0; i < 5; ++i) s.increment(42);
    EXPECT_EQ(s.estimate(42), 5u);
    EXPECT_EQ(s.estimate(43), 0u);
    // 10 x width additions trigger one halving.
    for (uint64_t i = 0; i < 10 * 1024; ++i) s.increment(1000000 + i);
    EXPECT_GE(s.resets(), 1u);
    EXPECT_LE(s.estimate(42), 3u);
}

TEST(CountMin, SaturatesAtFifteen) {
    CountMinSketch s(64);
    for (int i = 0; i < 100; ++i) s.increment(7);
    EXPECT_LE(s.estimate(7), 15u);
}

// LRU of 2 behind TinyLFU: A and B seen 3 times each; C must be seen more
// often than the victim (A, the LRU tail) before it gets in.
TEST(TinyLfu, AdmitsOnlyMoreFrequent) {
    PolicyConfig cfg;
    cfg.capacity_bytes = 2;
    auto p = make_policy("tinylfu+lru", cfg);
    for (int i = 0; i < 3; ++i) p->access('A', 1);
    for (int i = 0; i < 3; ++i) p->access('B', 1);
    EXPECT_FALSE(p->access('C', 1));  // est 1 <= 3
    EXPECT_FALSE(p->contains('C'));
    EXPECT_FALSE(p->access('C', 1));  // 2
    EXPECT_FALSE(p->access('C', 1));  // 3, ties keep the incumbent
    EXPECT_FALSE(p->contains('C'));
    EXPECT_FALSE(p->access('C', 1));  // 4 > 3: admitted, A evicted
    EXPECT_TRUE(p->contains('C'));
    EXPECT_FALSE(p->contains('A'));
    EXPECT_TRUE(p->contains('B'));
    EXPECT_EQ(p->stats().rejected, 3u);
}

}  // namespace
}  // namespace ep::cache

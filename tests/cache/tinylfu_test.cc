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

// would_admit() answers what access() would do now, and changes nothing:
// asking any number of times leaves the decision where it was.
TEST(TinyLfu, WouldAdmitAgreesWithAccessAndChangesNothing) {
    for (const char *name : {"tinylfu+lru", "tinylfu+s3fifo"}) {
        SCOPED_TRACE(name);
        PolicyConfig cfg;
        cfg.capacity_bytes = name[8] == 'l' ? 2 : 20;
        auto p = make_policy(name, cfg);
        const uint64_t n = cfg.capacity_bytes;
        for (int i = 0; i < 3; ++i)
            for (uint64_t k = 1; k <= n; ++k) p->access(k, 1);
        for (int i = 0; i < 10; ++i) EXPECT_FALSE(p->would_admit({'C', 1}));
        EXPECT_TRUE(p->would_admit({1, 1}));  // resident: a hit
        // C's own accesses raise its estimate until it beats the victim.
        bool admitted = false;
        for (int i = 0; i < 8 && !admitted; ++i) {
            const bool would = p->would_admit({'C', 1});
            p->access('C', 1);
            EXPECT_EQ(would, p->contains('C')) << i;
            admitted = p->contains('C');
        }
        EXPECT_TRUE(admitted);
        // Below capacity everything is admitted.
        auto q = make_policy(name, cfg);
        EXPECT_TRUE(q->would_admit({'D', 1}));
    }
}

TEST(Policy, WithoutAFilterEverythingWouldBeAdmitted) {
    PolicyConfig cfg;
    cfg.capacity_bytes = 2;
    for (const char *name : {"lru", "s3fifo", "sieve"}) {
        auto p = make_policy(name, cfg);
        for (uint64_t k = 1; k <= 5; ++k) p->access(k, 1);
        EXPECT_TRUE(p->would_admit({99, 1})) << name;
    }
}

}  // namespace
}  // namespace ep::cache

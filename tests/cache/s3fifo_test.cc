// S3-FIFO hand-computed sequences. Capacity 10 unit objects: small FIFO 1,
// main 9, ghost 9 (libCacheSim's split: small = floor(10% of capacity)).
#include "cache/s3fifo.h"

#include <gtest/gtest.h>

namespace ep::cache {
namespace {

TEST(S3Fifo, SmallToMainAndGhost) {
    PolicyConfig cfg;
    cfg.capacity_bytes = 10;
    S3Fifo p(cfg);
    // 1..10 fill the cache; with main empty they all sit in the small FIFO.
    for (uint64_t k = 1; k <= 10; ++k) EXPECT_FALSE(p.access(k, 1));
    EXPECT_EQ(p.small_bytes(), 10u);
    // Two hits on 1 (the oldest) reach the move threshold.
    EXPECT_TRUE(p.access(1, 1));
    EXPECT_TRUE(p.access(1, 1));
    // 11 needs room: small's tail 1 has freq 2 -> moves to main; next tail
    // 2 is cold -> evicted into the ghost.
    EXPECT_FALSE(p.access(11, 1));
    EXPECT_EQ(p.main_bytes(), 1u);
    EXPECT_FALSE(p.contains(2));
    EXPECT_EQ(p.ghost_bytes(), 1u);
    // 2 is a ghost hit: inserted straight into main; small's tail 3 goes.
    EXPECT_FALSE(p.access(2, 1));
    EXPECT_EQ(p.main_bytes(), 2u);
    EXPECT_EQ(p.ghost_bytes(), 1u);  // 2 left the ghost, 3 entered
    EXPECT_FALSE(p.contains(3));
    EXPECT_TRUE(p.access(1, 1));
    EXPECT_TRUE(p.access(2, 1));
    EXPECT_EQ(p.used_bytes(), 10u);
}

// Main is a CLOCK: once main is over its 9 slots, a main object with a
// non-zero counter is reinserted with the counter decremented; the first one
// found at zero is evicted.
TEST(S3Fifo, MainClock) {
    PolicyConfig cfg;
    cfg.capacity_bytes = 10;
    S3Fifo p(cfg);
    // Put 1..10 in, then push each of them through the ghost into main:
    // 11..20 evict 1..10 from small into the ghost (9 fit in the ghost, so
    // 1 is forgotten).
    for (uint64_t k = 1; k <= 20; ++k) p.access(k, 1);
    EXPECT_EQ(p.ghost_bytes(), 9u);
    for (uint64_t k = 2; k <= 10; ++k) EXPECT_FALSE(p.access(k, 1));  // ghost hits -> main
    EXPECT_EQ(p.main_bytes(), 9u);
    EXPECT_EQ(p.small_bytes(), 1u);
    // Hit 2 (main's oldest) once so it survives one lap.
    EXPECT_TRUE(p.access(2, 1));
    // 21 -> small is at its share and main is not over: small's tail goes.
    EXPECT_FALSE(p.access(21, 1));
    EXPECT_TRUE(p.contains(2));
    // 20 went to ghost on the way; its ghost hit puts main over 9, so the
    // next eviction is from main: 2 (freq 1) is reinserted at 0, 3 goes.
    EXPECT_FALSE(p.access(20, 1));
    EXPECT_FALSE(p.access(22, 1));
    EXPECT_TRUE(p.contains(2));
    EXPECT_FALSE(p.contains(3));
}

TEST(S3Fifo, BigObjectsBypassSmall) {
    PolicyConfig cfg;
    cfg.capacity_bytes = 100;  // small FIFO: 10 bytes
    S3Fifo p(cfg);
    EXPECT_FALSE(p.access(1, 11));
    EXPECT_FALSE(p.contains(1));
    EXPECT_FALSE(p.access(2, 10));
    EXPECT_TRUE(p.contains(2));
}

}  // namespace
}  // namespace ep::cache

// TokenBucket (edgebench synflood --rate): refills at the rate, holds at most
// `depth`, starts empty, and says how long until the next burst is there.
#include <gtest/gtest.h>

#include "bench/edgebench/token_bucket.h"

using ep::bench::TokenBucket;

TEST(TokenBucket, StartsEmptyAndRefillsAtTheRate) {
    TokenBucket b(1000, 64, 5'000'000);  // one token a millisecond
    EXPECT_EQ(b.take(5'000'000, 10), 0u);
    EXPECT_EQ(b.wait_ns(1), 1'000'001u);
    EXPECT_EQ(b.take(5'999'000, 10), 0u);
    EXPECT_EQ(b.take(6'000'000, 10), 1u);
    EXPECT_EQ(b.take(16'000'000, 32), 10u);
}

TEST(TokenBucket, HoldsAtMostDepthAfterAStall) {
    TokenBucket b(1000, 8, 0);
    EXPECT_EQ(b.take(10'000'000'000, 1000), 8u);  // 10 s stalled: one burst, not 10 000
    EXPECT_EQ(b.take(10'000'000'000, 1000), 0u);
    EXPECT_EQ(b.wait_ns(8), 8'000'001u);
    EXPECT_EQ(b.wait_ns(100), 8'000'001u);  // a wish above depth waits for depth
}

TEST(TokenBucket, KeepsTheRateOverAMillionTakes) {
    TokenBucket b(50'000, 50, 0);
    uint64_t taken = 0;
    for (uint64_t t = 0; t <= 10'000'000'000; t += 10'000) taken += b.take(t, 64);  // every 10 us
    EXPECT_NEAR(static_cast<double>(taken), 500'000.0, 1.0);  // 10 s at 50 000/s
}

// The log-linear latency histogram: exact below 128, within 1/64 relative
// error above, percentiles by rank, merge.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "bench/edgebench/http_histogram.h"

using ep::bench::LatencyHistogram;

TEST(Histogram, BucketsCoverEveryValueOnce) {
    // Consecutive buckets tile the range without gaps or overlaps.
    for (size_t i = 0; i + 1 < LatencyHistogram::kBuckets; ++i) {
        ASSERT_EQ(LatencyHistogram::highest_of(i) + 1, LatencyHistogram::lowest_of(i + 1)) << i;
    }
    EXPECT_EQ(LatencyHistogram::highest_of(LatencyHistogram::kBuckets - 1), UINT64_MAX);
    std::mt19937_64 rng(7);
    for (int k = 0; k < 100000; ++k) {
        const uint64_t v = rng() >> (rng() % 64);
        const size_t i = LatencyHistogram::index_of(v);
        ASSERT_LT(i, LatencyHistogram::kBuckets);
        ASSERT_LE(LatencyHistogram::lowest_of(i), v);
        ASSERT_GE(LatencyHistogram::highest_of(i), v);
        // Relative width bound.
        const double w =
            static_cast<double>(LatencyHistogram::highest_of(i) - LatencyHistogram::lowest_of(i));
        ASSERT_LE(w, static_cast<double>(v) / 64.0 + 1) << v;
    }
}

TEST(Histogram, ExactSmallValues) {
    auto h = std::make_unique<LatencyHistogram>();
    for (uint64_t v = 1; v <= 100; ++v) h->record(v);
    EXPECT_EQ(h->count(), 100u);
    EXPECT_EQ(h->percentile(0.5), 50u);
    EXPECT_EQ(h->percentile(0.99), 99u);
    EXPECT_EQ(h->percentile(0.999), 100u);
    EXPECT_EQ(h->min(), 1u);
    EXPECT_EQ(h->max(), 100u);
    EXPECT_DOUBLE_EQ(h->mean(), 50.5);
}

TEST(Histogram, PercentilesMatchSortedWithinError) {
    auto h = std::make_unique<LatencyHistogram>();
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> d(11.0, 1.5);  // ~60 µs median in ns, long tail
    std::vector<uint64_t> v;
    for (int i = 0; i < 200000; ++i) {
        const uint64_t x = static_cast<uint64_t>(d(rng)) + 1;
        v.push_back(x);
        h->record(x);
    }
    std::sort(v.begin(), v.end());
    for (double q : {0.5, 0.9, 0.99, 0.999}) {
        const uint64_t exact = v[static_cast<size_t>(std::ceil(q * v.size())) - 1];
        const uint64_t got = h->percentile(q);
        EXPECT_GE(got, exact) << q;
        EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * (1 + 1.0 / 64)) << q;
    }
    EXPECT_EQ(h->percentile(1.0), v.back());
}

TEST(Histogram, MergeAndClear) {
    auto a = std::make_unique<LatencyHistogram>();
    auto b = std::make_unique<LatencyHistogram>();
    a->record(1000, 3);
    b->record(5'000'000);
    a->merge(*b);
    EXPECT_EQ(a->count(), 4u);
    EXPECT_EQ(a->max(), 5'000'000u);
    EXPECT_EQ(a->min(), 1000u);
    EXPECT_EQ(a->percentile(0.75), a->percentile(0.5));
    EXPECT_GE(a->percentile(0.99), 5'000'000u - 5'000'000u / 64);
    a->clear();
    EXPECT_EQ(a->count(), 0u);
    EXPECT_EQ(a->percentile(0.5), 0u);
}

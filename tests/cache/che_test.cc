// LRU under the independent reference model matches Che's approximation:
// the characteristic time T solves sum_i (1 - exp(-p_i T)) = C and the hit
// ratio is sum_i p_i (1 - exp(-p_i T)).
#include <gtest/gtest.h>

#include <cmath>

#include "cache/factory.h"
#include "cache/synthetic.h"

namespace ep::cache {
namespace {

double che_hit_ratio(const ZipfSampler &z, double cache) {
    auto occupancy = [&](double t) {
        double s = 0;
        for (uint64_t i = 0; i < z.n(); ++i) s += 1 - std::exp(-z.probability(i) * t);
        return s;
    };
    double lo = 0, hi = 1;
    while (occupancy(hi) < cache) hi *= 2;
    for (int i = 0; i < 100; ++i) {
        double mid = (lo + hi) / 2;
        (occupancy(mid) < cache ? lo : hi) = mid;
    }
    double h = 0;
    for (uint64_t i = 0; i < z.n(); ++i)
        h += z.probability(i) * (1 - std::exp(-z.probability(i) * lo));
    return h;
}

class Che : public ::testing::TestWithParam<std::pair<double, uint64_t>> {};

TEST_P(Che, LruMatchesWithinOnePercent) {
    auto [alpha, cache] = GetParam();
    SyntheticSpec s;
    s.objects = 20000;
    s.alpha = alpha;
    s.requests = 1500000;
    s.seed = 11;
    Trace t = generate_trace(s);
    PolicyConfig cfg;
    cfg.capacity_bytes = cache;
    auto p = make_policy("lru", cfg);
    const size_t warmup = 300000;  // fill the cache before counting
    uint64_t hits = 0;
    for (size_t i = 0; i < t.size(); ++i) {
        bool hit = p->access(t[i]);
        if (i >= warmup) hits += hit;
    }
    double sim = double(hits) / double(t.size() - warmup);
    double che = che_hit_ratio(ZipfSampler(s.objects, alpha), double(cache));
    EXPECT_NEAR(1 - sim, 1 - che, 0.01) << "alpha " << alpha << " cache " << cache;
}

INSTANTIATE_TEST_SUITE_P(Zipf, Che,
                         ::testing::Values(std::make_pair(0.8, uint64_t{200}),
                                           std::make_pair(0.8, uint64_t{2000}),
                                           std::make_pair(1.0, uint64_t{500}),
                                           std::make_pair(0.6, uint64_t{4000})));

}  // namespace
}  // namespace ep::cache

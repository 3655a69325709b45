// edgebench mapsim (bench/edgebench/mapsim*.h) on tiny worlds: the same
// options give the same world and the same scores; the oracle is what the
// policies are measured against (a world where distance is the whole RTT
// makes geo the oracle; anywhere else nothing beats it).
#include <gtest/gtest.h>

#include <cmath>

#include "bench/edgebench/mapsim.h"
#include "control/cluster/geo.h"

using namespace ep::bench::mapsim;

namespace {

WorldOpts tiny() {
    WorldOpts o;
    o.seed = 7;
    o.prefixes = 300;
    o.clusters = 6;
    o.networks = 8;
    o.generated_cities = 30;
    o.hours = 3;
    o.congestions_per_hour = 2;
    o.outages_per_hour = 1;
    return o;
}

SimOpts sim(const std::string &policy) {
    SimOpts s;
    s.policy = policy;
    s.step_s = 300;
    s.warmup_h = 0.5;
    s.dns_every = 2;
    return s;
}

void expect_same(const Result &a, const Result &b) {
    EXPECT_EQ(a.mean_pen, b.mean_pen);
    EXPECT_EQ(a.p95, b.p95);
    EXPECT_EQ(a.p99, b.p99);
    EXPECT_EQ(a.within, b.within);
    EXPECT_EQ(a.over_cap, b.over_cap);
    EXPECT_EQ(a.max_util, b.max_util);
    EXPECT_EQ(a.flaps_ph, b.flaps_ph);
    EXPECT_EQ(a.forced_ph, b.forced_ph);
    EXPECT_EQ(a.routes, b.routes);
    EXPECT_EQ(a.answers_ratio, b.answers_ratio);
    EXPECT_EQ(a.hist, b.hist);
    ASSERT_EQ(a.timeline.size(), b.timeline.size());
    for (std::size_t i = 0; i < a.timeline.size(); ++i)
        EXPECT_EQ(a.timeline[i].mean_pen, b.timeline[i].mean_pen) << i;
}

}  // namespace

TEST(Mapsim, SameSeedSameWorldSameScores) {
    const World a = make_world(tiny(), nullptr), b = make_world(tiny(), nullptr);
    ASSERT_EQ(a.prefixes.size(), 300u);
    ASSERT_EQ(a.clusters.size(), 6u);
    ASSERT_FALSE(a.events.empty());
    for (uint32_t p = 0; p < a.prefixes.size(); ++p) {
        EXPECT_EQ(a.prefixes[p].lat, b.prefixes[p].lat);
        EXPECT_EQ(a.prefixes[p].resolver, b.prefixes[p].resolver);
        for (uint32_t c = 0; c < a.clusters.size(); ++c)
            EXPECT_EQ(a.rtt(p, c, 1800), b.rtt(p, c, 1800));
    }
    for (const char *pol : {"load-aware", "oracle"})
        expect_same(replay(a, sim(pol)), replay(b, sim(pol)));
    // Another seed is another world.
    WorldOpts o = tiny();
    o.seed = 8;
    EXPECT_NE(make_world(o, nullptr).prefixes[0].lat, a.prefixes[0].lat);
}

TEST(Mapsim, OracleIsTheFloor) {
    const World w = make_world(tiny(), nullptr);
    const Result oracle = replay(w, sim("oracle"));
    EXPECT_EQ(oracle.mean_pen, 0.0);
    EXPECT_EQ(oracle.within, 1.0);
    // The oracle's cluster is the lowest true RTT among those up: checked by
    // brute force at an instant with an event running.
    const Event &ev = w.events.front();
    const double t = (ev.start_s + ev.end_s) / 2;
    if (ev.kind == Event::kOutage)
        EXPECT_FALSE(w.up(ev.cluster, t));
    else
        EXPECT_GE(w.rtt(0, ev.cluster, t) - w.base_rtt(0, ev.cluster), ev.extra_ms - 1e-9);
    // Geography is not the whole RTT here (inflation, access, peering,
    // congestion, far resolvers): geo pays a penalty, and every policy's
    // is >= 0 by construction (the histogram starts at zero).
    const Result geo = replay(w, sim("geo"));
    EXPECT_GT(geo.mean_pen, 0.0);
    EXPECT_LT(geo.within, 1.0);
    EXPECT_GT(geo.forced_ph + geo.flaps_ph, 0.0);  // the outages moved someone
}

TEST(Mapsim, WhereDistanceIsTheWholeRttGeoIsTheOracle) {
    WorldOpts o = tiny();
    o.uniform = true;  // one inflation and access everywhere, no peering, no events
    o.public_share = 0;
    const World w = make_world(o, nullptr);
    ASSERT_TRUE(w.events.empty());
    // RTT = km x 0.01 x 1.5 + 5 ms.
    const auto &p = w.prefixes[0];
    const auto &c = w.clusters[0];
    EXPECT_NEAR(w.rtt(0, 0, 0), ep::cluster::haversine_km(p.lat, p.lon, c.lat, c.lon) * 0.015 + 5,
                1e-9);
    const Result geo = replay(w, sim("geo"));
    EXPECT_LT(geo.mean_pen, 0.01);  // float distances in the policy, double here
    EXPECT_EQ(geo.within, 1.0);
    EXPECT_EQ(geo.over_cap, 0.0);
    EXPECT_EQ(geo.flaps_ph, 0.0);
}

// The swarm-sim model (bench/edgebench/swarm_model.h) on small swarms: every
// leecher completes, D is never below the textbook lower bound (a model that
// beat it would be moving bytes it does not have), the seed uploads far less
// than client-server would (the leechers trade), and the run is
// deterministic for a seed. No timing.
#include "bench/edgebench/swarm_model.h"

#include <gtest/gtest.h>

namespace ep::bench {
namespace {

SwarmSimConfig small(uint32_t n) {
    SwarmSimConfig c;
    c.peers = n;
    c.pieces = 32;
    c.upload_bps = {0.5 * 1048576, 1048576, 2 * 1048576};
    return c;
}

TEST(SwarmModel, EveryLeecherCompletesAndTheBoundHolds) {
    for (uint32_t n : {1u, 5u, 40u}) {
        const SwarmSimResult r = run_swarm_sim(small(n));
        EXPECT_FALSE(r.stalled) << n;
        EXPECT_EQ(r.done, n);
        // A block is timed at the end of its step, so D >= the bound up to
        // rounding (N = 1 meets it exactly: F / u_s).
        EXPECT_GE(r.d, r.bound * (1 - 1e-9)) << n;
        EXPECT_LE(r.mean, r.d);
        EXPECT_GT(r.cs, 0);
        if (n >= 5) {
            EXPECT_LT(r.seed_share, 0.5) << n;  // leechers upload to each other
        }
    }
}

TEST(SwarmModel, OneLeecherGetsEverythingFromTheSeed) {
    const SwarmSimResult r = run_swarm_sim(small(1));
    EXPECT_NEAR(r.seed_share, 1.0, 0.01);  // nobody else to get it from
}

TEST(SwarmModel, SameSeedSameResult) {
    const SwarmSimResult a = run_swarm_sim(small(20)), b = run_swarm_sim(small(20));
    EXPECT_EQ(a.d, b.d);
    EXPECT_EQ(a.mean, b.mean);
}

}  // namespace
}  // namespace ep::bench

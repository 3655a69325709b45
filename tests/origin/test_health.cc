// Origin health: rise/fall thresholds (haproxy's `rise 2 fall 3`), what a
// check's status means, and the order a fill tries a route's servers in
// (down ones skipped while an up one is left; all down: tried anyway).
#include <gtest/gtest.h>

#include "dataplane/origin/health.h"

using namespace ep::origin;

namespace {

TEST(OriginHealth, FallThenRise) {
    const HealthRule rule{2, 3};
    ServerHealth h;
    EXPECT_TRUE(h.up);  // up until proven down
    EXPECT_FALSE(record(h, false, rule));
    EXPECT_FALSE(record(h, false, rule));
    EXPECT_TRUE(h.up);
    EXPECT_TRUE(record(h, false, rule));  // the third consecutive failure flips it
    EXPECT_FALSE(h.up);
    EXPECT_EQ(h.fails, 3);
    EXPECT_FALSE(record(h, false, rule));  // stays down, no second flip
    EXPECT_FALSE(record(h, true, rule));
    EXPECT_FALSE(h.up);
    EXPECT_EQ(h.fails, 0);
    EXPECT_TRUE(record(h, true, rule));  // the second consecutive pass
    EXPECT_TRUE(h.up);
    EXPECT_EQ(h.passes, 2);
}

TEST(OriginHealth, APassInBetweenResetsTheFailures) {
    const HealthRule rule{2, 3};
    ServerHealth h;
    record(h, false, rule);
    record(h, false, rule);
    record(h, true, rule);
    record(h, false, rule);
    record(h, false, rule);
    EXPECT_TRUE(h.up);  // never three in a row
    record(h, false, rule);
    EXPECT_FALSE(h.up);
    // Down, a failure between passes starts the rise again.
    record(h, true, rule);
    record(h, false, rule);
    record(h, true, rule);
    EXPECT_FALSE(h.up);
    record(h, true, rule);
    EXPECT_TRUE(h.up);
}

TEST(OriginHealth, StatusMeaning) {
    EXPECT_TRUE(status_up(200));
    EXPECT_TRUE(status_up(301));
    EXPECT_TRUE(status_up(404));
    EXPECT_TRUE(status_up(403));
    EXPECT_FALSE(status_up(500));
    EXPECT_FALSE(status_up(503));
    EXPECT_FALSE(status_up(100));
    EXPECT_FALSE(status_up(0));
}

TEST(OriginHealth, PickSkipsDownAndUnresolved) {
    bool resolved[4] = {true, true, false, true};
    bool up[4] = {false, true, true, true};
    auto res = [&](int i) { return resolved[i]; };
    auto ok = [&](int i) { return up[i]; };
    EXPECT_EQ(pick_server(4, 0, res, ok), 1);        // 0 is down
    EXPECT_EQ(pick_server(4, 0b0010, res, ok), 3);   // 2 has no address
    EXPECT_EQ(pick_server(4, 0b1010, res, ok), 0);   // only the down one is left: anyway
    EXPECT_EQ(pick_server(4, 0b1011, res, ok), -1);  // every resolved one tried
    up[1] = up[3] = false;
    EXPECT_EQ(pick_server(4, 0, res, ok), 0);  // all down: in order, as without checks
    resolved[0] = resolved[1] = resolved[3] = false;
    EXPECT_EQ(pick_server(4, 0, res, ok), -1);  // no address at all
}

}  // namespace

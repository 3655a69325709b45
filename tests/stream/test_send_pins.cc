// Pinned-RAM bookkeeping of a send queue: runs, ACK release, stall, verdicts.
#include <gtest/gtest.h>

#include "dataplane/stream/send_pins.h"

namespace ep::stream {
namespace {

TEST(SendPins, RunsAreReleasedWhenTheAckPassesTheirEnd) {
    SendPins p;
    p.reset(0);
    EXPECT_TRUE(p.is_new(7));
    EXPECT_TRUE(p.queued(7, 1000));   // chunk 7: bytes [0, 1000)
    EXPECT_FALSE(p.queued(7, 5000));  // more of chunk 7: same run
    EXPECT_TRUE(p.queued(8, 9000));   // chunk 8
    EXPECT_TRUE(p.queued(7, 9500));   // chunk 7 again (another response): counts again
    EXPECT_EQ(p.count(), 3);
    EXPECT_EQ(p.settle(4999, true, 10), 0);  // run 1 ends at 5000
    EXPECT_EQ(p.settle(5000, true, 20), 1);
    EXPECT_EQ(p.settle(9500, false, 30), 2);
    EXPECT_EQ(p.count(), 0);
}

TEST(SendPins, StalledMeansNoAckMovedWhileBytesAreOutstanding) {
    SendPins p;
    p.reset(1'000);
    p.queued(1, 100);
    p.settle(0, true, 1'500);
    EXPECT_FALSE(p.stalled(1'900, 1'000));
    EXPECT_TRUE(p.stalled(2'000, 1'000));  // nothing acked since reset at 1000
    p.settle(50, true, 2'100);             // progress
    EXPECT_FALSE(p.stalled(3'000, 1'000));
    p.settle(50, true, 3'200);
    EXPECT_TRUE(p.stalled(3'200, 1'000));
    p.settle(100, false, 9'000);  // all acknowledged: idle, not stalled
    EXPECT_FALSE(p.stalled(9'500, 1'000));
}

TEST(SendPins, NewRunBeyondCapacityIsRefused) {
    SendPins p;
    p.reset(0);
    for (uint64_t k = 0; k < kMaxPinRuns; ++k) EXPECT_TRUE(p.queued(k, (k + 1) * 10));
    EXPECT_FALSE(p.queued(99, 1000));
    EXPECT_EQ(p.count(), kMaxPinRuns);
    EXPECT_EQ(p.settle(10, true, 1), 1);
    EXPECT_TRUE(p.queued(99, 1000));  // the ring wraps
    EXPECT_EQ(p.settle(1000, false, 2), kMaxPinRuns);
}

TEST(SendPins, Verdicts) {
    EXPECT_EQ(pin_verdict(0, 4, 0, 32), PinVerdict::kOk);
    EXPECT_EQ(pin_verdict(4, 4, 0, 32), PinVerdict::kConnCap);
    EXPECT_EQ(pin_verdict(1, 4, 32, 32), PinVerdict::kBudget);
    EXPECT_EQ(pin_verdict(4, 4, 32, 32), PinVerdict::kConnCap);
}

}  // namespace
}  // namespace ep::stream

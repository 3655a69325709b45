// RateSchedule (edgebench http --rate): the open-loop schedule is pure time
// in, slots out. Slot k is due at t0 + k/R; a late take keeps the slot's own
// time (latency from the schedule, as wrk2 measures); nothing is due early.
#include <gtest/gtest.h>

#include "bench/edgebench/rate_schedule.h"

using ep::bench::RateSchedule;

TEST(RateSchedule, SlotsAreDueAtKOverRate) {
    RateSchedule s(1000, 5'000'000);  // 1000/s: one slot a millisecond
    EXPECT_EQ(s.slot_ns(0), 5'000'000u);
    EXPECT_EQ(s.slot_ns(1), 6'000'000u);
    EXPECT_EQ(s.slot_ns(1000), 1'005'000'000u);
    EXPECT_EQ(s.due(4'999'999), 0u);  // before t0: nothing
    EXPECT_EQ(s.due(5'000'000), 1u);
    EXPECT_EQ(s.due(5'999'999), 1u);
    EXPECT_EQ(s.due(6'000'000), 2u);
}

TEST(RateSchedule, TakesOnlyWhatIsDueAndNothingEarly) {
    RateSchedule s(1000, 0);
    ASSERT_EQ(s.take(0), 0u);
    EXPECT_FALSE(s.take(999'999).has_value());  // slot 1 is due at 1 ms
    EXPECT_EQ(s.take(1'000'000), 1'000'000u);
    EXPECT_EQ(s.taken(), 2u);
}

TEST(RateSchedule, LateTakesKeepTheirScheduledTime) {
    // The client stalled 10 ms: the 10 slots it owes are sent at once, each
    // stamped with the time it was due, so their latency includes the wait.
    RateSchedule s(1000, 0);
    ASSERT_TRUE(s.take(0));
    for (uint64_t k = 1; k <= 10; ++k) EXPECT_EQ(s.take(10'000'000), k * 1'000'000);
    EXPECT_FALSE(s.take(10'000'000).has_value());
    EXPECT_EQ(s.max_backlog(), 10u);
}

TEST(RateSchedule, CountOverAWindowIsRateTimesSeconds) {
    // Polled every 37 µs for one second at 12 345/s: exactly the slots due
    // by the last poll are taken, whatever the polling grain.
    RateSchedule s(12345, 0);
    uint64_t n = 0, last = 0;
    for (uint64_t t = 0; t <= 1'000'000'000; t += 37'000) {
        while (s.take(t)) ++n;
        last = t;
    }
    EXPECT_EQ(s.due(last), 0u);  // no due slot left behind
    // Slots 0..12344 are due by 999 999 000 ns (slot 12345 is due at 1 s).
    EXPECT_EQ(n, 12345u);
}

TEST(RateSchedule, NoDriftOverManySlots) {
    // Fractional periods (1/3 µs) are computed from k, not summed.
    RateSchedule s(3'000'000, 0);
    EXPECT_EQ(s.slot_ns(3'000'000'000ull), 1'000'000'000'000ull);
}

TEST(RateSchedule, UnlimitedGivesNow) {
    RateSchedule s(0, 0);
    EXPECT_FALSE(s.limited());
    EXPECT_EQ(s.take(42), 42u);
    EXPECT_EQ(s.take(42), 42u);
    EXPECT_EQ(s.due(1'000'000'000), 0u);
}

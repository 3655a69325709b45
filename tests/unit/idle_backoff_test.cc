// The idle back-off's policy (dataplane/idle_backoff.h): pause after
// pause_after empty turns, sleep after sleep_after, doubling to the cap,
// and back to plain polling on the first turn with work.
#include "dataplane/idle_backoff.h"

#include <gtest/gtest.h>

using ep::IdleBackoff;
using ep::IdleBackoffConfig;

TEST(IdleBackoff, PausesThenSleepsGrowingToTheCapAndResetsOnWork) {
    IdleBackoffConfig c;
    c.pause_after = 4;
    c.sleep_after = 8;
    c.sleep_min_us = 10;
    c.sleep_max_us = 100;
    IdleBackoff b(c);
    uint32_t us = 0;
    for (int i = 1; i < 4; ++i)
        EXPECT_EQ(b.after_turn(false, &us), IdleBackoff::Action::kNone) << i;
    for (int i = 4; i < 8; ++i)
        EXPECT_EQ(b.after_turn(false, &us), IdleBackoff::Action::kPause) << i;
    const uint32_t want[] = {10, 20, 40, 80, 100, 100};
    for (uint32_t w : want) {
        ASSERT_EQ(b.after_turn(false, &us), IdleBackoff::Action::kSleep);
        EXPECT_EQ(us, w);
    }
    // Work: straight back to polling, and the next quiet spell starts over.
    EXPECT_EQ(b.after_turn(true, &us), IdleBackoff::Action::kNone);
    EXPECT_EQ(b.empty_turns(), 0u);
    for (int i = 1; i < 4; ++i) EXPECT_EQ(b.after_turn(false, &us), IdleBackoff::Action::kNone);
    for (int i = 4; i < 8; ++i) EXPECT_EQ(b.after_turn(false, &us), IdleBackoff::Action::kPause);
    ASSERT_EQ(b.after_turn(false, &us), IdleBackoff::Action::kSleep);
    EXPECT_EQ(us, 10u);
}

TEST(IdleBackoff, OffNeverBacksOff) {
    IdleBackoffConfig c;
    c.enabled = false;
    IdleBackoff b(c);
    uint32_t us = 0;
    for (int i = 0; i < 100000; ++i)
        ASSERT_EQ(b.after_turn(false, &us), IdleBackoff::Action::kNone);
}

// Unit tests of control/origin_push (the off-peak push's pure decisions):
// the window, the token bucket that caps its bandwidth, the popularity
// list and what of it fits.
#include <gtest/gtest.h>

#include "control/origin_push/plan.h"
#include "control/origin_push/token_bucket.h"
#include "control/origin_push/window.h"

using namespace ep::push;

namespace {
constexpr uint64_t kChunk = 256 * 1024;
uint32_t hm(uint32_t h, uint32_t m, uint32_t s = 0) {
    return h * 3600 + m * 60 + s;
}
}  // namespace

TEST(PushWindow, ParsesAndBounds) {
    Window w;
    std::string err;
    ASSERT_TRUE(parse_window("02:00-06:00", &w, &err)) << err;
    EXPECT_EQ(w.start_s, hm(2, 0));
    EXPECT_EQ(w.end_s, hm(6, 0));
    EXPECT_FALSE(inside(w, hm(1, 59, 59)));
    EXPECT_TRUE(inside(w, hm(2, 0)));
    EXPECT_TRUE(inside(w, hm(5, 59, 59)));
    EXPECT_FALSE(inside(w, hm(6, 0)));  // the end is excluded
    EXPECT_EQ(seconds_left(w, hm(5, 0)), 3600u);
    EXPECT_EQ(seconds_left(w, hm(7, 0)), 0u);
    EXPECT_EQ(format_window(w), "02:00-06:00");
}

TEST(PushWindow, WrapsPastMidnight) {
    Window w;
    std::string err;
    ASSERT_TRUE(parse_window("22:30-4:00", &w, &err)) << err;
    EXPECT_TRUE(inside(w, hm(23, 0)));
    EXPECT_TRUE(inside(w, hm(0, 0)));
    EXPECT_TRUE(inside(w, hm(3, 59)));
    EXPECT_FALSE(inside(w, hm(4, 0)));
    EXPECT_FALSE(inside(w, hm(12, 0)));
    EXPECT_EQ(seconds_left(w, hm(23, 30)), hm(4, 30));
    ASSERT_TRUE(parse_window("20:00-24:00", &w, &err)) << err;
    EXPECT_TRUE(inside(w, hm(23, 59, 59)));
    EXPECT_FALSE(inside(w, hm(0, 0)));
    EXPECT_EQ(format_window(w), "20:00-24:00");
}

TEST(PushWindow, RejectsBadText) {
    Window w;
    std::string err;
    for (const char *bad :
         {"", "02:00", "02:00-", "2-6", "02:60-03:00", "25:00-03:00", "24:00-03:00", "02:00-02:00",
          "02:00-06:00x", "a2:00-06:00", "02:0-06:00", "02:00 - 06:00"})
        EXPECT_FALSE(parse_window(bad, &w, &err)) << bad;
    EXPECT_NE(err.find("HH:MM"), std::string::npos) << err;
}

TEST(PushBucket, CapsWhatStarts) {
    // 1 MB/s, burst one chunk: the first chunk at once, the next after its
    // length at the rate, never sooner.
    TokenBucket b(1'000'000, kChunk);
    b.reset(1'000'000, kChunk, 0);
    EXPECT_TRUE(b.take(kChunk, 0));
    EXPECT_FALSE(b.take(kChunk, 0));
    const uint64_t need_ns = kChunk * 1'000'000'000 / 1'000'000;  // 262.144 ms
    EXPECT_FALSE(b.take(kChunk, need_ns - 1'000'000));
    EXPECT_TRUE(b.take(kChunk, need_ns));
    // Over a long run: bytes started <= burst + rate * t.
    uint64_t started = 2 * kChunk, t = need_ns;
    for (int i = 0; i < 20000; ++i) {
        t += 2'000'000;  // the control loop's 2 ms tick
        while (b.take(100'000, t)) started += 100'000;
        ASSERT_LE(started, kChunk + 1'000'000 * t / 1'000'000'000 + 100'000);
    }
    EXPECT_GE(started, 1'000'000 * (t / 1'000'000'000) - kChunk);  // and it does pass the rate
}

TEST(PushBucket, IdleDoesNotSaveMoreThanBurst) {
    TokenBucket b;
    b.reset(1000, 5000, 0);
    EXPECT_EQ(b.tokens(1'000'000'000'000), 5000u);  // 1000 s idle: still one burst
    EXPECT_TRUE(b.take(5000, 1'000'000'000'000));
    EXPECT_FALSE(b.take(1, 1'000'000'000'000));
    EXPECT_TRUE(b.take(1, 1'000'001'000'000));  // 1 ms: one byte at 1000 B/s
}

TEST(PushBucket, NoCapTakesEverything) {
    TokenBucket b(0, 0);
    EXPECT_TRUE(b.take(1ull << 40, 0));
}

TEST(PushList, Forms) {
    std::vector<Entry> e;
    std::string err;
    ASSERT_TRUE(
        parse_list(R"(["/vod/a.mp4", {"path": "/vod/b.mp4", "size": 1234, "x": 1}])", &e, &err))
        << err;
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e[0].path, "/vod/a.mp4");
    EXPECT_EQ(e[0].size, 0u);
    EXPECT_EQ(e[1].path, "/vod/b.mp4");
    EXPECT_EQ(e[1].size, 1234u);
    ASSERT_TRUE(parse_list(R"({"titles": ["/x"]})", &e, &err)) << err;
    ASSERT_EQ(e.size(), 1u);
    for (const char *bad : {"", "[", "{}", "3", R"([1])", R"([{"size": 3}])",
                            R"([{"path": "/a", "size": -1}])", R"([{"path": "/a", "size": "3"}])"})
        EXPECT_FALSE(parse_list(bad, &e, &err)) << bad;
}

namespace {
PlanInput input(uint64_t share, uint64_t budget) {
    PlanInput in;
    in.share_left = share;
    in.budget_left = budget;
    in.max_name = 2048;
    in.routed = [](std::string_view p) { return p.starts_with("/vod/"); };
    in.stored = [](std::string_view p) { return p == "/vod/have.mp4"; };
    return in;
}
}  // namespace

TEST(PushPlan, MostPopularThatFitFirst) {
    // Share of 10 chunks: a (4 chunks) fits, big (12) does not, b (3) and c
    // (a byte over 2 chunks: 3 slots) fit, d (2) does not anymore.
    const std::vector<Entry> list = {
        {"/vod/a.mp4", 4 * kChunk}, {"/vod/big.mp4", 12 * kChunk},  {"/vod/b.mp4", 3 * kChunk - 10},
        {"/vod/have.mp4", kChunk},  {"/vod/c.mp4", 2 * kChunk + 1}, {"/vod/d.mp4", 2 * kChunk},
        {"/other/e.mp4", 1},        {"/vod/a.mp4", 4 * kChunk},     {"vod/nosl", 5},
        {"/vod/u.mp4", 0},
    };
    const std::vector<Skip> d = plan(list, input(10 * kChunk, UINT64_MAX));
    const std::vector<Skip> want = {Skip::none,     Skip::share, Skip::none,     Skip::stored,
                                    Skip::none,     Skip::share, Skip::no_route, Skip::duplicate,
                                    Skip::bad_path, Skip::none};
    EXPECT_EQ(d, want);
}

TEST(PushPlan, BandwidthBudget) {
    // 1 MB before the window ends: a 600 kB title, then one of 500 kB no
    // longer passes, a 300 kB one still does.
    const std::vector<Entry> list = {
        {"/vod/a", 600'000}, {"/vod/b", 500'000}, {"/vod/c", 300'000}, {"/vod/d", 200'000}};
    const std::vector<Skip> d = plan(list, input(UINT64_MAX / 2, 1'000'000));
    EXPECT_EQ(d, (std::vector<Skip>{Skip::none, Skip::budget, Skip::none, Skip::budget}));
}

TEST(PushPlan, FitCountsWholeSlots) {
    EXPECT_EQ(slot_bytes(1), kChunk);
    EXPECT_EQ(slot_bytes(kChunk), kChunk);
    EXPECT_EQ(slot_bytes(kChunk + 1), 2 * kChunk);
    EXPECT_EQ(fit(kChunk + 1, 2 * kChunk, UINT64_MAX), Skip::none);
    EXPECT_EQ(fit(kChunk + 1, 2 * kChunk - 1, UINT64_MAX), Skip::share);
    EXPECT_EQ(fit(100, kChunk, 99), Skip::budget);
    EXPECT_STREQ(skip_name(Skip::share), "share");
    EXPECT_NE(std::string(skip_text(Skip::stored)).find("already stored"), std::string::npos);
}

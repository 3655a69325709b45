#include "cache/belady.h"

#include <gtest/gtest.h>

#include <string>

#include "cache/trace.h"

namespace ep::cache {
namespace {

Trace letters(const std::string &s, uint32_t size = 1) {
    Trace t;
    for (char c : s) t.push_back(Request{static_cast<uint64_t>(c), size, kNeverAgain});
    annotate_next_access(t);
    return t;
}

std::string run(Policy &p, const Trace &t) {
    std::string out;
    for (const auto &r : t) out += p.access(r) ? 'H' : 'M';
    return out;
}

TEST(Trace, NextAccess) {
    Trace t = letters("ABAB C");
    EXPECT_EQ(t[0].next_access, 2);
    EXPECT_EQ(t[1].next_access, 3);
    EXPECT_EQ(t[2].next_access, kNeverAgain);
    EXPECT_EQ(t[5].next_access, kNeverAgain);
}

// 3 slots, ABCDABEABCDE (indices 0..11):
//  A B C  miss x3                  next uses A@4 B@5 C@9
//  D      evict C (furthest, 9)    {A B D}, D@10
//  A B    hit hit                  A@7 B@8
//  E      evict D (10)             {A B E}, E@11
//  A B    hit hit                  both never used again
//  C      evict A (never again); C is never used again, so not kept
//  D      room, but never used again: not kept
//  E      hit
TEST(Belady, HandSequence) {
    PolicyConfig cfg;
    cfg.capacity_bytes = 3;
    Belady p(cfg);
    // Misses: A B C D E C D = 7 (the textbook MIN count for this string).
    EXPECT_EQ(run(p, letters("ABCDABEABCDE")), "MMMMHHMHHMMH");
}

// libCacheSim evicts before it looks at the newcomer: with 2 slots,
// ABCABA makes room for C by evicting B (next use 4 > A's 3), then does
// not keep C (never used again). True MIN would have bypassed C and hit B.
TEST(Belady, EvictsBeforeBypassLikeLibCacheSim) {
    PolicyConfig cfg;
    cfg.capacity_bytes = 2;
    Belady p(cfg);
    EXPECT_EQ(run(p, letters("ABCABA")), "MMMHMH");
}

TEST(BeladySize, PrefersEvictingBigFarObjects) {
    PolicyConfig cfg;
    cfg.capacity_bytes = 10;
    BeladySize p(cfg);
    Trace t;
    // A (size 6) and B (size 2) both come back; C (size 4) at index 2 needs
    // room. Score = distance x size: A (4-2)*6 = 12 > B (3-2)*2 = 2: A goes,
    // so B hits at index 3.
    t.push_back({'A', 6, 0});
    t.push_back({'B', 2, 0});
    t.push_back({'C', 4, 0});
    t.push_back({'B', 2, 0});
    t.push_back({'A', 6, 0});
    t.push_back({'C', 4, 0});
    annotate_next_access(t);
    std::string out = run(p, t);
    EXPECT_EQ(out.substr(0, 4), "MMMH");
}

}  // namespace
}  // namespace ep::cache

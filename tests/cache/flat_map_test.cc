#include "cache/flat_map.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

namespace ep::cache {
namespace {

TEST(FlatMap, PutFindErase) {
    FlatMap m;
    EXPECT_EQ(m.find(1), FlatMap::kNone);
    m.put(1, 10);
    m.put(2, 20);
    m.put(1, 11);
    EXPECT_EQ(m.size(), 2u);
    EXPECT_EQ(m.find(1), 11u);
    EXPECT_TRUE(m.erase(1));
    EXPECT_FALSE(m.erase(1));
    EXPECT_EQ(m.find(1), FlatMap::kNone);
    EXPECT_EQ(m.find(2), 20u);
}

// Random churn against std::unordered_map exercises growth and the
// backward-shift deletion across wrapped probe runs.
TEST(FlatMap, MatchesStdMapUnderChurn) {
    FlatMap m(4);
    std::unordered_map<uint64_t, uint32_t> ref;
    std::mt19937_64 rng(3);
    for (int i = 0; i < 200000; ++i) {
        uint64_t k = rng() % 5000;
        switch (rng() % 3) {
            case 0:
            case 1:
                m.put(k, static_cast<uint32_t>(i));
                ref[k] = static_cast<uint32_t>(i);
                break;
            default:
                EXPECT_EQ(m.erase(k), ref.erase(k) == 1);
        }
    }
    EXPECT_EQ(m.size(), ref.size());
    for (uint64_t k = 0; k < 5000; ++k) {
        auto it = ref.find(k);
        EXPECT_EQ(m.find(k), it == ref.end() ? FlatMap::kNone : it->second) << k;
    }
}

}  // namespace
}  // namespace ep::cache

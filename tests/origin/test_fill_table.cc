// Coalescing and failover: one fetch per cold chunk however many join, the
// next server after a failure, give up after the last; deletions keep every
// other fill findable; read-ahead starts with the chunk asked for.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "dataplane/origin/fill_table.h"

using namespace ep::origin;

namespace {

TEST(FillTable, FiftyJoinsOneFetch) {
    FillTable t;
    ASSERT_TRUE(t.init(8));
    int started = 0;
    for (int i = 0; i < 50; ++i) {
        FillSlot *s = nullptr;
        const auto j = t.join(0xabc, 7, 3, 100, &s);
        ASSERT_NE(j, FillTable::Join::kFull);
        started += j == FillTable::Join::kStarted;
        ASSERT_NE(s, nullptr);
        EXPECT_EQ(s->index, 3u);
    }
    EXPECT_EQ(started, 1);
    EXPECT_EQ(t.in_flight(), 1u);
    EXPECT_EQ(t.find(0xabc)->joined, 50u);
    t.finish(t.find(0xabc));
    EXPECT_EQ(t.find(0xabc), nullptr);
    FillSlot *s;
    EXPECT_EQ(t.join(0xabc, 7, 3, 200, &s), FillTable::Join::kStarted);  // a new fill
}

TEST(FillTable, FullIsRefusedNotOverwritten) {
    FillTable t;
    ASSERT_TRUE(t.init(2));
    FillSlot *s;
    EXPECT_EQ(t.join(1, 1, 0, 0, &s), FillTable::Join::kStarted);
    EXPECT_EQ(t.join(2, 1, 1, 0, &s), FillTable::Join::kStarted);
    EXPECT_EQ(t.join(3, 1, 2, 0, &s), FillTable::Join::kFull);
    EXPECT_EQ(t.join(1, 1, 0, 0, &s), FillTable::Join::kJoined);  // joining still works
}

TEST(FillTable, FailoverThenGiveUp) {
    FillTable t;
    ASSERT_TRUE(t.init(4));
    FillSlot *s;
    ASSERT_EQ(t.join(9, 1, 0, 0, &s), FillTable::Join::kStarted);
    s->state = FillState::kFetching;
    EXPECT_EQ(s->server, 0);
    EXPECT_EQ(t.failed(s, 3, 10), FillTable::Next::kRetry);
    EXPECT_EQ(s->server, 1);
    EXPECT_EQ(s->state, FillState::kConnecting);
    EXPECT_EQ(s->started_ns, 10u);
    EXPECT_EQ(t.failed(s, 3, 20), FillTable::Next::kRetry);
    EXPECT_EQ(s->server, 2);
    EXPECT_EQ(t.failed(s, 3, 30), FillTable::Next::kGiveUp);
    FillSlot *one;
    ASSERT_EQ(t.join(10, 1, 1, 0, &one), FillTable::Join::kStarted);
    EXPECT_EQ(t.failed(one, 1, 5), FillTable::Next::kGiveUp);  // a single server: no retry
}

TEST(FillTable, DeletionKeepsProbeChains) {
    // Keys colliding on the same home slot, and neighbours, deleted in every
    // order: whatever is left is still found, nothing deleted is.
    // init(16): 32 slots, mask 31.
    const std::vector<uint64_t> keys = {32, 64, 96, 33, 65, 31, 63, 1, 2};
    for (size_t drop = 0; drop < keys.size(); ++drop) {
        for (size_t step = 1; step < keys.size(); ++step) {
            FillTable u;
            ASSERT_TRUE(u.init(16));
            FillSlot *s;
            for (uint64_t k : keys) ASSERT_EQ(u.join(k, k, 0, 0, &s), FillTable::Join::kStarted);
            std::set<uint64_t> gone;
            for (size_t i = drop, n = 0; n < keys.size() / 2; i = (i + step) % keys.size(), ++n) {
                if (gone.count(keys[i])) continue;
                u.finish(u.find(keys[i]));
                gone.insert(keys[i]);
            }
            for (uint64_t k : keys) {
                FillSlot *f = u.find(k);
                if (gone.count(k))
                    EXPECT_EQ(f, nullptr) << k;
                else
                    ASSERT_TRUE(f && f->key == k && f->oid == k) << k;
            }
            EXPECT_EQ(u.in_flight(), keys.size() - gone.size());
        }
    }
}

TEST(FillTable, ExpireSkipsLanding) {
    FillTable t;
    ASSERT_TRUE(t.init(4));
    FillSlot *a, *b;
    t.join(1, 1, 0, 0, &a);
    t.join(2, 1, 1, 0, &b);
    b->state = FillState::kLanding;
    std::vector<uint64_t> expired;
    t.expire(1000, 500, [&](FillSlot *s) { expired.push_back(s->key); });
    EXPECT_EQ(expired, std::vector<uint64_t>{1});
    expired.clear();
    t.expire(400, 500, [&](FillSlot *s) { expired.push_back(s->key); });
    EXPECT_TRUE(expired.empty());
}

TEST(FillPlan, ReadAheadStartsWithTheNeededChunk) {
    std::set<uint32_t> have = {6, 8};
    uint32_t out[8];
    const uint32_t n = plan_fetches(
        5, 9, 4, [&](uint32_t i) { return have.count(i) != 0; }, out, 8);
    ASSERT_EQ(n, 2u);
    EXPECT_EQ(out[0], 5u);
    EXPECT_EQ(out[1], 7u);  // 6 and 8 are here or in flight; 9 is past the end
    EXPECT_EQ(plan_fetches(
                  8, 9, 4, [](uint32_t) { return false; }, out, 8),
              1u);  // the last
    EXPECT_EQ(plan_fetches(
                  2, 9, 4, [](uint32_t) { return false; }, out, 2),
              2u);  // out_cap
}

}  // namespace

#include "cache/eviction_driver.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

namespace ep::cache {
namespace {

// A fake chunk store: holds keys, refuses to drop pinned ones.
class FakeStore : public StoreEvictor {
  public:
    std::set<uint64_t> held, pinned;
    std::vector<uint64_t> evicted;
    bool try_evict(uint64_t key) override {
        if (pinned.count(key)) return false;
        held.erase(key);
        evicted.push_back(key);
        return true;
    }
};

DriverConfig config(const std::string &policy, uint64_t high, uint64_t low) {
    DriverConfig c;
    c.policy = policy;
    c.high_watermark_bytes = high;
    c.low_watermark_bytes = low;
    return c;
}

TEST(EvictionDriver, CountsAndEvictsBetweenWatermarks) {
    FakeStore store;
    EvictionDriver d(config("lru", 1000, 600), store);
    // Ten 100-byte misses: the 11th crosses 1000 and triggers a pass down
    // to 600 bytes, evicting the five least recently used.
    for (uint64_t k = 0; k < 10; ++k) {
        store.held.insert(k);
        d.record({k, 100, false});
    }
    EXPECT_EQ(d.tracked_bytes(), 1000u);
    EXPECT_EQ(d.counters().eviction_runs, 0u);
    d.record({0, 100, true});  // 0 becomes most recent
    store.held.insert(10);
    d.record({10, 100, false});
    EXPECT_EQ(d.counters().eviction_runs, 1u);
    EXPECT_EQ(d.tracked_bytes(), 600u);
    EXPECT_EQ(store.evicted, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
    const auto &c = d.counters();
    EXPECT_EQ(c.hits, 1u);
    EXPECT_EQ(c.misses, 11u);
    EXPECT_EQ(c.bytes_hit, 100u);
    EXPECT_EQ(c.evictions, 5u);
    EXPECT_EQ(c.evictions_skipped, 0u);
}

TEST(EvictionDriver, SkipsPinnedAndRetriesLater) {
    FakeStore store;
    EvictionDriver d(config("fifo", 500, 300), store);
    for (uint64_t k = 0; k < 5; ++k) d.record({k, 100, false});
    store.pinned = {0, 1};
    d.record({5, 100, false});  // 600 > 500: evict to 300, 0 and 1 pinned
    EXPECT_EQ(d.tracked_bytes(), 300u);
    EXPECT_EQ(d.counters().evictions_skipped, 2u);
    EXPECT_EQ(d.counters().evictions, 3u);
    EXPECT_TRUE(d.policy().contains(0));
    EXPECT_TRUE(d.policy().contains(1));
    // Unpinned later: the next pass takes them (they were moved behind the
    // others, so 5 goes first as the oldest survivor... then 0 and 1).
    store.pinned.clear();
    for (uint64_t k = 6; k < 9; ++k) d.record({k, 100, false});
    EXPECT_EQ(d.counters().eviction_runs, 2u);
    EXPECT_FALSE(d.policy().contains(0));
    EXPECT_FALSE(d.policy().contains(1));
    EXPECT_EQ(d.tracked_bytes(), 300u);
}

TEST(EvictionDriver, AllPinnedDoesNotSpin) {
    FakeStore store;
    EvictionDriver d(config("default", 3000, 1000), store);
    for (uint64_t k = 0; k <= 30; ++k) store.pinned.insert(k);
    for (uint64_t k = 0; k <= 30; ++k) d.record({k, 100, false});
    EXPECT_EQ(d.tracked_bytes(), 3100u);  // nothing could go
    EXPECT_GE(d.counters().evictions_skipped, 31u);
    store.pinned.clear();
    d.record({30, 100, true});
    EXPECT_LE(d.tracked_bytes(), 1000u);
}

// S3-FIFO does not keep objects bigger than its small FIFO; the store has
// already ingested it, so the driver hands it straight back (retrying while
// it is pinned).
TEST(EvictionDriver, NotAdmittedGoesBackToStore) {
    FakeStore store;
    EvictionDriver d(config("s3fifo", 1000, 500), store);
    store.pinned.insert(1);
    d.record({1, 200, false});  // > 10% of 1000
    EXPECT_EQ(d.counters().not_admitted, 1u);
    EXPECT_TRUE(store.evicted.empty());
    store.pinned.clear();
    d.record({2, 10, false});
    EXPECT_EQ(store.evicted, (std::vector<uint64_t>{1}));
}

TEST(EvictionDriver, StoreLostKeyIsReinserted) {
    FakeStore store;
    EvictionDriver d(config("lru", 1000, 500), store);
    d.record({1, 100, false});
    d.record({1, 100, false});  // the store says miss again: start afresh
    EXPECT_EQ(d.tracked_bytes(), 100u);
    EXPECT_EQ(d.counters().misses, 2u);
}

TEST(EvictionDriver, RejectsBadConfig) {
    FakeStore store;
    EXPECT_THROW(EvictionDriver(config("nope", 10, 5), store), std::invalid_argument);
    EXPECT_THROW(EvictionDriver(config("lru", 10, 20), store), std::invalid_argument);
    EXPECT_THROW(EvictionDriver(config("belady", 10, 5), store), std::invalid_argument);
}

}  // namespace
}  // namespace ep::cache

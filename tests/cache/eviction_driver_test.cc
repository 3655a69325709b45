#include "cache/eviction_driver.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <stdexcept>

namespace ep::cache {
namespace {

// A fake chunk store that tells the driver about every change, as the real
// one does through RamObserver. Keys are object * 100 + chunk index. With
// `whole_objects` (a RAM-only store) evicting a chunk drops its object.
class FakeStore : public StoreEvictor {
  public:
    explicit FakeStore(bool whole_objects = false) : whole_(whole_objects) {}
    EvictionDriver *d = nullptr;
    std::set<uint64_t> held, pinned, fresh;
    std::vector<uint64_t> evicted;  // victims asked for and dropped

    void add(uint64_t key) {
        held.insert(key);
        d->resident(key, 100);
    }
    void add_object(uint64_t obj, unsigned chunks) {
        for (unsigned i = 0; i < chunks; ++i) add(obj * 100 + i);
    }
    Refusal try_evict(uint64_t key, bool allow_fresh) override {
        if (!held.count(key)) return Refusal::absent;
        if (!allow_fresh && fresh.count(key / 100)) return Refusal::fresh;
        std::vector<uint64_t> go{key};
        if (whole_) {
            go.clear();
            for (uint64_t k : held)
                if (k / 100 == key / 100) go.push_back(k);
        }
        for (uint64_t k : go)
            if (pinned.count(k)) return Refusal::pinned;
        evicted.push_back(key);
        for (uint64_t k : go) {
            held.erase(k);
            d->gone(k);  // the store's callback, from inside the policy's eviction
        }
        return Refusal::none;
    }
    uint64_t held_bytes() const { return held.size() * 100; }

  private:
    bool whole_;
};

DriverConfig config(const std::string &policy, uint64_t high, uint64_t low,
                    bool watermark_runs = true) {
    DriverConfig c;
    c.policy = policy;
    c.high_watermark_bytes = high;
    c.low_watermark_bytes = low;
    c.watermark_runs = watermark_runs;
    return c;
}

struct Rig {
    FakeStore store;
    EvictionDriver d;
    Rig(const DriverConfig &c, bool whole = false) : store(whole), d(c, store) { store.d = &d; }
};

// Origin fills ask first (Store::put_fill_chunk -> admit_fill): with TinyLFU
// a one-hit candidate is declined once the tracked bytes are at capacity and
// the victim it would displace is more popular; counted, and the hot keys stay.
TEST(EvictionDriver, AdmitDeclinesOneHitFillsAgainstAHotSet) {
    Rig r(config("tinylfu+lru", 400, 300));
    for (int i = 0; i < 4; ++i)
        for (uint64_t k = 1; k <= 4; ++k) {
            if (i == 0)
                r.store.add(k);
            else
                r.d.record({k, 100, AccessKind::hit});
        }
    EXPECT_TRUE(r.d.admit(1, 100));  // resident
    unsigned declined = 0;
    for (uint64_t k = 1000; k < 1020; ++k) {
        if (!r.d.admit(k, 100)) {
            ++declined;
            continue;
        }
        r.store.add(k);
        r.d.maybe_evict();
    }
    EXPECT_EQ(declined, 20u);
    EXPECT_EQ(r.d.counters().admission_declined, 20u);
    for (uint64_t k = 1; k <= 4; ++k) EXPECT_TRUE(r.store.held.count(k)) << k;
    // Without a filter nothing is declined.
    Rig plain(config("s3fifo", 400, 300));
    EXPECT_TRUE(plain.d.admit(7, 100));
    EXPECT_EQ(plain.d.counters().admission_declined, 0u);
}

// A declined chunk is dropped only after orphan_grace_ns, so the response
// that waited for its fill can pin it first (else it is fetched again).
TEST(EvictionDriver, DeclinedChunksGoAfterTheirGrace) {
    DriverConfig c = config("tinylfu+lru", 400, 300);
    c.orphan_grace_ns = 1000;
    Rig r(c);
    r.d.set_now(10);
    for (int i = 0; i < 4; ++i)
        for (uint64_t k = 1; k <= 4; ++k) {
            if (i == 0)
                r.store.add(k);
            else
                r.d.record({k, 100, AccessKind::hit});
        }
    r.store.add(1000);  // linked for its waiting response, declined by the policy
    EXPECT_EQ(r.d.counters().not_admitted, 1u);
    r.d.set_now(500);
    r.d.maybe_evict();
    EXPECT_TRUE(r.store.held.count(1000));  // still in its grace
    r.d.set_now(1010);
    r.d.maybe_evict();
    EXPECT_FALSE(r.store.held.count(1000));
    for (uint64_t k = 1; k <= 4; ++k) EXPECT_TRUE(r.store.held.count(k)) << k;
    // Room for new content takes declined chunks first, grace or not, and
    // leaves the hot keys alone.
    r.store.add(1001);
    r.store.add(1002);
    EXPECT_EQ(r.d.make_room(200), 200u);
    EXPECT_FALSE(r.store.held.count(1001));
    EXPECT_FALSE(r.store.held.count(1002));
    for (uint64_t k = 1; k <= 4; ++k) EXPECT_TRUE(r.store.held.count(k)) << k;
}

TEST(EvictionDriver, WatermarkRunEvictsLeastRecentDownToLow) {
    Rig r(config("lru", 1000, 600));
    for (uint64_t k = 0; k < 10; ++k) r.store.add(k);
    EXPECT_FALSE(r.d.maybe_evict());        // exactly at the high watermark
    r.d.record({0, 100, AccessKind::hit});  // 0 becomes most recent
    r.store.add(10);
    RunReport rep;
    EXPECT_TRUE(r.d.maybe_evict(&rep));
    EXPECT_EQ(r.d.tracked_bytes(), 600u);
    EXPECT_EQ(r.store.evicted, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
    EXPECT_EQ(rep.victims, 5u);
    EXPECT_EQ(rep.bytes_before, 1100u);
    EXPECT_EQ(rep.bytes_after, 600u);
    const auto &c = r.d.counters();
    EXPECT_EQ(c.hits, 1u);
    EXPECT_EQ(c.fills, 11u);
    EXPECT_EQ(c.evictions, 5u);
    EXPECT_EQ(c.eviction_runs, 1u);
    EXPECT_EQ(r.d.tracked_bytes(), r.store.held_bytes());
}

// The defect of issue 18: in a RAM-only store one victim chunk takes its
// whole object, and the policy used to keep tracking the siblings, so a run
// went on evicting object after object until nothing was left.
TEST(EvictionDriver, WholeObjectVictimsStopAtTheTarget) {
    Rig r(config("s3fifo", 2000, 1500, false), true);
    for (uint64_t o = 1; o <= 5; ++o) r.store.add_object(o, 4);  // 5 objects x 400
    EXPECT_FALSE(r.d.maybe_evict());                             // RAM-only: no watermark runs
    EXPECT_EQ(r.d.tracked_bytes(), 2000u);
    // Room for 300 bytes: one whole object (400) is enough.
    EXPECT_EQ(r.d.make_room(300), 400u);
    EXPECT_EQ(r.store.evicted.size(), 1u);
    EXPECT_EQ(r.store.held.size(), 16u);
    EXPECT_EQ(r.d.tracked_bytes(), r.store.held_bytes());
    for (uint64_t k : r.store.held) EXPECT_TRUE(r.d.policy().contains(k)) << k;
}

TEST(EvictionDriver, NoObjectIsLeftWithHoles) {
    Rig r(config("lru", 2000, 1500, false), true);
    for (uint64_t o = 1; o <= 4; ++o) r.store.add_object(o, 5);
    r.d.make_room(1000);
    std::map<uint64_t, int> per_object;
    for (uint64_t k : r.store.held) ++per_object[k / 100];
    for (auto [o, n] : per_object) EXPECT_EQ(n, 5) << "object " << o;
    EXPECT_EQ(r.store.held.size(), 10u);  // objects 1 and 2, the oldest, went
    EXPECT_EQ(r.d.tracked_bytes(), r.store.held_bytes());
}

TEST(EvictionDriver, FreshObjectsGoLastAndPinnedObjectsNever) {
    Rig r(config("lru", 2000, 1500, false), true);
    for (uint64_t o = 1; o <= 4; ++o) r.store.add_object(o, 2);
    r.store.fresh = {1, 4};  // 1 is the oldest but was just (re)ingested
    r.store.pinned = {201};  // a response holds a chunk of object 2
    r.d.make_room(200);
    EXPECT_EQ(r.store.evicted, (std::vector<uint64_t>{300}));  // 3: neither fresh nor pinned
    EXPECT_GE(r.d.counters().evictions_skipped_fresh, 1u);
    EXPECT_GE(r.d.counters().evictions_skipped_pinned, 1u);
    // Only fresh and pinned left: fresh ones go when nothing else can.
    r.d.make_room(200);
    ASSERT_EQ(r.store.evicted.size(), 2u);
    const uint64_t second = r.store.evicted[1] / 100;
    EXPECT_TRUE(second == 1 || second == 4) << second;  // a fresh one, never the pinned 2
    EXPECT_EQ(r.d.tracked_bytes(), r.store.held_bytes());
}

TEST(EvictionDriver, AllPinnedDoesNotSpin) {
    Rig r(config("default", 3000, 1000));
    for (uint64_t k = 0; k <= 30; ++k) r.store.pinned.insert(k);
    for (uint64_t k = 0; k <= 30; ++k) r.store.add(k);
    r.d.maybe_evict();
    EXPECT_EQ(r.d.tracked_bytes(), 3100u);  // nothing could go
    EXPECT_GE(r.d.counters().evictions_skipped_pinned, 31u);
    r.store.pinned.clear();
    r.d.maybe_evict();
    EXPECT_LE(r.d.tracked_bytes(), 1000u);
    EXPECT_EQ(r.d.tracked_bytes(), r.store.held_bytes());
}

TEST(EvictionDriver, PinnedSkippedAndRetriedLater) {
    Rig r(config("fifo", 500, 300));
    for (uint64_t k = 0; k < 6; ++k) r.store.add(k);
    r.store.pinned = {0, 1};
    r.d.maybe_evict();
    EXPECT_EQ(r.d.tracked_bytes(), 300u);
    EXPECT_EQ(r.d.counters().evictions_skipped_pinned, 2u);
    EXPECT_TRUE(r.d.policy().contains(0));
    EXPECT_TRUE(r.d.policy().contains(1));
    r.store.pinned.clear();
    for (uint64_t k = 6; k < 9; ++k) r.store.add(k);
    r.d.maybe_evict();
    EXPECT_FALSE(r.d.policy().contains(0));
    EXPECT_FALSE(r.d.policy().contains(1));
    EXPECT_EQ(r.d.tracked_bytes(), r.store.held_bytes());
}

// Whatever leaves RAM behind the policy's back (removal, replacement,
// checksum failure) is forgotten, so tracked bytes stay equal to held ones.
TEST(EvictionDriver, GoneChunksAreForgotten) {
    Rig r(config("s3fifo", 1000, 500));
    for (uint64_t k = 0; k < 8; ++k) r.store.add(k);
    r.store.held.erase(3);
    r.d.gone(3);
    r.store.held.erase(6);
    r.d.gone(6);
    EXPECT_EQ(r.d.tracked_bytes(), 600u);
    EXPECT_FALSE(r.d.policy().contains(3));
}

// Accesses only touch what is resident: a miss (the chunk is on disk, or
// the object is absent) never makes the policy track something RAM lacks.
TEST(EvictionDriver, MissesAreCountedNotTracked) {
    Rig r(config("lru", 1000, 500));
    r.d.record({7, 100, AccessKind::ram_miss});
    r.d.record({8, 0, AccessKind::absent});
    r.d.record({9, 100, AccessKind::hit});  // unlinked since: history only
    EXPECT_EQ(r.d.tracked_bytes(), 0u);
    EXPECT_EQ(r.d.counters().ram_misses, 1u);
    EXPECT_EQ(r.d.counters().misses, 1u);
    EXPECT_EQ(r.d.counters().hits, 1u);
}

// S3-FIFO does not keep objects bigger than its small FIFO; with a disk tier
// the RAM copy goes back on the next run (retried while pinned).
TEST(EvictionDriver, NotAdmittedRamCopyGoesOnTheNextRun) {
    FakeStore store;
    DriverConfig c = config("s3fifo", 1000, 500);
    EvictionDriver d(c, store);
    store.d = &d;
    store.held.insert(1);
    store.pinned.insert(1);
    d.resident(1, 200);  // > 10 % of 1000
    EXPECT_EQ(d.counters().not_admitted, 1u);
    d.maybe_evict();
    EXPECT_TRUE(store.evicted.empty());
    store.pinned.clear();
    d.maybe_evict();
    EXPECT_EQ(store.evicted, (std::vector<uint64_t>{1}));
}

TEST(EvictionDriver, RejectsBadConfig) {
    FakeStore store;
    EXPECT_THROW(EvictionDriver(config("nope", 10, 5), store), std::invalid_argument);
    EXPECT_THROW(EvictionDriver(config("lru", 10, 20), store), std::invalid_argument);
    EXPECT_THROW(EvictionDriver(config("belady", 10, 5), store), std::invalid_argument);
}

}  // namespace
}  // namespace ep::cache

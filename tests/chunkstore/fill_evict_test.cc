// Disk eviction of filled content (issue 14): when a filled chunk's record
// finds the disk tier full, the observer (the cache keeper) drops records of
// filled chunks to make room. These tests drive the store's side of it with
// a scripted observer: the slots are reused, a dropped chunk is served from
// RAM while it is there and is a hole after, a reused slot is never read back
// as the chunk it held (read-back and the scan at open check the key and
// generation under the header checksum), and ingested records are never
// victims.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <vector>

#include "chunkstore/record.h"
#include "chunkstore/store.h"
#include "tests/chunkstore/fill_util.h"

using namespace ep::chunkstore;
using namespace ep::chunkstore::test;

namespace {

constexpr uint64_t kVersion = 0x77aa55u;

// Drops the RAM copies of an object's chunks (each has a disk record or is a
// hole), waiting out the grace period.
void evict_ram(Store &s, const std::string &name, uint32_t chunks) {
    for (uint32_t i = 0; i < chunks; ++i) s.evict(chunk_key(name, i));
    s.quiescent(kTid);
    s.synchronize(kTid);
}

// Fills every chunk of `name` and waits for the records.
uint64_t fill_all(Store &s, const std::string &name, const std::vector<uint8_t> &data,
                  uint64_t version = kVersion) {
    uint64_t gen = 0;
    EXPECT_TRUE(s.begin_fill(name, data.size(), version, 0, "video/mp4", &gen).ok());
    const ObjectId oid = object_id(name);
    for (uint32_t i = 0; i < chunk_count_for(data.size()); ++i) {
        const auto c = chunk_of(data, i);
        EXPECT_TRUE(s.put_fill_chunk(oid, gen, i, c.data(), static_cast<uint32_t>(c.size())).ok());
    }
    EXPECT_TRUE(s.flush().ok());
    return gen;
}

// The keeper's part, scripted: a victim list in the order the test wants,
// and the mirror of the filled records the store reports.
struct Keeper : RamObserver {
    Store *s = nullptr;
    std::vector<ChunkKey> victims;
    std::set<ChunkKey> filled_records;
    uint32_t asked = 0;
    std::vector<EvictResult> results;
    void chunk_linked(const Chunk &, bool) override {}
    void chunk_unlinked(ChunkKey) override {}
    void need_ram(uint32_t, ObjectId) override {}
    void fill_record_added(ChunkKey k) override { filled_records.insert(k); }
    void disk_record_dropped(ChunkKey k) override { filled_records.erase(k); }
    void need_disk(uint32_t slots) override {
        ++asked;
        uint32_t freed = 0;
        while (freed < slots && !victims.empty()) {
            const ChunkKey k = victims.front();
            victims.erase(victims.begin());
            const EvictResult r = s->evict_fill_record(k);
            results.push_back(r);
            freed += r == EvictResult::evicted;
        }
    }
};

std::vector<uint8_t> read_slot(const std::string &path, int64_t slot) {
    std::vector<uint8_t> b(kRecordSize);
    int fd = ::open(path.c_str(), O_RDONLY);
    EXPECT_EQ(pread(fd, b.data(), b.size(), static_cast<off_t>(slot * kRecordSize)),
              static_cast<ssize_t>(b.size()));
    ::close(fd);
    return b;
}

void write_slot(const std::string &path, int64_t slot, const std::vector<uint8_t> &b) {
    int fd = ::open(path.c_str(), O_WRONLY);
    EXPECT_EQ(pwrite(fd, b.data(), b.size(), static_cast<off_t>(slot * kRecordSize)),
              static_cast<ssize_t>(b.size()));
    ::fsync(fd);
    ::close(fd);
}

}  // namespace

TEST(FillEvict, FullDiskDropsFilledRecordsAndReusesTheirSlots) {
    TempDir d;
    const Config cfg = disk_config(d, 16, 4, "fe1");
    const auto a = random_bytes(4 * kChunkSize, 31);
    const auto b = random_bytes(2 * kChunkSize - 100, 32);
    {
        auto s = open_ok(cfg);
        ASSERT_TRUE(s);
        Keeper k;
        k.s = s.get();
        s->set_observer(&k);
        fill_all(*s, "a", a);  // the whole disk tier
        EXPECT_EQ(s->disk_free_slots(), 0u);
        EXPECT_EQ(k.filled_records.size(), 4u);
        EXPECT_EQ(k.asked, 0u);
        // a's chunks 0 and 1 are the coldest (the keeper's order).
        k.victims = {chunk_key("a", 0), chunk_key("a", 1)};
        fill_all(*s, "b", b);
        EXPECT_GE(k.asked, 1u);
        const Counters c = s->counters();
        EXPECT_EQ(c.fill_disk_writes, 6u);
        EXPECT_EQ(c.fill_disk_evicted, 2u);
        EXPECT_EQ(c.fill_disk_evicted_bytes, 2u * kChunkSize);
        EXPECT_EQ(c.fill_disk_evicted_objects, 0u);  // a keeps chunks 2 and 3 on disk
        EXPECT_EQ(c.fill_disk_skipped, 0u);
        EXPECT_EQ(c.fill_disk_no_room, 0u);
        EXPECT_EQ(k.filled_records.size(), 4u);  // a:2, a:3, b:0, b:1
        EXPECT_FALSE(s->on_disk(chunk_key("a", 0)));
        EXPECT_TRUE(s->on_disk(chunk_key("b", 1)));
        const ObjectMeta *ma = s->lookup_object(kTid, "a");
        ASSERT_TRUE(ma);
        EXPECT_FALSE(ma->chunk_on_disk(0));
        EXPECT_TRUE(ma->chunk_on_disk(2));
        // Still in RAM: still served, byte-exact.
        Chunk *c0 = s->lookup(kTid, *ma, 0);
        ASSERT_TRUE(c0);
        EXPECT_EQ(std::vector<uint8_t>(c0->data, c0->data + c0->len), chunk_of(a, 0));
        // Out of RAM: a hole (nothing promoted, the origin is asked again).
        evict_ram(*s, "a", 4);
        ma = s->lookup_object(kTid, "a");
        ASSERT_TRUE(ma);
        EXPECT_TRUE(promoted(*s, *ma, 0).empty());
        EXPECT_EQ(promoted(*s, *ma, 2), chunk_of(a, 2));
        EXPECT_EQ(s->counters().checksum_failures, 0u);
        s->quiescent(kTid);
        s->set_observer(nullptr);
    }
    // After a restart the reused slots are b's; a comes back with its holes.
    OpenReport rep;
    auto s = open_ok(cfg, &rep);
    ASSERT_TRUE(s);
    EXPECT_EQ(rep.records_ok, 4u);
    EXPECT_EQ(rep.records_bad, 0u);
    EXPECT_EQ(rep.records_stale, 0u);
    const ObjectMeta *ma = s->lookup_object(kTid, "a");
    const ObjectMeta *mb = s->lookup_object(kTid, "b");
    ASSERT_TRUE(ma);
    ASSERT_TRUE(mb);
    for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(ma->chunk_on_disk(i), i >= 2) << i;
    EXPECT_TRUE(promoted(*s, *ma, 0).empty());
    EXPECT_TRUE(promoted(*s, *ma, 1).empty());
    EXPECT_EQ(promoted(*s, *ma, 3), chunk_of(a, 3));
    EXPECT_EQ(promoted(*s, *mb, 0), chunk_of(b, 0));
    EXPECT_EQ(promoted(*s, *mb, 1), chunk_of(b, 1));
}

TEST(FillEvict, IngestedRecordsAreNeverVictims) {
    TempDir d;
    const Config cfg = disk_config(d, 16, 3, "fe2");
    const auto ing = random_bytes(2 * kChunkSize, 33);
    const auto f = random_bytes(kChunkSize, 34);
    const auto g = random_bytes(kChunkSize, 35);
    auto s = open_ok(cfg);
    ASSERT_TRUE(s);
    Keeper k;
    k.s = s.get();
    s->set_observer(&k);
    ASSERT_TRUE(s->put_object("ingested", ing, 0).ok());
    fill_all(*s, "f", f);
    EXPECT_EQ(k.filled_records, std::set<ChunkKey>{chunk_key("f", 0)});
    EXPECT_EQ(s->disk_free_slots(), 0u);
    // A keeper that asks for every record: only the filled one may go.
    k.victims = {chunk_key("ingested", 0), chunk_key("ingested", 1), chunk_key("f", 0)};
    fill_all(*s, "g", g);
    ASSERT_EQ(k.results.size(), 3u);
    EXPECT_EQ(k.results[0], EvictResult::absent);
    EXPECT_EQ(k.results[1], EvictResult::absent);
    EXPECT_EQ(k.results[2], EvictResult::evicted);
    EXPECT_TRUE(s->on_disk(chunk_key("ingested", 0)));
    EXPECT_TRUE(s->on_disk(chunk_key("ingested", 1)));
    EXPECT_TRUE(s->on_disk(chunk_key("g", 0)));
    EXPECT_EQ(s->counters().fill_disk_evicted_objects, 1u);  // f has no record left
    // Nothing left to drop: the next fill stays in RAM, counted as refused.
    const auto h = random_bytes(kChunkSize, 36);
    fill_all(*s, "h", h);
    EXPECT_EQ(s->counters().fill_disk_no_room, 1u);
    EXPECT_EQ(s->counters().fill_disk_skipped, 1u);
    EXPECT_FALSE(s->on_disk(chunk_key("h", 0)));
    evict_ram(*s, "ingested", 2);
    const ObjectMeta *mi = s->lookup_object(kTid, "ingested");
    ASSERT_TRUE(mi);
    EXPECT_EQ(promoted(*s, *mi, 1), chunk_of(ing, 1));
    s->quiescent(kTid);
    s->set_observer(nullptr);
}

// The last line of defence: even if a slot held another record than the
// index expects (a reused slot read by a stale entry), the read-back checks
// the key and generation under the header checksum and never serves it. The
// test plants the records itself, behind the store's back: a record of
// another chunk, then the same chunk's record of an older version.
TEST(FillEvict, ReadBackRefusesAReusedSlotsRecord) {
    TempDir d;
    Config cfg = disk_config(d, 16, 8, "fe3");
    cfg.verify_on_open = false;  // the promotion is what must find out
    const auto x = random_bytes(2 * kChunkSize, 37);
    const auto x2 = random_bytes(2 * kChunkSize, 38);
    const auto y = random_bytes(kChunkSize, 39);
    std::vector<uint8_t> x_v1_chunk1;
    {
        auto s = open_ok(cfg);
        ASSERT_TRUE(s);
        fill_all(*s, "x", x);
        ASSERT_TRUE(s->flush().ok());
        x_v1_chunk1 = read_slot(cfg.path, slot_of(cfg.path, chunk_key("x", 1), 8));
        fill_all(*s, "x", x2, kVersion + 1);  // a new version: new slots, old ones tombstoned
        fill_all(*s, "y", y);
        s->quiescent(kTid);
    }
    const int64_t x0 = slot_of(cfg.path, chunk_key("x", 0), 8);
    const int64_t x1 = slot_of(cfg.path, chunk_key("x", 1), 8);
    const int64_t y0 = slot_of(cfg.path, chunk_key("y", 0), 8);
    ASSERT_GE(x0, 0);
    ASSERT_GE(x1, 0);
    ASSERT_GE(y0, 0);
    auto s = open_ok(cfg);
    ASSERT_TRUE(s);
    const ObjectMeta *m = s->lookup_object(kTid, "x");
    ASSERT_TRUE(m);
    ASSERT_TRUE(m->chunk_on_disk(0));
    ASSERT_TRUE(m->chunk_on_disk(1));
    // x:0's slot now holds y:0's record (a valid header, another key), x:1's
    // the record of x:1 of the old version (the same key, an older generation).
    write_slot(cfg.path, x0, read_slot(cfg.path, y0));
    write_slot(cfg.path, x1, x_v1_chunk1);
    EXPECT_TRUE(promoted(*s, *m, 0).empty());
    EXPECT_TRUE(promoted(*s, *m, 1).empty());
    // Nothing was published under x's keys either (a lookup by key alone,
    // as a tool would do, finds nothing rather than y's bytes).
    EXPECT_EQ(s->resident_chunk(chunk_key("x", 0)), nullptr);
    EXPECT_EQ(s->resident_chunk(chunk_key("x", 1)), nullptr);
    EXPECT_EQ(s->counters().checksum_failures, 2u);
    m = s->lookup_object(kTid, "x");
    ASSERT_TRUE(m);
    EXPECT_FALSE(m->chunk_on_disk(0));  // holes: fetched from the origin again
    EXPECT_FALSE(m->chunk_on_disk(1));
    const ObjectMeta *my = s->lookup_object(kTid, "y");
    ASSERT_TRUE(my);
    EXPECT_EQ(promoted(*s, *my, 0), chunk_of(y, 0));
    s->quiescent(kTid);
}

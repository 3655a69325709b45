// Store behaviour on one thread: insert, lookup, remove, capacity, pinning
// through mbufs, restart, corruption, promotion.
#include <fcntl.h>
#include <unistd.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include <gtest/gtest.h>

#include <set>

#include "chunkstore/store.h"
#include "tests/chunkstore/test_util.h"

using namespace ep::chunkstore;
using test::random_bytes;
using test::TempDir;

namespace {

constexpr uint32_t kTid = 0;  // this thread acts as data core 0 and control

Config ram_config(uint32_t slots) {
    Config c;
    c.ram_capacity_bytes = uint64_t{slots} * kChunkSize;
    c.max_objects = 256;
    return c;
}

Config disk_config(const TempDir &d, uint32_t ram_slots, uint32_t disk_slots) {
    Config c = ram_config(ram_slots);
    c.path = d.file("store.eps");
    c.disk_capacity_bytes = uint64_t{disk_slots} * kRecordSize;
    return c;
}

std::unique_ptr<Store> open_ok(const Config &c, OpenReport *rep = nullptr) {
    std::string err;
    auto s = Store::open(c, &err, rep);
    EXPECT_TRUE(s) << err;
    if (s) {
        EXPECT_TRUE(s->register_reader(kTid));
    }
    return s;
}

// Reads an object back through the data-core path (RAM hits only).
std::vector<uint8_t> read_via_lookup(Store &s, std::string_view name) {
    std::vector<uint8_t> out;
    const ObjectMeta *m = s.lookup_object(kTid, name);
    if (!m) return out;
    for (uint32_t i = 0; i < m->chunk_count; ++i) {
        Chunk *c = s.lookup(kTid, *m, i);
        if (!c) return {};
        out.insert(out.end(), c->data, c->data + c->len);
    }
    return out;
}

void wait_resident(Store &s, ChunkKey key) {
    for (int i = 0; i < 100000 && !s.lookup(kTid, key); ++i) {
        if (i % 64 == 0) s.request_promotion(kTid, key);
        s.poll();
        s.quiescent(kTid);
    }
}

struct Pool {
    rte_mempool *mp;
    explicit Pool(const char *name, unsigned n = 1023) {
        // data room 0: these mbufs only ever carry external buffers
        mp = rte_pktmbuf_pool_create(name, n, 0, 0, 0, SOCKET_ID_ANY);
    }
    ~Pool() { rte_mempool_free(mp); }
};

}  // namespace

TEST(Store, InsertLookupRemoveReinsert) {
    auto s = open_ok(ram_config(16));
    ASSERT_TRUE(s);
    auto data = random_bytes(600 * 1024, 1);
    ASSERT_TRUE(s->put_object("demo/seg1.m4s", data, 1234, "video/iso.segment").ok());

    const ObjectMeta *m = s->lookup_object(kTid, "demo/seg1.m4s");
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->size, data.size());
    EXPECT_EQ(m->chunk_count, 3u);
    EXPECT_EQ(m->mtime_ns, 1234);
    EXPECT_EQ(m->content_type(), "video/iso.segment");
    EXPECT_EQ(read_via_lookup(*s, "demo/seg1.m4s"), data);
    EXPECT_EQ(s->lookup(kTid, chunk_key("demo/seg1.m4s", 2))->len, 600u * 1024 - 2 * kChunkSize);
    EXPECT_EQ(s->lookup_object(kTid, "demo/seg2.m4s"), nullptr);
    EXPECT_EQ(s->lookup(kTid, chunk_key("demo/seg1.m4s", 3)), nullptr);
    EXPECT_EQ(s->usage().ram_resident_chunks, 3u);
    ChunkKey keys[4] = {chunk_key("demo/seg1.m4s", 0), 77, chunk_key("demo/seg1.m4s", 2),
                        chunk_key("demo/seg1.m4s", 1)};
    Chunk *got[4];
    s->lookup_bulk(kTid, keys, 4, got);
    EXPECT_EQ(got[0], s->lookup(kTid, keys[0]));
    EXPECT_EQ(got[1], nullptr);
    ASSERT_NE(got[2], nullptr);
    EXPECT_EQ(got[2]->index, 2u);
    EXPECT_EQ(got[3]->index, 1u);

    ASSERT_TRUE(s->remove_object("demo/seg1.m4s").ok());
    EXPECT_EQ(s->lookup_object(kTid, "demo/seg1.m4s"), nullptr);
    EXPECT_EQ(s->lookup(kTid, chunk_key("demo/seg1.m4s", 0)), nullptr);
    s->synchronize(kTid);
    EXPECT_EQ(s->usage().ram_bytes_used, 0u);
    EXPECT_EQ(s->remove_object("demo/seg1.m4s").code, Err::not_found);

    auto data2 = random_bytes(300 * 1024, 2);
    ASSERT_TRUE(s->put_object("demo/seg1.m4s", data2, 5678).ok());
    EXPECT_EQ(read_via_lookup(*s, "demo/seg1.m4s"), data2);
    Counters c = s->counters();
    EXPECT_GT(c.hits, 0u);
    EXPECT_GT(c.misses, 0u);
}

TEST(Store, ReplacingAnObjectBumpsGenerationAndEtag) {
    auto s = open_ok(ram_config(16));
    ASSERT_TRUE(s);
    auto v1 = random_bytes(300 * 1024, 3), v2 = random_bytes(200 * 1024, 4);
    ASSERT_TRUE(s->put_object("x", v1, 1).ok());
    const ObjectMeta m1 = *s->lookup_object(kTid, "x");
    ASSERT_TRUE(s->put_object("x", v2, 2).ok());
    const ObjectMeta *m2 = s->lookup_object(kTid, "x");
    EXPECT_GT(m2->generation, m1.generation);
    EXPECT_NE(m2->etag, m1.etag);
    EXPECT_EQ(read_via_lookup(*s, "x"), v2);
    s->synchronize(kTid);
    EXPECT_EQ(s->usage().ram_bytes_used, 1u * kChunkSize);  // the 2-chunk v1 is gone
}

TEST(Store, FullTierFailsCleanly) {
    auto s = open_ok(ram_config(4));
    ASSERT_TRUE(s);
    auto big = random_bytes(5 * kChunkSize, 5);
    Status st = s->put_object("big", big, 0);
    EXPECT_EQ(st.code, Err::full);
    EXPECT_NE(st.msg.find("RAM tier full"), std::string::npos) << st.msg;
    EXPECT_EQ(s->counters().insert_failures_full, 1u);
    EXPECT_EQ(s->lookup_object(kTid, "big"), nullptr);
    EXPECT_EQ(s->usage().ram_bytes_used, 0u);
    EXPECT_TRUE(s->put_object("fits", std::span(big.data(), 4 * kChunkSize), 0).ok());

    TempDir d;
    auto sd = open_ok(disk_config(d, 4, 3));
    ASSERT_TRUE(sd);
    st = sd->put_object("big", big, 0);
    EXPECT_EQ(st.code, Err::full);
    EXPECT_NE(st.msg.find("disk tier full"), std::string::npos) << st.msg;
}

TEST(Store, PinnedChunkOutlivesRemovalUntilLastMbufIsFreed) {
    auto s = open_ok(ram_config(4));
    ASSERT_TRUE(s);
    Pool pool("cs_t_pin");
    ASSERT_NE(pool.mp, nullptr);
    auto data = random_bytes(kChunkSize, 6);
    ASSERT_TRUE(s->put_object("pinned", data, 0).ok());

    Chunk *c = s->lookup_pinned(kTid, chunk_key("pinned", 0));
    ASSERT_NE(c, nullptr);
    rte_mbuf *m1 = attach_slice(c, 0, kMaxSlice, pool.mp);
    rte_mbuf *m2 = attach_slice(c, kMaxSlice, kMaxSlice, pool.mp);
    ASSERT_TRUE(m1 && m2);
    EXPECT_EQ(attach_slice(c, kChunkSize - 10, 11, pool.mp), nullptr);  // past the end
    EXPECT_EQ(attach_slice(c, 0, kMaxSlice + 1, pool.mp), nullptr);     // > 16-bit buf_len
    EXPECT_TRUE(m1->ol_flags & RTE_MBUF_F_EXTERNAL);
    EXPECT_EQ(rte_pktmbuf_mtod(m2, uint8_t *), c->data + kMaxSlice);  // no copy
    EXPECT_EQ(rte_pktmbuf_iova(m2), c->iova + kMaxSlice);
    EXPECT_EQ(m2->data_len, kMaxSlice);
    EXPECT_EQ(refs(c), 4);  // index + pin + 2 mbufs
    unpin(c);
    EXPECT_FALSE(s->try_evict(c->key));  // pinned: eviction skips it

    ASSERT_TRUE(s->remove_object("pinned").ok());
    s->synchronize(kTid);
    EXPECT_EQ(refs(c), 2);  // only the mbufs now
    EXPECT_EQ(s->usage().ram_bytes_used, 1u * kChunkSize);
    // The control thread fills every other slot; the pinned one is not reused.
    auto other = random_bytes(3 * kChunkSize, 7);
    ASSERT_TRUE(s->put_object("other", other, 0).ok());
    EXPECT_EQ(s->put_object("more", std::span(other.data(), 10), 0).code, Err::full);
    EXPECT_EQ(0, std::memcmp(rte_pktmbuf_mtod(m1, uint8_t *), data.data(), kMaxSlice));
    EXPECT_EQ(0, std::memcmp(rte_pktmbuf_mtod(m2, uint8_t *), data.data() + kMaxSlice, kMaxSlice));

    rte_pktmbuf_free(m1);
    s->poll();
    EXPECT_EQ(s->usage().ram_bytes_used, 4u * kChunkSize);
    rte_pktmbuf_free(m2);  // last reference: free_cb hands the slot back
    s->poll();
    EXPECT_EQ(s->usage().ram_bytes_used, 3u * kChunkSize);
    EXPECT_TRUE(s->put_object("more", std::span(other.data(), 10), 0).ok());
}

// Records what the store tells the cache keeper, and evicts on request.
struct Observer : RamObserver {
    Store *s = nullptr;
    std::set<ChunkKey> linked;
    uint32_t asked = 0;
    std::vector<ChunkKey> victims;  // need_ram() evicts these, in order
    void chunk_linked(const Chunk &c, bool) override { linked.insert(c.key); }
    void chunk_unlinked(ChunkKey k) override { linked.erase(k); }
    void need_ram(uint32_t slots, ObjectId) override {
        asked += slots;
        for (ChunkKey k : victims) s->evict(k);
        s->synchronize(kTid);
    }
};

TEST(Store, RamOnlyEvictionTakesWholeUnpinnedObjectsOnly) {
    auto s = open_ok(ram_config(8));
    ASSERT_TRUE(s);
    Observer o;
    o.s = s.get();
    s->set_observer(&o);
    auto a = random_bytes(3 * kChunkSize, 21), b = random_bytes(3 * kChunkSize, 22);
    ASSERT_TRUE(s->put_object("a", a, 0).ok());
    ASSERT_TRUE(s->put_object("b", b, 0).ok());
    EXPECT_EQ(o.linked.size(), 6u);
    EXPECT_EQ(s->ram_linked_chunks(), 6u);
    // A pinned chunk of "a" protects all of "a".
    Chunk *pin = s->lookup_pinned(kTid, chunk_key("a", 2));
    ASSERT_NE(pin, nullptr);
    EXPECT_EQ(s->evict(chunk_key("a", 0)), EvictResult::pinned);
    EXPECT_EQ(o.linked.size(), 6u);
    unpin(pin);
    // Unpinned, one victim chunk takes its whole object: no holes.
    EXPECT_EQ(s->evict(chunk_key("a", 1)), EvictResult::evicted);
    EXPECT_EQ(s->lookup_object(kTid, "a"), nullptr);
    EXPECT_EQ(o.linked.size(), 3u);
    EXPECT_EQ(s->ram_linked_chunks(), 3u);
    EXPECT_EQ(s->evict(chunk_key("a", 0)), EvictResult::absent);
    EXPECT_EQ(read_via_lookup(*s, "b"), b);
    s->synchronize(kTid);
    // An ingest that does not fit asks for room first: "b" goes, "c" fits.
    o.victims = {chunk_key("b", 0)};
    auto c = random_bytes(7 * kChunkSize, 23);
    ASSERT_TRUE(s->put_object("c", c, 0).ok());
    EXPECT_EQ(o.asked, 2u);  // 7 needed, 5 free
    EXPECT_EQ(read_via_lookup(*s, "c"), c);
    EXPECT_EQ(o.linked.size(), 7u);
    // Nothing left that may go: the error says why.
    o.victims.clear();
    Status st = s->put_object("d", std::span(c.data(), 2 * kChunkSize), 0);
    EXPECT_EQ(st.code, Err::full);
    EXPECT_NE(st.msg.find("needs 2 chunks, 1 of 8 free"), std::string::npos) << st.msg;
    s->set_observer(nullptr);
}

TEST(Store, TryEvictDropsOnlyTheRamCopy) {
    TempDir d;
    auto s = open_ok(disk_config(d, 8, 16));
    ASSERT_TRUE(s);
    auto data = random_bytes(2 * kChunkSize, 8);
    ASSERT_TRUE(s->put_object("e", data, 0).ok());
    ChunkKey k0 = chunk_key("e", 0);
    uint32_t cursor = 0, n = 0;
    ChunkKey k;
    Chunk *c;
    while (s->next_resident(&cursor, &k, &c)) ++n;
    EXPECT_EQ(n, 2u);
    EXPECT_TRUE(s->try_evict(k0));
    EXPECT_FALSE(s->try_evict(k0));  // not resident any more
    EXPECT_EQ(s->lookup(kTid, k0), nullptr);
    EXPECT_NE(s->lookup_object(kTid, "e"), nullptr);  // still served from disk
    s->synchronize(kTid);
    EXPECT_EQ(s->usage().ram_bytes_used, 1u * kChunkSize);
    wait_resident(*s, k0);
    EXPECT_EQ(read_via_lookup(*s, "e"), data);
    EXPECT_EQ(s->counters().promotions, 1u);
}

TEST(Store, RestartRebuildsTheSameContent) {
    TempDir d;
    Config cfg = disk_config(d, 32, 64);
    std::vector<std::pair<std::string, std::vector<uint8_t>>> objs = {
        {"demo/manifest.mpd", random_bytes(1500, 10)},
        {"demo/seg-1.m4s", random_bytes(3 * kChunkSize + 77, 11)},
        {"exact", random_bytes(2 * kChunkSize, 12)},
        {"empty", {}},
    };
    std::vector<ObjectMeta> metas;
    {
        auto s = open_ok(cfg);
        ASSERT_TRUE(s);
        EXPECT_TRUE(s->disk_direct());
        for (auto &[n, v] : objs) ASSERT_TRUE(s->put_object(n, v, 42, "t/x").ok());
        ASSERT_TRUE(s->put_object("exact", objs[2].second, 43, "t/x").ok());  // a 2nd generation
        ASSERT_TRUE(s->flush().ok());
        for (auto &[n, v] : objs) metas.push_back(*s->lookup_object(kTid, n));
        EXPECT_GT(s->counters().disk_writes, 0u);
    }
    OpenReport rep;
    auto s = open_ok(cfg, &rep);
    ASSERT_TRUE(s);
    EXPECT_EQ(rep.objects, objs.size());
    EXPECT_EQ(rep.records_bad, 0u);
    EXPECT_EQ(rep.records_ok, 1u + 4 + 2 + 1);
    for (size_t i = 0; i < objs.size(); ++i) {
        const ObjectMeta *m = s->lookup_object(kTid, objs[i].first);
        ASSERT_NE(m, nullptr) << objs[i].first;
        EXPECT_EQ(m->size, metas[i].size);
        EXPECT_EQ(m->etag, metas[i].etag);
        EXPECT_EQ(m->generation, metas[i].generation);
        EXPECT_EQ(m->mtime_ns, metas[i].mtime_ns);
        EXPECT_EQ(m->content_type(), "t/x");
        for (uint32_t c = 0; c < m->chunk_count; ++c) wait_resident(*s, chunk_key(m->id, c));
        EXPECT_EQ(read_via_lookup(*s, objs[i].first), objs[i].second) << objs[i].first;
    }
    // New writes after a restart get a newer generation than anything on disk.
    ASSERT_TRUE(s->put_object("late", objs[0].second, 1).ok());
    EXPECT_GT(s->lookup_object(kTid, "late")->generation, metas[2].generation);
}

TEST(Store, FlippedPayloadByteIsNeverServed) {
    TempDir d;
    Config cfg = disk_config(d, 8, 16);
    cfg.ram_on_ingest = false;
    auto data = random_bytes(3 * kChunkSize, 13);
    {
        auto s = open_ok(cfg);
        ASSERT_TRUE(s);
        ASSERT_TRUE(s->put_object("victim", data, 0).ok());
        ASSERT_TRUE(s->put_object("bystander", std::span(data.data(), 1000), 0).ok());
    }
    // Slots are handed out lowest first: chunk 1 of "victim" is in slot 1.
    int fd = ::open(cfg.path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    off_t at = off_t{kRecordSize} + kPayloadOffset + 4242;
    uint8_t b;
    ASSERT_EQ(pread(fd, &b, 1, at), 1);
    b ^= 0x10;
    ASSERT_EQ(pwrite(fd, &b, 1, at), 1);
    ::close(fd);

    // Without open-time verification the object is listed, but the bad
    // chunk fails verification when promoted and is never served. Only that
    // chunk is lost: the others stay servable.
    cfg.verify_on_open = false;
    {
        auto s = open_ok(cfg);
        ASSERT_TRUE(s);
        ASSERT_NE(s->lookup_object(kTid, "victim"), nullptr);
        EXPECT_TRUE(s->promote_now(chunk_key("victim", 0)).ok());
        EXPECT_EQ(s->promote_now(chunk_key("victim", 1)).code, Err::corrupt);
        EXPECT_EQ(s->lookup(kTid, chunk_key("victim", 1)), nullptr);
        const ObjectMeta *m = s->lookup_object(kTid, "victim");
        ASSERT_NE(m, nullptr);
        EXPECT_TRUE(m->chunk_lost(1));
        EXPECT_FALSE(m->chunk_lost(0));
        EXPECT_FALSE(m->chunk_lost(2));
        EXPECT_TRUE(s->promote_now(chunk_key("victim", 2)).ok());
        Chunk *c2 = s->lookup(kTid, *m, 2);
        ASSERT_NE(c2, nullptr);
        EXPECT_EQ(0, std::memcmp(c2->data, data.data() + 2 * kChunkSize, kChunkSize));
        EXPECT_EQ(s->counters().checksum_failures, 1u);
        EXPECT_NE(s->lookup_object(kTid, "bystander"), nullptr);
    }
    // The failed record keeps its header on disk: a later open (verifying)
    // knows the object's shape and keeps it with the same chunk lost.
    cfg.verify_on_open = true;
    {
        OpenReport rep;
        auto s = open_ok(cfg, &rep);
        ASSERT_TRUE(s);
        const ObjectMeta *m = s->lookup_object(kTid, "victim");
        ASSERT_NE(m, nullptr);
        EXPECT_TRUE(m->chunk_lost(1));
        EXPECT_EQ(m->lost_count, 1u);
        EXPECT_NE(s->lookup_object(kTid, "bystander"), nullptr);
        EXPECT_EQ(rep.objects, 2u);
        EXPECT_EQ(rep.objects_with_lost_chunks, 1u);
        // Re-ingesting the object heals it and frees the failed record's slot.
        ASSERT_TRUE(s->put_object("victim", data, 0).ok());
        EXPECT_FALSE(s->lookup_object(kTid, "victim")->chunk_lost(1));
        EXPECT_EQ(s->usage().disk_chunks, 4u);
        EXPECT_EQ(s->usage().disk_bytes_used, 4u * kRecordSize);
    }
}

TEST(Store, CorruptRecordsAreDroppedAtOpen) {
    TempDir d;
    Config cfg = disk_config(d, 8, 16);
    auto data = random_bytes(2 * kChunkSize, 14);
    {
        auto s = open_ok(cfg);
        ASSERT_TRUE(s);
        ASSERT_TRUE(s->put_object("a", data, 0).ok());                       // slots 0,1
        ASSERT_TRUE(s->put_object("b", data, 0).ok());                       // slots 2,3
        ASSERT_TRUE(s->put_object("c", std::span(data.data(), 9), 0).ok());  // slot 4
    }
    int fd = ::open(cfg.path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    auto flip = [&](off_t at) {
        uint8_t b;
        ASSERT_EQ(pread(fd, &b, 1, at), 1);
        b ^= 1;
        ASSERT_EQ(pwrite(fd, &b, 1, at), 1);
    };
    flip(off_t{kRecordSize} * 1 + 100);                     // "a" chunk 1: header byte
    flip(off_t{kRecordSize} * 2 + kPayloadOffset + 77777);  // "b" chunk 0: payload byte
    ::close(fd);
    OpenReport rep;
    auto s = open_ok(cfg, &rep);
    ASSERT_TRUE(s);
    EXPECT_EQ(rep.records_bad, 2u);
    // "a" lost a header: its shape is unknown, so it goes. "b" lost a
    // payload: kept, with chunk 0 lost and chunk 1 served.
    EXPECT_EQ(rep.objects_incomplete, 1u);
    EXPECT_EQ(rep.objects, 2u);
    EXPECT_EQ(rep.objects_with_lost_chunks, 1u);
    EXPECT_EQ(s->lookup_object(kTid, "a"), nullptr);
    const ObjectMeta *b = s->lookup_object(kTid, "b");
    ASSERT_NE(b, nullptr);
    EXPECT_TRUE(b->chunk_lost(0));
    EXPECT_FALSE(b->chunk_lost(1));
    EXPECT_NE(s->lookup_object(kTid, "c"), nullptr);
    EXPECT_EQ(s->counters().checksum_failures, 2u);
    VerifyReport v = s->verify();
    EXPECT_EQ(v.chunks_bad, 0u);
    EXPECT_EQ(v.chunks_ok, 2u);
}

TEST(Store, BufferedFallbackWorks) {
    TempDir d;
    Config cfg = disk_config(d, 8, 16);
    cfg.force_buffered = true;
    auto data = random_bytes(kChunkSize + 5, 15);
    {
        auto s = open_ok(cfg);
        ASSERT_TRUE(s);
        EXPECT_FALSE(s->disk_direct());
        ASSERT_TRUE(s->put_object("f", data, 0).ok());
    }
    auto s = open_ok(cfg);
    ASSERT_TRUE(s);
    std::vector<uint8_t> out, got;
    for (uint32_t i = 0; i < 2; ++i) {
        ASSERT_TRUE(s->read_chunk(chunk_key("f", i), &got).ok());
        out.insert(out.end(), got.begin(), got.end());
    }
    EXPECT_EQ(out, data);
}

TEST(Store, AsyncPromotionNeverBlocksTheReader) {
    TempDir d;
    Config cfg = disk_config(d, 8, 16);
    cfg.ram_on_ingest = false;
    auto s = open_ok(cfg);
    ASSERT_TRUE(s);
    auto data = random_bytes(kChunkSize, 16);
    ASSERT_TRUE(s->put_object("p", data, 0).ok());
    ChunkKey k = chunk_key("p", 0);
    EXPECT_EQ(s->lookup(kTid, k), nullptr);
    EXPECT_TRUE(s->request_promotion(kTid, k));
    EXPECT_TRUE(s->request_promotion(kTid, k));  // duplicate requests are harmless
    wait_resident(*s, k);
    Chunk *c = s->lookup(kTid, k);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(0, std::memcmp(c->data, data.data(), kChunkSize));
    EXPECT_EQ(payload_partial_sum16(c, 1, 1448) % 0xffff,
              csum_fold(rte_raw_cksum(data.data() + 1, 1448)) % 0xffff);
    // The checksum prefix came from disk with the record: same as recomputed.
    std::vector<uint16_t> want(kCsumBlocks + 1);
    csum_build_prefix(data.data(), kChunkSize, want.data());
    EXPECT_TRUE(std::equal(want.begin(), want.end(), c->csum_prefix));
    Counters ct = s->counters();
    EXPECT_EQ(ct.promotions, 1u);
    EXPECT_GE(ct.disk_reads, 1u);
    // Unknown keys are ignored by the control thread.
    EXPECT_TRUE(s->request_promotion(kTid, 12345));
    s->poll();
}

// A waiter hears of every request it made once the store settled it: after
// the chunk is published, or at once when nothing will come of it.
TEST(Store, SettledPromotionsAreQueuedToTheirWaiter) {
    TempDir d;
    Config cfg = disk_config(d, 8, 16);
    cfg.ram_on_ingest = false;
    auto s = open_ok(cfg);
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->put_object("w", random_bytes(2 * kChunkSize, 3), 0).ok());
    const WaiterId w1 = s->add_waiter(), w2 = s->add_waiter();
    ASSERT_NE(w1, kNoWaiter);
    ASSERT_NE(w2, kNoWaiter);
    const ChunkKey k = chunk_key("w", 0);
    EXPECT_TRUE(s->request_promotion(kTid, k, w1));
    EXPECT_TRUE(s->request_promotion(kTid, k, w2));
    EXPECT_TRUE(s->request_promotion(kTid, k, w2));  // twice: told once
    ChunkKey got[8];
    bool overflow = true;
    unsigned n1 = 0, n2 = 0;
    for (int i = 0; i < 100000 && (n1 == 0 || n2 == 0); ++i) {
        s->poll();
        n1 += s->promotions_settled(w1, got, 8, &overflow);
        EXPECT_FALSE(overflow);
        if (n1) {
            EXPECT_NE(s->lookup(kTid, k), nullptr);  // published before the news
        }
        n2 += s->promotions_settled(w2, got, 8, &overflow);
    }
    EXPECT_EQ(n1, 1u);
    EXPECT_EQ(n2, 1u);
    EXPECT_EQ(got[0], k);
    for (int i = 0; i < 10; ++i) s->poll();
    EXPECT_EQ(s->promotions_settled(w2, got, 8, &overflow), 0u);
    // Already resident, and unknown: settled at once, nothing read.
    const uint64_t reads = s->counters().disk_reads;
    EXPECT_TRUE(s->request_promotion(kTid, k, w1));
    EXPECT_TRUE(s->request_promotion(kTid, 12345, w1));
    s->poll();
    EXPECT_EQ(s->promotions_settled(w1, got, 8, &overflow), 2u);
    EXPECT_EQ(s->counters().disk_reads, reads);
}

TEST(Store, FlippedChecksumAreaByteIsNeverServed) {
    TempDir d;
    Config cfg = disk_config(d, 8, 16);
    cfg.ram_on_ingest = false;
    cfg.verify_on_open = false;
    auto data = random_bytes(kChunkSize, 17);
    {
        auto s = open_ok(cfg);
        ASSERT_TRUE(s);
        ASSERT_TRUE(s->put_object("sums", data, 0).ok());
    }
    int fd = ::open(cfg.path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    uint8_t b;
    ASSERT_EQ(pread(fd, &b, 1, kHeaderSize + 10), 1);
    b ^= 4;
    ASSERT_EQ(pwrite(fd, &b, 1, kHeaderSize + 10), 1);
    ::close(fd);
    auto s = open_ok(cfg);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->promote_now(chunk_key("sums", 0)).code, Err::corrupt);
    EXPECT_EQ(s->lookup_object(kTid, "sums"), nullptr);
    EXPECT_EQ(s->counters().checksum_failures, 1u);
}

TEST(Store, RefusesAFileThatIsNotAChunkStore) {
    TempDir d;
    Config cfg = disk_config(d, 8, 4);
    auto junk = random_bytes(4 * kRecordSize, 18);
    test::write_file(cfg.path, junk);
    std::string err;
    EXPECT_EQ(Store::open(cfg, &err), nullptr);
    EXPECT_NE(err.find("not a chunk store"), std::string::npos) << err;
    EXPECT_EQ(test::read_file(cfg.path), junk);  // untouched
}

// Pull on miss in the store (Store::begin_fill / put_fill_chunk and the fill
// channel): the object first, its chunks one by one, each visible only
// whole and only for its own version; the fetching core's ring is told.
#include <gtest/gtest.h>

#include <ctime>

#include "chunkstore/store.h"
#include "tests/chunkstore/test_util.h"

using namespace ep::chunkstore;
using test::random_bytes;

namespace {

constexpr uint32_t kTid = 0;

std::unique_ptr<Store> open_ram(uint32_t slots, const char *name) {
    Config c;
    c.ram_capacity_bytes = uint64_t{slots} * kChunkSize;
    c.max_objects = 64;
    c.name = name;
    std::string err;
    auto s = Store::open(c, &err);
    EXPECT_TRUE(s) << err;
    if (s) {
        EXPECT_TRUE(s->register_reader(kTid));
    }
    return s;
}

TEST(StoreFill, ObjectFirstThenChunksOneByOne) {
    auto s = open_ram(16, "fill1");
    ASSERT_TRUE(s);
    const auto data = random_bytes(2 * kChunkSize + 100, 7);
    uint64_t gen = 0;
    ASSERT_TRUE(s->begin_fill("vod/a.mp4", data.size(), 0xe7a9, 1'000, "video/mp4", &gen).ok());
    const ObjectMeta *m = s->lookup_object(kTid, "vod/a.mp4");
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->filled);
    EXPECT_EQ(m->size, data.size());
    EXPECT_EQ(m->chunk_count, 3u);
    EXPECT_EQ(m->etag, 0xe7a9u);
    EXPECT_EQ(m->content_type(), "video/mp4");
    EXPECT_EQ(m->generation, gen);
    for (uint32_t i = 0; i < 3; ++i) EXPECT_EQ(s->lookup(kTid, *m, i), nullptr);  // nothing yet
    // Chunk 2 first (a range near the end), then 0; 1 stays a hole.
    ASSERT_TRUE(s->put_fill_chunk(m->id, gen, 2, data.data() + 2 * kChunkSize, 100).ok());
    ASSERT_TRUE(s->put_fill_chunk(m->id, gen, 0, data.data(), kChunkSize).ok());
    Chunk *c2 = s->lookup(kTid, *m, 2);
    ASSERT_TRUE(c2);
    EXPECT_EQ(c2->len, 100u);
    EXPECT_EQ(0, std::memcmp(c2->data, data.data() + 2 * kChunkSize, 100));
    Chunk *c0 = s->lookup(kTid, *m, 0);
    ASSERT_TRUE(c0);
    EXPECT_EQ(0, std::memcmp(c0->data, data.data(), kChunkSize));
    EXPECT_EQ(s->lookup(kTid, *m, 1), nullptr);
    // A chunk of the wrong length, index or version never becomes visible.
    EXPECT_EQ(s->put_fill_chunk(m->id, gen, 1, data.data(), 100).code, Err::invalid);
    EXPECT_EQ(s->put_fill_chunk(m->id, gen, 3, data.data(), 100).code, Err::invalid);
    EXPECT_EQ(s->put_fill_chunk(m->id, gen + 1, 1, data.data() + kChunkSize, kChunkSize).code,
              Err::not_found);
    EXPECT_EQ(s->lookup(kTid, *m, 1), nullptr);
    s->quiescent(kTid);
}

TEST(StoreFill, SameVersionKeptOtherVersionReplaces) {
    auto s = open_ram(16, "fill2");
    ASSERT_TRUE(s);
    const auto data = random_bytes(kChunkSize + 1, 9);
    uint64_t g1 = 0, g2 = 0, g3 = 0;
    ASSERT_TRUE(s->begin_fill("x", data.size(), 1, 0, {}, &g1).ok());
    ASSERT_TRUE(s->put_fill_chunk(object_id("x"), g1, 0, data.data(), kChunkSize).ok());
    ASSERT_TRUE(s->begin_fill("x", data.size(), 1, 0, {}, &g2).ok());  // another core, same version
    EXPECT_EQ(g2, g1);
    EXPECT_TRUE(s->lookup(kTid, object_id("x"), 0));                   // its chunk stays
    ASSERT_TRUE(s->begin_fill("x", data.size(), 2, 0, {}, &g3).ok());  // new ETag: new version
    EXPECT_NE(g3, g1);
    s->synchronize(kTid);
    const ObjectMeta *m = s->lookup_object(kTid, "x");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->generation, g3);
    EXPECT_EQ(s->lookup(kTid, *m, 0), nullptr);  // never a chunk of the old version
    EXPECT_EQ(s->put_fill_chunk(m->id, g1, 1, data.data() + kChunkSize, 1).code, Err::not_found);
}

TEST(StoreFill, ChannelPublishesAndTellsTheWaiter) {
    auto s = open_ram(16, "fill3");
    ASSERT_TRUE(s);
    const WaiterId w = s->add_waiter();
    const uint32_t ch = s->add_fill_channel();
    ASSERT_NE(w, kNoWaiter);
    ASSERT_NE(ch, UINT32_MAX);
    const auto data = random_bytes(3 * kChunkSize, 11);
    auto msg = std::make_unique<Store::FillMsg>();
    msg->kind = Store::FillMsg::Kind::begin;
    msg->waiter = w;
    msg->oid = object_id("t/seg.m4s");
    msg->size = data.size();
    msg->etag = 5;
    msg->index = 1;
    msg->len = kChunkSize;
    msg->data = data.data() + kChunkSize;
    msg->name_len = 9;
    std::memcpy(msg->name, "t/seg.m4s", 9);
    ASSERT_TRUE(s->post_fill(ch, msg.get()));
    EXPECT_EQ(msg->state.load(), Store::FillMsg::kPosted);
    s->poll();
    EXPECT_EQ(msg->state.load(), Store::FillMsg::kDone);
    ChunkKey keys[4];
    bool overflow = false;
    ASSERT_EQ(s->promotions_settled(w, keys, 4, &overflow), 2u);
    EXPECT_EQ(keys[0], object_id("t/seg.m4s"));     // the object is known: held requests
    EXPECT_EQ(keys[1], chunk_key("t/seg.m4s", 1));  // then the chunk
    const ObjectMeta *m = s->lookup_object(kTid, "t/seg.m4s");
    ASSERT_TRUE(m);
    ASSERT_TRUE(s->lookup(kTid, *m, 1));
    EXPECT_EQ(0, std::memcmp(s->lookup(kTid, *m, 1)->data, data.data() + kChunkSize, kChunkSize));
    // A chunk message for a version that is gone is refused, and still told.
    msg->kind = Store::FillMsg::Kind::chunk;
    msg->generation = m->generation + 100;
    msg->index = 2;
    ASSERT_TRUE(s->post_fill(ch, msg.get()));
    s->poll();
    EXPECT_EQ(msg->state.load(), Store::FillMsg::kRefused);
    EXPECT_EQ(s->promotions_settled(w, keys, 4, &overflow), 1u);
    s->quiescent(kTid);
}

}  // namespace

namespace {
TEST(StoreFill, RefreshKeepsTheVersionAndItsChunks) {
    auto s = open_ram(16, "fill4");
    ASSERT_TRUE(s);
    const auto data = random_bytes(1000, 3);
    uint64_t g = 0;
    ASSERT_TRUE(s->begin_fill("f", data.size(), 7, 0, {}, &g, 100, "\"e1\"").ok());
    ASSERT_TRUE(s->put_fill_chunk(object_id("f"), g, 0, data.data(), 1000).ok());
    const ObjectMeta *m = s->lookup_object(kTid, "f");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->expires_unix_s, 100);
    EXPECT_EQ(m->origin_etag_view(), "\"e1\"");
    ASSERT_TRUE(s->refresh_fill(object_id("f"), g, 200).ok());
    s->synchronize(kTid);
    m = s->lookup_object(kTid, "f");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->expires_unix_s, 200);
    EXPECT_EQ(m->generation, g);
    EXPECT_EQ(m->origin_etag_view(), "\"e1\"");
    EXPECT_TRUE(s->lookup(kTid, *m, 0));  // the chunk is still this version's
    EXPECT_EQ(s->refresh_fill(object_id("f"), g + 1, 300).code, Err::not_found);
}
}  // namespace

namespace {

// Negative caching: an origin 404 is remembered as an object without
// chunks, for every reader, until it expires (then the control loop drops
// it); an ingested object of that name is never replaced by one.
TEST(StoreFill, NegativeEntriesAnswerUntilTheyExpire) {
    auto s = open_ram(16, "fill4");
    ASSERT_TRUE(s);
    const int64_t now = std::time(nullptr);
    // Entries expire in the order they came (one TTL for all).
    ASSERT_TRUE(s->put_negative("vod/old.bin", 410, now - 1).ok());
    ASSERT_TRUE(s->put_negative("vod/gone.bin", 404, now + 100).ok());
    const ObjectMeta *m = s->lookup_object(kTid, "vod/gone.bin");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->negative_status, 404);
    EXPECT_EQ(m->chunk_count, 0u);
    EXPECT_EQ(m->expires_unix_s, now + 100);
    s->quiescent(kTid);
    s->poll();  // sweeps what expired
    s->synchronize(kTid);
    EXPECT_EQ(s->lookup_object(kTid, "vod/old.bin"), nullptr);
    EXPECT_TRUE(s->lookup_object(kTid, "vod/gone.bin"));
    // A fill of the name replaces the entry (the origin has it now).
    uint64_t g = 0;
    ASSERT_TRUE(s->begin_fill("vod/gone.bin", 10, 1, 0, {}, &g).ok());
    s->synchronize(kTid);
    m = s->lookup_object(kTid, "vod/gone.bin");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->negative_status, 0);
    EXPECT_EQ(m->size, 10u);
    // An operator's object stays whatever an origin says.
    const auto data = random_bytes(100, 3);
    ASSERT_TRUE(s->put_object("vod/mine.bin", data, 0).ok());
    EXPECT_EQ(s->put_negative("vod/mine.bin", 404, now + 100).code, Err::invalid);
    s->quiescent(kTid);
}

// no-store: a fetch is never the same version as the copy before it.
TEST(StoreFill, NoStoreCopiesAreNeverReused) {
    auto s = open_ram(16, "fill5");
    ASSERT_TRUE(s);
    uint64_t g1 = 0, g2 = 0;
    ASSERT_TRUE(s->begin_fill("p", 10, 1, 0, {}, &g1, 1, {}, true).ok());
    ASSERT_TRUE(s->begin_fill("p", 10, 1, 0, {}, &g2, 1, {}, true).ok());
    EXPECT_NE(g1, g2);
    s->synchronize(kTid);
    const ObjectMeta *m = s->lookup_object(kTid, "p");
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->no_store);
    s->quiescent(kTid);
}

// HTTP PURGE travels the fill channel: one name, or a prefix ending in '/'.
TEST(StoreFill, PurgeMessagesDropObjects) {
    auto s = open_ram(16, "fill6");
    ASSERT_TRUE(s);
    const uint32_t ch = s->add_fill_channel();
    uint64_t g = 0;
    for (const char *n : {"a/1", "a/2", "b/1"}) ASSERT_TRUE(s->begin_fill(n, 10, 1, 0, {}, &g).ok());
    auto msg = std::make_unique<Store::FillMsg>();
    msg->kind = Store::FillMsg::Kind::purge;
    msg->name_len = 2;
    std::memcpy(msg->name, "a/", 2);
    ASSERT_TRUE(s->post_fill(ch, msg.get()));
    s->poll();
    EXPECT_EQ(msg->state.load(), Store::FillMsg::kDone);
    EXPECT_EQ(msg->purged, 2u);
    msg->name_len = 3;
    std::memcpy(msg->name, "b/1", 3);
    ASSERT_TRUE(s->post_fill(ch, msg.get()));
    s->poll();
    EXPECT_EQ(msg->purged, 1u);
    s->synchronize(kTid);
    for (const char *n : {"a/1", "a/2", "b/1"}) EXPECT_EQ(s->lookup_object(kTid, n), nullptr) << n;
    s->quiescent(kTid);
}

}  // namespace

namespace {

// The cache keeper evicts a filled object chunk by chunk: the rest stays
// servable and the hole is fetched again, where an ingested object in a
// RAM-only store goes whole.
TEST(StoreFill, EvictingAFilledChunkLeavesTheRest) {
    auto s = open_ram(16, "fill7");
    ASSERT_TRUE(s);
    const auto data = random_bytes(2 * kChunkSize, 13);
    uint64_t g = 0;
    ASSERT_TRUE(s->begin_fill("f/x", data.size(), 1, 0, {}, &g).ok());
    const ObjectId oid = object_id("f/x");
    ASSERT_TRUE(s->put_fill_chunk(oid, g, 0, data.data(), kChunkSize).ok());
    ASSERT_TRUE(s->put_fill_chunk(oid, g, 1, data.data() + kChunkSize, kChunkSize).ok());
    EXPECT_EQ(s->evict(chunk_key(oid, 0)), EvictResult::evicted);
    s->synchronize(kTid);
    const ObjectMeta *m = s->lookup_object(kTid, "f/x");
    ASSERT_TRUE(m);
    EXPECT_EQ(s->lookup(kTid, *m, 0), nullptr);
    ASSERT_TRUE(s->lookup(kTid, *m, 1));
    ASSERT_TRUE(s->put_fill_chunk(oid, g, 0, data.data(), kChunkSize).ok());  // fetched again
    EXPECT_TRUE(s->lookup(kTid, *m, 0));
    s->quiescent(kTid);
}

}  // namespace

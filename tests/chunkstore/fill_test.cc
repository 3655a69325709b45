// Pull on miss in the store (Store::begin_fill / put_fill_chunk and the fill
// channel): the object first, its chunks one by one, each visible only
// whole and only for its own version; the fetching core's ring is told.
#include <gtest/gtest.h>

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

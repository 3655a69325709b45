// Filled objects on the disk tier (issue 14): v3 records that carry what
// revalidation needs, recovery of an object with holes after a restart, a
// torn record that becomes a hole (never served), admission that keeps a
// declined chunk off the disk, and v2 records written by the old code.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "chunkstore/record.h"
#include "chunkstore/store.h"
#include "tests/chunkstore/fill_util.h"

using namespace ep::chunkstore;
using namespace ep::chunkstore::test;

namespace {

constexpr char kName[] = "vod/big.mp4";
constexpr char kOriginEtag[] = "\"5f1e-6a3b2c\"";
constexpr uint64_t kVersion = 0x1234abcdu;   // what origin::version_hash would give
constexpr int64_t kExpires = 4'000'000'000;  // far ahead
constexpr int64_t kMtime = 1'700'000'000'000'000'000;

// Fills chunks `which` of a 4.5-chunk object and waits for their records.
ObjectMeta fill_some(Store &s, const std::vector<uint8_t> &data,
                     std::initializer_list<uint32_t> which) {
    uint64_t gen = 0;
    EXPECT_TRUE(
        s.begin_fill(kName, data.size(), kVersion, kMtime, "video/mp4", &gen, kExpires, kOriginEtag)
            .ok());
    const ObjectId oid = object_id(kName);
    for (uint32_t i : which) {
        const auto c = chunk_of(data, i);
        EXPECT_TRUE(s.put_fill_chunk(oid, gen, i, c.data(), static_cast<uint32_t>(c.size())).ok());
    }
    EXPECT_TRUE(s.flush().ok());
    EXPECT_EQ(s.fill_writes_pending(), 0u);
    return *s.object_ctl(kName);
}

void flip_byte(const std::string &path, uint64_t off) {
    int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    uint8_t b;
    ASSERT_EQ(pread(fd, &b, 1, static_cast<off_t>(off)), 1);
    b ^= 0x5a;
    ASSERT_EQ(pwrite(fd, &b, 1, static_cast<off_t>(off)), 1);
    ::close(fd);
}

// The slot whose header says chunk `index` of kName (slots are allocated low first).
int64_t chunk_slot(const std::string &path, uint32_t index, uint32_t slots) {
    return slot_of(path, chunk_key(kName, index), slots);
}

}  // namespace

TEST(RecordV3, FilledFieldsRoundTrip) {
    alignas(8) static uint8_t buf[kHeaderSize];
    RecordFields f{kName, "video/mp4", 7, 5 * kChunkSize + 3, kMtime, 2, kChunkSize, 0xaa, 0xbb};
    f.filled = true;
    f.version_etag = kVersion;
    f.expires_unix_s = kExpires;
    f.origin_etag = kOriginEtag;
    encode_header(buf, f);
    RecordHeader h;
    ASSERT_EQ(decode_header(buf, &h), HeaderCheck::ok);
    EXPECT_EQ(h.version, kRecordVersion);
    EXPECT_EQ(h.flags, kRecordFilled);
    EXPECT_EQ(h.version_etag, kVersion);
    EXPECT_EQ(h.expires_unix_s, kExpires);
    EXPECT_EQ(std::string_view(h.origin_etag, h.origin_etag_len), kOriginEtag);
    EXPECT_EQ(std::string_view(h.name, h.name_len), kName);
    EXPECT_EQ(std::string_view(h.ctype, h.ctype_len), "video/mp4");
    EXPECT_EQ(h.mtime_ns, kMtime);
    EXPECT_EQ(h.chunk_index, 2u);
    EXPECT_EQ(h.chunk_count, 6u);
    EXPECT_EQ(h.generation, 7u);
    // Every byte of the v3 part is covered by the header checksum.
    for (size_t off :
         {offsetof(RecordHeader, flags), offsetof(RecordHeader, version_etag),
          offsetof(RecordHeader, expires_unix_s), offsetof(RecordHeader, origin_etag)}) {
        buf[off] ^= 1;
        EXPECT_EQ(decode_header(buf, &h), HeaderCheck::bad_checksum) << off;
        buf[off] ^= 1;
    }
    // An ingested chunk's v3 record has no fill fields.
    encode_header(buf, {kName, {}, 1, 10, 0, 0, 10, 1, 2});
    ASSERT_EQ(decode_header(buf, &h), HeaderCheck::ok);
    EXPECT_EQ(h.flags, 0u);
    EXPECT_EQ(h.origin_etag_len, 0u);
}

TEST(FillDisk, RestartRecoversAFilledObjectWithHoles) {
    TempDir d;
    const Config cfg = disk_config(d, 16, 32, "fd1");
    const auto data = random_bytes(4 * kChunkSize + 5000, 21);
    ObjectMeta before;
    {
        auto s = open_ok(cfg);
        ASSERT_TRUE(s);
        before = fill_some(*s, data, {1, 4});
        EXPECT_EQ(s->counters().fill_disk_writes, 2u);
        EXPECT_TRUE(before.chunk_on_disk(1));
        EXPECT_TRUE(before.chunk_on_disk(4));
        EXPECT_FALSE(before.chunk_on_disk(0));
        EXPECT_TRUE(s->on_disk(chunk_key(kName, 1)));
    }
    OpenReport rep;
    auto s = open_ok(cfg, &rep);
    ASSERT_TRUE(s);
    EXPECT_EQ(rep.objects, 1u);
    EXPECT_EQ(rep.objects_filled, 1u);
    EXPECT_EQ(rep.objects_incomplete, 0u);
    EXPECT_EQ(rep.records_ok, 2u);
    EXPECT_EQ(rep.records_bad, 0u);
    const ObjectMeta *m = s->lookup_object(kTid, kName);
    ASSERT_TRUE(m);
    // Everything revalidation and the serve path need came back.
    EXPECT_TRUE(m->filled);
    EXPECT_EQ(m->size, data.size());
    EXPECT_EQ(m->chunk_count, 5u);
    EXPECT_EQ(m->generation, before.generation);
    EXPECT_EQ(m->etag, kVersion);
    EXPECT_EQ(m->origin_etag_view(), kOriginEtag);
    EXPECT_EQ(m->expires_unix_s, kExpires);
    EXPECT_EQ(m->mtime_ns, kMtime);
    EXPECT_EQ(m->content_type(), "video/mp4");
    for (uint32_t i = 0; i < 5; ++i) EXPECT_EQ(m->chunk_on_disk(i), i == 1 || i == 4) << i;
    EXPECT_EQ(s->lookup(kTid, *m, 1), nullptr);  // nothing in RAM after a restart
    EXPECT_EQ(promoted(*s, *m, 1), chunk_of(data, 1));
    EXPECT_EQ(promoted(*s, *m, 4), chunk_of(data, 4));
    EXPECT_TRUE(promoted(*s, *m, 0).empty());  // a hole: no record, nothing promoted
    // The same version from the origin keeps the generation; holes fill in.
    uint64_t gen = 0;
    ASSERT_TRUE(s->begin_fill(kName, data.size(), kVersion, kMtime, "video/mp4", &gen, kExpires,
                              kOriginEtag)
                    .ok());
    EXPECT_EQ(gen, before.generation);
    const auto c0 = chunk_of(data, 0);
    ASSERT_TRUE(s->put_fill_chunk(m->id, gen, 0, c0.data(), kChunkSize).ok());
    ASSERT_TRUE(s->flush().ok());
    EXPECT_TRUE(s->object_ctl(kName)->chunk_on_disk(0));
    s->quiescent(kTid);
    s.reset();
    rep = {};  // open() adds to a report
    auto s2 = open_ok(cfg, &rep);
    ASSERT_TRUE(s2);
    const ObjectMeta *m2 = s2->lookup_object(kTid, kName);
    ASSERT_TRUE(m2);
    for (uint32_t i = 0; i < 5; ++i) EXPECT_EQ(m2->chunk_on_disk(i), i != 2 && i != 3) << i;
    EXPECT_EQ(promoted(*s2, *m2, 0), c0);
    // A new version replaces it: the old records never come back.
    ASSERT_TRUE(s2->begin_fill(kName, data.size(), kVersion + 1, 0, {}, &gen).ok());
    s2->quiescent(kTid);
    s2.reset();
    rep = {};
    auto s3 = open_ok(cfg, &rep);
    ASSERT_TRUE(s3);
    EXPECT_EQ(s3->lookup_object(kTid, kName), nullptr);  // a version with no chunk kept nothing
    EXPECT_EQ(rep.records_ok, 0u);
}

TEST(FillDisk, TornRecordBecomesAHoleNeverServed) {
    for (bool verify_on_open : {true, false}) {
        SCOPED_TRACE(verify_on_open ? "verified at open" : "verified at promotion");
        TempDir d;
        Config cfg = disk_config(d, 16, 32, verify_on_open ? "fd2a" : "fd2b");
        cfg.verify_on_open = verify_on_open;
        const auto data = random_bytes(3 * kChunkSize, 22);
        {
            auto s = open_ok(cfg);
            ASSERT_TRUE(s);
            fill_some(*s, data, {0, 1, 2});
        }
        // A torn write: the record's header made it, the end of its payload did not.
        const int64_t slot = chunk_slot(cfg.path, 1, 32);
        ASSERT_GE(slot, 0);
        flip_byte(cfg.path, uint64_t(slot) * kRecordSize + kPayloadOffset + kChunkSize - 1);
        OpenReport rep;
        auto s = open_ok(cfg, &rep);
        ASSERT_TRUE(s);
        const ObjectMeta *m = s->lookup_object(kTid, kName);
        ASSERT_TRUE(m);
        EXPECT_EQ(m->lost_count, 0u);  // filled: a hole to fetch again, not a lost chunk
        EXPECT_EQ(promoted(*s, *m, 0), chunk_of(data, 0));
        EXPECT_EQ(promoted(*s, *m, 2), chunk_of(data, 2));
        if (verify_on_open) {
            EXPECT_EQ(rep.records_bad, 1u);
            EXPECT_FALSE(m->chunk_on_disk(1));
        } else {
            EXPECT_TRUE(m->chunk_on_disk(1));  // not known yet: the promotion finds out
        }
        EXPECT_TRUE(promoted(*s, *m, 1).empty());  // never served
        EXPECT_FALSE(m->chunk_on_disk(1));
        EXPECT_FALSE(s->on_disk(chunk_key(kName, 1)));
        EXPECT_EQ(s->counters().checksum_failures, 1u);
        // The hole fills again from the origin and is written anew.
        const auto c1 = chunk_of(data, 1);
        ASSERT_TRUE(s->put_fill_chunk(m->id, m->generation, 1, c1.data(), kChunkSize).ok());
        ASSERT_TRUE(s->flush().ok());
        s->quiescent(kTid);
        s.reset();
        rep = {};
        auto s2 = open_ok(cfg, &rep);
        ASSERT_TRUE(s2);
        EXPECT_EQ(rep.records_bad, 0u);
        const ObjectMeta *m2 = s2->lookup_object(kTid, kName);
        ASSERT_TRUE(m2);
        EXPECT_EQ(promoted(*s2, *m2, 1), c1);
    }
}

namespace {
struct Declining : RamObserver {
    uint32_t asked = 0, linked = 0;
    void chunk_linked(const Chunk &, bool) override { ++linked; }
    void chunk_unlinked(ChunkKey) override {}
    void need_ram(uint32_t, ObjectId) override {}
    bool admit_fill(ChunkKey) override {
        ++asked;
        return false;
    }
};
}  // namespace

TEST(FillDisk, DeclinedChunkIsServedButNeverWrittenToDisk) {
    TempDir d;
    const Config cfg = disk_config(d, 16, 32, "fd3");
    const auto data = random_bytes(2 * kChunkSize, 23);
    {
        auto s = open_ok(cfg);
        ASSERT_TRUE(s);
        Declining obs;
        s->set_observer(&obs);
        fill_some(*s, data, {0});
        EXPECT_EQ(obs.asked, 1u);
        EXPECT_EQ(obs.linked, 1u);  // in RAM for the responses waiting on it
        const ObjectMeta *m = s->lookup_object(kTid, kName);
        ASSERT_TRUE(m);
        Chunk *c = s->lookup(kTid, *m, 0);
        ASSERT_TRUE(c);
        EXPECT_EQ(std::vector<uint8_t>(c->data, c->data + c->len), chunk_of(data, 0));
        EXPECT_EQ(s->counters().fill_not_admitted, 1u);
        EXPECT_EQ(s->counters().fill_disk_writes, 0u);
        EXPECT_FALSE(m->chunk_on_disk(0));
        s->quiescent(kTid);
        s->set_observer(nullptr);
    }
    OpenReport rep;
    auto s = open_ok(cfg, &rep);
    ASSERT_TRUE(s);
    EXPECT_EQ(rep.records_ok, 0u);
    EXPECT_EQ(s->lookup_object(kTid, kName), nullptr);
}

// tests/chunkstore/data/v2_hello.store: the first 16 KiB of a store file
// written by `epstore ingest` of commit 0ed24bd (record version 2), the rest
// zeros (the store grows the file). Its ETag as that epstore listed it.
TEST(FillDisk, VersionTwoRecordsWrittenByTheOldCodeStillLoad) {
    const char *dir = std::getenv("CS_TEST_DATA");
    ASSERT_TRUE(dir) << "CS_TEST_DATA not set";
    TempDir d;
    const Config cfg = disk_config(d, 16, 8, "fd4");
    std::filesystem::copy_file(std::string(dir) + "/v2_hello.store", cfg.path);
    const auto want = test::read_file(std::string(dir) + "/v2_hello.txt");
    ASSERT_EQ(want.size(), 59u);
    const auto data = random_bytes(kChunkSize + 10, 24);
    {
        OpenReport rep;
        auto s = open_ok(cfg, &rep);
        ASSERT_TRUE(s);
        EXPECT_EQ(rep.objects, 1u);
        EXPECT_EQ(rep.records_ok, 1u);
        EXPECT_EQ(rep.records_bad, 0u);
        const ObjectMeta *m = s->lookup_object(kTid, "old/hello.txt");
        ASSERT_TRUE(m);
        EXPECT_FALSE(m->filled);
        EXPECT_EQ(m->content_type(), "text/plain");
        char etag[19];
        m->etag_string(etag);
        EXPECT_STREQ(etag, "\"f9cefc132f8e01bf\"");  // the old code's ETag: the same version
        std::vector<uint8_t> got;
        ASSERT_TRUE(s->read_chunk(chunk_key(m->id, 0), &got).ok());
        EXPECT_EQ(got, want);
        // New v3 records (a fill) beside the old v2 one, across a restart.
        fill_some(*s, data, {1});
        s->quiescent(kTid);
    }
    OpenReport rep;
    auto s = open_ok(cfg, &rep);
    ASSERT_TRUE(s);
    EXPECT_EQ(rep.objects, 2u);
    EXPECT_EQ(rep.objects_filled, 1u);
    const ObjectMeta *m = s->lookup_object(kTid, "old/hello.txt");
    ASSERT_TRUE(m);
    EXPECT_EQ(promoted(*s, *m, 0), want);
    const ObjectMeta *f = s->lookup_object(kTid, kName);
    ASSERT_TRUE(f);
    EXPECT_EQ(promoted(*s, *f, 1), chunk_of(data, 1));
}

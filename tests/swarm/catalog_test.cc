// The peer wire's torrent catalog (dataplane/swarm/catalog.h): piece ->
// (object, chunk) for single-file and BEP 47 multi-file torrents, the info
// dict's span, lookups by info hash.
#include "dataplane/swarm/catalog.h"
#include "dataplane/swarm/tracker_table.h"

#include <gtest/gtest.h>

#include <map>

namespace ep::swarm {
namespace {

constexpr uint64_t P = kPieceLength;

std::string pieces(uint32_t n) {
    return std::string(20 * n, 'h');
}

TEST(Catalog, SingleFileLayoutAndInfoSpan) {
    TorrentSpec t;
    t.name = "movie.bin";
    t.length = 3 * P + 5;
    t.pieces = pieces(4);
    t.announce = "udp://10.0.0.1:6969/announce";
    std::string info;
    const std::string bytes = build_torrent(t, &info);
    auto c = build_cat_torrent(bytes, {77, 3}, [](const std::string &path, ObjectRef *o) {
        EXPECT_EQ(path, "");
        *o = {11, 2};
        return true;
    });
    ASSERT_TRUE(c);
    EXPECT_EQ(c->info_hash, sha1(info));
    EXPECT_EQ(bytes.substr(c->info_off, c->info_len), info);  // BEP 9 serves exactly these bytes
    EXPECT_EQ(c->num_pieces, 4u);
    EXPECT_EQ(c->piece_size(3), 5u);
    EXPECT_EQ(c->piece_size(0), P);
    ASSERT_TRUE(c->file_of(3));
    EXPECT_EQ(c->file_of(3)->object_id, 11u);
    EXPECT_EQ(c->file_of(4), nullptr);
    EXPECT_EQ(c->torrent_oid, 77u);
}

TEST(Catalog, MultiFileWithPadsMapsEveryPieceToOneFile) {
    TorrentSpec t;
    t.name = "demo";
    t.files = pad_files({{{"manifest.mpd"}, 1000, false},
                         {{"video", "seg-1.m4s"}, P + 77, false},
                         {{"video", "seg-2.m4s"}, 2 * P, false}});
    t.pieces = pieces(5);
    const std::string bytes = build_torrent(t);
    std::map<std::string, uint64_t> ids = {
        {"manifest.mpd", 1}, {"video/seg-1.m4s", 2}, {"video/seg-2.m4s", 3}};
    auto c = build_cat_torrent(bytes, {9, 1}, [&](const std::string &path, ObjectRef *o) {
        if (!ids.count(path)) return false;
        *o = {ids[path], 1};
        return true;
    });
    ASSERT_TRUE(c);
    ASSERT_EQ(c->files.size(), 3u);
    const uint64_t want[] = {1, 2, 2, 3, 3};
    for (uint32_t p = 0; p < 5; ++p) {
        ASSERT_TRUE(c->file_of(p)) << p;
        EXPECT_EQ(c->file_of(p)->object_id, want[p]) << p;
    }
    EXPECT_EQ(c->file_of(2)->first_piece, 1u);
    EXPECT_EQ(c->piece_size(0), P);  // padded: the pad zeros make it whole
    EXPECT_EQ(c->total_length, 4 * P + 2 * P - P);
    // A file missing from the store: no entry.
    ids.erase("video/seg-2.m4s");
    EXPECT_FALSE(build_cat_torrent(bytes, {9, 1}, [&](const std::string &path, ObjectRef *o) {
        if (!ids.count(path)) return false;
        *o = {ids[path], 1};
        return true;
    }));
}

TEST(Catalog, InsertFindAndDuplicates) {
    Catalog cat(16);
    auto a = std::make_unique<CatTorrent>();
    a->info_hash.fill(1);
    auto b = std::make_unique<CatTorrent>();
    b->info_hash.fill(1);
    EXPECT_TRUE(cat.insert(std::move(a)));
    EXPECT_FALSE(cat.insert(std::move(b)));
    Sha1 k;
    k.fill(1);
    EXPECT_TRUE(cat.find(k.data()));
    k.fill(2);
    EXPECT_FALSE(cat.find(k.data()));
    EXPECT_EQ(cat.size(), 1u);
    // 3/4 full refuses.
    for (uint8_t i = 10; i < 30; ++i) {
        auto t = std::make_unique<CatTorrent>();
        t->info_hash.fill(i);
        cat.insert(std::move(t));
    }
    EXPECT_EQ(cat.size(), 12u);
}

// Its object removed, a torrent is no longer found; an entry a reader got
// before stays valid; the same hash inserted again (a re-ingest) is found.
TEST(Catalog, RemovedEntriesVanishAndComeBackOnReinsert) {
    Catalog cat(16);
    Sha1 k;
    k.fill(7);
    auto a = std::make_unique<CatTorrent>();
    a->info_hash = k;
    a->num_pieces = 3;
    ASSERT_TRUE(cat.insert(std::move(a)));
    const CatTorrent *held = cat.find(k.data());
    ASSERT_TRUE(held);
    EXPECT_TRUE(cat.remove(k.data()));
    EXPECT_EQ(cat.find(k.data()), nullptr);
    EXPECT_EQ(held->num_pieces, 3u);  // still readable: freed with the catalog only
    Sha1 other;
    other.fill(8);
    EXPECT_FALSE(cat.remove(other.data()));
    auto b = std::make_unique<CatTorrent>();
    b->info_hash = k;
    b->num_pieces = 5;
    ASSERT_TRUE(cat.insert(std::move(b)));
    ASSERT_TRUE(cat.find(k.data()));
    EXPECT_EQ(cat.find(k.data())->num_pieces, 5u);
    EXPECT_EQ(cat.size(), 1u);
}

TEST(TorrentSet, RemoveAndInsertAgain) {
    TorrentSet set(16);
    uint8_t a[20] = {1}, b[20] = {2};
    ASSERT_TRUE(set.insert(a));
    ASSERT_TRUE(set.insert(b));
    set.remove(a);
    EXPECT_FALSE(set.contains(a));
    EXPECT_TRUE(set.contains(b));  // a probe chain through a's slot still works
    ASSERT_TRUE(set.insert(a));
    EXPECT_TRUE(set.contains(a));
    EXPECT_EQ(set.size(), 2u);
}

}  // namespace
}  // namespace ep::swarm

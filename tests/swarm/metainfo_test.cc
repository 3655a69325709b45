// Metainfo (BEP 3) with the store's chunks as pieces, BEP 47 padding,
// magnet links (BEP 9). The info hash is also checked against libtorrent in
// tests/integration/test_swarm.py.
#include <gtest/gtest.h>

#include <string>

#include "dataplane/swarm/metainfo.h"

namespace ep::swarm {
namespace {

TEST(Sha1, KnownVectors) {
    // FIPS 180-4 examples.
    EXPECT_EQ(hex(sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
    EXPECT_EQ(hex(sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    Sha1Stream s;
    s.update("a", 1), s.update("bc", 2);
    EXPECT_EQ(hex(s.final()), "a9993e364706816aba3e25717850c26c9cd0d89d");
    // Zeros through update_zeros equal zeros given as data.
    std::string z(10000, '\0');
    s.update_zeros(10000);
    EXPECT_EQ(s.final(), sha1(z));
}

TEST(Sha1, CopyFinishesOnePieceTwoWays) {
    Sha1Stream a, b;
    a.update("hello", 5);
    a.copy_to(b);
    b.update_zeros(3);
    EXPECT_EQ(a.final(), sha1("hello"));
    EXPECT_EQ(b.final(), sha1(std::string("hello\0\0\0", 8)));
}

TorrentSpec single() {
    TorrentSpec t;
    t.name = "movie.bin";
    t.length = 2 * kPieceLength + 5;
    t.pieces = std::string(60, 'p');
    t.announce = "udp://10.77.0.2:6969/announce";
    t.url_list = {"http://10.77.0.2/movie.bin"};
    t.creation_date = 1700000000;
    return t;
}

TEST(Metainfo, SingleFileTorrentIsStrictBencodeWithTheInfoHashOfItsInfoDict) {
    std::string info;
    const std::string bytes = build_torrent(single(), &info);
    BNode nodes[64];
    uint32_t n = 0;
    ASSERT_EQ(bdecode(bytes, nodes, 64, &n), BError::kOk);
    const uint32_t i = bdict_find(nodes, 0, "info");
    ASSERT_NE(i, 0u);
    EXPECT_EQ(nodes[i].s, info);  // the info dict's exact bytes
    EXPECT_EQ(nodes[bdict_find(nodes, i, "piece length")].i, 262144);
    EXPECT_EQ(nodes[bdict_find(nodes, i, "length")].i, int64_t{2 * kPieceLength + 5});
    EXPECT_EQ(nodes[bdict_find(nodes, 0, "announce")].s, "udp://10.77.0.2:6969/announce");
    const uint32_t ul = bdict_find(nodes, 0, "url-list");
    ASSERT_NE(ul, 0u);
    EXPECT_EQ(nodes[ul + 1].s, "http://10.77.0.2/movie.bin");
    EXPECT_EQ(info, "d6:lengthi524293e4:name9:movie.bin12:piece lengthi262144e6:pieces60:" +
                        std::string(60, 'p') + "e");
    TorrentSummary s;
    ASSERT_TRUE(read_torrent(bytes, &s));
    EXPECT_EQ(s.info_hash, sha1(info));
    EXPECT_EQ(s.pieces, 3u);
    EXPECT_EQ(s.total_length, uint64_t{2 * kPieceLength + 5});
    EXPECT_EQ(s.name, "movie.bin");
    // What fill mode fetches by (edgectl swarm fetch).
    EXPECT_EQ(s.piece_length, uint64_t{kPieceLength});
    EXPECT_EQ(s.piece_hashes, std::string(60, 'p'));
    EXPECT_FALSE(s.multi_file);
}

TEST(Metainfo, ReadRejectsAPieceCountThatDoesNotMatchTheLength) {
    TorrentSpec t = single();
    t.pieces = std::string(40, 'p');
    TorrentSummary s;
    EXPECT_FALSE(read_torrent(build_torrent(t), &s));
    EXPECT_FALSE(read_torrent("d4:infod4:name1:xee", &s));
    EXPECT_FALSE(read_torrent("garbage", &s));
}

TEST(Metainfo, PadFilesPutEveryFileOnAPieceBoundary) {
    const std::vector<TorrentFile> files = {
        {{"manifest.mpd"}, 1000, false},
        {{"v", "a.m4s"}, kPieceLength, false},  // already aligned: no pad
        {{"v", "b.m4s"}, kPieceLength + 1, false},
        {{"v", "c.m4s"}, 7, false},  // last: no pad
    };
    const auto out = pad_files(files);
    ASSERT_EQ(out.size(), 6u);
    EXPECT_TRUE(out[1].pad);
    EXPECT_EQ(out[1].length, kPieceLength - 1000u);
    EXPECT_EQ(out[1].path, (std::vector<std::string>{".pad", std::to_string(kPieceLength - 1000)}));
    EXPECT_FALSE(out[2].pad);
    EXPECT_TRUE(out[4].pad);
    EXPECT_EQ(out[4].length, kPieceLength - 1u);
    uint64_t off = 0;
    for (const auto &f : out) {
        if (!f.pad) {
            EXPECT_EQ(off % kPieceLength, 0u) << f.path.back();
        }
        off += f.length;
    }
    // The multi-file info dict lists them with BEP 47's attr "p".
    TorrentSpec t;
    t.name = "demo";
    t.files = out;
    t.pieces = std::string(20 * ((off + kPieceLength - 1) / kPieceLength), 'x');
    t.announce = "udp://a:1/announce";
    const std::string info = build_info(t);
    EXPECT_NE(info.find("d4:attr1:p6:lengthi261144e4:pathl4:.pad6:261144ee"), std::string::npos)
        << info.substr(0, 200);
    TorrentSummary s;
    ASSERT_TRUE(read_torrent(build_torrent(t), &s));
    EXPECT_EQ(s.total_length, off);
    EXPECT_TRUE(s.multi_file);
    EXPECT_EQ(s.piece_hashes, t.pieces);
}

// BEP 12: the UDP tracker as the first tier and the same tracker over HTTP
// as the second; read back in that order, announce not repeated.
TEST(Metainfo, AnnounceListHasAUdpTierThenAnHttpTier) {
    TorrentSpec t;
    t.name = "f";
    t.length = 10;
    t.pieces = std::string(20, 'x');
    t.announce = "udp://10.77.0.2:6969/announce";
    t.announce_list = {{t.announce}, {"http://10.77.0.2/announce"}};
    const std::string b = build_torrent(t);
    EXPECT_NE(b.find("13:announce-listll29:udp://10.77.0.2:6969/announceel25:http://10.77.0.2/"
                     "announceee"),
              std::string::npos)
        << b;
    TorrentSummary s;
    ASSERT_TRUE(read_torrent(b, &s));
    EXPECT_EQ(s.trackers, (std::vector<std::string>{"udp://10.77.0.2:6969/announce",
                                                    "http://10.77.0.2/announce"}));
}

TEST(Metainfo, MagnetLinkCarriesHashNameAndTrackerEncoded) {
    Sha1 h{};
    for (int i = 0; i < 20; ++i) h[i] = static_cast<uint8_t>(i);
    EXPECT_EQ(magnet_link(h, "a b/c", {"udp://10.77.0.2:6969/announce"}),
              "magnet:?xt=urn:btih:000102030405060708090a0b0c0d0e0f10111213&dn=a%20b%2Fc"
              "&tr=udp%3A%2F%2F10.77.0.2%3A6969%2Fannounce");
}

}  // namespace
}  // namespace ep::swarm

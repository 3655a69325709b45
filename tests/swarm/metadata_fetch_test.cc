// BEP 9 metadata fetch over BEP 10 (dataplane/swarm/metadata_fetch.h),
// against a scripted peer: what it sends and when the session accepts,
// refuses or gives up.
#include "dataplane/swarm/metadata_fetch.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "dataplane/swarm/peer_wire.h"
#include "dataplane/swarm/sha1.h"

namespace ep::swarm {
namespace {

// An info dict of 40000 bytes: three 16 KiB pieces, the last short.
std::string info_dict() {
    std::string s = "d6:lengthi1e4:name1:x12:piece lengthi262144e6:pieces";
    const size_t pad = 40000 - s.size() - 1 - 6;  // "NNNNN:" + 'e'
    s += std::to_string(pad) + ":" + std::string(pad, 'p') + "e";
    return s;
}

std::string msg(uint8_t id, const std::string &body) {
    std::string m(4, '\0');
    const uint32_t n = static_cast<uint32_t>(body.size() + 1);
    m[0] = static_cast<char>(n >> 24);
    m[1] = static_cast<char>(n >> 16);
    m[2] = static_cast<char>(n >> 8);
    m[3] = static_cast<char>(n);
    m += static_cast<char>(id);
    return m + body;
}
std::string ext(uint8_t ext_id, const std::string &payload) {
    return msg(20, std::string(1, static_cast<char>(ext_id)) + payload);
}

struct Rig {
    MetadataConfig cfg;
    MetadataCounters ctr;
    std::unique_ptr<uint8_t[]> buf{new uint8_t[4u << 20]};
    std::unique_ptr<uint8_t[]> have{new uint8_t[(4u << 20) / 16384 + 1]};
    MetadataSession s;
    std::string info = info_dict();
    explicit Rig(const std::string &for_hash = info_dict()) {
        const Sha1 h = sha1(for_hash);
        std::memcpy(cfg.info_hash, h.data(), 20);
        std::memset(cfg.peer_id, 'E', 20);
        EXPECT_TRUE(s.init(&cfg, &ctr, buf.get(), have.get()));
        s.start(0);
    }
    std::string out() {
        std::string o;
        while (s.has_output()) {
            const uint8_t *p = nullptr;
            const uint32_t n = s.output(&p);
            o.append(reinterpret_cast<const char *>(p), n);
            s.consume(n);
        }
        return o;
    }
    void feed(const std::string &b, uint64_t now = 1) {
        s.feed(reinterpret_cast<const uint8_t *>(b.data()), b.size(), now);
    }
    std::string handshake(bool ext_bit = true) {
        uint8_t hs[68];
        pw::write_handshake(hs, cfg.info_hash,
                            reinterpret_cast<const uint8_t *>("-LT2080-abcdefghijkl"), true,
                            ext_bit);
        return std::string(reinterpret_cast<char *>(hs), 68);
    }
    std::string ext_hs(int64_t size) {
        return ext(0, "d1:md11:ut_metadatai7ee13:metadata_sizei" + std::to_string(size) + "ee");
    }
    std::string piece(uint32_t k, const std::string &data) {
        return ext(MetadataSession::kOurUtMetadata,
                   "d8:msg_typei1e5:piecei" + std::to_string(k) + "e10:total_sizei" +
                       std::to_string(data.size()) + "ee" +
                       data.substr(k * 16384, std::min<size_t>(16384, data.size() - k * 16384)));
    }
};

TEST(MetadataFetch, FetchesAndVerifiesTheInfoDict) {
    Rig r;
    const std::string hs = r.out();
    ASSERT_EQ(hs.size(), 68u);
    EXPECT_TRUE(hs[20 + pw::kReservedExtByte] & pw::kReservedExtBit);  // BEP 10 bit
    // The peer: handshake, a bitfield and unchoke (skipped), its extended handshake.
    r.feed(r.handshake() + msg(5, std::string(3, '\xff')) + msg(1, "") + r.ext_hs(r.info.size()));
    const std::string o = r.out();
    // Our extended handshake, then a request for each of the 3 pieces, to the peer's id 7.
    EXPECT_NE(o.find("d1:md11:ut_metadatai3ee"), std::string::npos);
    for (int k = 0; k < 3; ++k)
        EXPECT_NE(
            o.find(std::string("\x14\x07") + "d8:msg_typei0e5:piecei" + std::to_string(k) + "ee"),
            std::string::npos)
            << k;
    // Pieces out of order, one split across feeds.
    r.feed(r.piece(2, r.info));
    const std::string p0 = r.piece(0, r.info);
    r.feed(p0.substr(0, 100));
    r.feed(p0.substr(100));
    EXPECT_FALSE(r.s.done());
    r.feed(r.piece(1, r.info));
    ASSERT_TRUE(r.s.done());
    EXPECT_EQ(r.s.size(), r.info.size());
    EXPECT_EQ(std::string(reinterpret_cast<const char *>(r.s.metadata()), r.s.size()), r.info);
    EXPECT_EQ(r.ctr.meta_complete, 1u);
    EXPECT_EQ(r.ctr.meta_pieces, 3u);
}

TEST(MetadataFetch, MetadataThatDoesNotHashToTheInfoHashIsRefused) {
    Rig r;
    std::string forged = r.info;
    forged[500] ^= 1;  // same size, one bit off
    r.feed(r.handshake() + r.ext_hs(forged.size()));
    for (uint32_t k = 0; k < 3; ++k) r.feed(r.piece(k, forged));
    EXPECT_TRUE(r.s.failed());
    EXPECT_TRUE(r.s.hash_mismatch());
    EXPECT_FALSE(r.s.done());
    EXPECT_EQ(r.ctr.meta_hash_mismatch, 1u);
    EXPECT_EQ(r.ctr.meta_complete, 0u);
}

TEST(MetadataFetch, RefusalsAreNamed) {
    {
        Rig r;
        r.feed(r.handshake(false));
        EXPECT_TRUE(r.s.failed());
        EXPECT_EQ(r.ctr.meta_no_extensions, 1u);
    }
    {
        Rig r;
        r.feed(r.handshake() + ext(0, "d1:md6:ut_pexi1eee"));
        EXPECT_TRUE(r.s.failed());
        EXPECT_EQ(r.ctr.meta_no_ut_metadata, 1u);
    }
    {
        Rig r;
        r.feed(r.handshake() + r.ext_hs((4 << 20) + 1));
        EXPECT_TRUE(r.s.failed());
        EXPECT_EQ(r.ctr.meta_too_large, 1u);
    }
    {
        Rig r;
        r.feed(r.handshake() + r.ext_hs(r.info.size()) +
               ext(MetadataSession::kOurUtMetadata, "d8:msg_typei2e5:piecei0ee"));
        EXPECT_TRUE(r.s.failed());
        EXPECT_EQ(r.ctr.meta_rejects, 1u);
    }
    {
        Rig r;  // a piece of the wrong length
        r.feed(r.handshake() + r.ext_hs(r.info.size()) +
               ext(MetadataSession::kOurUtMetadata,
                   "d8:msg_typei1e5:piecei0e10:total_sizei40000eeshort"));
        EXPECT_TRUE(r.s.failed());
        EXPECT_EQ(r.ctr.meta_bad_message, 1u);
    }
    {
        Rig r;  // another torrent
        std::string hs = r.handshake();
        hs[30] ^= 1;
        r.feed(hs);
        EXPECT_TRUE(r.s.failed());
        EXPECT_EQ(r.ctr.meta_wrong_torrent, 1u);
    }
    {
        Rig r;  // a 2 GiB length prefix
        r.feed(r.handshake() + std::string("\x7f\xff\xff\xff\x14", 5));
        EXPECT_TRUE(r.s.failed());
        EXPECT_EQ(r.ctr.meta_framing, 1u);
    }
    {
        Rig r;  // silence
        r.feed(r.handshake() + r.ext_hs(r.info.size()));
        r.s.tick(r.cfg.timeout_ns / 2);
        EXPECT_FALSE(r.s.failed());
        r.s.tick(r.cfg.timeout_ns + 2);
        EXPECT_TRUE(r.s.failed());
        EXPECT_EQ(r.ctr.meta_timeouts, 1u);
    }
}

}  // namespace
}  // namespace ep::swarm

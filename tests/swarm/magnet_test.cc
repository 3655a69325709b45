// Magnet URI parser (dataplane/swarm/magnet.h, BEP 9).
#include "dataplane/swarm/magnet.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "dataplane/swarm/metainfo.h"

namespace ep::swarm {
namespace {

const char kHex[] = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";

TEST(Magnet, HexHashNameTrackersAndPeers) {
    Magnet m;
    const std::string uri = std::string("magnet:?xt=urn:btih:") + kHex +
                            "&dn=big+movie%2Ebin&tr=http%3A%2F%2F10.0.0.1%3A6969%2Fannounce"
                            "&tr=udp://10.0.0.1:6969&x.pe=10.0.0.2:6881&x.pe=host.example:1";
    ASSERT_EQ(parse_magnet(uri, &m), MagnetError::ok);
    EXPECT_EQ(hex(m.info_hash), kHex);
    EXPECT_EQ(m.name, "big movie.bin");
    ASSERT_EQ(m.trackers.size(), 2u);
    EXPECT_EQ(m.trackers[0], "http://10.0.0.1:6969/announce");
    EXPECT_EQ(m.trackers[1], "udp://10.0.0.1:6969");
    ASSERT_EQ(m.peers.size(), 1u);
    EXPECT_EQ(m.peers[0].first, inet_addr("10.0.0.2"));
    EXPECT_EQ(m.peers[0].second, 6881);
    EXPECT_EQ(m.peers_skipped, 1u);  // a host name: no resolver on the data plane
}

TEST(Magnet, Base32HashIsTheSameHash) {
    // RFC 4648 base32 of the 20 bytes above (uppercase; lowercase works too).
    Magnet a, b;
    ASSERT_EQ(parse_magnet("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK", &a),
              MagnetError::ok);
    ASSERT_EQ(parse_magnet("magnet:?xt=urn:btih:yex6dqdlxisuvhoj6um3gnnkpqjwpkek", &b),
              MagnetError::ok);
    EXPECT_EQ(hex(a.info_hash), kHex);
    EXPECT_EQ(a.info_hash, b.info_hash);
}

TEST(Magnet, RoundTripsOurOwnLinks) {
    Sha1 h{};
    for (int i = 0; i < 20; ++i) h[i] = static_cast<uint8_t>(i * 13);
    const std::string link =
        magnet_link(h, "a b&c", {"udp://10.77.0.2:6969/announce", "http://10.77.0.2/announce"});
    Magnet m;
    ASSERT_EQ(parse_magnet(link, &m), MagnetError::ok) << link;
    EXPECT_EQ(m.info_hash, h);
    EXPECT_EQ(m.name, "a b&c");
    ASSERT_EQ(m.trackers.size(), 2u);
    EXPECT_EQ(m.trackers[1], "http://10.77.0.2/announce");
}

TEST(Magnet, NamedErrors) {
    Magnet m;
    EXPECT_EQ(parse_magnet("http://x", &m), MagnetError::not_magnet);
    EXPECT_EQ(parse_magnet("magnet:?dn=x", &m), MagnetError::no_btih);
    EXPECT_EQ(parse_magnet("magnet:?xt=urn:btih:1234", &m), MagnetError::bad_btih);
    EXPECT_EQ(parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex + "&dn=%4", &m),
              MagnetError::bad_escape);
    EXPECT_EQ(parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex + "&dn=%zz", &m),
              MagnetError::bad_escape);
    EXPECT_EQ(parse_magnet(std::string("magnet:?xt=urn:btih:") + kHex +
                               "&xt=urn:btih:0000000000000000000000000000000000000000",
                           &m),
              MagnetError::two_btih);
    // A v2-only magnet (btmh) has no v1 hash we can fetch.
    EXPECT_EQ(parse_magnet("magnet:?xt=urn:btmh:1220abcd", &m), MagnetError::no_btih);
    EXPECT_STREQ(magnet_error_name(MagnetError::bad_btih), "bad_btih");
}

TEST(Magnet, Ipv4PortParser) {
    uint32_t ip = 0;
    uint16_t port = 0;
    EXPECT_TRUE(parse_ipv4_port("1.2.3.4:5", &ip, &port));
    EXPECT_EQ(ip, inet_addr("1.2.3.4"));
    EXPECT_EQ(port, 5);
    for (const char *bad : {"1.2.3:5", "1.2.3.4", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536",
                            "256.1.1.1:1", "1..2.3:4", "1.2.3.4.5:6", ":1", "[::1]:5", "a.b.c.d:1"})
        EXPECT_FALSE(parse_ipv4_port(bad, &ip, &port)) << bad;
}

}  // namespace
}  // namespace ep::swarm

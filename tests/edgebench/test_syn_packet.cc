// The SYN `edgebench synflood` sends: byte for byte against packets scapy
// built (the reference for both checksums), and over random specs against a
// word-at-a-time RFC 1071 sum written here, independent of net/csum32.h.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "bench/edgebench/syn_packet.h"

using ep::bench::build_syn;
using ep::bench::kSynPacketLen;
using ep::bench::SynSpec;

namespace {

std::string hex(const uint8_t *p, size_t n) {
    std::string s;
    char b[3];
    for (size_t i = 0; i < n; ++i) {
        std::snprintf(b, sizeof b, "%02x", p[i]);
        s += b;
    }
    return s;
}

uint32_t addr(const char *a) {
    in_addr x{};
    inet_pton(AF_INET, a, &x);
    return x.s_addr;
}

// RFC 1071: one's complement sum of big-endian 16-bit words, folded.
uint16_t rfc1071(const uint8_t *p, size_t n, uint32_t s = 0) {
    for (size_t i = 0; i + 1 < n; i += 2) s += (p[i] << 8) | p[i + 1];
    if (n & 1) s += p[n - 1] << 8;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(s);
}

}  // namespace

// scapy 2.4: raw(IP(src=..., dst=..., id=..., ttl=..., flags=0) /
//                TCP(sport=..., dport=..., seq=..., flags='S', window=..., options=[]))
TEST(SynPacket, MatchesScapyByteForByte) {
    struct Case {
        SynSpec spec;
        const char *want;
    };
    const Case cases[] = {
        {{.src_be = addr("10.78.1.1"),
          .dst_be = addr("10.78.1.2"),
          .sport = 40000,
          .dport = 80,
          .seq = 0x12345678,
          .ip_id = 0x1c46},
         "450000281c460000400647ec0a4e01010a4e0102"    // IPv4, checksum 0x47ec
         "9c40005012345678000000005002ffff94070000"},  // TCP SYN, checksum 0x9407
        // extremes: port 65535, ISN 2^32-1, TTL 1, a small window
        {{.src_be = addr("192.168.0.1"),
          .dst_be = addr("203.0.113.250"),
          .sport = 65535,
          .dport = 443,
          .seq = 0xffffffff,
          .ip_id = 0,
          .window = 1024,
          .ttl = 1},
         "45000028000000000106bc2cc0a80001cb0071fa"
         "ffff01bbffffffff0000000050020400ac830000"},
    };
    for (const Case &c : cases) {
        uint8_t out[kSynPacketLen];
        build_syn(c.spec, out);
        EXPECT_EQ(hex(out, kSynPacketLen), c.want);
    }
}

TEST(SynPacket, RandomSpecsCheckAgainstRfc1071) {
    std::mt19937_64 rng(17);
    uint8_t out[kSynPacketLen];
    for (int i = 0; i < 100000; ++i) {
        SynSpec s;
        s.src_be = static_cast<uint32_t>(rng());
        s.dst_be = static_cast<uint32_t>(rng());
        s.sport = static_cast<uint16_t>(rng());
        s.dport = static_cast<uint16_t>(rng());
        s.seq = static_cast<uint32_t>(rng());
        s.ip_id = static_cast<uint16_t>(rng());
        s.window = static_cast<uint16_t>(rng());
        build_syn(s, out);
        // A header with its checksum in place sums to 0xffff.
        ASSERT_EQ(rfc1071(out, 20), 0xffff) << hex(out, 20);
        uint8_t pseudo[12] = {};
        std::memcpy(pseudo, out + 12, 8);  // source and destination
        pseudo[9] = 6;                     // TCP
        pseudo[11] = 20;                   // TCP length
        ASSERT_EQ(rfc1071(out + 20, 20, rfc1071(pseudo, 12)), 0xffff) << hex(out, kSynPacketLen);
        ASSERT_EQ(out[33], 0x02);  // SYN only
        ASSERT_EQ((out[24] << 24 | out[25] << 16 | out[26] << 8 | out[27]), s.seq);
        ASSERT_EQ(std::memcmp(out + 12, &s.src_be, 4), 0);
    }
}

namespace ep::bench {
namespace {

TEST(SynSource, PrefixGivesNetworkAndTheHostBitsToDraw) {
    uint32_t net = 1, mask = 1;
    ASSERT_TRUE(parse_syn_source("198.18.7.9/15", &net, &mask));
    EXPECT_EQ(net, 0xC6120000u) << "host bits cleared: 198.18.0.0";
    EXPECT_EQ(mask, 0x0001FFFFu);
    ASSERT_TRUE(parse_syn_source("10.0.0.1", &net, &mask));
    EXPECT_EQ(net, 0x0A000001u);
    EXPECT_EQ(mask, 0u) << "one address: nothing drawn";
    ASSERT_TRUE(parse_syn_source("10.1.2.3/32", &net, &mask));
    EXPECT_EQ(mask, 0u);
    ASSERT_TRUE(parse_syn_source("10.1.2.3/8", &net, &mask));
    EXPECT_EQ(net, 0x0A000000u);
    EXPECT_EQ(mask, 0x00FFFFFFu);
}

TEST(SynSource, RefusesWhatIsNotAPrefix) {
    uint32_t net, mask;
    for (const char *bad : {"198.18.0.0/33", "198.18.0.0/7", "198.18.0.0/", "198.18.0.0/15x",
                            "198.18.0.0/-1", "198.18.0/15", "host.example", "", "::1/64"})
        EXPECT_FALSE(parse_syn_source(bad, &net, &mask)) << bad;
}

}  // namespace
}  // namespace ep::bench

// UDP (RFC 768) receive checks, the in-place reply and the ICMP port
// unreachable (RFC 792, RFC 1812 4.3.2.3) built over a datagram no one wants.
#include <gtest/gtest.h>
#include <rte_udp.h>

#include "dataplane/net/icmp.h"
#include "dataplane/net/icmp_rate_limit.h"
#include "dataplane/net/ipv4.h"
#include "dataplane/net/udp/udp.h"
#include "tests/unit/frame_builder.h"

namespace ep {
namespace {

using namespace ep::test;
constexpr size_t kIp = sizeof(rte_ether_hdr);

// A UDP datagram from 10.77.0.1:5555 to the test port's 7 with `data` bytes,
// checksums correct, plus `tail` bytes of Ethernet padding.
std::vector<uint8_t> udp_frame(size_t data, size_t tail = 0) {
    const size_t ip_len = sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr) + data;
    auto f = eth_frame(test_port().mac, RTE_ETHER_TYPE_IPV4, ip_len + tail);
    auto *ih = ip_of(f);
    ih->version_ihl = 0x45;
    ih->total_length = htons(static_cast<uint16_t>(ip_len));
    ih->time_to_live = 64;
    ih->next_proto_id = IPPROTO_UDP;
    ih->src_addr = ip("10.77.0.1");
    ih->dst_addr = test_port().ip;
    ih->hdr_checksum = rte_ipv4_cksum(ih);
    auto *uh = reinterpret_cast<rte_udp_hdr *>(ih + 1);
    uh->src_port = htons(5555);
    uh->dst_port = htons(7);
    uh->dgram_len = htons(static_cast<uint16_t>(sizeof(rte_udp_hdr) + data));
    auto *p = reinterpret_cast<uint8_t *>(uh + 1);
    for (size_t i = 0; i < data; ++i) p[i] = static_cast<uint8_t>(i * 13 + 1);
    uh->dgram_cksum = rte_ipv4_udptcp_cksum(ih, uh);
    return f;
}
rte_udp_hdr *udp_of(std::vector<uint8_t> &f) {
    return reinterpret_cast<rte_udp_hdr *>(ip_of(f) + 1);
}

Drop parse(std::vector<uint8_t> &f, net::Ipv4View *v, net::udp::View *u) {
    if (Drop d = net::parse_ipv4(f.data() + kIp, f.size() - kIp, test_port(), v); d != Drop::none)
        return d;
    return net::udp::parse(f.data() + kIp, *v, u);
}

TEST(Udp, ParsesPortsAndPayload) {
    auto f = udp_frame(100, 6);
    net::Ipv4View v;
    net::udp::View u;
    ASSERT_EQ(parse(f, &v, &u), Drop::none);
    EXPECT_EQ(u.src_port, 5555);
    EXPECT_EQ(u.dst_port, 7);
    EXPECT_EQ(u.payload_len, 100);
    EXPECT_EQ(u.payload_off, 28);
}

TEST(Udp, ZeroChecksumIsAcceptedForIpv4) {
    auto f = udp_frame(10);
    udp_of(f)->dgram_cksum = 0;
    net::Ipv4View v;
    net::udp::View u;
    EXPECT_EQ(parse(f, &v, &u), Drop::none);
}

TEST(Udp, UdpLengthBelowIpPayloadIgnoresTrailingBytes) {
    auto f = udp_frame(10);
    // IP says 4 bytes more than UDP: the checksum covers only UDP's length.
    auto *ih = ip_of(f);
    ih->total_length = htons(ntohs(ih->total_length) + 4);
    f.resize(f.size() + 4, 0xaa);
    fix_ip_checksum(f);
    net::Ipv4View v;
    net::udp::View u;
    ASSERT_EQ(parse(f, &v, &u), Drop::none);
    EXPECT_EQ(u.payload_len, 10);
}

TEST(Udp, MalformedDatagramsEachHaveTheirReason) {
    net::Ipv4View v;
    net::udp::View u;
    {  // fewer than 8 bytes after the IP header
        auto f = udp_frame(0);
        auto *ih = ip_of(f);
        ih->total_length = htons(20 + 4);
        fix_ip_checksum(f);
        EXPECT_EQ(parse(f, &v, &u), Drop::udp_truncated);
    }
    {  // UDP length beyond the IP payload
        auto f = udp_frame(20);
        udp_of(f)->dgram_len = htons(8 + 21);
        EXPECT_EQ(parse(f, &v, &u), Drop::udp_bad_length);
    }
    {  // UDP length below its own header
        auto f = udp_frame(20);
        udp_of(f)->dgram_len = htons(7);
        EXPECT_EQ(parse(f, &v, &u), Drop::udp_bad_length);
    }
    {  // one payload bit flipped
        auto f = udp_frame(20);
        f[kIp + 28 + 5] ^= 0x10;
        EXPECT_EQ(parse(f, &v, &u), Drop::udp_bad_checksum);
    }
}

TEST(Udp, ReplyInPlaceSwapsEndsAndChecksumsVerify) {
    auto f = udp_frame(33);
    net::Ipv4View v;
    net::udp::View u;
    ASSERT_EQ(parse(f, &v, &u), Drop::none);
    std::memcpy(f.data() + kIp + u.payload_off, "pong", 4);
    const uint16_t total = net::udp::reply_in_place(f.data() + kIp, u, 4);
    EXPECT_EQ(total, 20 + 8 + 4);
    auto *ih = ip_of(f);
    EXPECT_EQ(ih->src_addr, test_port().ip);
    EXPECT_EQ(ih->dst_addr, ip("10.77.0.1"));
    EXPECT_EQ(rte_raw_cksum(ih, 20), 0xffff);
    auto *uh = udp_of(f);
    EXPECT_EQ(ntohs(uh->src_port), 7);
    EXPECT_EQ(ntohs(uh->dst_port), 5555);
    EXPECT_EQ(ntohs(uh->dgram_len), 12);
    // Parsing the reply as if it came back to its sender verifies the checksum.
    const uint32_t a = ih->src_addr;  // pretend it came back: from the peer, to us
    ih->src_addr = ih->dst_addr;
    ih->dst_addr = a;
    fix_ip_checksum(f);
    EXPECT_NE(uh->dgram_cksum, 0);
    f.resize(kIp + total);
    net::udp::View back;
    ASSERT_EQ(parse(f, &v, &back), Drop::none);
    EXPECT_EQ(back.payload_len, 4);
    EXPECT_EQ(std::memcmp(f.data() + kIp + back.payload_off, "pong", 4), 0);
}

TEST(Udp, IpOptionsAreStrippedBeforeAReply) {
    // Build a datagram with a 4-byte option (NOP x4) by hand.
    auto plain = udp_frame(5);
    std::vector<uint8_t> f(plain.begin(), plain.begin() + kIp + 20);
    f.insert(f.end(), {1, 1, 1, 1});
    f.insert(f.end(), plain.begin() + kIp + 20, plain.end());
    auto *ih = ip_of(f);
    ih->version_ihl = 0x46;
    ih->total_length = htons(20 + 4 + 8 + 5);
    fix_ip_checksum(f);
    net::Ipv4View v;
    net::udp::View u;
    ASSERT_EQ(net::parse_ipv4(f.data() + kIp, f.size() - kIp, test_port(), &v), Drop::none);
    ASSERT_EQ(net::udp::parse(f.data() + kIp, v, &u),
              Drop::none);  // the pseudo-header ignores options
    net::udp::strip_ip_options(f.data() + kIp, &v, &u);
    EXPECT_EQ(u.payload_off, 28);
    EXPECT_EQ(f[kIp + 28], 1);  // first payload byte (i*13+1 for i=0)
    EXPECT_EQ(net::udp::reply_in_place(f.data() + kIp, u, 5), 33);
}

TEST(IcmpUnreachable, QuotesTheDatagramBehindType3Code3) {
    auto f = udp_frame(12);
    const std::vector<uint8_t> orig(f.begin() + kIp, f.end());
    net::Ipv4View v;
    net::udp::View u;
    ASSERT_EQ(parse(f, &v, &u), Drop::none);
    f.resize(kIp + 600);
    EXPECT_EQ(net::icmp_port_unreachable_in_place(f.data() + kIp, v, 10), 0);  // no room
    const uint16_t total = net::icmp_port_unreachable_in_place(f.data() + kIp, v, 600 - 0);
    ASSERT_EQ(total, 20 + 8 + orig.size());
    auto *ih = ip_of(f);
    EXPECT_EQ(ih->next_proto_id, IPPROTO_ICMP);
    EXPECT_EQ(ih->src_addr, test_port().ip);
    EXPECT_EQ(ih->dst_addr, ip("10.77.0.1"));
    EXPECT_EQ(rte_raw_cksum(ih, 20), 0xffff);
    const uint8_t *icmp = f.data() + kIp + 20;
    EXPECT_EQ(icmp[0], 3);
    EXPECT_EQ(icmp[1], 3);
    EXPECT_EQ(rte_raw_cksum(icmp, total - 20), 0xffff);
    EXPECT_EQ(std::vector<uint8_t>(icmp + 8, icmp + 8 + orig.size()), orig);
}

TEST(IcmpUnreachable, QuoteStopsAt576Bytes) {
    auto f = udp_frame(1400);
    net::Ipv4View v;
    net::udp::View u;
    ASSERT_EQ(parse(f, &v, &u), Drop::none);
    f.resize(kIp + 1500);
    EXPECT_EQ(net::icmp_port_unreachable_in_place(f.data() + kIp, v, 1500), 576);
}

TEST(IcmpRateLimit, AllowsRatePerSecondWithABurstOfOneSecond) {
    net::IcmpRateLimit r;
    r.configure(10);
    int sent = 0;
    for (int i = 0; i < 100; ++i) sent += r.allow(1'000'000'000);
    EXPECT_EQ(sent, 10);
    EXPECT_FALSE(r.allow(1'050'000'000));
    EXPECT_TRUE(r.allow(1'100'000'000));  // one token per 100 ms
    EXPECT_FALSE(r.allow(1'150'000'000));
    // Over 10 more seconds at most 100 more.
    sent = 0;
    for (uint64_t t = 1'150'000'000; t < 11'150'000'000; t += 1'000'000) sent += r.allow(t);
    EXPECT_LE(sent, 100);
    EXPECT_GE(sent, 99);
    r.configure(0);
    EXPECT_FALSE(r.allow(20'000'000'000));
}

}  // namespace
}  // namespace ep

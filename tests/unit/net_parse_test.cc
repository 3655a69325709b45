// Parsing and answering of Ethernet, ARP, IPv4 and ICMP, malformed input included.
#include <gtest/gtest.h>

#include <rte_ip.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "dataplane/net/arp.h"
#include "dataplane/net/csum32.h"
#include "dataplane/net/eth.h"
#include "dataplane/net/icmp.h"
#include "dataplane/net/ipv4.h"
#include "tests/unit/frame_builder.h"

namespace ep {
namespace {

using namespace ep::test;
const rte_ether_addr kBroadcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

// ---- Ethernet ----

TEST(Eth, ClassifiesByTypeForUsAndBroadcast) {
    const auto port = test_port();
    auto f = eth_frame(port.mac, RTE_ETHER_TYPE_IPV4, 20);
    EXPECT_EQ(net::classify_eth(f.data(), f.size(), port.mac).l3, net::L3::ipv4);
    f = eth_frame(kBroadcast, RTE_ETHER_TYPE_ARP, 28);
    EXPECT_EQ(net::classify_eth(f.data(), f.size(), port.mac).l3, net::L3::arp);
    f = eth_frame(port.mac, RTE_ETHER_TYPE_IPV6, 40);
    EXPECT_EQ(net::classify_eth(f.data(), f.size(), port.mac).l3, net::L3::ipv6);
}

TEST(Eth, DropsTruncatedForeignAndUnknown) {
    const auto port = test_port();
    auto f = eth_frame(port.mac, RTE_ETHER_TYPE_IPV4, 0);
    EXPECT_EQ(net::classify_eth(f.data(), 13, port.mac).reason, Drop::eth_truncated);
    f = eth_frame(kPeerMac, RTE_ETHER_TYPE_IPV4, 20);
    EXPECT_EQ(net::classify_eth(f.data(), f.size(), port.mac).reason, Drop::eth_not_for_us);
    const rte_ether_addr multicast = {{0x33, 0x33, 0, 0, 0, 1}};
    f = eth_frame(multicast, RTE_ETHER_TYPE_IPV6, 40);
    EXPECT_EQ(net::classify_eth(f.data(), f.size(), port.mac).reason, Drop::eth_not_for_us);
    f = eth_frame(port.mac, 0x88cc /* LLDP */, 20);
    EXPECT_EQ(net::classify_eth(f.data(), f.size(), port.mac).reason, Drop::eth_unknown_type);
}

// ---- ARP ----

TEST(Arp, AnswersRequestForOurAddressAndLearnsSender) {
    const auto port = test_port();
    net::ArpTable table;
    auto f = arp_frame(RTE_ARP_OP_REQUEST, ip("10.77.0.1"), port.ip);
    const auto v = net::process_arp(f.data(), f.size(), port, table, 1);
    ASSERT_EQ(v.action, net::ArpAction::reply);
    EXPECT_TRUE(v.learned);
    const auto *ah = arp_of(f);
    EXPECT_EQ(ntohs(ah->arp_opcode), RTE_ARP_OP_REPLY);
    EXPECT_TRUE(rte_is_same_ether_addr(&ah->arp_data.arp_sha, &port.mac));
    EXPECT_EQ(ah->arp_data.arp_sip, port.ip);
    EXPECT_TRUE(rte_is_same_ether_addr(&ah->arp_data.arp_tha, &kPeerMac));
    EXPECT_EQ(ah->arp_data.arp_tip, ip("10.77.0.1"));
    const auto *eh = reinterpret_cast<const rte_ether_hdr *>(f.data());
    EXPECT_TRUE(rte_is_same_ether_addr(&eh->dst_addr, &kPeerMac));
    EXPECT_TRUE(rte_is_same_ether_addr(&eh->src_addr, &port.mac));
    const rte_ether_addr *mac = table.lookup(ip("10.77.0.1"), 1, 100);
    ASSERT_NE(mac, nullptr);
    EXPECT_TRUE(rte_is_same_ether_addr(mac, &kPeerMac));
}

TEST(Arp, RequestForAnotherAddressIsNotForUs) {
    const auto port = test_port();
    net::ArpTable table;
    auto f = arp_frame(RTE_ARP_OP_REQUEST, ip("10.77.0.1"), ip("10.77.0.9"));
    const auto v = net::process_arp(f.data(), f.size(), port, table, 1);
    EXPECT_EQ(v.action, net::ArpAction::drop);
    EXPECT_EQ(v.reason, Drop::arp_not_for_us);
    EXPECT_EQ(table.size(), 0u);  // RFC 826: learn only when we are the target
}

TEST(Arp, KnownSenderIsRefreshedEvenWhenNotForUs) {
    const auto port = test_port();
    net::ArpTable table;
    table.learn(ip("10.77.0.1"), {{9, 9, 9, 9, 9, 9}}, 1);
    auto f = arp_frame(RTE_ARP_OP_REQUEST, ip("10.77.0.1"), ip("10.77.0.1"));  // gratuitous
    EXPECT_EQ(net::process_arp(f.data(), f.size(), port, table, 5).action, net::ArpAction::consumed);
    EXPECT_TRUE(rte_is_same_ether_addr(table.lookup(ip("10.77.0.1"), 5, 1), &kPeerMac));
}

TEST(Arp, ReplyToUsIsLearnedAndConsumed) {
    const auto port = test_port();
    net::ArpTable table;
    auto f = arp_frame(RTE_ARP_OP_REPLY, ip("10.77.0.1"), port.ip, port.mac);
    const auto v = net::process_arp(f.data(), f.size(), port, table, 1);
    EXPECT_EQ(v.action, net::ArpAction::consumed);
    EXPECT_TRUE(v.learned);
}

TEST(Arp, ProbeFromZeroAddressIsAnsweredButNotLearned) {
    const auto port = test_port();
    net::ArpTable table;
    auto f = arp_frame(RTE_ARP_OP_REQUEST, 0, port.ip);
    EXPECT_EQ(net::process_arp(f.data(), f.size(), port, table, 1).action, net::ArpAction::reply);
    EXPECT_EQ(table.size(), 0u);
}

TEST(Arp, MalformedFramesAreDroppedByReason) {
    const auto port = test_port();
    net::ArpTable table;
    auto f = arp_frame(RTE_ARP_OP_REQUEST, ip("10.77.0.1"), port.ip);
    EXPECT_EQ(net::process_arp(f.data(), f.size() - 1, port, table, 1).reason, Drop::arp_truncated);
    arp_of(f)->arp_hlen = 8;
    EXPECT_EQ(net::process_arp(f.data(), f.size(), port, table, 1).reason,
              Drop::arp_unsupported_format);
    f = arp_frame(RTE_ARP_OP_REQUEST, ip("10.77.0.1"), port.ip);
    arp_of(f)->arp_protocol = htons(RTE_ETHER_TYPE_IPV6);
    EXPECT_EQ(net::process_arp(f.data(), f.size(), port, table, 1).reason,
              Drop::arp_unsupported_format);
    f = arp_frame(RTE_ARP_OP_INVREQUEST, ip("10.77.0.1"), port.ip);
    EXPECT_EQ(net::process_arp(f.data(), f.size(), port, table, 1).reason, Drop::arp_unsupported_op);
}

TEST(Arp, GratuitousAnnouncementFormat) {
    const auto port = test_port();
    uint8_t buf[net::kArpFrameLen];
    ASSERT_EQ(net::build_arp_request(buf, port, port.ip), net::kArpFrameLen);
    const auto *eh = reinterpret_cast<const rte_ether_hdr *>(buf);
    EXPECT_TRUE(rte_is_broadcast_ether_addr(&eh->dst_addr));
    const auto *ah = reinterpret_cast<const rte_arp_hdr *>(buf + sizeof(rte_ether_hdr));
    EXPECT_EQ(ntohs(ah->arp_opcode), RTE_ARP_OP_REQUEST);
    EXPECT_EQ(ah->arp_data.arp_sip, port.ip);
    EXPECT_EQ(ah->arp_data.arp_tip, port.ip);
}

// ---- ARP table ----

TEST(ArpTable, AgesOutAndReplacesStalestWhenFull) {
    net::ArpTable t;
    const rte_ether_addr mac = {{1, 2, 3, 4, 5, 6}};
    EXPECT_TRUE(t.learn(ip("10.0.0.1"), mac, 10));
    EXPECT_FALSE(t.learn(ip("10.0.0.1"), mac, 20));  // refresh, not new
    EXPECT_NE(t.lookup(ip("10.0.0.1"), 25, 10), nullptr);
    EXPECT_EQ(t.lookup(ip("10.0.0.1"), 31, 10), nullptr);  // too old
    EXPECT_EQ(t.lookup(ip("10.0.0.2"), 25, 10), nullptr);
    for (uint32_t i = 1; i <= 1000; ++i) t.learn(htonl(0x0a010000 + i), mac, 100 + i);
    EXPECT_LE(t.size(), net::ArpTable::kSlots);
    EXPECT_NE(t.lookup(htonl(0x0a010000 + 1000), 1100, 10), nullptr);  // newest always kept
}

TEST(PortAddress, NextHopIsGatewayOffLink) {
    const auto port = test_port();
    EXPECT_EQ(port.next_hop(ip("10.77.0.5")), ip("10.77.0.5"));
    EXPECT_EQ(port.next_hop(ip("192.0.2.1")), ip("10.77.0.1"));
    EXPECT_TRUE(port.is_subnet_broadcast(ip("10.77.0.255")));
}

// ---- IPv4 ----

class Ipv4Test : public ::testing::Test {
protected:
    net::PortAddress port = test_port();
    std::vector<uint8_t> f = ping_frame(ip("10.77.0.1"), test_port().ip, 56);
    net::Ipv4View v;
    Drop parse(size_t len) { return net::parse_ipv4(f.data() + 14, static_cast<uint32_t>(len), port, &v); }
    Drop parse() { return parse(f.size() - 14); }
};

TEST_F(Ipv4Test, AcceptsValidDatagram) {
    ASSERT_EQ(parse(), Drop::none);
    EXPECT_EQ(v.protocol, IPPROTO_ICMP);
    EXPECT_EQ(v.header_len, 20);
    EXPECT_EQ(v.total_len, 20 + 8 + 56);
    EXPECT_EQ(v.src, ip("10.77.0.1"));
}

TEST_F(Ipv4Test, AcceptsEthernetPaddingBeyondTotalLength) {
    f.resize(f.size() + 10);
    EXPECT_EQ(parse(), Drop::none);
    EXPECT_EQ(v.total_len, 84);
}

TEST_F(Ipv4Test, Truncated) { EXPECT_EQ(parse(19), Drop::ipv4_truncated); }

TEST_F(Ipv4Test, BadVersion) {
    ip_of(f)->version_ihl = 0x65;
    fix_ip_checksum(f);
    EXPECT_EQ(parse(), Drop::ipv4_bad_version);
}

TEST_F(Ipv4Test, IhlBelowFive) {
    ip_of(f)->version_ihl = 0x44;
    EXPECT_EQ(parse(), Drop::ipv4_bad_ihl);
}

TEST_F(Ipv4Test, IhlBeyondFrame) {
    ip_of(f)->version_ihl = 0x4f;  // 60-byte header
    EXPECT_EQ(parse(40), Drop::ipv4_truncated);
}

TEST_F(Ipv4Test, TotalLengthBeyondFrame) {
    ip_of(f)->total_length = htons(1000);
    fix_ip_checksum(f);
    EXPECT_EQ(parse(), Drop::ipv4_bad_length);
}

TEST_F(Ipv4Test, TotalLengthBelowHeader) {
    ip_of(f)->total_length = htons(12);
    fix_ip_checksum(f);
    EXPECT_EQ(parse(), Drop::ipv4_bad_length);
}

TEST_F(Ipv4Test, BadChecksum) {
    ip_of(f)->hdr_checksum ^= 0x0100;
    EXPECT_EQ(parse(), Drop::ipv4_bad_checksum);
}

TEST_F(Ipv4Test, FragmentsAreDropped) {
    ip_of(f)->fragment_offset = htons(RTE_IPV4_HDR_MF_FLAG);
    fix_ip_checksum(f);
    EXPECT_EQ(parse(), Drop::ipv4_fragment);
    ip_of(f)->fragment_offset = htons(185);  // a later fragment
    fix_ip_checksum(f);
    EXPECT_EQ(parse(), Drop::ipv4_fragment);
    ip_of(f)->fragment_offset = htons(RTE_IPV4_HDR_DF_FLAG);  // DF alone is fine
    fix_ip_checksum(f);
    EXPECT_EQ(parse(), Drop::none);
}

TEST_F(Ipv4Test, NotForUs) {
    ip_of(f)->dst_addr = ip("10.77.0.3");
    fix_ip_checksum(f);
    EXPECT_EQ(parse(), Drop::ipv4_not_for_us);
}

TEST_F(Ipv4Test, MartianSources) {
    for (const char *src : {"0.1.2.3", "127.0.0.1", "224.0.0.1", "255.255.255.255"}) {
        ip_of(f)->src_addr = ip(src);
        fix_ip_checksum(f);
        EXPECT_EQ(parse(), Drop::ipv4_bad_source) << src;
    }
}

TEST_F(Ipv4Test, ZeroTtl) {
    ip_of(f)->time_to_live = 0;
    fix_ip_checksum(f);
    EXPECT_EQ(parse(), Drop::ipv4_ttl_expired);
}

TEST_F(Ipv4Test, OptionsAreSkipped) {
    // Rebuild with a 24-byte header (one NOP option word) ahead of the ICMP message.
    std::vector<uint8_t> g(f.size() + 4);
    std::memcpy(g.data(), f.data(), 34);
    g[34] = g[35] = g[36] = g[37] = 1;  // NOPs
    std::memcpy(g.data() + 38, f.data() + 34, f.size() - 34);
    f = g;
    ip_of(f)->version_ihl = 0x46;
    ip_of(f)->total_length = htons(88);
    fix_ip_checksum(f);
    ASSERT_EQ(parse(), Drop::none);
    EXPECT_EQ(v.header_len, 24);
}

// ---- ICMP ----

TEST(Icmp, EchoReplyKeepsDataAndHasValidChecksums) {
    for (size_t data : {0u, 1u, 56u, 1372u}) {
        auto f = ping_frame(ip("10.77.0.1"), test_port().ip, data);
        const auto orig = f;
        net::Ipv4View v;
        ASSERT_EQ(net::parse_ipv4(f.data() + 14, f.size() - 14, test_port(), &v), Drop::none);
        ASSERT_EQ(net::icmp_echo_reply_in_place(f.data() + 14, v), Drop::none);
        auto *ih = ip_of(f);
        EXPECT_EQ(ih->src_addr, test_port().ip);
        EXPECT_EQ(ih->dst_addr, ip("10.77.0.1"));
        EXPECT_EQ(rte_raw_cksum(ih, 20), 0xffff);
        auto *icmp = reinterpret_cast<rte_icmp_hdr *>(ih + 1);
        EXPECT_EQ(icmp->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
        EXPECT_EQ(rte_raw_cksum(icmp, 8 + data), 0xffff) << data;
        EXPECT_EQ(icmp->icmp_ident, htons(0x1234));
        EXPECT_EQ(0, std::memcmp(f.data() + 42, orig.data() + 42, data));
    }
}

TEST(Icmp, MalformedAndUnsupported) {
    auto f = ping_frame(ip("10.77.0.1"), test_port().ip, 8);
    net::Ipv4View v;
    ASSERT_EQ(net::parse_ipv4(f.data() + 14, f.size() - 14, test_port(), &v), Drop::none);
    auto *icmp = reinterpret_cast<rte_icmp_hdr *>(ip_of(f) + 1);
    icmp->icmp_cksum ^= 1;
    EXPECT_EQ(net::icmp_echo_reply_in_place(f.data() + 14, v), Drop::icmp_bad_checksum);
    icmp->icmp_cksum ^= 1;
    net::Ipv4View short_v = v;
    short_v.total_len = 20 + 4;
    EXPECT_EQ(net::icmp_echo_reply_in_place(f.data() + 14, short_v), Drop::icmp_truncated);
    icmp->icmp_type = 13;  // timestamp request
    icmp->icmp_cksum = 0;
    icmp->icmp_cksum = static_cast<uint16_t>(~rte_raw_cksum(icmp, 16));
    EXPECT_EQ(net::icmp_echo_reply_in_place(f.data() + 14, v), Drop::icmp_unsupported_type);
}

// A router's "fragmentation needed" (type 3 code 4, RFC 1191 §4) quoting a
// TCP segment we sent from `ours` to `peer`, checksums correct.
std::vector<uint8_t> frag_needed_frame(uint32_t router, uint32_t ours, uint32_t peer, uint16_t mtu,
                                       uint32_t seq, size_t quoted_tcp = 20) {
    const size_t ip_len = 20 + 8 + 20 + quoted_tcp;
    auto f = eth_frame(test_port().mac, RTE_ETHER_TYPE_IPV4, ip_len);
    auto *ih = ip_of(f);
    ih->version_ihl = 0x45;
    ih->total_length = htons(static_cast<uint16_t>(ip_len));
    ih->time_to_live = 64;
    ih->next_proto_id = IPPROTO_ICMP;
    ih->src_addr = router;
    ih->dst_addr = test_port().ip;
    ih->hdr_checksum = rte_ipv4_cksum(ih);
    uint8_t *icmp = reinterpret_cast<uint8_t *>(ih + 1);
    icmp[0] = 3;
    icmp[1] = 4;
    icmp[6] = static_cast<uint8_t>(mtu >> 8);
    icmp[7] = static_cast<uint8_t>(mtu);
    auto *qh = reinterpret_cast<rte_ipv4_hdr *>(icmp + 8);
    qh->version_ihl = 0x45;
    qh->total_length = htons(1500);
    qh->fragment_offset = htons(RTE_IPV4_HDR_DF_FLAG);
    qh->time_to_live = 63;
    qh->next_proto_id = IPPROTO_TCP;
    qh->src_addr = ours;
    qh->dst_addr = peer;
    // The first 8 bytes of the TCP header, as far as the quote reaches (a
    // 4-byte quote holds the ports only: writing the sequence number too
    // overran the frame, found by ASan).
    const uint8_t tcp8[8] = {
        0, 80, 0xc3, 0x50,  // sport 80, dport 50000
        static_cast<uint8_t>(seq >> 24), static_cast<uint8_t>(seq >> 16),
        static_cast<uint8_t>(seq >> 8),  static_cast<uint8_t>(seq)};
    std::memcpy(qh + 1, tcp8, std::min<size_t>(quoted_tcp, sizeof tcp8));
    auto *ic = reinterpret_cast<rte_icmp_hdr *>(icmp);
    ic->icmp_cksum = static_cast<uint16_t>(~rte_raw_cksum(icmp, 8 + 20 + quoted_tcp));
    return f;
}

TEST(Icmp, FragNeededQuotingOurTcpSegment) {
    const uint32_t ours = test_port().ip, peer = ip("10.77.5.9");
    auto f = frag_needed_frame(ip("10.77.0.1"), ours, peer, 1400, 0xdeadbeef);
    net::Ipv4View v;
    ASSERT_EQ(net::parse_ipv4(f.data() + 14, f.size() - 14, test_port(), &v), Drop::none);
    net::FragNeeded fn;
    ASSERT_EQ(net::parse_icmp_frag_needed(f.data() + 14, v, &fn), Drop::none);
    EXPECT_EQ(fn.local, ours);
    EXPECT_EQ(fn.remote, peer);
    EXPECT_EQ(fn.lport, 80);
    EXPECT_EQ(fn.rport, 50000);
    EXPECT_EQ(fn.seq, 0xdeadbeefu);
    EXPECT_EQ(fn.mtu, 1400);
    // RFC 792's minimum quote: the IP header and 8 bytes of TCP.
    f = frag_needed_frame(ip("10.77.0.1"), ours, peer, 1400, 7, 8);
    ASSERT_EQ(net::parse_ipv4(f.data() + 14, f.size() - 14, test_port(), &v), Drop::none);
    ASSERT_EQ(net::parse_icmp_frag_needed(f.data() + 14, v, &fn), Drop::none);
    EXPECT_EQ(fn.seq, 7u);
}

TEST(Icmp, FragNeededMalformedOrNotOurs) {
    const uint32_t ours = test_port().ip, peer = ip("10.77.5.9");
    net::Ipv4View v;
    net::FragNeeded fn;
    auto parse = [&](std::vector<uint8_t> &f) {
        EXPECT_EQ(net::parse_ipv4(f.data() + 14, f.size() - 14, test_port(), &v), Drop::none);
        return net::parse_icmp_frag_needed(f.data() + 14, v, &fn);
    };
    auto f = frag_needed_frame(ip("10.77.0.1"), ours, peer, 1400, 1);
    f[14 + 20 + 8 + 30] ^= 1;  // a quoted byte: the checksum no longer holds
    EXPECT_EQ(parse(f), Drop::icmp_bad_checksum);
    // Quoting a datagram we did not send.
    f = frag_needed_frame(ip("10.77.0.1"), ip("10.77.0.99"), peer, 1400, 1);
    EXPECT_EQ(parse(f), Drop::icmp_quote_invalid);
    // Less than 8 bytes of the TCP header quoted.
    f = frag_needed_frame(ip("10.77.0.1"), ours, peer, 1400, 1, 4);
    EXPECT_EQ(parse(f), Drop::icmp_truncated);
    // Other unreachable codes, and echo requests, are not for this parser.
    auto p = ping_frame(ip("10.77.0.1"), ours, 8);
    EXPECT_EQ(parse(p), Drop::icmp_unsupported_type);
}

// ---- Header checksums, four bytes a step (csum32.h) ----

// Every length 0..80 at every alignment 0..7 folds to what DPDK's 16-bit
// loop gives, and the pseudo-header sum equals rte_ipv4_phdr_cksum's.
TEST(Csum32, MatchesRteRawCksumAtEveryLengthAndAlignment) {
    std::mt19937 rng(7);
    std::vector<uint8_t> buf(96);
    for (auto &b : buf) b = static_cast<uint8_t>(rng());
    for (size_t align = 0; align < 8; ++align)
        for (size_t len = 0; len <= 80; ++len) {
            const uint16_t ref = rte_raw_cksum(buf.data() + align, len);
            const uint16_t got = net::fold_sum(net::sum_bytes(buf.data() + align, len));
            // 0 and 0xffff are the same ones-complement value.
            EXPECT_EQ(got % 0xffff, ref % 0xffff) << "len " << len << " align " << align;
        }
    rte_ipv4_hdr ih{};
    ih.version_ihl = RTE_IPV4_VHL_DEF;
    ih.next_proto_id = IPPROTO_TCP;
    for (int i = 0; i < 200; ++i) {
        ih.src_addr = rng();
        ih.dst_addr = rng();
        const uint16_t l4 = static_cast<uint16_t>(rng() % 9000);
        ih.total_length = rte_cpu_to_be_16(static_cast<uint16_t>(20 + l4));
        EXPECT_EQ(net::fold_sum(net::pseudo_sum_v4(ih.src_addr, ih.dst_addr, IPPROTO_TCP, l4)) % 0xffff,
                  rte_ipv4_phdr_cksum(&ih, 0) % 0xffff);
    }
}

}  // namespace
}  // namespace ep

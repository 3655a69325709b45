// The steering stage of the receive path (dataplane/packet_path.cc,
// tcp/port_steer.h): a TCP segment for a local port in another lcore's
// ephemeral slice (an origin connection that lcore opened) reaches that
// lcore's ring, not this lcore's TCP engine; a segment for a service port
// stays; an ARP reply is copied to the other lcores; a full ring is a
// counted drop. Driven through process_burst with real mbufs and rings, no
// port (EAL without hugepages or PCI: tests/chunkstore/eal_env.cc).
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include <cstring>
#include <string>
#include <vector>

#include "dataplane/lcore.h"
#include "dataplane/steer_rings.h"
#include "tests/unit/frame_builder.h"

namespace ep {
namespace {

std::vector<uint8_t> tcp_frame(uint16_t sport, uint16_t dport) {
    const size_t ip_len = sizeof(rte_ipv4_hdr) + sizeof(rte_tcp_hdr);
    auto f = test::eth_frame(test::test_port().mac, RTE_ETHER_TYPE_IPV4, ip_len);
    auto *ih = test::ip_of(f);
    ih->version_ihl = 0x45;
    ih->total_length = htons(static_cast<uint16_t>(ip_len));
    ih->time_to_live = 64;
    ih->next_proto_id = IPPROTO_TCP;
    ih->src_addr = test::ip("10.77.0.1");
    ih->dst_addr = test::test_port().ip;
    test::fix_ip_checksum(f);
    auto *th = reinterpret_cast<rte_tcp_hdr *>(ih + 1);
    th->src_port = htons(sport);
    th->dst_port = htons(dport);
    th->data_off = 5 << 4;
    th->tcp_flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
    return f;
}

struct Fixture : testing::Test {
    rte_mempool *pool = nullptr;
    Port port;
    Lcore lc[2];
    std::vector<Lcore *> lcores{&lc[0], &lc[1]};
    std::vector<tcp::PortSteer> slices;
    rte_mbuf *tx[kBurst];

    void SetUp() override {
        pool = rte_pktmbuf_pool_create("steer_test", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
        ASSERT_NE(pool, nullptr);
        port.addr = test::test_port();
        for (unsigned k = 0; k < 2; ++k) {
            lc[k].lcore_id = k + 1;
            lc[k].pool = pool;
            lc[k].nqueues = 1;
            lc[k].queues[0].port = &port;
            lc[k].queues[0].queue = static_cast<uint16_t>(k);
        }
        std::string err;
        ASSERT_TRUE(steer_setup(lcores, tcp::PortSteer{}, &slices, &err)) << err;
        ASSERT_EQ(slices.size(), 2u);
    }
    void TearDown() override {
        steer_teardown(lcores);
        EXPECT_EQ(rte_mempool_avail_count(pool), pool->size);  // nothing leaked
        rte_mempool_free(pool);
    }
    rte_mbuf *mbuf(const std::vector<uint8_t> &f) {
        rte_mbuf *m = rte_pktmbuf_alloc(pool);
        std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
        return m;
    }
    uint16_t feed(unsigned k, const std::vector<uint8_t> &f) {
        rte_mbuf *m = mbuf(f);
        return process_burst(lc[k], lc[k].queues[0], &m, 1, tx, 0);
    }
    uint64_t drops(unsigned k, Drop d) const {
        return lc[k].counters.drops[static_cast<size_t>(d)];
    }
};

TEST_F(Fixture, SlicesAreDisjointAndEachLcoreKnowsItsOwn) {
    EXPECT_EQ(slices[0].lo, 32768);
    EXPECT_EQ(slices[1].hi, 60999);
    EXPECT_EQ(slices[0].hi + 1, slices[1].lo);
    EXPECT_EQ(lc[0].queues[0].steer_self, 0);
    EXPECT_EQ(lc[1].queues[0].steer_self, 1);
    EXPECT_EQ(lc[0].queues[0].steer_to[1], lc[1].queues[0].steer_in);
}

TEST_F(Fixture, ASegmentForAnotherLcoresPortIsHandedToItsRing) {
    const uint16_t theirs = slices[1].lo + 5;
    EXPECT_EQ(feed(0, tcp_frame(8080, theirs)), 0);
    EXPECT_EQ(lc[0].counters.steer_handed_over, 1u);
    EXPECT_EQ(drops(0, Drop::tcp_no_handler), 0u);  // never reached lcore 0's TCP
    ASSERT_EQ(rte_ring_count(lc[1].queues[0].steer_in), 1u);
    // The owner parses it again, as its own: to its TCP engine (none here).
    rte_mbuf *m[kBurst];
    const unsigned n = rte_ring_sc_dequeue_burst(lc[1].queues[0].steer_in,
                                                 reinterpret_cast<void **>(m), kBurst, nullptr);
    ASSERT_EQ(n, 1u);
    EXPECT_EQ(process_burst(lc[1], lc[1].queues[0], m, 1, tx, 0, true), 0);
    EXPECT_EQ(lc[1].counters.steer_received, 1u);
    EXPECT_EQ(lc[1].counters.steer_handed_over, 0u);  // its own port: not handed back
    EXPECT_EQ(drops(1, Drop::tcp_no_handler), 1u);
    EXPECT_EQ(lc[1].counters.rx_packets, 0u);  // counted where it arrived
}

TEST_F(Fixture, OwnPortsAndServicePortsStay) {
    feed(0, tcp_frame(40000, 80));               // a client of the HTTP service
    feed(0, tcp_frame(8080, slices[0].lo + 1));  // lcore 0's own origin connection
    EXPECT_EQ(lc[0].counters.steer_handed_over, 0u);
    EXPECT_EQ(drops(0, Drop::tcp_no_handler), 2u);
    EXPECT_EQ(rte_ring_count(lc[1].queues[0].steer_in), 0u);
}

TEST_F(Fixture, AFullRingIsACountedDrop) {
    const uint16_t theirs = slices[1].hi;
    const unsigned cap = rte_ring_get_capacity(lc[1].queues[0].steer_in);
    for (unsigned i = 0; i < cap + 3; ++i) feed(0, tcp_frame(8080, theirs));
    EXPECT_EQ(lc[0].counters.steer_handed_over, cap);
    EXPECT_EQ(drops(0, Drop::steer_ring_full), 3u);
}

TEST_F(Fixture, AnArpReplyIsCopiedToTheOtherLcores) {
    auto reply = test::arp_frame(RTE_ARP_OP_REPLY, test::ip("10.77.0.1"), test::test_port().ip,
                                 test::test_port().mac);
    feed(0, reply);
    EXPECT_EQ(lc[0].counters.steer_arp_shared, 1u);
    ASSERT_EQ(rte_ring_count(lc[1].queues[0].steer_in), 1u);
    auto request = test::arp_frame(RTE_ARP_OP_REQUEST, test::ip("10.77.0.1"), test::test_port().ip);
    const uint16_t ntx = feed(0, request);  // answered here, not copied
    for (uint16_t i = 0; i < ntx; ++i) rte_pktmbuf_free(tx[i]);
    EXPECT_EQ(lc[0].counters.steer_arp_shared, 1u);
}

}  // namespace
}  // namespace ep

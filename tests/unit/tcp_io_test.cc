// TcpIo::flush (dataplane/tcp_io.cc) with a driver that refuses one frame
// for good (as net_tap refuses some frames by length): the refused head is
// dropped after 50 ms and counted tx_refused, and the frames queued behind
// it go out in order instead of waiting for ever. Driven on a net_ring port
// (EAL without hugepages or PCI, tests/chunkstore/eal_env.cc) with an
// ethdev TX callback in front of the driver that passes every frame before
// the refused one and none from it on, the way a driver's tx_burst stops.
#include <gtest/gtest.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chunkstore/chunk.h"
#include "chunkstore/inet_csum.h"
#include "dataplane/lcore.h"
#include "dataplane/port.h"
#include "dataplane/tcp_io.h"

namespace ep {
namespace {

constexpr uint32_t kLocalIp = 0x0a4d0001;  // 10.77.0.1
constexpr uint32_t kPeerIp = 0x0a4d0002;   // 10.77.0.2
constexpr uint16_t kLocalPort = 80, kPeerPort = 40000;
constexpr uint32_t kRefusedSeq = 1000;  // the frame the driver never takes
const rte_ether_addr kPeerMac = {{0x02, 0, 0, 0, 0x4d, 0x02}};

uint32_t seq_of(const rte_mbuf *m) {
    const auto *th = rte_pktmbuf_mtod_offset(m, const rte_tcp_hdr *,
                                             sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr));
    return rte_be_to_cpu_32(th->sent_seq);
}

// Passes the frames before the first one carrying kRefusedSeq; counts the
// bursts it refused whole.
struct Refuser {
    unsigned refused_bursts = 0;
};
uint16_t refuse_one(uint16_t, uint16_t, rte_mbuf **pkts, uint16_t n, void *arg) {
    for (uint16_t i = 0; i < n; ++i) {
        if (seq_of(pkts[i]) == kRefusedSeq) {
            if (i == 0) ++static_cast<Refuser *>(arg)->refused_bursts;
            return i;
        }
    }
    return n;
}

struct TcpIoFlush : testing::Test {
    static inline rte_mempool *pool = nullptr;
    static inline Port port;
    static inline rte_ring *wire = nullptr;  // net_ring0's ring: what the port sent

    // Once for both suites (TcpIoExhaustion derives from this one): net_ring0
    // is created once per process; EAL's cleanup at exit closes it.
    static void SetUpTestSuite() {
        if (pool) return;
        pool = rte_pktmbuf_pool_create("tcp_io_test", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
        ASSERT_NE(pool, nullptr);
        PortOptions opt;
        opt.device = "net_ring0";
        opt.ip = rte_cpu_to_be_32(kLocalIp);
        opt.netmask = RTE_BE32(0xffffff00);
        opt.rx_desc = opt.tx_desc = 512;
        std::string err;
        ASSERT_TRUE(port_open(opt, 1, pool, &port, &err)) << err;
        wire = rte_ring_lookup("ETH_RXTX0_net_ring0");
        ASSERT_NE(wire, nullptr);
    }

    std::unique_ptr<Lcore> lc = std::make_unique<Lcore>();
    std::unique_ptr<TcpIo> io = std::make_unique<TcpIo>();
    Refuser refuser;
    const rte_eth_rxtx_callback *cb = nullptr;
    uint64_t now = 1'000'000'000;

    void SetUp() override {
        lc->pool = pool;
        // flush() reads the TSC for its 50 ms: nanoseconds per cycle, 32.32.
        lc->ns_per_tsc_q32 = (uint64_t{1'000'000'000} << 32) / rte_get_tsc_hz();
        lc->tsc_start = rte_rdtsc();
        lc->nqueues = 1;
        lc->queues[0].port = &port;
        tcp::StackConfig sc;
        sc.max_connections = 16;
        sc.time_wait_capacity = 16;
        sc.inline_blocks = 64;
        ASSERT_TRUE(io->init(lc.get(), &lc->queues[0], sc, 0, now));
        lc->queues[0].tcp = io.get();
        lc->queues[0].arp.learn(rte_cpu_to_be_32(kPeerIp), kPeerMac, now);
        cb = rte_eth_add_tx_callback(port.id, 0, refuse_one, &refuser);
        ASSERT_NE(cb, nullptr);
    }
    void TearDown() override {
        rte_eth_remove_tx_callback(port.id, 0, cb);
        io.reset();  // frees what it still holds
        for (rte_mbuf *m : take_sent()) rte_pktmbuf_free(m);
        EXPECT_EQ(rte_mempool_avail_count(pool), pool->size);  // nothing leaked
    }

    // A bare ACK, told apart from the others by its sequence number.
    void emit(uint32_t seq) {
        io->emit(tcp::SegmentOut{.src = tcp::IpAddr::v4(kLocalIp),
                                 .dst = tcp::IpAddr::v4(kPeerIp),
                                 .sport = kLocalPort,
                                 .dport = kPeerPort,
                                 .seq = seq,
                                 .ack = 1,
                                 .flags = tcp::kAck,
                                 .window = 1000});
    }
    std::vector<rte_mbuf *> take_sent() {
        std::vector<rte_mbuf *> v(rte_ring_count(wire));
        v.resize(rte_ring_dequeue_burst(wire, reinterpret_cast<void **>(v.data()),
                                        static_cast<unsigned>(v.size()), nullptr));
        return v;
    }
    uint64_t refused() const { return lc->counters.dropped(Drop::tx_refused); }
};

TEST_F(TcpIoFlush, AHeadFrameRefusedForGoodIsDroppedAndTheFramesBehindItGo) {
    emit(kRefusedSeq);
    for (uint32_t s = 1; s <= 3; ++s) emit(kRefusedSeq + s);
    EXPECT_EQ(io->flush(), 0);  // the head refused: nothing overtakes it
    EXPECT_TRUE(take_sent().empty());
    // The lcore loop calls flush() every iteration; the head goes once the
    // driver has refused it for 50 ms (5 s here is only the test's bound).
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (refused() == 0 && std::chrono::steady_clock::now() < until) {
        io->flush();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    EXPECT_EQ(refused(), 1u);
    EXPECT_GE(refuser.refused_bursts, 2u);
    emit(kRefusedSeq + 4);  // a later iteration's frame: no longer stuck either
    io->flush();
    const std::vector<rte_mbuf *> sent = take_sent();
    ASSERT_EQ(sent.size(), 4u);
    for (uint32_t i = 0; i < 4; ++i) {
        EXPECT_EQ(seq_of(sent[i]), kRefusedSeq + 1 + i);  // in order, the refused one gone
        const auto *eh = rte_pktmbuf_mtod(sent[i], const rte_ether_hdr *);
        EXPECT_TRUE(rte_is_same_ether_addr(&eh->dst_addr, &kPeerMac));
    }
    for (rte_mbuf *m : sent) rte_pktmbuf_free(m);
    EXPECT_EQ(lc->counters.dropped(Drop::tx_queue_full), 0u);
}

// mbuf exhaustion on the build path (issue 17): a segment whose header
// mbuf, or one of whose attached chunk slices, cannot be had is not sent,
// counted tcp_mbuf_exhausted, and leaves nothing behind: every mbuf it took
// goes back and every chunk reference an attached slice took is dropped.
// TSO super-segments and plain segments share that path (build()).
struct TcpIoExhaustion : TcpIoFlush {
    std::vector<uint8_t> bytes = std::vector<uint8_t>(chunkstore::kChunkSize, 0x5a);
    chunkstore::Chunk chunk{};
    tcp::SendItem item{};
    std::vector<rte_mbuf *> held;  // taken out of the pool so that `free` are left

    void SetUp() override {
        TcpIoFlush::SetUp();
        chunk.data = bytes.data();
        chunk.iova = 0;
        chunk.len = static_cast<uint32_t>(bytes.size());
        chunkstore::csum_build_prefix(chunk.data, chunk.len, chunk.csum_prefix);
        chunk.shinfo.free_cb = [](void *, void *) {
            FAIL() << "the index's reference was dropped";
        };
        rte_mbuf_ext_refcnt_set(&chunk.shinfo, 1);  // the index's reference
        item = {chunk.data, chunk.len, &chunk, &kChunkBufOps};
    }
    void TearDown() override {
        for (rte_mbuf *m : held) rte_pktmbuf_free(m);
        held.clear();
        TcpIoFlush::TearDown();
    }
    void leave_free(unsigned free) {
        while (rte_mempool_avail_count(pool) > free) held.push_back(rte_pktmbuf_alloc(pool));
    }
    // Payload from two chunk pieces: a header mbuf and two attached slices.
    void emit_two_slices(uint16_t tso_segsz) {
        tcp::SegmentOut seg{.src = tcp::IpAddr::v4(kLocalIp),
                            .dst = tcp::IpAddr::v4(kPeerIp),
                            .sport = kLocalPort,
                            .dport = kPeerPort,
                            .seq = 5000,
                            .ack = 1,
                            .flags = tcp::kAck,
                            .window = 1000,
                            .tso_segsz = tso_segsz,
                            .npieces = 2,
                            .payload_len = tso_segsz ? 4000u : 1400u};
        const uint32_t half = seg.payload_len / 2;
        seg.pieces[0] = {&item, chunk.data + 100, 100, half};
        seg.pieces[1] = {&item, chunk.data + 100 + half, 100 + half, seg.payload_len - half};
        io->emit(seg);
        io->flush();
    }
    uint64_t exhausted() const { return lc->counters.dropped(Drop::tcp_mbuf_exhausted); }
};

TEST_F(TcpIoExhaustion, NoHeaderMbufNoSliceMbufEitherSliceCountedAndNothingHeld) {
    for (uint16_t tso : {uint16_t{0}, uint16_t{1448}}) {
        for (unsigned free = 0; free < 3; ++free) {  // no header; no 1st slice; no 2nd slice
            SCOPED_TRACE("tso_segsz " + std::to_string(tso) + ", mbufs free " +
                         std::to_string(free));
            const uint64_t before = exhausted();
            leave_free(free);
            emit_two_slices(tso);
            EXPECT_EQ(exhausted(), before + 1);
            EXPECT_TRUE(take_sent().empty());
            EXPECT_EQ(rte_mempool_avail_count(pool), free);  // what it took came back
            EXPECT_EQ(chunkstore::refs(&chunk), 1u);         // and the slices' pins
            for (rte_mbuf *m : held) rte_pktmbuf_free(m);
            held.clear();
        }
        // Three free: the frame is built and sent, one pin per slice.
        leave_free(3);
        emit_two_slices(tso);
        const std::vector<rte_mbuf *> sent = take_sent();
        ASSERT_EQ(sent.size(), 1u);
        EXPECT_EQ(sent[0]->nb_segs, 3);
        EXPECT_EQ(chunkstore::refs(&chunk), 3u);
        rte_pktmbuf_free(sent[0]);
        EXPECT_EQ(chunkstore::refs(&chunk), 1u);
        for (rte_mbuf *m : held) rte_pktmbuf_free(m);
        held.clear();
    }
}

// mbuf exhaustion on the resolve path (issue 17): an ARP request for an
// unknown next hop, or a unicast poll of a stale one, that cannot get an
// mbuf is not sent and is counted arp_mbuf_exhausted (not arp_*_sent); a
// UDP datagram this queue originates is counted udp_mbuf_exhausted.
constexpr uint32_t kStaleIp = 0x0a4d0003;    // 10.77.0.3: known, but stale
constexpr uint32_t kUnknownIp = 0x0a4d0004;  // 10.77.0.4: never heard from
const rte_ether_addr kStaleMac = {{0x02, 0, 0, 0, 0x4d, 0x03}};

struct TcpIoArpExhaustion : TcpIoExhaustion {
    void emit_to(uint32_t ip) {
        io->emit(tcp::SegmentOut{.src = tcp::IpAddr::v4(kLocalIp),
                                 .dst = tcp::IpAddr::v4(ip),
                                 .sport = kLocalPort,
                                 .dport = kPeerPort,
                                 .seq = 7000,
                                 .ack = 1,
                                 .flags = tcp::kAck,
                                 .window = 1000});
        io->flush();
    }
    uint64_t arp_exhausted() const { return lc->counters.dropped(Drop::arp_mbuf_exhausted); }
};

TEST_F(TcpIoArpExhaustion, NoMbufForAnArpRequestIsCountedAndNotCountedSent) {
    leave_free(0);
    emit_to(kUnknownIp);
    EXPECT_EQ(lc->counters.dropped(Drop::tcp_no_route), 1u);  // the segment: TCP resends it
    EXPECT_EQ(arp_exhausted(), 1u);                           // the request that could not go
    EXPECT_EQ(lc->counters.arp_requests_sent, 0u);
    EXPECT_TRUE(take_sent().empty());
    // With an mbuf again (after the 100 ms retry interval) the request goes.
    for (rte_mbuf *m : held) rte_pktmbuf_free(m);
    held.clear();
    io->stack().set_time(now + 200'000'000);
    emit_to(kUnknownIp);
    const std::vector<rte_mbuf *> sent = take_sent();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(rte_pktmbuf_mtod(sent[0], const rte_ether_hdr *)->ether_type,
              RTE_BE16(RTE_ETHER_TYPE_ARP));
    rte_pktmbuf_free(sent[0]);
    EXPECT_EQ(lc->counters.arp_requests_sent, 1u);
    EXPECT_EQ(arp_exhausted(), 1u);
}

TEST_F(TcpIoArpExhaustion, NoMbufForAnArpPollIsCountedAndNotCountedSent) {
    // Stale after 5 ns: the next send to it polls (RFC 1122 2.3.2.1).
    lc->queues[0].arp.set_aging(
        {.reachable = 5, .poll_every = 1'000'000'000, .expire_after = 1'000'000'000'000});
    lc->queues[0].arp.learn(rte_cpu_to_be_32(kStaleIp), kStaleMac, now - 10);
    leave_free(0);
    emit_to(kStaleIp);
    EXPECT_EQ(arp_exhausted(), 1u);  // the poll
    EXPECT_EQ(lc->counters.arp_polls_sent, 0u);
    EXPECT_EQ(lc->counters.dropped(Drop::tcp_mbuf_exhausted), 1u);  // and the segment
    EXPECT_TRUE(take_sent().empty());
}

TEST_F(TcpIoArpExhaustion, NoMbufForAnOriginatedUdpDatagramIsCounted) {
    const uint8_t payload[16] = {1, 2, 3};
    leave_free(0);
    EXPECT_FALSE(io->send_udp(rte_cpu_to_be_32(kPeerIp), 6881, 6969, payload, sizeof payload));
    EXPECT_EQ(lc->counters.dropped(Drop::udp_mbuf_exhausted), 1u);
    EXPECT_TRUE(take_sent().empty());
}

}  // namespace
}  // namespace ep

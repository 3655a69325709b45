// The send side of one data lcore, end to end: cycles (TSC) and, under
// callgrind, instructions per 1448-byte segment, ACK processing included.
//
//   ninja -C build bench/dataplane/send_path_bench && build/bench/dataplane/send_path_bench
//   # instructions (repeatable): a -Dmarch=x86-64-v3 build, see docs/benchmarks.md
//   valgrind --tool=callgrind --collect-atstart=no build-cg/bench/dataplane/send_path_bench
//       --benchmark_filter=SendPath --benchmark_min_time=0.01
//
// What is measured is what the lcore loop (lcore_main) does for a bulk
// download, one loop iteration per round:
//   rte_eth_rx_burst of the peer's ACKs (net_ring) → process_burst (Ethernet,
//   IPv4, TCP checksum, options) → Stack::input (ACK processing: RTT, CUBIC,
//   send queue release, timers) → on_writable → ChunkStream::send (chunk
//   lookup_bulk, pins, a chunk reference onto the send queue) → TCP output →
//   TcpIo::build (header mbuf, external-buffer attach, checksum from the
//   chunk's block sums) → TcpIo::flush → rte_eth_tx_burst; then the free of
//   the transmitted mbufs (what a NIC's TX completion costs the core: the
//   header mbufs, the attached ones, the chunk unpin).
//
// Not measured (the peer's side, done between rounds): reading the sent
// frames off the ring and building the ACK frames (the mbufs the NIC would
// have filled). The peer ACKs every second segment, as a Linux receiver
// does in bulk transfer, advertises 8 MiB of window and echoes timestamps.
// Time is a fake clock (10 us per round), so runs are deterministic and
// callgrind counts repeat to the instruction; TSC cycles are wall time of
// the measured part (on a shared VM, preemption lands in them: the median
// per round is the figure, the mean is shown for honesty).
#include <benchmark/benchmark.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "chunkstore/store.h"
#include "dataplane/chunk_stream.h"
#include "dataplane/lcore.h"
#include "dataplane/net/tcp/wire.h"
#include "dataplane/port.h"
#include "dataplane/tcp_io.h"

namespace {

using namespace ep;

constexpr uint32_t kLocalIp = RTE_IPV4(10, 77, 0, 2);
constexpr uint32_t kPeerIp = RTE_IPV4(10, 77, 0, 1);
constexpr uint16_t kServerPort = 80;
constexpr uint16_t kPeerPort = 40000;
constexpr uint64_t kObjectBytes = 16ull * chunkstore::kChunkSize;  // 4 MiB, 16 chunks
constexpr uint64_t kRoundNs = 10'000;                              // fake clock per round
const rte_ether_addr kPeerMac = {{0x02, 0, 0, 0, 0, 0x01}};

rte_mempool *g_pool;

// The server's application: streams one object from the store forever,
// from on_writable as the HTTP server does.
class App final : public tcp::Handler, public StreamOwner {
  public:
    ChunkStream stream;
    StreamConn sc;
    tcp::ConnId conn{};
    bool connected = false, wake = false;
    uint64_t done = 0;
    ChunkStream::Handle h = 0;
    chunkstore::ObjectId oid = 0;
    uint64_t gen = 0;

    void on_accept(tcp::Stack &, tcp::ConnId c) override {
        conn = c;
        connected = true;
        stream.attach(sc, c);
        h = ChunkStream::hold(sc, oid, gen);
        pump();
    }
    void on_writable(tcp::Stack &, tcp::ConnId) override { pump(); }
    void pump() {
        for (;;) {
            const ChunkStream::Sent r = stream.send(sc, h, 0, kObjectBytes, &done);
            if (r != ChunkStream::Sent::kDone) {
                if (r == ChunkStream::Sent::kAbort) std::abort();
                return;
            }
            done = 0;  // whole object queued: from the start again
        }
    }
    void stream_wake(StreamConn &) override { wake = true; }
    void stream_run(StreamConn &) override { pump(); }
    void stream_abort(StreamConn &) override { std::abort(); }
};

// The peer: builds its frames with the engine's own header writer, reads
// what the server sent, answers with ACKs.
class Peer {
  public:
    explicit Peer(const rte_ether_addr &server_mac) : server_mac_(server_mac) {}

    rte_mbuf *frame(uint8_t flags, uint32_t seq, uint32_t ack, bool syn) {
        tcp::SegmentOut s;
        s.src = tcp::IpAddr::v4(kPeerIp);
        s.dst = tcp::IpAddr::v4(kLocalIp);
        s.sport = kPeerPort;
        s.dport = kServerPort;
        s.seq = seq;
        s.ack = ack;
        s.flags = flags;
        s.window = 65535;  // << 7: 8 MiB
        s.opts.has_ts = true;
        s.opts.ts_val = ++ts_;
        s.opts.ts_ecr = ts_ecr_;
        if (syn) {
            s.opts.has_mss = s.opts.has_wscale = s.opts.sack_permitted = true;
            s.opts.mss = 1460;
            s.opts.wscale = 7;
        }
        rte_mbuf *m = rte_pktmbuf_alloc(g_pool);
        if (!m) std::abort();
        const uint16_t tcp_len = static_cast<uint16_t>(tcp::header_length(s));
        auto *p = rte_pktmbuf_mtod(m, uint8_t *);
        auto *eh = reinterpret_cast<rte_ether_hdr *>(p);
        eh->dst_addr = server_mac_;
        eh->src_addr = kPeerMac;
        eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
        auto *ih = reinterpret_cast<rte_ipv4_hdr *>(eh + 1);
        std::memset(ih, 0, sizeof *ih);
        ih->version_ihl = RTE_IPV4_VHL_DEF;
        ih->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof *ih + tcp_len));
        ih->time_to_live = 64;
        ih->next_proto_id = IPPROTO_TCP;
        ih->src_addr = rte_cpu_to_be_32(kPeerIp);
        ih->dst_addr = rte_cpu_to_be_32(kLocalIp);
        ih->hdr_checksum = rte_ipv4_cksum(ih);
        auto *th = reinterpret_cast<uint8_t *>(ih + 1);
        tcp::write_header(s, th);
        reinterpret_cast<rte_tcp_hdr *>(th)->cksum = rte_ipv4_udptcp_cksum(ih, th);
        m->data_len = m->pkt_len = static_cast<uint32_t>(sizeof *eh + sizeof *ih + tcp_len);
        return m;
    }

    // Reads one frame the server sent; false if it is not TCP for us.
    // Checks the TCP checksum over the whole chain when `verify`.
    bool read(rte_mbuf *m, bool verify) {
        auto *ih = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr *, sizeof(rte_ether_hdr));
        if (ih->next_proto_id != IPPROTO_TCP) return false;
        const uint32_t ip_len = rte_be_to_cpu_16(ih->total_length);
        auto *thb = reinterpret_cast<const uint8_t *>(ih + 1);
        tcp::SegmentIn s;
        // The header lives in the first mbuf; parse_header wants the whole
        // length but reads only the header.
        if (tcp::parse_header(thb, ip_len - sizeof *ih, s) != tcp::ParseError::kOk) return false;
        if (verify && (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG)) {
            // A TSO frame (EP_SPB_TSO=1): the NIC would sum each segment;
            // what we can check is the contract (rte_mbuf_core.h).
            const auto *th = reinterpret_cast<const rte_tcp_hdr *>(thb);
            if (m->tso_segsz != 1448 || th->cksum != rte_ipv4_phdr_cksum(ih, m->ol_flags) ||
                m->l4_len != 32)  // 20 + timestamps
                ++bad_checksums;
        } else if (verify) {
            uint16_t sum = 0;
            rte_raw_cksum_mbuf(m, sizeof(rte_ether_hdr) + sizeof *ih, ip_len - sizeof *ih, &sum);
            uint32_t t = rte_ipv4_phdr_cksum(ih, 0) + sum;
            t = (t & 0xffff) + (t >> 16);
            t = (t & 0xffff) + (t >> 16);
            if (t != 0xffff) ++bad_checksums;
        }
        if (s.flags & tcp::kSyn) {
            server_iss = s.seq;
            rcv_nxt = s.seq + 1;
        }
        if (s.opts.has_ts) ts_ecr_ = s.opts.ts_val;
        if (s.payload_len) {
            if (s.seq != rcv_nxt) ++out_of_order;
            rcv_nxt = s.seq + s.payload_len;
            // Counted in MSS segments, so a TSO frame counts what it carries.
            data_segments += (s.payload_len + 1447) / 1448;
            ++frames;
            payload_bytes += s.payload_len;
            if (s.payload_len % 1448 != 0) ++short_segments;
        }
        return true;
    }

    uint32_t ts_ = 1000, ts_ecr_ = 0;
    uint32_t server_iss = 0, rcv_nxt = 0;
    uint64_t data_segments = 0, payload_bytes = 0, bad_checksums = 0, out_of_order = 0,
             short_segments = 0, frames = 0;

  private:
    rte_ether_addr server_mac_;
};

struct Rig {
    Port port;
    std::atomic<bool> stop{false};
    std::unique_ptr<Lcore> lc;
    std::unique_ptr<TcpIo> io;
    std::unique_ptr<chunkstore::Store> store;
    App app;
    std::unique_ptr<Peer> peer;
    rte_ring *wire = nullptr;  // net_ring0's ring: TX and RX share it
    uint64_t now = 1'000'000'000;

    bool open(std::string *err) {
        PortOptions opt;
        opt.device = "net_ring0";
        opt.ip = rte_cpu_to_be_32(kLocalIp);
        opt.netmask = RTE_BE32(0xffffff00);
        opt.rx_desc = opt.tx_desc = 1024;
        if (!port_open(opt, 1, g_pool, &port, err)) return false;
        wire = rte_ring_lookup("ETH_RXTX0_net_ring0");
        if (!wire) {
            *err = "net_ring0's ring not found";
            return false;
        }
        chunkstore::Config cc;
        cc.ram_capacity_bytes = 64ull * chunkstore::kChunkSize;
        cc.max_readers = 2;
        cc.name = "spb";
        store = chunkstore::Store::open(cc, err);
        if (!store) return false;
        store->register_reader(0);
        std::vector<uint8_t> data(kObjectBytes);
        for (size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<uint8_t>(i * 131 + (i >> 11));
        if (!store->put_object("bench/object", data, 0).ok()) {
            *err = "put_object failed";
            return false;
        }
        const chunkstore::ObjectMeta *m = store->lookup_object(0, "bench/object");
        app.oid = m->id;
        app.gen = m->generation;

        lc = std::make_unique<Lcore>();
        lc->pool = g_pool;
        lc->stop = &stop;
        lc->store = store.get();
        lc->reader_id = 0;
        lc->ns_per_tsc_q32 = uint64_t{1} << 32;  // the fake clock counts nanoseconds
        lc->tsc_start = 0;
        lc->queues[0].port = &port;
        lc->nqueues = 1;
        // The daemon's stack configuration (control/daemon.cc), sized for one connection.
        tcp::StackConfig sc;
        sc.max_connections = 16;
        sc.time_wait_capacity = 16;
        sc.inline_blocks = 64;
        sc.mss = static_cast<uint16_t>(port.mtu - 40);
        sc.tick_ns = 20'000;
        sc.tlp_min_ns = 2 * sc.tick_ns;
        sc.wheel_slots = 16384;
        // EP_SPB_TSO=1: as on a port with TSO (net_ring has none; it carries
        // the super-segment as it is, the NIC's segmentation is not counted).
        uint64_t tx_offload = port.tx_offload;
        if (const char *e = std::getenv("EP_SPB_TSO"); e && *e == '1') {
            tx_offload |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
            sc.tso_max_bytes = 65535 - 20 - 60;
        }
        io = std::make_unique<TcpIo>();
        if (!io->init(lc.get(), &lc->queues[0], sc, tx_offload, now)) {
            *err = "TcpIo init";
            return false;
        }
        lc->queues[0].tcp = io.get();
        if (!app.stream.init(&io->stack(), store.get(), 0, 16, StreamConfig{}, &app)) {
            *err = "ChunkStream init";
            return false;
        }
        io->stack().listen(kServerPort, &app);
        peer = std::make_unique<Peer>(port.addr.mac);
        return true;
    }

    // One lcore loop iteration (lcore_main's body for one queue with a TCP
    // service), then the TX completion's free. Returns the frames sent.
    rte_mbuf *sent[4096];
    unsigned nsent = 0;
    void server_iteration() {
        rte_mbuf *rx[kBurst], *tx[kBurst];
        LcoreQueue &q = lc->queues[0];
        const uint16_t n = rte_eth_rx_burst(port.id, 0, rx, kBurst);
        if (n > 0) {
            const uint16_t ntx = process_burst(*lc, q, rx, n, tx, now);
            if (ntx > 0) queue_transmit(*lc, q, tx, ntx, kBurst);
        }
        io->stack().poll(now);
        if (app.wake) {  // the service's poll: pin waits woken
            app.wake = false;
            app.pump();
        }
        io->flush();
        store->quiescent(0);
    }

    // The peer's side: takes what the server sent off the ring (kept for
    // the timed free), returns the number of frames.
    unsigned collect(bool verify) {
        nsent = rte_ring_dequeue_burst(wire, reinterpret_cast<void **>(sent), 4096, nullptr);
        for (unsigned i = 0; i < nsent; ++i) peer->read(sent[i], verify);
        return nsent;
    }
    void free_sent() { rte_pktmbuf_free_bulk(sent, nsent); }

    // ACK every second segment received since the last call (and the last
    // odd one at once: the sender should never wait on a delayed ACK).
    uint32_t acked = 0;
    void ack(uint32_t limit_acks) {
        rte_mbuf *acks[1024];
        unsigned k = 0;
        const uint32_t mss = 1448;
        while (acked != peer->rcv_nxt && k < limit_acks) {
            uint32_t next = acked + 2 * mss;
            if (static_cast<int32_t>(peer->rcv_nxt - next) < 0) next = peer->rcv_nxt;
            acks[k++] = peer->frame(tcp::kAck, peer_seq, next, false);
            acked = next;
        }
        if (k && rte_ring_enqueue_bulk(wire, reinterpret_cast<void **>(acks), k, nullptr) != k)
            std::abort();
    }

    uint32_t peer_seq = 7777;
    bool handshake() {
        rte_mbuf *syn = peer->frame(tcp::kSyn, peer_seq, 0, true);
        if (rte_ring_enqueue(wire, syn) != 0) return false;
        server_iteration();
        if (collect(false) != 1) return false;  // the SYN-ACK
        free_sent();
        ++peer_seq;
        acked = peer->rcv_nxt;
        rte_mbuf *a = peer->frame(tcp::kAck, peer_seq, peer->rcv_nxt, false);
        if (rte_ring_enqueue(wire, a) != 0) return false;
        return true;
    }
};

// One rig for every run Google Benchmark makes of SendPath (it runs the
// function more than once): closing a net_ring vdev port releases it.
std::unique_ptr<Rig> g_rig;
std::string g_rig_err;

Rig *rig_once() {
    if (g_rig || !g_rig_err.empty()) return g_rig.get();
    auto rig = std::make_unique<Rig>();
    if (!rig->open(&g_rig_err) || !rig->handshake()) {
        if (g_rig_err.empty()) g_rig_err = "handshake";
        return nullptr;
    }
    // Warm-up: slow start until the send buffer (1 MiB) bounds the flight.
    for (int i = 0; i < 400; ++i) {
        rig->now += kRoundNs;
        rig->server_iteration();
        rig->collect(i % 50 == 0);
        rig->free_sent();
        rig->ack(kBurst);
    }
    g_rig = std::move(rig);
    return g_rig.get();
}

void close_rig() {
    if (!g_rig) return;
    Rig *rig = g_rig.get();
    rig->collect(false);
    rig->free_sent();
    rig->io->stack().abort(rig->app.conn);
    rig->io->flush();
    rig->collect(false);
    rig->free_sent();
    rig->app.stream.detach(rig->app.sc);
    port_close(rig->port);
    g_rig.reset();
}

void SendPath(benchmark::State &state) {
    Rig *rig = rig_once();
    if (!rig) {
        state.SkipWithError(("set-up: " + g_rig_err).c_str());
        return;
    }
    const uint64_t bad0 = rig->peer->bad_checksums, ooo0 = rig->peer->out_of_order;
    const uint64_t rtx0 = rig->io->stack().counters().retransmits;
    const uint64_t short0 = rig->peer->short_segments;
    const uint64_t seg0 = rig->peer->data_segments;
    std::vector<double> per_round;
    per_round.reserve(1 << 16);
    uint64_t cycles = 0, rounds = 0;
    for (auto _ : state) {
        for (int i = 0; i < 64; ++i) {
            rig->now += kRoundNs;
            const uint64_t s0 = rig->peer->data_segments;
            CALLGRIND_TOGGLE_COLLECT;
            const uint64_t t0 = rte_rdtsc();
            rig->server_iteration();
            const uint64_t t1 = rte_rdtsc();
            CALLGRIND_TOGGLE_COLLECT;
            rig->collect((rounds & 15) == 0);  // every 16th round: each frame checksummed in full
            CALLGRIND_TOGGLE_COLLECT;
            const uint64_t t2 = rte_rdtsc();
            rig->free_sent();
            const uint64_t t3 = rte_rdtsc();
            CALLGRIND_TOGGLE_COLLECT;
            rig->ack(kBurst);  // one burst of ACKs per iteration, as rx_burst takes them
            const uint64_t dt = (t1 - t0) + (t3 - t2);
            const uint64_t ds = rig->peer->data_segments - s0;
            cycles += dt;
            ++rounds;
            if (ds > 0 && per_round.size() < per_round.capacity())
                per_round.push_back(static_cast<double>(dt) / static_cast<double>(ds));
        }
    }
    const uint64_t segs = rig->peer->data_segments - seg0;
    std::sort(per_round.begin(), per_round.end());
    if (!per_round.empty()) {
        state.counters["cyc/seg_med"] = per_round[per_round.size() / 2];
        state.counters["cyc/seg_min"] = per_round.front();
    }
    state.counters["cyc/seg_mean"] = segs ? static_cast<double>(cycles) / segs : 0;
    state.counters["segs"] = static_cast<double>(segs);
    state.counters["segs/round"] = rounds ? static_cast<double>(segs) / rounds : 0;
    state.counters["tso_sends"] = static_cast<double>(rig->io->stack().counters().tso_sends);
    state.counters["retransmits"] =
        static_cast<double>(rig->io->stack().counters().retransmits - rtx0);
    state.counters["bad_csum"] = static_cast<double>(rig->peer->bad_checksums - bad0);
    state.counters["short_segs"] = static_cast<double>(rig->peer->short_segments - short0);
    if (rig->peer->bad_checksums != bad0 || rig->peer->out_of_order != ooo0 || segs == 0)
        state.SkipWithError("wrong segments on the wire");
    state.SetBytesProcessed(static_cast<int64_t>(segs * 1448));
}
BENCHMARK(SendPath)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char **argv) {
    const std::string prefix = "--file-prefix=sendbench" + std::to_string(getpid());
    const char *eal[] = {"send_path_bench",
                         "--no-pci",
                         "--no-huge",
                         "-m",
                         "512",
                         "-l",
                         "0",
                         "--vdev=net_ring0",
                         "--log-level=*:warning",
                         prefix.c_str()};
    if (rte_eal_init(sizeof eal / sizeof *eal, const_cast<char **>(eal)) < 0) return 1;
    g_pool = rte_pktmbuf_pool_create("spbench", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    if (!g_pool) return 1;
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    close_rig();
    const std::string runtime_dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    std::error_code ec;
    std::filesystem::remove_all(runtime_dir, ec);  // leave nothing behind
    return 0;
}

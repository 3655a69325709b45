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
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "bench/dataplane/ring_rig.h"
#include "dataplane/chunk_stream.h"

namespace {

using namespace ep;
using namespace ep::bench;

constexpr uint16_t kPeerPort = 40000;
constexpr uint64_t kObjectBytes = 16ull * chunkstore::kChunkSize;  // 4 MiB, 16 chunks
constexpr uint64_t kRoundNs = 10'000;                              // fake clock per round

// The server's application: streams one object from the store forever,
// from on_writable as the HTTP server does; its poll() is the service's
// (pin waits woken).
class App final : public tcp::Handler, public StreamOwner, public Service {
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

    std::string_view name() const override { return "app"; }
    void poll(const Clock &) override {
        if (wake) {
            wake = false;
            pump();
        }
    }
    void visit_counters(const CounterVisitor &) const override {}
};

// The peer: builds its frames with the engine's own header writer, reads
// what the server sent, answers with ACKs.
class Peer {
  public:
    explicit Peer(const rte_ether_addr &server_mac) : server_mac_(server_mac) {}

    rte_mbuf *frame(uint8_t flags, uint32_t seq, uint32_t ack) {
        return peer_frame(server_mac_, peer_segment(kPeerPort, flags, seq, ack, ++ts_, ts_ecr_));
    }

    // Reads one frame the server sent; false if it is not TCP for us.
    // Checks the TCP checksum over the whole chain when `verify`.
    bool read(rte_mbuf *m, bool verify) {
        tcp::SegmentIn s;
        bool bad = false;
        if (!parse_sent(m, verify, 1448, &s, &bad)) return false;
        if (bad) ++bad_checksums;
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

struct SendRig : Rig {
    App app;
    Service *services[1] = {&app};
    std::unique_ptr<Peer> peer;

    bool open(std::string *err) {
        if (!Rig::open(64ull * chunkstore::kChunkSize, "spb", err)) return false;
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
        // Sized for one connection.
        tcp::StackConfig sc = daemon_stack(port.mtu, 16, 64);
        // EP_SPB_TSO=1: as on a port with TSO (net_ring has none; it carries
        // the super-segment as it is, the NIC's segmentation is not counted).
        uint64_t tx_offload = port.tx_offload;
        if (const char *e = std::getenv("EP_SPB_TSO"); e && *e == '1') {
            tx_offload |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
            sc.tso_max_bytes = 65535 - 20 - 60;
        }
        if (!start_tcp(sc, tx_offload, err)) return false;
        if (!app.stream.init(&io->stack(), store.get(), 0, 16, StreamConfig{}, &app)) {
            *err = "ChunkStream init";
            return false;
        }
        io->stack().listen(kServerPort, &app);
        peer = std::make_unique<Peer>(port.addr.mac);
        return true;
    }

    // One lcore loop iteration, then (separately timed) the TX completion's free.
    void server_iteration() { iteration(services, 1); }

    // The peer's side: takes what the server sent off the ring (kept for
    // the timed free), returns the number of frames.
    rte_mbuf *sent[4096];
    unsigned nsent = 0;
    unsigned collect(bool verify) {
        nsent = Rig::collect(sent, 4096);
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
            acks[k++] = peer->frame(tcp::kAck, peer_seq, next);
            acked = next;
        }
        deliver(acks, k);
    }

    uint32_t peer_seq = 7777;
    bool handshake() {
        rte_mbuf *syn = peer->frame(tcp::kSyn, peer_seq, 0);
        deliver(&syn, 1);
        server_iteration();
        if (collect(false) != 1) return false;  // the SYN-ACK
        free_sent();
        ++peer_seq;
        acked = peer->rcv_nxt;
        rte_mbuf *a = peer->frame(tcp::kAck, peer_seq, peer->rcv_nxt);
        deliver(&a, 1);
        return true;
    }
};

// One rig for every run Google Benchmark makes of SendPath (it runs the
// function more than once): closing a net_ring vdev port releases it.
std::unique_ptr<SendRig> g_rig;
std::string g_rig_err;

SendRig *rig_once() {
    if (g_rig || !g_rig_err.empty()) return g_rig.get();
    auto rig = std::make_unique<SendRig>();
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
    SendRig *rig = g_rig.get();
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
    SendRig *rig = rig_once();
    if (!rig) {
        state.SkipWithError(("set-up: " + g_rig_err).c_str());
        return;
    }
    const uint64_t bad0 = rig->peer->bad_checksums, ooo0 = rig->peer->out_of_order;
    const uint64_t rtx0 = rig->io->stack().counters().retransmits;
    const uint64_t short0 = rig->peer->short_segments;
    const uint64_t seg0 = rig->peer->data_segments;
    RoundCycles rc;
    for (auto _ : state) {
        for (int i = 0; i < 64; ++i) {
            rig->now += kRoundNs;
            const uint64_t s0 = rig->peer->data_segments;
            const uint64_t dt = measured_round([&] { rig->server_iteration(); },
                                               // every 16th round: each frame checksummed in full
                                               [&] { rig->collect((rc.rounds & 15) == 0); },
                                               [&] { rig->free_sent(); });
            rig->ack(kBurst);  // one burst of ACKs per iteration, as rx_burst takes them
            rc.add(dt, rig->peer->data_segments - s0);
        }
    }
    const uint64_t segs = rig->peer->data_segments - seg0;
    rc.report(state, "seg");
    state.counters["segs"] = static_cast<double>(segs);
    state.counters["segs/round"] = rc.rounds ? static_cast<double>(segs) / rc.rounds : 0;
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
    return ep::bench::run(argc, argv, "sendbench", close_rig);
}

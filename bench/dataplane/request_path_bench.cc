// The request side of one data lcore, end to end: cycles (TSC) and, under
// callgrind, instructions per keep-alive 1 KiB GET, as edgebench compare's
// 1 KiB workload asks them (64 connections, "GET /small/o0000.bin
// HTTP/1.1", Host, nothing else).
//
//   ninja -C build bench/dataplane/request_path_bench && build/bench/dataplane/request_path_bench
//   # instructions (repeatable): a -Dmarch=x86-64-v3 build, docs/benchmarks.md "Request path"
//   valgrind --tool=callgrind --collect-atstart=no build-cg/bench/dataplane/request_path_bench
//       --benchmark_filter='RequestPath/1$' --benchmark_min_time=0.01
//   # → Ir of the measured part / the requests it prints at exit
//
// What is measured is what the lcore loop (lcore_main) does, one loop
// iteration per round:
//   rte_eth_rx_burst of 32 clients' request segments (each also ACKs the
//   connection's previous response, as the next request of a keep-alive
//   client does) on net_ring → process_burst (Ethernet, IPv4, TCP checksum,
//   options) → Stack::input (ACK processing: RTT, CUBIC, send queue
//   release; the request bytes into the receive buffer) → on_data →
//   HttpSession::feed (request parse, catalog lookup: Store::lookup_object,
//   response head) → ChunkStream::copy (head) and ::send (body: chunk
//   lookup, pin, a chunk reference) → TCP output (one segment: head and body,
//   the ACK of the request) → TcpIo::build (header mbuf, external-buffer
//   attach, checksum from the chunk's block sums) → TcpIo::flush →
//   rte_eth_tx_burst; the request mbufs' free; the service's poll; and then
//   the free of the transmitted mbufs (what TX completion costs the core).
//
// Not measured (the clients' side, between rounds): reading the responses
// off the ring and checking them (status 200, Content-Length, every byte of
// every 16th round's bodies against the object), building the next
// requests (the frames the NIC would have filled), draining the access
// ring (the control thread's work). Each round the next 32 idle connections
// (round robin over 64) send one request each, `depth` GETs in one segment
// (1: one request in flight per connection; 4: pipelined, the session's
// response queue depth). Time is a fake clock (100 us per round, about
// what 32 requests take at edgebench's saturation rate), so callgrind
// counts repeat; TSC cycles are wall time of the measured part (the median
// per round is the figure; preemption lands in the mean).
#include <benchmark/benchmark.h>
#include <rte_malloc.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench/dataplane/ring_rig.h"
#include "dataplane/access_log.h"
#include "dataplane/http/response_parser.h"
#include "dataplane/http_server.h"

namespace {

using namespace ep;
using namespace ep::bench;

constexpr unsigned kConns = 64;          // edgebench compare's 1 KiB workload
constexpr uint32_t kObjectBytes = 1024;  // compare_content.py's small objects
constexpr uint64_t kRoundNs = 100'000;   // fake clock per round
constexpr uint16_t kFirstPort = 40000;   // clients' ports: 40000 + connection
constexpr unsigned kVerifyEvery = 16;    // rounds whose bodies are compared byte by byte
constexpr unsigned kMaxDepth = 4;        // http::kResponseQueueDepth
constexpr uint32_t kAccessRing = 16384;  // the daemon's --access-ring-size

// Objects (EP_RPB_OBJECTS, default 1): small/o0000.bin, ... as
// compare_content.py names them; connection i asks for object i % n.
unsigned object_count() {
    const char *e = std::getenv("EP_RPB_OBJECTS");
    const int n = e ? std::atoi(e) : 1;
    return n > 0 && n <= 1000 ? static_cast<unsigned>(n) : 1;
}

std::string object_key(unsigned i) {
    char b[32];
    std::snprintf(b, sizeof b, "small/o%04u.bin", i);
    return b;
}

std::vector<uint8_t> object_bytes(unsigned i) {
    std::vector<uint8_t> d(kObjectBytes);
    for (uint32_t k = 0; k < kObjectBytes; ++k) d[k] = static_cast<uint8_t>(k * 131 + i * 7 + 1);
    return d;
}

// One client connection's end: its sequence numbers, the response parser,
// what it waits for.
struct Client {
    uint16_t port = 0;
    uint32_t seq = 0;      // next byte we send
    uint32_t rcv_nxt = 0;  // next byte of the server's we expect
    uint32_t ts_ecr = 0;
    bool established = false;
    unsigned object = 0;
    unsigned outstanding = 0;  // requests sent, responses not complete
    uint64_t body_seen = 0;    // body bytes of the current response so far
    http::ResponseParser parser{1024};
};

class ReqRig : public Rig {
  public:
    unsigned depth = 0;  // GETs per request segment; 0: not warmed up yet
    http::HttpConfig http_cfg;
    std::unique_ptr<HttpServer> srv;
    Service *services[1] = {};
    AccessLog *access = nullptr;
    uint64_t access_drops = 0;
    Client clients[kConns];
    std::vector<std::vector<uint8_t>> objects;
    // Per depth - 1 and object: `depth` GETs back to back.
    std::vector<std::string> requests[kMaxDepth];
    uint32_t ts = 1000;
    unsigned cursor = 0;  // next connection to send, round robin

    // Checks, all rounds.
    uint64_t responses = 0, bad_responses = 0, bad_bodies = 0, bad_checksums = 0, out_of_order = 0,
             frames = 0, bodies_compared = 0;

    bool open(std::string *err) {
        const unsigned n = object_count();
        // The daemon's RAM tier (--ram-mb 256): its pin budget (half of it)
        // is far from what 64 connections pin.
        if (!Rig::open(256ull << 20, "rpb", err)) return false;
        for (unsigned i = 0; i < n; ++i) {
            objects.push_back(object_bytes(i));
            if (!store
                     ->put_object(object_key(i), objects.back(), 1'700'000'000'000'000'000,
                                  "application/octet-stream")
                     .ok()) {
                *err = "put_object failed";
                return false;
            }
            // edgebench's request line and Host (http_load.cc), 1 to kMaxDepth of them.
            const std::string one =
                "GET /" + object_key(i) + " HTTP/1.1\r\nHost: 10.77.0.2\r\n\r\n";
            std::string r;
            for (unsigned d = 0; d < kMaxDepth; ++d) requests[d].push_back(r += one);
        }
        // The daemon's stack (sized for 64 clients and their pipelined heads)
        // and HTTP server (--http-max-conns 4096), with the access ring the
        // cache policy reads.
        if (!start_tcp(daemon_stack(port.mtu, 256, 1024), port.tx_offload, err)) return false;
        void *mem = rte_zmalloc("rpb_access", AccessLog::memsize(kAccessRing), 64);
        access = mem ? new AccessLog() : nullptr;
        if (!access || !access->init(mem, kAccessRing, &access_drops)) {
            *err = "access ring";
            return false;
        }
        srv = std::make_unique<HttpServer>(http_cfg);
        if (!srv->init(&io->stack(), store.get(), 0, 4096, kServerPort, access)) {
            *err = "HttpServer init";
            return false;
        }
        services[0] = srv.get();
        for (unsigned i = 0; i < kConns; ++i) {
            clients[i].port = static_cast<uint16_t>(kFirstPort + i);
            clients[i].seq = 1'000'000u * (i + 1);
            clients[i].object = i % n;
        }
        return true;
    }

    void server_iteration() { iteration(services, 1); }

    rte_mbuf *frame(Client &c, uint8_t flags, const std::string *payload = nullptr) {
        const tcp::SegmentOut s = peer_segment(c.port, flags, c.seq, c.rcv_nxt, ++ts, c.ts_ecr);
        rte_mbuf *m = payload ? peer_frame(port.addr.mac, s,
                                           reinterpret_cast<const uint8_t *>(payload->data()),
                                           static_cast<uint16_t>(payload->size()))
                              : peer_frame(port.addr.mac, s);
        c.seq += (flags & tcp::kSyn) ? 1 : 0;
        if (payload) c.seq += static_cast<uint32_t>(payload->size());
        return m;
    }

    // The sent frames, kept for the timed free.
    rte_mbuf *sent[4096];
    unsigned nsent = 0;

    // Takes what the server sent off the ring and reads every frame:
    // sequence order, responses parsed (status, length), bodies compared
    // when `verify`; the TCP checksum of every frame when `verify`.
    void collect(bool verify) {
        nsent = Rig::collect(sent, 4096);
        for (unsigned i = 0; i < nsent; ++i) read(sent[i], verify);
    }
    void free_sent() { rte_pktmbuf_free_bulk(sent, nsent); }

    void read(rte_mbuf *m, bool verify) {
        tcp::SegmentIn s;
        bool bad = false;
        if (!parse_sent(m, verify, 1448, &s, &bad)) return;
        if (bad) ++bad_checksums;
        if (s.dport < kFirstPort || s.dport >= kFirstPort + kConns) return;
        Client &c = clients[s.dport - kFirstPort];
        if (s.opts.has_ts) c.ts_ecr = s.opts.ts_val;
        if (s.flags & tcp::kSyn) {
            c.rcv_nxt = s.seq + 1;
            c.established = true;
            return;
        }
        if (s.payload_len == 0) return;
        ++frames;
        if (s.seq != c.rcv_nxt) {
            ++out_of_order;
            return;
        }
        c.rcv_nxt += s.payload_len;
        // The payload: the rest of the header mbuf (the copied head), then
        // the attached mbufs (chunk memory).
        const auto hdr = static_cast<uint32_t>(s.payload - rte_pktmbuf_mtod(m, const uint8_t *));
        for (const rte_mbuf *seg = m; seg; seg = seg->next) {
            const uint32_t off = seg == m ? hdr : 0;
            feed(c, rte_pktmbuf_mtod_offset(seg, const uint8_t *, off), seg->data_len - off,
                 verify);
        }
    }

    void feed(Client &c, const uint8_t *p, size_t n, bool verify) {
        while (n > 0) {
            const http::RespStep st = c.parser.feed(p, n);
            if (st.error != http::RespError::none || c.outstanding == 0) {
                ++bad_responses;
                return;
            }
            if (st.body_len && verify) {
                const std::vector<uint8_t> &o = objects[c.object];
                if (c.body_seen + st.body_len > o.size() ||
                    std::memcmp(st.body, o.data() + c.body_seen, st.body_len) != 0)
                    ++bad_bodies;
                bodies_compared += st.body_len;
            }
            c.body_seen += st.body_len;
            if (st.complete) {
                const http::RespHead &h = c.parser.head();
                if (h.status != 200 || !h.has_length || h.content_length != kObjectBytes ||
                    c.body_seen != kObjectBytes || !h.keep_alive)
                    ++bad_responses;
                ++responses;
                --c.outstanding;
                c.body_seen = 0;
                c.parser.reset();
            }
            p += st.consumed;
            n -= st.consumed;
        }
    }

    // The next 32 idle connections send `depth` requests in one segment,
    // which also ACKs everything the server sent them. Returns how many.
    unsigned send_requests() {
        rte_mbuf *out[kBurst];
        unsigned k = 0;
        for (unsigned tried = 0; tried < kConns && k < kBurst; ++tried) {
            Client &c = clients[cursor];
            cursor = (cursor + 1) % kConns;
            if (!c.established || c.outstanding) continue;
            out[k++] = frame(c, tcp::kAck | tcp::kPsh, &requests[depth - 1][c.object]);
            c.outstanding = depth;
        }
        deliver(out, k);
        return k * depth;
    }

    // The control thread's part: the access ring drained (else it fills).
    void drain_access() {
        AccessRec recs[256];
        while (access->drain(recs, 256) > 0) {
        }
    }

    // 64 handshakes, 32 a round; the final ACK goes with each first request.
    bool handshake() {
        for (unsigned base = 0; base < kConns; base += kBurst) {
            rte_mbuf *syn[kBurst];
            for (unsigned i = 0; i < kBurst; ++i) syn[i] = frame(clients[base + i], tcp::kSyn);
            deliver(syn, kBurst);
            now += kRoundNs;
            server_iteration();
            collect(false);
            free_sent();
        }
        for (const Client &c : clients)
            if (!c.established) return false;
        return true;
    }

    void close() {
        collect(false);
        free_sent();
        for (unsigned i = 0; i < kConns; ++i) {
            rte_mbuf *m = frame(clients[i], tcp::kRst);
            deliver(&m, 1);
            server_iteration();
        }
        collect(false);
        free_sent();
        srv.reset();
        io.reset();
        if (access) {
            void *mem = access->ring();
            delete access;
            rte_free(mem);
        }
        port_close(port);
    }
};

// One rig for every run Google Benchmark makes (closing a net_ring vdev
// port releases it: there is no second one); the pipeline depth is the
// clients' and changes between runs, after a warm-up at the new depth.
std::unique_ptr<ReqRig> g_rig;
std::string g_rig_err;
uint64_t g_requests_measured = 0;  // every run's, for callgrind's totals

// Rounds untimed, every response read, every 16th round's bodies compared.
void warm_up(ReqRig *rig, int rounds) {
    for (int i = 0; i < rounds; ++i) {
        rig->send_requests();
        rig->now += kRoundNs;
        rig->server_iteration();
        rig->collect(i % kVerifyEvery == 0);
        rig->free_sent();
        rig->drain_access();
    }
}

ReqRig *rig_for(unsigned depth) {
    if (!g_rig && g_rig_err.empty()) {
        auto rig = std::make_unique<ReqRig>();
        if (!rig->open(&g_rig_err) || !rig->handshake()) {
            if (g_rig_err.empty()) g_rig_err = "handshake";
            return nullptr;
        }
        g_rig = std::move(rig);
    }
    if (!g_rig) return nullptr;
    if (g_rig->depth != depth) {
        // Every connection is idle between rounds: each got all its answers.
        g_rig->depth = depth;
        warm_up(g_rig.get(), 200);  // slow start done, RTT estimates settled
    }
    return g_rig.get();
}

void close_rig() {
    if (!g_rig) return;
    g_rig->close();
    g_rig.reset();
    std::fprintf(stderr, "request_path_bench: %lu requests in the measured part of all runs\n",
                 static_cast<unsigned long>(g_requests_measured));
}

void RequestPath(benchmark::State &state) {
    ReqRig *rig = rig_for(static_cast<unsigned>(state.range(0)));
    if (!rig) {
        state.SkipWithError(("set-up: " + g_rig_err).c_str());
        return;
    }
    const uint64_t resp0 = rig->responses, bad0 = rig->bad_responses + rig->bad_bodies +
                                                  rig->bad_checksums + rig->out_of_order;
    const uint64_t rtx0 = rig->io->stack().counters().retransmits;
    const uint64_t frames0 = rig->frames;
    RoundCycles rc;
    for (auto _ : state) {
        for (int i = 0; i < 64; ++i) {
            const unsigned asked = rig->send_requests();
            rig->now += kRoundNs;
            const uint64_t dt = measured_round([&] { rig->server_iteration(); },
                                               [&] { rig->collect(rc.rounds % kVerifyEvery == 0); },
                                               [&] { rig->free_sent(); });
            rig->drain_access();
            rc.add(dt, asked);
        }
    }
    const uint64_t requests = rc.units;
    g_requests_measured += requests;
    const uint64_t answered = rig->responses - resp0;
    rc.report(state, "req");
    state.counters["reqs"] = static_cast<double>(requests);
    state.counters["frames/req"] =
        requests ? static_cast<double>(rig->frames - frames0) / requests : 0;
    state.counters["retransmits"] =
        static_cast<double>(rig->io->stack().counters().retransmits - rtx0);
    state.counters["body_bytes_cmp"] = static_cast<double>(rig->bodies_compared);
    state.counters["pin_waits"] = static_cast<double>(rig->srv->stream_counters().pin_waits);
    const uint64_t bad =
        rig->bad_responses + rig->bad_bodies + rig->bad_checksums + rig->out_of_order - bad0;
    state.counters["bad"] = static_cast<double>(bad);
    // Every request of the run answered in its round, nothing wrong.
    if (bad != 0 || answered != requests || requests == 0 || rig->access_drops != 0) {
        std::fprintf(stderr,
                     "request_path_bench: %lu requests, %lu answered; bad responses %lu, bad "
                     "bodies %lu, bad checksums %lu, out of order %lu, access drops %lu\n",
                     static_cast<unsigned long>(requests), static_cast<unsigned long>(answered),
                     static_cast<unsigned long>(rig->bad_responses),
                     static_cast<unsigned long>(rig->bad_bodies),
                     static_cast<unsigned long>(rig->bad_checksums),
                     static_cast<unsigned long>(rig->out_of_order),
                     static_cast<unsigned long>(rig->access_drops));
        state.SkipWithError("wrong responses on the wire");
    }
}
BENCHMARK(RequestPath)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char **argv) {
    return ep::bench::run(argc, argv, "reqbench", close_rig);
}

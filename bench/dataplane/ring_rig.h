// What the data-plane path benchmarks share (send_path_bench,
// request_path_bench): one data lcore on net_ring0, whose TX ring is its RX
// ring, so the untimed peer takes the server's frames off the ring and puts
// its own on it; the peer's frame writer and reader (the engine's own header
// code); the lcore loop body on a fake clock; EAL start and clean-up.
//
// The fake clock: lc->ns_per_tsc_q32 = 1 << 32 and tsc_start = 0 make the
// lcore's "TSC" count nanoseconds, and the benchmark moves Rig::now by a
// fixed step per round, so runs are deterministic and callgrind counts
// repeat to the instruction.
#pragma once

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
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "chunkstore/store.h"
#include "dataplane/lcore.h"
#include "dataplane/net/tcp/wire.h"
#include "dataplane/port.h"
#include "dataplane/service.h"
#include "dataplane/tcp_io.h"

namespace ep::bench {

inline constexpr uint32_t kLocalIp = RTE_IPV4(10, 77, 0, 2);
inline constexpr uint32_t kPeerIp = RTE_IPV4(10, 77, 0, 1);
inline constexpr uint16_t kServerPort = 80;
inline const rte_ether_addr kPeerMac = {{0x02, 0, 0, 0, 0, 0x01}};
// Wall clock at fake time 0 (2026-12-02), for HTTP Date.
inline constexpr int64_t kUnixStartNs = 1'796'256'000'000'000'000;

inline rte_mempool *g_pool = nullptr;

// A segment from the peer (port `sport`) to the server: window 65535 << 7
// (8 MiB), timestamps; a SYN offers MSS 1460, window scale 7 and SACK.
inline tcp::SegmentOut peer_segment(uint16_t sport, uint8_t flags, uint32_t seq, uint32_t ack,
                                    uint32_t ts_val, uint32_t ts_ecr) {
    tcp::SegmentOut s;
    s.src = tcp::IpAddr::v4(kPeerIp);
    s.dst = tcp::IpAddr::v4(kLocalIp);
    s.sport = sport;
    s.dport = kServerPort;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.window = 65535;
    s.opts.has_ts = true;
    s.opts.ts_val = ts_val;
    s.opts.ts_ecr = ts_ecr;
    if (flags & tcp::kSyn) {
        s.opts.has_mss = s.opts.has_wscale = s.opts.sack_permitted = true;
        s.opts.mss = 1460;
        s.opts.wscale = 7;
    }
    return s;
}

// The frame a NIC would have received: Ethernet, IPv4, the TCP header by
// the engine's own writer, `len` payload bytes; checksums in software.
inline rte_mbuf *peer_frame(const rte_ether_addr &server_mac, const tcp::SegmentOut &s,
                            const uint8_t *payload = nullptr, uint16_t len = 0) {
    rte_mbuf *m = rte_pktmbuf_alloc(g_pool);
    if (!m) std::abort();
    auto *p = rte_pktmbuf_mtod(m, uint8_t *);
    auto *eh = reinterpret_cast<rte_ether_hdr *>(p);
    eh->dst_addr = server_mac;
    eh->src_addr = kPeerMac;
    eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    auto *ih = reinterpret_cast<rte_ipv4_hdr *>(eh + 1);
    auto *th = reinterpret_cast<uint8_t *>(ih + 1);
    const auto tcp_len = static_cast<uint16_t>(tcp::write_header(s, th) + len);
    if (len) std::memcpy(th + (tcp_len - len), payload, len);
    std::memset(ih, 0, sizeof *ih);
    ih->version_ihl = RTE_IPV4_VHL_DEF;
    ih->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(sizeof *ih + tcp_len));
    ih->time_to_live = 64;
    ih->next_proto_id = IPPROTO_TCP;
    ih->src_addr = rte_cpu_to_be_32(kPeerIp);
    ih->dst_addr = rte_cpu_to_be_32(kLocalIp);
    ih->hdr_checksum = rte_ipv4_cksum(ih);
    reinterpret_cast<rte_tcp_hdr *>(th)->cksum = rte_ipv4_udptcp_cksum(ih, th);
    m->data_len = m->pkt_len = static_cast<uint32_t>(sizeof *eh + sizeof *ih + tcp_len);
    return m;
}

// Parses the TCP header of a frame the server sent; false if it is not TCP.
// With `verify`, *bad_csum says whether the TCP checksum over the whole
// chain is wrong (for a TSO frame, whether the offload contract of
// rte_mbuf_core.h is broken: segment size `mss`, pseudo-header sum, l4_len).
// s->payload points into the first mbuf only.
inline bool parse_sent(const rte_mbuf *m, bool verify, uint16_t mss, tcp::SegmentIn *s,
                       bool *bad_csum) {
    auto *ih = rte_pktmbuf_mtod_offset(m, const rte_ipv4_hdr *, sizeof(rte_ether_hdr));
    if (ih->next_proto_id != IPPROTO_TCP) return false;
    const uint32_t ip_len = rte_be_to_cpu_16(ih->total_length);
    auto *thb = reinterpret_cast<const uint8_t *>(ih + 1);
    // The header lives in the first mbuf; parse_header wants the whole
    // length but reads only the header.
    if (tcp::parse_header(thb, ip_len - sizeof *ih, *s) != tcp::ParseError::kOk) return false;
    *bad_csum = false;
    if (verify && (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG)) {
        // The NIC would sum each segment; what we can check is the contract.
        const auto *th = reinterpret_cast<const rte_tcp_hdr *>(thb);
        *bad_csum = m->tso_segsz != mss || th->cksum != rte_ipv4_phdr_cksum(ih, m->ol_flags) ||
                    m->l4_len != 32;  // 20 + timestamps
    } else if (verify) {
        // Not rte_raw_cksum_mbuf: DPDK 22.11's cuts a segment's 32-bit sum
        // to 16 bits before swapping it, wrong for a segment at an odd
        // offset (an HTTP head of odd length before its body).
        uint32_t sum = rte_ipv4_phdr_cksum(ih, 0), done = 0;
        uint32_t left = ip_len - sizeof *ih, off = sizeof(rte_ether_hdr) + sizeof *ih;
        for (const rte_mbuf *seg = m; seg && left; seg = seg->next, off = 0) {
            const uint32_t n = std::min<uint32_t>(seg->data_len - off, left);
            uint32_t t = __rte_raw_cksum_reduce(
                __rte_raw_cksum(rte_pktmbuf_mtod_offset(seg, const void *, off), n, 0));
            if (done & 1) t = rte_bswap16(static_cast<uint16_t>(t));
            sum += t;
            done += n;
            left -= n;
        }
        *bad_csum = left != 0 || __rte_raw_cksum_reduce(sum) != 0xffff;
    }
    return true;
}

// The daemon's stack configuration (control/daemon.cc), sized for the
// benchmark: `conns` connections, `inline_blocks` 1 KiB blocks for copied
// bytes (HTTP heads).
inline tcp::StackConfig daemon_stack(uint16_t mtu, uint32_t conns, uint32_t inline_blocks) {
    tcp::StackConfig sc;
    sc.max_connections = conns;
    sc.time_wait_capacity = conns;
    sc.inline_blocks = inline_blocks;
    sc.mss = static_cast<uint16_t>(mtu - 40);
    sc.tick_ns = 20'000;
    sc.tlp_min_ns = 2 * sc.tick_ns;
    sc.wheel_slots = 16384;
    return sc;
}

// One data lcore with one queue on net_ring0, a RAM-only chunk store and
// the queue's TCP engine; services are the benchmark's.
struct Rig {
    Port port;
    std::atomic<bool> stop{false};
    std::unique_ptr<Lcore> lc;
    std::unique_ptr<TcpIo> io;
    std::unique_ptr<chunkstore::Store> store;
    rte_ring *wire = nullptr;  // net_ring0's ring: TX and RX share it
    uint64_t now = 1'000'000'000;

    // The port and a store of `ram_bytes` (`name`: its DPDK objects).
    bool open(uint64_t ram_bytes, const char *name, std::string *err) {
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
        cc.ram_capacity_bytes = ram_bytes;
        cc.max_readers = 2;
        cc.name = name;
        store = chunkstore::Store::open(cc, err);
        if (!store) return false;
        store->register_reader(0);
        return true;
    }

    // The lcore (fake clock) and its TCP engine; `tx_offload` as the port
    // accepted it.
    bool start_tcp(const tcp::StackConfig &sc, uint64_t tx_offload, std::string *err) {
        lc = std::make_unique<Lcore>();
        lc->pool = g_pool;
        lc->stop = &stop;
        lc->store = store.get();
        lc->reader_id = 0;
        lc->ns_per_tsc_q32 = uint64_t{1} << 32;  // the fake clock counts nanoseconds
        lc->tsc_start = 0;
        lc->unix_start_ns = kUnixStartNs;
        lc->queues[0].port = &port;
        lc->nqueues = 1;
        io = std::make_unique<TcpIo>();
        if (!io->init(lc.get(), &lc->queues[0], sc, tx_offload, now)) {
            *err = "TcpIo init";
            return false;
        }
        lc->queues[0].tcp = io.get();
        return true;
    }

    // One lcore loop iteration as lcore_iteration() does it for one queue
    // (dataplane/lcore.cc), on the fake clock: rx_burst → process_burst →
    // transmit, TCP timers, the services' poll(), flush, quiescent state.
    void iteration(Service *const *services, uint16_t nservices) {
        rte_mbuf *rx[kBurst], *tx[kBurst];
        LcoreQueue &q = lc->queues[0];
        const uint16_t n = rte_eth_rx_burst(port.id, 0, rx, kBurst);
        if (n > 0) {
            const uint16_t ntx = process_burst(*lc, q, rx, n, tx, now);
            if (ntx > 0) queue_transmit(*lc, q, tx, ntx, kBurst);
        }
        io->stack().poll(now);
        const Clock clk{now, (lc->unix_start_ns + static_cast<int64_t>(now)) / 1'000'000'000};
        for (uint16_t k = 0; k < nservices; ++k) services[k]->poll(clk);
        io->flush();
        store->quiescent(0);
    }

    // The peer's side: up to `cap` frames the server sent, off the ring.
    unsigned collect(rte_mbuf **out, unsigned cap) {
        return rte_ring_dequeue_burst(wire, reinterpret_cast<void **>(out), cap, nullptr);
    }
    // The peer's frames onto the ring (what the NIC would have received).
    void deliver(rte_mbuf **frames, unsigned n) {
        if (n && rte_ring_enqueue_bulk(wire, reinterpret_cast<void **>(frames), n, nullptr) != n)
            std::abort();
    }
};

// One measured round: `serve` (the lcore's iteration) and `free` (the TX
// completion) timed and counted by callgrind (--collect-atstart=no), `read`
// (the peer taking the frames off the ring) between them neither. Returns
// the TSC cycles of the two.
template <class Serve, class Read, class Free>
uint64_t measured_round(Serve serve, Read read, Free free) {
    CALLGRIND_TOGGLE_COLLECT;
    const uint64_t t0 = rte_rdtsc();
    serve();
    const uint64_t t1 = rte_rdtsc();
    CALLGRIND_TOGGLE_COLLECT;
    read();
    CALLGRIND_TOGGLE_COLLECT;
    const uint64_t t2 = rte_rdtsc();
    free();
    const uint64_t t3 = rte_rdtsc();
    CALLGRIND_TOGGLE_COLLECT;
    return (t1 - t0) + (t3 - t2);
}

// Cycles per unit (segment, request) of every round, and what a run
// reports of them: the median and the fastest round, and the mean of all
// (on a shared VM preemption lands in the mean, less in the median).
struct RoundCycles {
    std::vector<double> per_round;
    uint64_t cycles = 0, units = 0, rounds = 0;
    RoundCycles() { per_round.reserve(1 << 16); }
    void add(uint64_t dt, uint64_t n) {
        cycles += dt;
        units += n;
        ++rounds;
        if (n > 0 && per_round.size() < per_round.capacity())
            per_round.push_back(static_cast<double>(dt) / static_cast<double>(n));
    }
    void report(benchmark::State &state, const std::string &unit) {
        std::sort(per_round.begin(), per_round.end());
        if (!per_round.empty()) {
            state.counters["cyc/" + unit + "_med"] = per_round[per_round.size() / 2];
            state.counters["cyc/" + unit + "_min"] = per_round.front();
        }
        state.counters["cyc/" + unit + "_mean"] =
            units ? static_cast<double>(cycles) / static_cast<double>(units) : 0;
    }
};

// EAL (--no-pci --no-huge, net_ring0, a file prefix of this process), the
// mbuf pool, the benchmarks, then `close` and EAL's clean-up (its runtime
// directory removed: nothing left behind).
inline int run(int argc, char **argv, const char *name, void (*close)()) {
    const std::string prefix = std::string("--file-prefix=") + name + std::to_string(getpid());
    const char *eal[] = {name,
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
    g_pool = rte_pktmbuf_pool_create("rigpool", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    if (!g_pool) return 1;
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    close();
    const std::string runtime_dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    std::error_code ec;
    std::filesystem::remove_all(runtime_dir, ec);
    return 0;
}

}  // namespace ep::bench

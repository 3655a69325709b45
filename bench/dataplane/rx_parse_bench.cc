// Cycles per packet of the receive path's parse and classify.
//
//   build/bench/dataplane/rx_parse_bench
//
// ParseClassify: Ethernet + IPv4 checks of one TCP segment frame, no mbufs.
// ProcessBurst:  the data lcore's own process_burst() over bursts of 32 real
//                mbufs (TCP segments that end at the not-yet-served TCP port,
//                the longest path that does not rewrite the frame). Each
//                mbuf's refcount is raised before the burst so the path's
//                free only drops it back, keeping the burst reusable.
// UdpEcho:       process_burst() over 32 UDP datagrams (64-byte payload,
//                checksum set) to the RFC 862 echo service: parse, verify,
//                answer in place. The server's whole receive-to-reply cost of
//                a datagram except the PMD's rx/tx. Each frame is rewritten
//                before the burst (untimed), since the reply replaced it.
//                Under callgrind, instructions per echo (docs/benchmarks.md).
#include <benchmark/benchmark.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <rte_udp.h>

#include "dataplane/lcore.h"
#include "dataplane/udp_echo.h"
#include "dataplane/net/eth.h"
#include "dataplane/net/ipv4.h"

namespace {

ep::net::PortAddress bench_port() {
    ep::net::PortAddress p;
    p.mac = {{0x02, 0, 0, 0, 0, 0x02}};
    p.ip = RTE_BE32(RTE_IPV4(10, 77, 0, 2));
    p.netmask = RTE_BE32(0xffffff00);
    return p;
}

// A 64-byte TCP SYN from 10.77.0.1 to us.
std::vector<uint8_t> tcp_frame() {
    std::vector<uint8_t> f(14 + 20 + 20 + 10, 0);
    auto *eh = reinterpret_cast<rte_ether_hdr *>(f.data());
    eh->dst_addr = bench_port().mac;
    eh->src_addr = {{0x02, 0, 0, 0, 0, 0x01}};
    eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    auto *ih = reinterpret_cast<rte_ipv4_hdr *>(eh + 1);
    ih->version_ihl = 0x45;
    ih->total_length = RTE_BE16(40);
    ih->time_to_live = 64;
    ih->next_proto_id = IPPROTO_TCP;
    ih->src_addr = RTE_BE32(RTE_IPV4(10, 77, 0, 1));
    ih->dst_addr = bench_port().ip;
    ih->hdr_checksum = rte_ipv4_cksum(ih);
    auto *th = reinterpret_cast<rte_tcp_hdr *>(ih + 1);
    th->src_port = RTE_BE16(40000);
    th->dst_port = RTE_BE16(80);
    th->data_off = 5 << 4;
    th->tcp_flags = RTE_TCP_SYN_FLAG;
    return f;
}

void ParseClassify(benchmark::State &state) {
    const auto port = bench_port();
    auto f = tcp_frame();
    uint64_t cycles = 0, n = 0;
    for (auto _ : state) {
        const uint64_t t0 = rte_rdtsc();
        for (int i = 0; i < 1024; ++i) {
            auto v = ep::net::classify_eth(f.data(), f.size(), port.mac);
            ep::net::Ipv4View iv;
            benchmark::DoNotOptimize(v);
            benchmark::DoNotOptimize(ep::net::parse_ipv4(f.data() + 14, f.size() - 14, port, &iv));
            benchmark::DoNotOptimize(iv);
        }
        cycles += rte_rdtsc() - t0;
        n += 1024;
    }
    state.counters["cycles/pkt"] = static_cast<double>(cycles) / static_cast<double>(n);
    state.SetItemsProcessed(static_cast<int64_t>(n));
}
BENCHMARK(ParseClassify);

rte_mempool *g_pool;

// One data lcore with one queue on `port`, as lcore_main would run it.
ep::Lcore *bench_lcore(ep::Port &port, std::atomic<bool> &stop) {
    port.addr = bench_port();
    auto *lc = new ep::Lcore();
    lc->pool = g_pool;
    lc->stop = &stop;
    lc->queues[0].port = &port;
    lc->nqueues = 1;
    return lc;
}

void ProcessBurst(benchmark::State &state) {
    ep::Port port;
    std::atomic<bool> stop{false};
    ep::Lcore *lc = bench_lcore(port, stop);
    const auto f = tcp_frame();
    rte_mbuf *burst[ep::kBurst], *tx[ep::kBurst];
    for (auto &m : burst) {
        m = rte_pktmbuf_alloc(g_pool);
        std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
    }
    uint64_t cycles = 0, n = 0;
    for (auto _ : state) {
        for (auto *m : burst) rte_mbuf_refcnt_update(m, 1);
        const uint64_t t0 = rte_rdtsc();
        benchmark::DoNotOptimize(ep::process_burst(*lc, lc->queues[0], burst, ep::kBurst, tx, t0));
        cycles += rte_rdtsc() - t0;
        n += ep::kBurst;
    }
    if (lc->counters.dropped(ep::Drop::tcp_no_handler) != n) state.SkipWithError("unexpected path");
    for (auto *m : burst) rte_pktmbuf_free(m);
    state.counters["cycles/pkt"] = static_cast<double>(cycles) / static_cast<double>(n);
    state.SetItemsProcessed(static_cast<int64_t>(n));
    delete lc;
}
BENCHMARK(ProcessBurst);

// 64 bytes of payload from 10.77.0.1:40007 to our port 7, checksummed.
std::vector<uint8_t> udp_frame() {
    std::vector<uint8_t> f(14 + 20 + 8 + 64, 0);
    auto *eh = reinterpret_cast<rte_ether_hdr *>(f.data());
    eh->dst_addr = bench_port().mac;
    eh->src_addr = {{0x02, 0, 0, 0, 0, 0x01}};
    eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    auto *ih = reinterpret_cast<rte_ipv4_hdr *>(eh + 1);
    ih->version_ihl = 0x45;
    ih->total_length = RTE_BE16(20 + 8 + 64);
    ih->time_to_live = 64;
    ih->next_proto_id = IPPROTO_UDP;
    ih->src_addr = RTE_BE32(RTE_IPV4(10, 77, 0, 1));
    ih->dst_addr = bench_port().ip;
    ih->hdr_checksum = rte_ipv4_cksum(ih);
    auto *uh = reinterpret_cast<rte_udp_hdr *>(ih + 1);
    uh->src_port = RTE_BE16(40007);
    uh->dst_port = RTE_BE16(7);
    uh->dgram_len = RTE_BE16(8 + 64);
    for (int i = 0; i < 64; ++i) f[42 + i] = static_cast<uint8_t>(i * 7 + 1);
    uh->dgram_cksum = rte_ipv4_udptcp_cksum(ih, uh);
    return f;
}

void UdpEcho(benchmark::State &state) {
    ep::Port port;
    std::atomic<bool> stop{false};
    ep::Lcore *lc = bench_lcore(port, stop);
    ep::UdpEchoServer echo;
    lc->queues[0].udp.bind(7, &echo);
    const auto f = udp_frame();
    rte_mbuf *burst[ep::kBurst], *tx[ep::kBurst];
    for (auto &m : burst) {
        m = rte_pktmbuf_alloc(g_pool);
        rte_pktmbuf_append(m, static_cast<uint16_t>(f.size()));
    }
    uint64_t cycles = 0, n = 0;
    for (auto _ : state) {
        for (auto *m : burst) {  // the last burst's replies become requests again
            std::memcpy(rte_pktmbuf_mtod(m, uint8_t *), f.data(), f.size());
            m->data_len = m->pkt_len = static_cast<uint32_t>(f.size());
        }
        const uint64_t t0 = rte_rdtsc();
        const uint16_t nt = ep::process_burst(*lc, lc->queues[0], burst, ep::kBurst, tx, t0);
        cycles += rte_rdtsc() - t0;
        if (nt != ep::kBurst) {
            state.SkipWithError("not every datagram was echoed");
            break;
        }
        n += ep::kBurst;
    }
    if (echo.counters().datagrams != n) state.SkipWithError("unexpected path");
    for (auto *m : burst) rte_pktmbuf_free(m);
    state.counters["cycles/pkt"] = static_cast<double>(cycles) / static_cast<double>(n ? n : 1);
    state.SetItemsProcessed(static_cast<int64_t>(n));
    delete lc;
}
BENCHMARK(UdpEcho);

}  // namespace

int main(int argc, char **argv) {
    const std::string prefix = "--file-prefix=rxbench" + std::to_string(getpid());
    const char *eal[] = {"rx_parse_bench", "--no-pci", "--no-huge", "-m", "128", "-l", "0",
                         "--log-level=*:warning", prefix.c_str()};
    if (rte_eal_init(sizeof eal / sizeof *eal, const_cast<char **>(eal)) < 0) return 1;
    g_pool = rte_pktmbuf_pool_create("bench", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    const std::string runtime_dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    std::error_code ec;
    std::filesystem::remove_all(runtime_dir, ec);  // leave nothing behind
    return 0;
}

// Server cost of a DNS query through one data lcore's whole loop (issue 13's
// 600 cycles per steered query): receive -> Ethernet -> IPv4 -> UDP -> the
// DNS service (dataplane/dns_service.cc, the real FibSteering in rte_fib,
// an RCU reader) -> answer in place -> transmit, and the loop's fixed costs
// (RX poll, the services' poll(), the quiescent state, busy/idle cycles).
//
//   ninja -C build bench/dns_path_bench
//   build/bench/dns_path_bench                      # TSC cycles per query
//   valgrind --tool=callgrind --toggle-collect='ep::lcore_iteration*'
//       build/bench/dns_path_bench --benchmark_filter='/32$' --benchmark_min_time=0.01
//       (one command line)
//   # -> Ir of lcore_iteration / the queries printed at exit (every run's)
//
// The port is net_ring0 (EAL --vdev, --no-pci --no-huge): without arguments
// its TX ring is its RX ring, so what the lcore sends comes back on receive.
// Each benchmark iteration, untimed: every mbuf of the burst gets the query
// frame again (what the NIC's DMA would write) and is put on the ring with
// tx_burst. Timed: one lcore_iteration(), exactly lcore_main's loop body.
// Untimed again: the answers are taken off the ring and checked.
//
// Mixes: plain A (no EDNS), A with ECS 198.51.100.0/24 steered by the FIB
// (two addresses, scope 24), and a name that does not exist (NXDOMAIN with
// the SOA). Bursts of 32 (a loaded server) and of 1 (the loop's fixed cost
// on one query, what a lightly loaded server pays).
#include <benchmark/benchmark.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_udp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "control/dns_zones.h"
#include "dataplane/dns/steer_plan.h"
#include "dataplane/dns/wire.h"
#include "dataplane/dns/zone_table.h"
#include "dataplane/dns_service.h"
#include "dataplane/dns_steering.h"
#include "dataplane/lcore.h"
#include "dataplane/port.h"

namespace {

// The zone and steering line of bench/edgebench/dns_bench.py.
const char kZone[] = R"($ORIGIN bench.test.
$TTL 300
@     IN SOA ns hostmaster 1 7200 900 1209600 300
      IN NS  ns
ns    IN A   10.79.0.2
www   IN A   192.0.2.10
video IN A   192.0.2.20
)";
const char kSteer[] = "video.bench.test 198.51.100.0/24 10.77.0.3,10.77.0.4 30";

rte_mempool *g_pool;
ep::Port g_port;
std::unique_ptr<ep::dns::ZoneTable> g_zones;
std::unique_ptr<ep::FibSteering> g_steering;
rte_rcu_qsbr *g_rcu;
// Every query any run of the process sent through lcore_iteration(),
// printed at exit: Google Benchmark runs each benchmark several times to
// pick its iteration count, and callgrind counts them all.
uint64_t g_total_queries;

// The DNS message of a query for `name` (A), with OPT + ECS when `ecs`.
std::vector<uint8_t> dns_query(const char *name, bool ecs) {
    std::vector<uint8_t> m = {0x12, 0x34, 0x01, 0x00, 0, 1,
                              0,    0,    0,    0,    0, static_cast<uint8_t>(ecs ? 1 : 0)};
    uint8_t n[ep::dns::kMaxName];
    uint32_t len = 0;
    ep::dns::name_from_text(name, n, &len);
    m.insert(m.end(), n, n + len);
    m.insert(m.end(), {0, 1, 0, 1});
    if (ecs)  // OPT, payload 1232, ECS 198.51.100.0/24 (RFC 7871 6)
        m.insert(m.end(),
                 {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 11, 0, 8, 0, 7, 0, 1, 24, 0, 198, 51, 100});
    return m;
}

// Ethernet + IPv4 + UDP (checksummed) from 10.79.0.1:40053 to our port 53.
std::vector<uint8_t> frame(const std::vector<uint8_t> &dns) {
    const uint16_t udp_len = static_cast<uint16_t>(8 + dns.size());
    std::vector<uint8_t> f(14 + 20 + udp_len, 0);
    auto *eh = reinterpret_cast<rte_ether_hdr *>(f.data());
    eh->dst_addr = g_port.addr.mac;
    eh->src_addr = {{0x02, 0, 0, 0, 0, 0x01}};
    eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    auto *ih = reinterpret_cast<rte_ipv4_hdr *>(eh + 1);
    ih->version_ihl = 0x45;
    ih->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(20 + udp_len));
    ih->time_to_live = 64;
    ih->next_proto_id = IPPROTO_UDP;
    ih->src_addr = RTE_BE32(RTE_IPV4(10, 79, 0, 1));
    ih->dst_addr = g_port.addr.ip;
    ih->hdr_checksum = rte_ipv4_cksum(ih);
    auto *uh = reinterpret_cast<rte_udp_hdr *>(ih + 1);
    uh->src_port = RTE_BE16(40053);
    uh->dst_port = RTE_BE16(53);
    uh->dgram_len = rte_cpu_to_be_16(udp_len);
    std::memcpy(f.data() + 42, dns.data(), dns.size());
    uh->dgram_cksum = rte_ipv4_udptcp_cksum(ih, uh);
    return f;
}

enum class Mix { plain, steered, nxdomain };

void Path(benchmark::State &state, Mix mix) {
    const auto burst_n = static_cast<uint16_t>(state.range(0));
    const char *name = mix == Mix::plain     ? "www.bench.test"
                       : mix == Mix::steered ? "video.bench.test"
                                             : "nope.bench.test";
    const auto f = frame(dns_query(name, mix == Mix::steered));
    const uint16_t want_rcode = mix == Mix::nxdomain ? ep::dns::kNxDomain : ep::dns::kNoError;
    const uint16_t want_an = mix == Mix::steered ? 2 : mix == Mix::plain ? 1 : 0;

    std::atomic<const ep::dns::ZoneTable *> zones{g_zones.get()};
    std::atomic<const ep::dns::Steering *> steering{g_steering.get()};
    ep::DnsConfig cfg;
    cfg.zones = &zones;
    cfg.steering = &steering;
    cfg.rcu = g_rcu;
    cfg.rcu_id = 0;
    cfg.tcp_max_conns = 0;
    auto dns = std::make_unique<ep::DnsService>(cfg);

    std::atomic<bool> stop{false};
    auto lc = std::make_unique<ep::Lcore>();
    lc->pool = g_pool;
    lc->stop = &stop;
    lc->queues[0].port = &g_port;
    lc->nqueues = 1;
    lc->queues[0].udp.bind(53, dns.get());
    lc->queues[0].services[0] = dns.get();
    lc->queues[0].nservices = 1;
    lc->tsc_start = rte_rdtsc();
    lc->ns_per_tsc_q32 = (uint64_t{1000000000} << 32) / rte_get_tsc_hz();

    std::vector<rte_mbuf *> mbufs(burst_n);
    for (auto &m : mbufs) m = rte_pktmbuf_alloc(g_pool);
    rte_mbuf *back[ep::kBurst];
    ep::LoopState loop;
    loop.last = rte_rdtsc();
    // Per burst: the machine is shared, and a burst the scheduler interrupted
    // counts the other process's time; the median of the bursts does not.
    std::vector<uint32_t> per_burst;
    per_burst.reserve(1 << 20);
    uint64_t cycles = 0, n = 0;
    for (auto _ : state) {
        for (rte_mbuf *m : mbufs) {  // the NIC's write of the next query
            rte_pktmbuf_reset(m);
            std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
        }
        if (rte_eth_tx_burst(g_port.id, 0, mbufs.data(), burst_n) != burst_n) {
            state.SkipWithError("ring refused the queries");
            break;
        }
        loop.last = rte_rdtsc();  // the idle time before counts as idle, not this burst's
        const uint64_t t0 = rte_rdtsc();
        ep::lcore_iteration(*lc, loop);
        const uint64_t dt = rte_rdtsc() - t0;
        cycles += dt;
        if (per_burst.size() < per_burst.capacity()) per_burst.push_back(static_cast<uint32_t>(dt));
        n += burst_n;
        const uint16_t got = rte_eth_rx_burst(g_port.id, 0, back, ep::kBurst);
        bool ok = got == burst_n;
        for (uint16_t i = 0; ok && i < got; ++i) {
            const uint8_t *d = rte_pktmbuf_mtod(back[i], const uint8_t *) + 42;
            ok = (d[2] & 0x80) && (d[3] & 0xf) == want_rcode && ep::dns::get16(d + 6) == want_an;
            mbufs[i] = back[i];
        }
        if (!ok) {
            state.SkipWithError("an answer is missing or wrong");
            break;
        }
    }
    g_total_queries += n;
    const ep::dns::Counters c = dns->counters();
    if (c.queries != n || (mix == Mix::nxdomain ? c.nxdomain : c.answers) != n)
        state.SkipWithError("the DNS counters do not match the queries sent");
    for (rte_mbuf *m : mbufs) rte_pktmbuf_free(m);
    double median = 0;
    if (!per_burst.empty()) {
        std::nth_element(per_burst.begin(), per_burst.begin() + per_burst.size() / 2,
                         per_burst.end());
        median = per_burst[per_burst.size() / 2];
    }
    state.counters["cyc/q_median"] = median / burst_n;
    state.counters["cyc/q_mean"] = static_cast<double>(cycles) / static_cast<double>(n ? n : 1);
    state.counters["queries"] = static_cast<double>(n);
    state.SetItemsProcessed(static_cast<int64_t>(n));
}
BENCHMARK_CAPTURE(Path, plain_a, Mix::plain)->Arg(32)->Arg(1);
BENCHMARK_CAPTURE(Path, ecs_steered_a, Mix::steered)->Arg(32)->Arg(1);
BENCHMARK_CAPTURE(Path, nxdomain, Mix::nxdomain)->Arg(32)->Arg(1);

bool setup(std::string *err) {
    g_pool = rte_pktmbuf_pool_create("dnspath", 2047, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    if (!g_pool) return *err = "mbuf pool", false;
    ep::PortOptions po;
    po.device = "net_ring0";
    po.ip = RTE_BE32(RTE_IPV4(10, 79, 0, 2));
    po.netmask = RTE_BE32(0xffffff00);
    if (!ep::port_open(po, 1, g_pool, &g_port, err)) return false;
    g_zones = ep::load_zone_texts({{"bench.test", kZone}}, err);
    if (!g_zones) return false;
    ep::dns::SteerMap map;
    if (!ep::parse_steering({kSteer}, *g_zones, &map, err)) return false;
    ep::dns::SteerPlan plan;
    if (!ep::dns::plan_steering(map, &plan, err)) return false;
    g_steering = ep::FibSteering::build(plan, 0, err);
    if (!g_steering) return false;
    const size_t sz = rte_rcu_qsbr_get_memsize(1);
    g_rcu = static_cast<rte_rcu_qsbr *>(rte_zmalloc("dnspath_rcu", sz, RTE_CACHE_LINE_SIZE));
    if (!g_rcu || rte_rcu_qsbr_init(g_rcu, 1) != 0 || rte_rcu_qsbr_thread_register(g_rcu, 0) != 0)
        return *err = "rcu", false;
    rte_rcu_qsbr_thread_online(g_rcu, 0);
    return true;
}

}  // namespace

int main(int argc, char **argv) {
    const std::string prefix = "--file-prefix=dnspath" + std::to_string(getpid());
    const char *eal[] = {"dns_path_bench",
                         "--no-pci",
                         "--no-huge",
                         "-m",
                         "256",
                         "-l",
                         "0",
                         "--vdev=net_ring0",
                         "--log-level=*:warning",
                         prefix.c_str()};
    if (rte_eal_init(sizeof eal / sizeof *eal, const_cast<char **>(eal)) < 0) return 1;
    std::string err;
    int rc = 0;
    if (!setup(&err)) {
        fprintf(stderr, "dns_path_bench: %s\n", err.c_str());
        rc = 1;
    } else {
        benchmark::Initialize(&argc, argv);
        benchmark::RunSpecifiedBenchmarks();
        benchmark::Shutdown();
        fprintf(stderr, "dns_path_bench: %lu queries through lcore_iteration in all runs\n",
                static_cast<unsigned long>(g_total_queries));
    }
    g_steering.reset();
    if (g_port.started) ep::port_close(g_port);
    const std::string runtime_dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    std::error_code ec;
    std::filesystem::remove_all(runtime_dir, ec);  // leave nothing behind
    return rc;
}

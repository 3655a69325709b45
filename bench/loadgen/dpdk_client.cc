#include "bench/loadgen/dpdk_client.h"

#include <arpa/inet.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <new>

#include "dataplane/net/arp.h"

namespace ep::loadgen {

bool parse_ipv4(const std::string &s, uint32_t *ip_be) {
    in_addr a{};
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) return false;
    *ip_be = a.s_addr;
    return true;
}

bool parse_cidr(const std::string &s, uint32_t *ip_be, uint32_t *mask_be) {
    const size_t slash = s.find('/');
    if (slash == std::string::npos) return false;
    if (!parse_ipv4(s.substr(0, slash), ip_be)) return false;
    const int len = std::atoi(s.c_str() + slash + 1);
    if (len < 1 || len > 32) return false;
    *mask_be = htonl(len == 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1));
    return true;
}

bool DpdkClient::open(const DpdkOptions &o, std::string *err) {
    PortOptions po;
    po.device = o.port.substr(0, o.port.find(','));
    po.csum_offload = o.csum_offload;
    if (!parse_cidr(o.ip, &po.ip, &po.netmask)) {
        *err = "bad --ip '" + o.ip + "' (want a.b.c.d/len)";
        return false;
    }
    if (!o.gateway.empty() && !parse_ipv4(o.gateway, &po.gateway)) {
        *err = "bad --gateway '" + o.gateway + "'";
        return false;
    }
    // EAL: one lcore (ours), never probe PCI unless a PCI address was named.
    const bool pci = o.port.find(':') != std::string::npos && o.port.rfind("net_", 0) != 0;
    std::vector<std::string> eal = {
        "edgebench",
        "-l",
        std::to_string(o.lcore),
        "--main-lcore",
        std::to_string(o.lcore),
        "--file-prefix",
        o.file_prefix.empty() ? "edgebench-" + std::to_string(getpid()) : o.file_prefix,
        "--log-level",
        o.log_level,
        "--in-memory"};
    // --in-memory leaves no hugepage files behind, even after a crash.
    if (pci) {
        eal.push_back("-a");
        eal.push_back(o.port);
    } else {
        eal.push_back("--no-pci");
        eal.push_back("--vdev");
        eal.push_back(o.port);
    }
    if (o.no_huge) {
        eal.push_back("--no-huge");
        eal.push_back("-m");
        eal.push_back(std::to_string(o.memory_mb));
    }
    std::vector<char *> argv;
    for (auto &s : eal) argv.push_back(s.data());
    argv.push_back(nullptr);
    block_async_io_signals();  // net_tap: poll, never wait for a signal (port.h)
    if (rte_eal_init(static_cast<int>(eal.size()), argv.data()) < 0) {
        *err = std::string("EAL init failed: ") + rte_strerror(rte_errno);
        return false;
    }
    eal_up_ = true;
    hz_ = rte_get_tsc_hz();
    trust_csum_ = o.trust_rx_l4_csum;
    pool_ = rte_pktmbuf_pool_create("eb_mbufs", o.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                    static_cast<int>(rte_socket_id()));
    if (!pool_) {
        *err = std::string("mbuf pool: ") + rte_strerror(rte_errno);
        return false;
    }
    // Data room 65535 with no headroom (data_off 0 at use): the largest
    // IPv4 datagram and its Ethernet header (65 549 bytes) do not fit a
    // uint16_t data room with the usual 128-byte headroom. Few are in use at
    // once: each lives from rx_burst to the end of process_burst.
    jumbo_ = rte_pktmbuf_pool_create("eb_jumbo", 127, 0, 0, UINT16_MAX,
                                     static_cast<int>(rte_socket_id()));
    if (!jumbo_) {
        *err = std::string("jumbo mbuf pool: ") + rte_strerror(rte_errno);
        return false;
    }
    po.rx_desc = 1024;
    po.tx_desc = 1024;
    if (!port_open(po, 1, pool_, &port_, err)) return false;

    void *mem = rte_zmalloc("eb_lcore", sizeof(Lcore), 64);
    if (!mem) {
        *err = "out of memory (lcore state)";
        return false;
    }
    lc_ = new (mem) Lcore();
    lc_->lcore_id = o.lcore;
    lc_->pool = pool_;
    lc_->nqueues = 1;
    lc_->queues[0].port = &port_;
    lc_->queues[0].queue = 0;
    lc_->tsc_start = rte_rdtsc();
    lc_->ns_per_tsc_q32 =
        static_cast<uint64_t>((static_cast<unsigned __int128>(1'000'000'000) << 32) / hz_);
    timespec wall{};
    clock_gettime(CLOCK_REALTIME, &wall);
    lc_->unix_start_ns = wall.tv_sec * 1'000'000'000LL + wall.tv_nsec;

    tcp::StackConfig sc = o.tcp;
    sc.mss = static_cast<uint16_t>(port_.mtu - 40);
    sc.secret = rte_rand();
    sc.seed = rte_rand();
    io_ = std::make_unique<TcpIo>();
    if (!io_->init(lc_, &lc_->queues[0], sc, port_.tx_offload, 0)) {
        *err = "TCP stack: out of memory (fewer connections or a smaller receive buffer)";
        return false;
    }
    lc_->queues[0].tcp = io_.get();
    return true;
}

uint64_t DpdkClient::now_ns() const {
    return lc_->tsc_to_ns(rte_rdtsc());
}

bool DpdkClient::rx() {
    LcoreQueue &q = lc_->queues[0];
    rte_mbuf *rx[kBurst];
    rte_mbuf *tx[kBurst];
    const uint64_t tsc = rte_rdtsc();
    uint16_t n = rte_eth_rx_burst(port_.id, q.queue, rx, kBurst);
    if (n > 0) n = linearize(rx, n);
    if (n > 0) {
        ++lc_->counters.rx_bursts;
        if (trust_csum_)
            for (uint16_t i = 0; i < n; ++i)
                rx[i]->ol_flags =
                    (rx[i]->ol_flags & ~RTE_MBUF_F_RX_L4_CKSUM_MASK) | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
        const uint16_t nt = process_burst(*lc_, q, rx, n, tx, tsc);
        if (nt > 0) {  // ARP replies, ICMP echo replies built in place
            const uint16_t sent = rte_eth_tx_burst(port_.id, q.queue, tx, nt);
            lc_->counters.tx_packets += sent;
            for (uint16_t i = sent; i < nt; ++i) {
                lc_->counters.drop(Drop::tx_queue_full);
                rte_pktmbuf_free(tx[i]);
            }
        }
    }
    io_->stack().poll(lc_->tsc_to_ns(rte_rdtsc()));
    return n > 0;
}

uint16_t DpdkClient::linearize(rte_mbuf **pkts, uint16_t n) {
    uint16_t out = 0;
    for (uint16_t i = 0; i < n; ++i) {
        rte_mbuf *m = pkts[i];
        if (m->nb_segs == 1) {
            pkts[out++] = m;
            continue;
        }
        rte_mbuf *j = rte_pktmbuf_alloc(jumbo_);
        if (!j || m->pkt_len > UINT16_MAX) {
            lc_->counters.drop(Drop::rx_multi_segment);
            if (j) rte_pktmbuf_free(j);
            rte_pktmbuf_free(m);
            continue;
        }
        j->data_off = 0;
        const void *p = rte_pktmbuf_read(m, 0, m->pkt_len, rte_pktmbuf_mtod(j, void *));
        (void)p;  // a chain: always copied into j
        j->data_len = static_cast<uint16_t>(m->pkt_len);
        j->pkt_len = m->pkt_len;
        j->ol_flags = m->ol_flags;
        j->port = m->port;
        ++linearized_;
        rte_pktmbuf_free(m);
        pkts[out++] = j;
    }
    return out;
}

void DpdkClient::tx() {
    io_->flush();
}

bool DpdkClient::resolve(uint32_t dst_be, double timeout_s) {
    LcoreQueue &q = lc_->queues[0];
    const uint32_t hop = port_.addr.next_hop(dst_be);
    if (hop == 0) return false;
    const uint64_t start = rte_rdtsc();
    uint64_t last_req = 0;
    while (true) {
        if (q.arp.lookup(hop, 0, UINT64_MAX)) return true;
        const uint64_t now = rte_rdtsc();
        if (static_cast<double>(now - start) > timeout_s * static_cast<double>(hz_)) return false;
        if (last_req == 0 || now - last_req > hz_ / 10) {
            last_req = now;
            if (rte_mbuf *m = rte_pktmbuf_alloc(pool_)) {
                auto *buf = reinterpret_cast<uint8_t *>(rte_pktmbuf_append(m, net::kArpFrameLen));
                net::build_arp_request(buf, port_.addr, hop);
                ++lc_->counters.arp_requests_sent;
                if (rte_eth_tx_burst(port_.id, q.queue, &m, 1) != 1) rte_pktmbuf_free(m);
            }
        }
        rx();
        tx();
    }
}

void DpdkClient::close() {
    if (port_.started) port_close(port_);
    io_.reset();  // after the port: its RX ring held mbufs of the pool
    if (lc_) {
        lc_->~Lcore();
        rte_free(lc_);
        lc_ = nullptr;
    }
    if (pool_) {
        rte_mempool_free(pool_);
        pool_ = nullptr;
    }
    if (jumbo_) {
        rte_mempool_free(jumbo_);
        jumbo_ = nullptr;
    }
    if (eal_up_) {
        // --in-memory leaves no hugepage files, but EAL still makes its
        // runtime directory (/var/run/dpdk/<prefix>): remove ours.
        const std::string runtime_dir = rte_eal_get_runtime_dir();
        rte_eal_cleanup();
        eal_up_ = false;
        std::error_code ec;
        if (runtime_dir.find("/dpdk/") != std::string::npos)
            std::filesystem::remove_all(runtime_dir, ec);
    }
}

}  // namespace ep::loadgen

#include "dataplane/port.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <rte_ethdev.h>

#include <csignal>
#include <cstdio>
#include <string_view>

namespace ep {

namespace {
sigset_t async_io_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGIO);
    for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) sigaddset(&set, sig);
    return set;
}
}  // namespace

void block_async_io_signals() {
    const sigset_t set = async_io_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void ignore_async_io_signals() {
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGIO, &ign, nullptr);  // what F_SETSIG falls back to
    for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) {
        struct sigaction old {};
        if (sigaction(sig, nullptr, &old) != 0) continue;
        const bool has_handler = (old.sa_flags & SA_SIGINFO)
                                     ? old.sa_sigaction != nullptr
                                     : old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN;
        if (has_handler) sigaction(sig, &ign, nullptr);  // also drops what is pending
    }
    // The kernel discards an ignored signal only if the thread it names (the
    // main thread, F_SETOWN's pid) does not block it.
    const sigset_t set = async_io_signals();
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

bool port_open(const PortOptions &opt, uint16_t queues, rte_mempool *pool, Port *out,
               std::string *err) {
    uint16_t id;
    if (rte_eth_dev_get_port_by_name(opt.device.c_str(), &id) != 0) {
        *err = "no ethdev named '" + opt.device + "' (check the --port device string)";
        return false;
    }
    rte_eth_dev_info info;
    if (int rc = rte_eth_dev_info_get(id, &info); rc != 0) {
        *err = "rte_eth_dev_info_get: " + std::string(rte_strerror(-rc));
        return false;
    }
    if (queues > info.max_rx_queues || queues > info.max_tx_queues) {
        *err = opt.device + " supports " + std::to_string(info.max_rx_queues) +
               " queues, asked for " + std::to_string(queues) + " (one per data lcore)";
        return false;
    }

    rte_eth_conf conf{};
    // RSS spreads flows over the data lcores, one queue each; a single queue needs none.
    const uint64_t rss_hf =
        (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
    out->rss = queues > 1 && rss_hf != 0;
    if (out->rss) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
    }
    // Chained mbufs are how chunk memory reaches the wire; checksum offloads
    // save the CPU the header sums (the payload's come from the chunk store).
    // MBUF_FAST_FREE stays off: external-buffer mbufs need the full free path.
    uint64_t tx_wanted = RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    // net_tap "offloads" checksums by summing each segment of a chain on its
    // own, which is wrong when a segment has an odd length (an HTTP head
    // before a body slice): ordinary frames keep our own sums there (right,
    // and no payload read), and only TSO frames, whose segments the glue
    // keeps even (TcpIo::emit_tso), need the offload enabled.
    const bool tap = std::string_view(info.driver_name) == "net_tap";
    constexpr uint64_t kCsum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
    // TSO needs the TCP checksum offload (each segment's sum is the port's).
    const bool tso = opt.tso && (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_TSO) &&
                     (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) &&
                     (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS);
    if (opt.csum_offload && (!tap || tso)) tx_wanted |= kCsum;
    if (tso && opt.csum_offload) tx_wanted |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
    conf.txmode.offloads = info.tx_offload_capa & tx_wanted;
    out->tx_csum_per_frame = !tap;
    conf.rxmode.offloads =
        info.rx_offload_capa & (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM);
    if (int rc = rte_eth_dev_configure(id, queues, queues, &conf); rc != 0) {
        *err = "rte_eth_dev_configure: " + std::string(rte_strerror(-rc));
        return false;
    }
    uint16_t rxd = opt.rx_desc, txd = opt.tx_desc;
    rte_eth_dev_adjust_nb_rx_tx_desc(id, &rxd, &txd);
    const int socket = rte_eth_dev_socket_id(id);
    for (uint16_t q = 0; q < queues; ++q) {
        if (int rc = rte_eth_rx_queue_setup(id, q, rxd, socket, nullptr, pool); rc != 0) {
            *err = "rx queue setup: " + std::string(rte_strerror(-rc));
            return false;
        }
        rte_eth_txconf txconf = info.default_txconf;
        txconf.offloads = conf.txmode.offloads;
        if (int rc = rte_eth_tx_queue_setup(id, q, txd, socket, &txconf); rc != 0) {
            *err = "tx queue setup: " + std::string(rte_strerror(-rc));
            return false;
        }
    }
    if (int rc = rte_eth_dev_start(id); rc != 0) {
        *err = "rte_eth_dev_start: " + std::string(rte_strerror(-rc));
        return false;
    }
    out->started = true;
    ignore_async_io_signals();  // net_tap set its receive trigger up by now
    out->tx_offload = conf.txmode.offloads;
    out->rx_offload = conf.rxmode.offloads;
    out->id = id;
    out->device = opt.device;
    out->queues = queues;
    out->rx_desc = rxd;
    out->tx_desc = txd;
    rte_eth_macaddr_get(id, &out->addr.mac);
    out->addr.ip = opt.ip;
    out->addr.netmask = opt.netmask;
    out->addr.gateway = opt.gateway;
    uint16_t mtu = 1500;
    if (rte_eth_dev_get_mtu(id, &mtu) == 0) out->mtu = mtu;
    out->driver = info.driver_name;
    out->tx_offload_capa = info.tx_offload_capa;
    out->rx_offload_capa = info.rx_offload_capa;
    if (tap) out->tso_frame_max = out->mtu;
    return true;
}

namespace {
template <typename NameOf>
std::string offload_names(uint64_t bits, NameOf name_of) {
    std::string s;
    for (int b = 0; b < 64; ++b) {
        if (!(bits & (1ull << b))) continue;
        if (!s.empty()) s += ' ';
        s += name_of(1ull << b);
    }
    return s.empty() ? "none" : s;
}
}  // namespace

std::string tx_offload_names(uint64_t bits) {
    return offload_names(bits, rte_eth_dev_tx_offload_name);
}
std::string rx_offload_names(uint64_t bits) {
    return offload_names(bits, rte_eth_dev_rx_offload_name);
}

void port_close(Port &port) {
    if (!port.started) return;
    rte_eth_dev_stop(port.id);
    // Closing releases the mbufs parked in the RX rings back to their pool.
    rte_eth_dev_close(port.id);
    port.started = false;
}

std::string mac_to_string(const rte_ether_addr &mac) {
    char buf[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(buf, sizeof buf, &mac);
    return buf;
}

std::string ipv4_to_string(uint32_t ip_be) {
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &ip_be, buf, sizeof buf);
    return buf;
}

}  // namespace ep

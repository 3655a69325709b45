#include "control/daemon.h"

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <cstdio>
#include <new>

#include "control/log.h"
#include "control/stats.h"

namespace ep {

namespace {
constexpr int kControlTickMs = 50;

std::string prefix_len(uint32_t mask_be) { return std::to_string(__builtin_popcount(mask_be)); }
}  // namespace

bool Daemon::start() {
    std::vector<std::string> eal = eal_arguments(cfg_);
    std::vector<char *> argv;
    std::string joined;
    for (std::string &s : eal) {
        argv.push_back(s.data());
        joined += s + ' ';
    }
    argv.push_back(nullptr);
    std::fprintf(stderr, "edgeplane: EAL %s\n", joined.c_str());
    if (rte_eal_init(static_cast<int>(eal.size()), argv.data()) < 0) {
        std::fprintf(stderr, "edgeplane: EAL init failed: %s\n", rte_strerror(rte_errno));
        return false;
    }
    eal_up_ = true;

    const unsigned nq = static_cast<unsigned>(cfg_.data_lcores.size());
    // Enough mbufs for every RX/TX descriptor of every queue plus the per-lcore caches.
    pool_ = rte_pktmbuf_pool_create("ep_mbufs", cfg_.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                    static_cast<int>(rte_socket_id()));
    if (!pool_) {
        EP_LOG(ERR, "mbuf pool of %u: %s", cfg_.mbufs, rte_strerror(rte_errno));
        return false;
    }
    for (const PortOptions &po : cfg_.port_options) {
        Port p;
        std::string err;
        if (!port_open(po, static_cast<uint16_t>(nq), pool_, &p, &err)) {
            EP_LOG(ERR, "port %s: %s", po.device.c_str(), err.c_str());
            return false;
        }
        ports_.push_back(p);
    }

    for (unsigned k = 0; k < nq; ++k) {
        const unsigned id = cfg_.data_lcores[k];
        if (!rte_lcore_is_enabled(id)) {
            EP_LOG(ERR, "data lcore %u is not enabled in EAL", id);
            return false;
        }
        void *mem = rte_zmalloc_socket("lcore", sizeof(Lcore), 64,
                                       static_cast<int>(rte_lcore_to_socket_id(id)));
        if (!mem) {
            EP_LOG(ERR, "out of memory for lcore %u state", id);
            return false;
        }
        Lcore *lc = new (mem) Lcore();
        lc->lcore_id = id;
        lc->pool = pool_;
        lc->stop = &data_stop_;
        lc->announce = k == 0;
        for (Port &p : ports_) lc->queues[lc->nqueues++].port = &p, lc->queues[lc->nqueues - 1].queue = static_cast<uint16_t>(k);
        lcores_.push_back(lc);
    }

    std::string err;
    if (!admin_.open(cfg_.admin_socket, &err)) {
        EP_LOG(ERR, "%s", err.c_str());
        return false;
    }
    register_commands();

    for (Lcore *lc : lcores_) rte_eal_remote_launch(lcore_main, lc, lc->lcore_id);
    lcores_launched_ = true;
    print_ready();
    return true;
}

void Daemon::register_commands() {
    admin_.add_command("stats", "per-lcore counters; 'stats json' for tools",
                       [this](const std::vector<std::string> &args, Reply &out) {
                           std::vector<LcoreStatsSource> src;
                           for (const Lcore *lc : lcores_) src.push_back({lc->lcore_id, &lc->counters});
                           const bool json = args.size() > 1 && args[1] == "json";
                           out.write(json ? format_stats_json(src) : format_stats_text(src));
                       });
    admin_.add_command("ports", "ports, addresses and queues", [this](auto &, Reply &out) {
        for (const Port &p : ports_) {
            out.write(p.device + " port " + std::to_string(p.id) + " mac " + mac_to_string(p.addr.mac) +
                      " ip " + ipv4_to_string(p.addr.ip) + "/" + prefix_len(p.addr.netmask) +
                      " mtu " + std::to_string(p.mtu) + " queues " + std::to_string(p.queues) +
                      (p.rss ? " rss" : "") + "\n");
        }
    });
}

void Daemon::print_ready() const {
    for (const Port &p : ports_)
        std::printf("edgeplane: %s (port %u, %s) answers at %s/%s\n", p.device.c_str(), p.id,
                    mac_to_string(p.addr.mac).c_str(), ipv4_to_string(p.addr.ip).c_str(),
                    prefix_len(p.addr.netmask).c_str());
    std::printf("edgeplane: %zu data lcore(s); admin socket %s; ready\n", lcores_.size(),
                cfg_.admin_socket.c_str());
    std::fflush(stdout);
}

void Daemon::run(const std::atomic<bool> &stop) {
    while (!stop.load(std::memory_order_relaxed)) admin_.poll(kControlTickMs);
}

int Daemon::shutdown() {
    int rc = 0;
    data_stop_.store(true);
    if (lcores_launched_) rte_eal_mp_wait_lcore();
    admin_.close();
    for (Port &p : ports_) port_close(p);
    if (pool_) {
        const unsigned avail = rte_mempool_avail_count(pool_);
        if (avail != pool_->size) {
            EP_LOG(ERR, "mbuf leak: %u of %u mbufs returned", avail, pool_->size);
            rc = 3;
        } else {
            std::printf("edgeplane: stopped; all %u mbufs returned\n", avail);
        }
        rte_mempool_free(pool_);
    }
    for (Lcore *lc : lcores_) {
        lc->~Lcore();
        rte_free(lc);
    }
    if (eal_up_) rte_eal_cleanup();
    std::fflush(stdout);
    return rc;
}

}  // namespace ep

// The edgeplane daemon's life cycle: EAL, memory, ports and data lcores up;
// the control loop (admin socket, later cache and cluster decisions) on the
// control lcore; an orderly shutdown that proves every mbuf came home.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "control/admin_socket.h"
#include "chunkstore/store.h"
#include "control/cache_control.h"
#include "control/config.h"
#include "control/service_table.h"
#include "control/stats.h"
#include "control/torrents.h"
#include "dataplane/fault_stage.h"
#include "dataplane/http/config.h"
#include "dataplane/lcore.h"
#include "dataplane/tcp_io.h"
#include "dataplane/tracker_service.h"
#include "dataplane/port.h"

namespace ep {

class Daemon {
public:
    explicit Daemon(Config cfg) : cfg_(std::move(cfg)) {}
    // Returns false with the reason logged; call shutdown() either way.
    bool start();
    // Runs the control loop until stop is set (by a signal handler); logs
    // and clears hup (SIGHUP) without stopping.
    void run(const std::atomic<bool> &stop, std::atomic<bool> &hup);
    // Stops the data lcores, closes ports, checks the mbuf pool. Returns the exit code.
    int shutdown();

    std::atomic<bool> &data_stop() { return data_stop_; }

private:
    bool open_store();
    bool start_tcp_services();
    void register_commands();
    void register_store_commands();
    void register_tcp_commands();
    void register_torrent_commands();
    bool start_torrents();
    std::vector<StatsSection> stats_sections() const;
    void print_ready() const;

    Config cfg_;
    bool eal_up_ = false;
    bool lcores_launched_ = false;
    rte_mempool *pool_ = nullptr;
    std::vector<Port> ports_;
    std::vector<Lcore *> lcores_;
    std::atomic<bool> data_stop_{false};
    AdminSocket admin_;
    std::unique_ptr<chunkstore::Store> store_;
    std::vector<std::unique_ptr<TcpIo>> tcp_;
    std::vector<std::unique_ptr<Service>> services_;  // see control/service_table.cc
    std::vector<std::unique_ptr<FaultStage>> faults_;
    std::vector<AccessLog *> access_logs_;  // rte_malloc'd, one per data lcore
    std::unique_ptr<CacheControl> cache_;
    http::HttpConfig http_cfg_;
    std::unique_ptr<TrackerShared> tracker_;  // before services_: they point at it
    std::unique_ptr<Torrents> torrents_;  // made at ingest unless --torrents false
};

}  // namespace ep

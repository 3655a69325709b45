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
#include "control/cluster_control.h"
#include "control/membership.h"
#include "control/origin_push.h"
#include "control/config.h"
#include "control/ingest_worker.h"
#include "control/store_gate.h"
#include "control/metrics.h"
#include "control/metrics_server.h"
#include "control/response_log_writer.h"
#include "control/sd_notify.h"
#include "control/service_table.h"
#include "control/stats.h"
#include "dataplane/fault_stage.h"
#include "dataplane/lcore.h"
#include "dataplane/tcp_io.h"
#include "dataplane/port.h"
#include "dataplane/steer_rings.h"

namespace ep {

class Daemon {
public:
    explicit Daemon(Config cfg) : cfg_(std::move(cfg)) {}
    // Returns false with the reason logged; call shutdown() either way.
    bool start();
    // Runs the control loop until stop is set (by a signal handler) or a
    // drain ends; hup (SIGHUP) reloads the config (reload()); term
    // (SIGTERM) starts a drain of --drain-deadline-s, a second one stops;
    // usr1 (SIGUSR1) reopens the access log.
    void run(const std::atomic<bool> &stop, std::atomic<bool> &hup, std::atomic<bool> &term,
             std::atomic<bool> &usr1);
    // Stops the data lcores, closes ports, checks the mbuf pool. Returns the exit code.
    int shutdown();

    std::atomic<bool> &data_stop() { return data_stop_; }

    // Control thread (the admin `ingest` command; a reload that ingests new
    // titles calls it the same way): stores PATH under PREFIX on the ingest
    // worker, off the control loop. on_line gets the progress lines, then
    // the summary ("stored N objects ...") and what the service rows'
    // on_ingest hooks wrote; on_done the outcome. Both run on the control
    // thread, from run()'s loop. Returns the job id.
    uint64_t ingest(std::string path, std::string prefix, IngestWorker::LineFn on_line,
                    IngestWorker::DoneFn on_done);

private:
    bool open_store();
    bool start_tcp_services();
    void register_commands();
    void register_store_commands();
    void register_tcp_commands();
    void register_push_commands();
    bool setup_services();
    std::vector<StatsSection> stats_sections() const;
    // Every counter and gauge with help, lcore and port (control/daemon_metrics.cc):
    // /metrics and telemetry.
    std::vector<Metric> metrics() const;
    // systemd's STATUS= line: what is served right now.
    std::string status_line() const;
    // `edgectl store` (control/store_report.cc).
    void write_store_report(Reply &out) const;
    void print_ready() const;
    // Stops accepting connections on every lcore; run() returns once the open
    // ones have closed or deadline_s has passed (control/daemon.cc).
    void begin_drain(unsigned deadline_s);
    uint64_t open_connections() const;
    void reset_open_connections();  // the drain's deadline
    // Stores a file or tree (admin `ingest`, --title): progress and the
    // result to out, then each row's on_ingest. False: it failed (said in out).
    bool ingest(const std::string &path, const std::string &prefix, Reply &out);
    // After remove/purge: every row's on_remove hook (torrents of those objects).
    void objects_removed(const std::vector<std::string> &names, Reply &out);
    // SIGHUP, `edgectl reload` (control/reload.cc): what changed in the
    // config, applied live; false with "error: ..." lines when rejected.
    bool reload(Reply &out);
    void run_reload(Reply &out, const char *why);
    // `edgectl top`'s input (control/daemon_metrics.cc).
    std::string top_snapshot() const;

    Config cfg_;
    bool eal_up_ = false;
    bool lcores_launched_ = false;
    rte_mempool *pool_ = nullptr;
    std::vector<rte_mbuf *> test_reserve_;  // --test-reserve-mbufs, freed at stop
    std::vector<Port> ports_;
    std::vector<Lcore *> lcores_;
    std::vector<tcp::PortSteer> steer_slices_;  // per lcore, with --origin and > 1 lcore
    std::atomic<bool> data_stop_{false};
    AdminSocket admin_;
    MetricsServer metrics_server_;
    SdNotify notify_;
    std::unique_ptr<chunkstore::Store> store_;
    std::vector<std::unique_ptr<TcpIo>> tcp_;
    std::vector<std::unique_ptr<Service>> services_;  // see control/service_table.cc
    std::vector<std::unique_ptr<FaultStage>> faults_;
    std::vector<AccessLog *> access_logs_;  // rte_malloc'd, one per data lcore
    std::vector<ResponseLog *> response_logs_;  // --access-log: rte_malloc'd, one per data lcore
    ResponseLogWriter access_writer_;
    std::unique_ptr<CacheControl> cache_;
    std::unique_ptr<ClusterControl> clusters_;  // --clusters: cluster selection
    std::unique_ptr<OriginPush> push_;          // --push-list: the off-peak push
    std::unique_ptr<Membership> membership_;    // --etcd: this appliance's lease, the others
    // What this appliance tells etcd of itself, refreshed every second
    // (titles every 5 s: a walk of the store's objects).
    void report_self(uint64_t now_ms);
    uint64_t next_self_ms_ = 0, next_titles_ms_ = 0, last_tx_bytes_ = 0, last_tx_ms_ = 0;
    double tx_gbps_ = 0;
    std::vector<std::string> self_titles_;
    uint64_t self_titles_more_ = 0;
    // The store's writer side: the control loop holds it for a tick's work,
    // the ingest worker between its yield points (control/store_gate.h).
    StoreGate gate_;
    std::unique_ptr<IngestWorker> ingest_;
    bool draining_ = false;
    uint64_t drain_deadline_ms_ = 0;
};

}  // namespace ep

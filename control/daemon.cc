#include "control/daemon.h"

#include <unistd.h>

#include <array>
#include <cstring>
#include <set>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_random.h>
#include <rte_cycles.h>
#include <ctime>
#include <unordered_set>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <new>

#include "cache/factory.h"
#include "chunkstore/ingest.h"
#include "control/log.h"
#include "control/origin_push.h"
#include "dataplane/http_server.h"
#include "control/port_stats.h"
#include "control/stats.h"
#include "control/tcp_gauges.h"
#include "control/telemetry.h"

namespace ep {

namespace {
// The control loop wakes at least this often; sooner when the admin socket
// has a client. Store work (promotions, reclamation) is polled every tick.
constexpr int kControlTickMs = 2;
// systemd's STATUS= line is refreshed this often.
constexpr uint64_t kStatusEveryMs = 5000;

uint64_t mono_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}
uint64_t mono_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1'000'000;
}

std::string prefix_len(uint32_t mask_be) { return std::to_string(__builtin_popcount(mask_be)); }

// --in-memory (see eal_arguments) leaves no hugepage files, but EAL still
// makes /var/run/dpdk/<prefix> and leaves it: remove ours once EAL is done.
void remove_runtime_dir(const std::string &dir) {
    std::error_code ec;
    if (dir.find("/dpdk/") != std::string::npos) std::filesystem::remove_all(dir, ec);
}
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
    block_async_io_signals();  // before EAL starts its threads, see port.h
    if (rte_eal_init(static_cast<int>(eal.size()), argv.data()) < 0) {
        std::fprintf(stderr, "edgeplane: EAL init failed: %s\n", rte_strerror(rte_errno));
        remove_runtime_dir(rte_eal_get_runtime_dir());
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
        // What the driver offers and what this port uses (issue 20): the
        // offload paths are chosen from these at start.
        EP_LOG(NOTICE, "port %s: driver %s mtu %u tx_offload_capa [%s] rx_offload_capa [%s]",
               po.device.c_str(), p.driver.c_str(), p.mtu,
               tx_offload_names(p.tx_offload_capa).c_str(),
               rx_offload_names(p.rx_offload_capa).c_str());
        EP_LOG(NOTICE, "port %s: tx offloads on [%s] rx offloads on [%s] tso %s", po.device.c_str(),
               tx_offload_names(p.tx_offload).c_str(), rx_offload_names(p.rx_offload).c_str(),
               (p.tx_offload & RTE_ETH_TX_OFFLOAD_TCP_TSO) ? "on" : "off");
        ports_.push_back(p);
    }
    // Every descriptor of every ring may hold an mbuf (RX rings are filled
    // at start; a NIC's TX ring keeps each until it is sent), each lcore's
    // mempool cache may hold 256 more, and each lcore works on bursts: a
    // smaller pool starves the RX rings and the port drops every frame
    // (rx_nombuf) before the data plane sees one.
    {
        uint64_t rings = 0;
        for (const Port &p : ports_) rings += uint64_t{p.queues} * (p.rx_desc + p.tx_desc);
        const uint64_t need = rings + uint64_t{nq} * (256 + 2 * kBurst) + 256;
        if (cfg_.mbufs < need) {
            EP_LOG(ERR,
                   "--mbufs %u is too small for these ports: their RX and TX rings hold up to %llu "
                   "mbufs and each of the %u data lcores caches up to 256 and works on bursts of %u; "
                   "give --mbufs %llu or more",
                   cfg_.mbufs, static_cast<unsigned long long>(rings), nq, kBurst,
                   static_cast<unsigned long long>(need));
            return false;
        }
    }

    if (!open_store()) return false;

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
        lc->idle.enabled = cfg_.idle_backoff;
        lc->idle.sleep_after = cfg_.idle_sleep_after;
        lc->idle.sleep_max_us = cfg_.idle_sleep_max_us;
        if (lc->idle.sleep_min_us > lc->idle.sleep_max_us) lc->idle.sleep_min_us = lc->idle.sleep_max_us;
        lc->store = store_.get();
        lc->reader_id = k;
        if (!store_->register_reader(k)) {
            EP_LOG(ERR, "chunk store: cannot register reader %u", k);
            return false;
        }
        for (Port &p : ports_) lc->queues[lc->nqueues++].port = &p, lc->queues[lc->nqueues - 1].queue = static_cast<uint16_t>(k);
        lcores_.push_back(lc);
    }

    // Origin connections are active opens: their answers must reach the
    // lcore that connected, whatever queue the port picks (docs/origin.md).
    if (!cfg_.origins.empty()) {
        std::string err;
        if (!steer_setup(lcores_, tcp::PortSteer{}, &steer_slices_, &err)) {
            EP_LOG(ERR, "%s", err.c_str());
            return false;
        }
    }
    if (!setup_services()) return false;
    if (!start_tcp_services()) return false;
    if (!cfg_.push_list.empty()) {
        // Off-peak push (control/origin_push.h): every data lcore's fill client.
        std::vector<OriginFill *> fills;
        for (const auto &svc : services_)
            if (svc->name() == "http") fills.push_back(&static_cast<HttpServer &>(*svc).origin_fill());
        push_ = std::make_unique<OriginPush>();
        std::string err;
        if (!push_->init(cfg_, store_.get(), std::move(fills), &err)) {
            EP_LOG(ERR, "%s", err.c_str());
            return false;
        }
    }
    if (!cfg_.access_log.empty()) {
        std::string err;
        if (!access_writer_.open(cfg_.access_log,
                                 cfg_.access_log_format == "json" ? AccessLogFormat::kJson
                                                                  : AccessLogFormat::kCombined,
                                 &err)) {
            EP_LOG(ERR, "%s", err.c_str());
            return false;
        }
    }
    // Made here, on the control thread after EAL init: it inherits the
    // control lcore's CPU set, never a data core's.
    ingest_ = std::make_unique<IngestWorker>(*store_, gate_);
    ingest_->set_test_hold(cfg_.test_ingest_hold);
    ingest_->start();

    std::string err;
    if (!admin_.open(cfg_.admin_socket, &err)) {
        EP_LOG(ERR, "%s", err.c_str());
        return false;
    }
    register_commands();
    register_store_commands();
    register_tcp_commands();
    register_push_commands();
    for (const std::string &t : cfg_.titles) {
        std::string name, dir, log;
        split_title(t, &name, &dir);
        Reply collect = Reply::collector(&log);
        const bool good = ingest(dir, name, collect);
        const std::size_t last = log.rfind("stored ");
        EP_LOG(NOTICE, "title %s: %s", t.c_str(),
               last == std::string::npos ? "nothing stored" : log.substr(last).c_str());
        if (!good) {
            EP_LOG(ERR, "title %s: %s", t.c_str(), log.substr(log.rfind("error: ")).c_str());
            return false;
        }
    }
    if (!cfg_.clusters.empty()) {
        clusters_ = std::make_unique<ClusterControl>();
        if (!clusters_->start(cfg_.clusters, cfg_.cluster_policy, &err)) {
            EP_LOG(ERR, "clusters: %s", err.c_str());
            return false;
        }
        clusters_->set_self(cfg_.cluster_self);
        clusters_->register_commands(admin_);
        if (!cfg_.etcd.empty()) {
            if (clusters_->engine().cluster_index(cfg_.appliance_cluster) < 0)
                EP_LOG(WARNING,
                       "etcd: --appliance-cluster %s is not a cluster of %s: registered, but "
                       "steering nothing to us",
                       cfg_.appliance_cluster.c_str(), cfg_.clusters.c_str());
            MembershipConfig mc;
            mc.endpoints = cfg_.etcd;
            mc.prefix = cfg_.etcd_prefix;
            mc.cluster = cfg_.appliance_cluster;
            mc.name = cfg_.appliance_name;
            if (mc.name.empty()) {
                char host[256] = {};
                gethostname(host, sizeof host - 1);
                mc.name = host;
            }
            mc.ttl_s = cfg_.etcd_lease_ttl_s;
            mc.poll_ms = cfg_.etcd_poll_ms;
            membership_ = std::make_unique<Membership>();
            if (!membership_->start(mc, &err)) {
                EP_LOG(ERR, "etcd: %s", err.c_str());
                return false;
            }
            report_self(mono_ms());
            clusters_->set_membership(membership_.get());
        }
        clusters_->poll(mono_ms());  // the first map before READY=1
    }
    if (!cfg_.metrics_listen.empty()) {
        if (!metrics_server_.open(cfg_.metrics_listen, [this] { return prometheus_text(metrics()); },
                                  &err)) {
            EP_LOG(ERR, "%s", err.c_str());
            return false;
        }
    }
    telemetry_open();

    // Passive measurement (issue 16): every client connection's RTT and
    // retransmissions to cluster selection, over its lcore's ring; attached
    // before the lcores run (the TCP stacks exist long before --clusters is
    // loaded above).
    if (clusters_)
        for (Lcore *lc : lcores_)
            for (uint16_t i = 0; i < lc->nqueues; ++i)
                if (lc->queues[i].tcp)
                    if (RttRing *r = clusters_->rtt_ring(static_cast<uint8_t>(lc->lcore_id),
                                                         &lc->counters.rtt_records_sent,
                                                         &lc->counters.rtt_ring_full))
                        r->attach(lc->queues[i].tcp->stack());
    // After the ports filled their RX rings, before the lcores run: what
    // is left is the spare pool the data plane works with.
    if (cfg_.test_reserve_mbufs) {
        test_reserve_.resize(cfg_.test_reserve_mbufs);
        if (rte_pktmbuf_alloc_bulk(pool_, test_reserve_.data(), cfg_.test_reserve_mbufs) != 0) {
            EP_LOG(ERR, "--test-reserve-mbufs %u: only %u mbufs are free", cfg_.test_reserve_mbufs,
                   rte_mempool_avail_count(pool_));
            test_reserve_.clear();
            return false;
        }
        EP_LOG(NOTICE, "test reserve: holding %u mbufs, %u left free in the pool",
               cfg_.test_reserve_mbufs, rte_mempool_avail_count(pool_));
    }
    for (Lcore *lc : lcores_) rte_eal_remote_launch(lcore_main, lc, lc->lcore_id);
    lcores_launched_ = true;
    print_ready();
    notify_.init();
    notify_.send("READY=1\nSTATUS=" + status_line());
    return true;
}

bool Daemon::start_tcp_services() {
    const uint64_t tsc_start = rte_rdtsc();
    timespec wall{};
    clock_gettime(CLOCK_REALTIME, &wall);
    const uint64_t hz = rte_get_tsc_hz();
    FaultSpec fault;
    std::string ferr;
    if (!cfg_.fault.empty()) parse_fault_spec(cfg_.fault, &fault, &ferr);  // validated by parse_config
    try {
        CacheControlConfig cc{cfg_.cache_policy, cfg_.cache_high_pct, cfg_.cache_low_pct};
        cache_ = std::make_unique<CacheControl>(*store_, cc);
        // Between the chunks of a long put_object on the ingest worker: hand
        // the store to the control loop if it waits (promotions, eviction,
        // RCU reclamation, admin commands). On the control thread itself (a
        // .torrent written after an ingest) there is nothing to hand over.
        store_->set_background_work([this] {
            if (!IngestWorker::on_worker_thread()) return;
            gate_.yield_worker();
            ingest_->test_hold_point();
        });
    } catch (const std::exception &e) {
        EP_LOG(ERR, "cache: %s", e.what());
        return false;
    }
    for (size_t k = 0; k < lcores_.size(); ++k) {
        Lcore *lc = lcores_[k];
        void *mem = rte_zmalloc_socket("access_log", AccessLog::memsize(cfg_.access_ring_size), 64,
                                       static_cast<int>(rte_lcore_to_socket_id(lc->lcore_id)));
        auto *log = mem ? new (rte_zmalloc("access_log_obj", sizeof(AccessLog), 64)) AccessLog() : nullptr;
        if (!log || !log->init(mem, cfg_.access_ring_size, &lc->counters.access_ring_drops)) {
            EP_LOG(ERR, "access ring for lcore %u: out of memory", lc->lcore_id);
            return false;
        }
        access_logs_.push_back(log);
        cache_->add_log(log);
        ResponseLog *rlog = nullptr;
        if (!cfg_.access_log.empty()) {
            void *rmem =
                rte_zmalloc_socket("response_log", ResponseLog::memsize(cfg_.access_log_ring), 64,
                                   static_cast<int>(rte_lcore_to_socket_id(lc->lcore_id)));
            rlog = rmem ? new (rte_zmalloc("response_log_obj", sizeof(ResponseLog), 64)) ResponseLog()
                        : nullptr;
            if (!rlog || !rlog->init(rmem, cfg_.access_log_ring, cfg_.access_log_sample,
                                     static_cast<uint8_t>(lc->lcore_id),
                                     &lc->counters.response_log_drops)) {
                EP_LOG(ERR, "access-log ring for lcore %u: out of memory", lc->lcore_id);
                return false;
            }
            response_logs_.push_back(rlog);
            access_writer_.add_ring(rlog);
            access_writer_.set_sample(cfg_.access_log_sample);
        }
        lc->tsc_start = tsc_start;
        lc->ns_per_tsc_q32 = static_cast<uint64_t>((static_cast<unsigned __int128>(1'000'000'000) << 32) / hz);
        lc->unix_start_ns = wall.tv_sec * 1'000'000'000LL + wall.tv_nsec;
        lc->icmp_errors.configure(cfg_.icmp_error_rate);
        for (uint16_t i = 0; i < lc->nqueues; ++i) {
            LcoreQueue &q = lc->queues[i];
            net::ArpTable::Aging aging;
            aging.reachable = static_cast<uint64_t>(cfg_.arp_reachable_s * 1e9);
            q.arp.set_aging(aging);
            // Every queue gets a stage, idle (one load per iteration) unless
            // --fault is set: a reload can then switch faults on and off.
            {
                auto f = std::make_unique<FaultStage>();
                f->init(fault, uint64_t{lc->lcore_id} * kMaxPorts + i);
                q.fault = f.get();
                faults_.push_back(std::move(f));
                if (fault.enabled())
                    EP_LOG(WARNING, "fault injection on lcore %u port %s: %s", lc->lcore_id,
                           q.port->device.c_str(), cfg_.fault.c_str());
            }
            tcp::StackConfig sc;
            sc.max_connections = cfg_.tcp_max_conns;
            sc.rcv_buf_bytes = cfg_.tcp_rcvbuf_kb * 1024;
            sc.mss = static_cast<uint16_t>(q.port->mtu - 40);
            sc.cc = cfg_.tcp_cc == "newreno" ? tcp::CcAlgo::kNewReno : tcp::CcAlgo::kCubic;
            sc.rto_min_ns = uint64_t{cfg_.tcp_rto_min_ms} * 1'000'000;
            // On a LAN-scale RTT (tens of microseconds) a 1 ms tick makes every
            // RACK reorder timer and tail-loss probe dozens of RTTs long.
            sc.tick_ns = uint64_t{cfg_.tcp_tick_us} * 1000;
            sc.tlp_min_ns = 2 * sc.tick_ns;
            sc.wheel_slots = 16384;  // 0.33 s of 20 us ticks per turn; longer timers go round
            sc.secret = rte_rand();  // ISNs (RFC 6528) and SYN cookies (RFC 4987)
            sc.seed = rte_rand();
            sc.syn_backlog = cfg_.tcp_syn_backlog;
            if (k < steer_slices_.size()) {  // this lcore connects from its own slice only
                sc.ephemeral_lo = steer_slices_[k].lo;
                sc.ephemeral_hi = steer_slices_[k].hi;
            }
            // TSO (TcpIo turns it off when the port did not take it): an IPv4
            // datagram holds 65535 bytes, headers included.
            sc.tso_max_bytes = 65535 - 20 - 60;
            // The fault stage drops, duplicates and corrupts frames: a
            // super-segment would take up to 45 MSS with it, so the loss
            // model of --fault (per segment) would no longer hold.
            if (q.fault && q.fault->tx_enabled()) sc.tso_max_bytes = 0;
            auto io = std::make_unique<TcpIo>();
            if (!io->init(lc, &q, sc, q.port->tx_offload, 0)) {
                EP_LOG(ERR, "TCP stack for lcore %u: out of memory (lower --tcp-max-conns)", lc->lcore_id);
                return false;
            }
            q.tcp = io.get();
            const ServiceEnv env{cfg_, lc, &q, &io->stack(), store_.get(), access_logs_.back(), rlog};
            for (const ServiceRow &row : service_table()) {
                std::string err;
                std::unique_ptr<Service> svc = row.make(env, &err);
                if (!svc && !err.empty()) {
                    EP_LOG(ERR, "%s for lcore %u: %s", row.section, lc->lcore_id, err.c_str());
                    return false;
                }
                if (!svc) continue;
                if (q.nservices == kMaxServices) {
                    EP_LOG(ERR, "lcore %u: more than %u services", lc->lcore_id,
                           unsigned{kMaxServices});
                    return false;
                }
                q.services[q.nservices++] = svc.get();
                services_.push_back(std::move(svc));
            }
            tcp_.push_back(std::move(io));
        }
    }
    return true;
}

// Each row's shared state, before any queue's service that uses it.
bool Daemon::setup_services() {
    uint32_t queues = 0;
    for (const Lcore *lc : lcores_) queues += lc->nqueues;
    const ServiceSetup su{cfg_, store_.get(), static_cast<uint32_t>(lcores_.size()), queues,
                          ports_.empty() ? 0u : ports_[0].addr.ip};
    for (const ServiceRow &row : service_table()) {
        std::string err;
        if (row.setup && !row.setup(su, &err)) {
            EP_LOG(ERR, "%s: %s", row.section, err.c_str());
            return false;
        }
    }
    return true;
}

bool Daemon::open_store() {
    chunkstore::Config sc;
    sc.path = cfg_.store_path;
    sc.ram_capacity_bytes = uint64_t{cfg_.ram_mb} << 20;
    sc.disk_capacity_bytes = uint64_t{cfg_.disk_mb} << 20;
    sc.max_readers = static_cast<uint32_t>(cfg_.data_lcores.size());
    sc.max_objects = cfg_.max_objects;
    sc.name = "ep_store";
    std::string err;
    chunkstore::OpenReport rep;
    store_ = chunkstore::Store::open(sc, &err, &rep);
    if (!store_) {
        EP_LOG(ERR, "chunk store: %s", err.c_str());
        return false;
    }
    if (!sc.path.empty())
        std::printf("edgeplane: store %s: %llu objects, %llu chunks verified, %llu bad records dropped%s\n",
                    sc.path.c_str(), static_cast<unsigned long long>(rep.objects),
                    static_cast<unsigned long long>(rep.records_ok),
                    static_cast<unsigned long long>(rep.records_bad),
                    store_->disk_direct() ? "" : " (buffered I/O: O_DIRECT unsupported here)");
    return true;
}

std::vector<StatsSection> Daemon::stats_sections() const {
    std::vector<StatsSection> out;
    {
        // What the ports' drivers count, summed by position, and the pool.
        StatsSection sec{"port", {}};
        for (const Port &p : ports_) {
            std::size_t k = 0;
            visit_port_counters(p, [&](const CounterRef &c) {
                if (k == sec.values.size())
                    sec.values.push_back({std::string(c.name), 0, std::string(c.help), c.gauge});
                sec.values[k++].value += c.value;
            });
        }
        visit_pool_gauges(pool_, cfg_.mbufs, [&](const CounterRef &c) {
            sec.values.push_back({std::string(c.name), c.value, std::string(c.help), c.gauge});
        });
        out.push_back(std::move(sec));
    }
    if (!tcp_.empty()) {
        // Every stack lists the same counters in the same order: sum by position.
        StatsSection sec{"tcp", {}};
        for (const auto &io : tcp_) {
            std::size_t k = 0;
            io->stack().counters().for_each([&](const char *name, const char *help, uint64_t v) {
                if (k == sec.values.size()) sec.values.push_back({name, 0, help});
                sec.values[k++].value += v;
            });
        }
        const std::size_t first_gauge = sec.values.size();
        for (const auto &io : tcp_) {
            std::size_t k = first_gauge;
            visit_tcp_gauges(io->stack(), [&](const CounterRef &c) {
                if (k == sec.values.size())
                    sec.values.push_back({std::string(c.name), 0, std::string(c.help), true});
                sec.values[k++].value += c.value;
            });
        }
        out.push_back(std::move(sec));
    }
    // Each service's instances (one per queue) visit the same names in the
    // same order: one section per service, summed by position.
    for (const ServiceRow &row : service_table()) {
        StatsSection sec{row.section, {}};
        bool any = false;
        for (const auto &svc : services_) {
            if (svc->name() != row.section) continue;
            any = true;
            std::size_t k = 0;
            svc->visit_counters([&](const CounterRef &c) {
                if (k == sec.values.size())
                    sec.values.push_back({std::string(c.name), 0, std::string(c.help), c.gauge});
                sec.values[k++].value += c.value;
            });
        }
        if (any) out.push_back(std::move(sec));
    }
    if (cache_) out.push_back(cache_->stats());
    if (clusters_) {
        StatsSection sec{"clusters", {}};
        clusters_->visit_counters([&sec](const CounterRef &c) {
            sec.values.push_back({std::string(c.name), c.value, std::string(c.help), c.gauge});
        });
        out.push_back(std::move(sec));
    }
    if (access_writer_.is_open()) out.push_back(access_writer_.stats());
    if (!store_) return out;
    const chunkstore::Counters c = store_->counters();
    const chunkstore::Usage u = store_->usage();
    out.push_back({"chunkstore",
                   {{"objects", u.objects},
                    {"ram_capacity_bytes", u.ram_capacity_bytes},
                    {"ram_bytes_used", u.ram_bytes_used},
                    {"ram_resident_chunks", u.ram_resident_chunks},
                    {"ram_pinned_chunks", u.ram_pinned_chunks},
                    {"disk_capacity_bytes", u.disk_capacity_bytes},
                    {"disk_bytes_used", u.disk_bytes_used},
                    {"disk_chunks", u.disk_chunks}}});
    c.for_each([&](const char *name, const char *help, uint64_t v) {
        out.back().values.push_back({name, v, help});
    });
    return out;
}

void Daemon::register_commands() {
    admin_.add_command(
        "stats",
        "per-lcore counters; 'stats json' for tools; 'stats help' for what each counts; "
        "'stats SECTION' for one",
        [this](const std::vector<std::string> &args, Reply &out) {
            std::vector<LcoreStatsSource> src;
            for (const Lcore *lc : lcores_) src.push_back({lc->lcore_id, &lc->counters});
            // stats [json|help] [SECTION]
            bool json = false, help = false;
            std::string only, err;
            for (std::size_t i = 1; i < args.size(); ++i) {
                if (args[i] == "json")
                    json = true;
                else if (args[i] == "help")
                    help = true;
                else
                    only = args[i];
            }
            const auto sections = stats_sections();
            const std::string text = help   ? format_stats_help(src, sections, only, &err)
                                     : json ? format_stats_json(src, sections, only, &err)
                                            : format_stats_text(src, sections, only, &err);
            out.write(err.empty() ? text : "error: " + err + "\n");
        });
    admin_.add_command(
        "drain", "drain [SECONDS]: stop accepting connections, exit when the open ones finish",
        [this](const std::vector<std::string> &args, Reply &out) {
            unsigned s = 30;
            if (args.size() > 2 || (args.size() == 2 && (args[1].empty() || args[1].size() > 6 ||
                                                         args[1].find_first_not_of("0123456789") !=
                                                             std::string::npos)))
                return out.write("error: usage: drain [SECONDS]\n");
            if (args.size() == 2) s = static_cast<unsigned>(std::stoul(args[1]));
            begin_drain(s);
            out.write("draining: no new connections; " + std::to_string(open_connections()) +
                      " open; edgeplane exits when they finish or after " + std::to_string(s) +
                      " s\n");
        });
    admin_.add_command(
        "top", "every metric as 'SECTION NAME LCORE VALUE' (ports summed), then 'title NAME BYTES'",
        [this](auto &, Reply &out) { out.write(top_snapshot()); });
    admin_.add_command("reload",
                       "read the config again and apply what needs no restart (as SIGHUP does)",
                       [this](auto &, Reply &out) { run_reload(out, "edgectl reload"); });
    admin_.add_command("ports", "ports, addresses and queues", [this](auto &, Reply &out) {
        for (const Port &p : ports_) {
            out.write(p.device + " port " + std::to_string(p.id) + " mac " + mac_to_string(p.addr.mac) +
                      " ip " + ipv4_to_string(p.addr.ip) + "/" + prefix_len(p.addr.netmask) +
                      " mtu " + std::to_string(p.mtu) + " queues " + std::to_string(p.queues) +
                      (p.rss ? " rss" : "") + "\n");
        }
    });
}

void Daemon::register_tcp_commands() {
    for (const ServiceRow &row : service_table())
        if (row.commands) row.commands(admin_, cfg_, services_);
}

void Daemon::register_store_commands() {
    admin_.add_command(
        "ingest", "ingest PATH [PREFIX]: store a file or directory tree as objects",
        [this](const std::vector<std::string> &args, Reply &out) {
            if (args.size() < 2 || args.size() > 3) {
                out.write("error: usage: ingest PATH [PREFIX]\n");
                return;
            }
            // The work runs on the ingest worker; this client stays
            // connected and gets the progress as it comes (Reply::hold).
            std::shared_ptr<LateReply> late = out.hold();
            ingest(args[1], args.size() == 3 ? args[2] : "",
                   [late](const std::string &line) { late->write(line); },
                   [late](const IngestOutcome &o) {
                       if (!o.status.ok()) late->write("error: " + o.status.msg + "\n");
                       late->close();
                   });
        });
    admin_.add_command("objects", "list stored objects: size, chunks, name", [this](auto &, Reply &out) {
        store_->for_each_object([&out](const chunkstore::ObjectMeta &m) {
            // Names run to kMaxName bytes: the line is built whole, never cut.
            char head[40];
            std::snprintf(head, sizeof head, "%12llu %6u ", static_cast<unsigned long long>(m.size),
                          m.chunk_count);
            out.write(std::string(head).append(m.name_view()).append("\n"));
        });
    });
    admin_.add_command(
        "store",
        "the tiers' use against capacity, disk eviction of filled content, and per object the "
        "chunks on disk and in RAM",
        [this](auto &, Reply &out) { write_store_report(out); });
    admin_.add_command("remove", "remove NAME: drop an object from both tiers",
                       [this](const std::vector<std::string> &args, Reply &out) {
                           if (args.size() != 2) return out.write("error: usage: remove NAME\n");
                           chunkstore::Status st = store_->remove_object(args[1]);
                           out.write(st.ok() ? "removed\n" : "error: " + st.msg + "\n");
                           if (st.ok()) objects_removed({args[1]}, out);
                       });
    // Purge (issue 14): by request path, '/' optional; "PREFIX*" or
    // "PREFIX/" takes every object under it. Responses in flight of a purged
    // object are reset (object_gone_aborts), as after remove.
    admin_.add_command(
        "purge", "purge PATH | PREFIX* | PREFIX/: drop objects so the next request refills them",
        [this](const std::vector<std::string> &args, Reply &out) {
            if (args.size() != 2) return out.write("error: usage: purge PATH|PREFIX*|PREFIX/\n");
            std::string what = args[1];
            if (!what.empty() && what[0] == '/') what.erase(0, 1);
            const bool prefix = !what.empty() && (what.back() == '*' || what.back() == '/');
            if (!what.empty() && what.back() == '*') what.pop_back();
            std::vector<std::string> names;
            if (prefix) {
                store_->for_each_object([&](const chunkstore::ObjectMeta &m) {
                    if (m.name_view().substr(0, what.size()) == what)
                        names.emplace_back(m.name_view());
                });
            } else {
                names.push_back(what);
            }
            std::vector<std::string> gone;
            for (const std::string &nm : names)
                if (store_->remove_object(nm).ok()) gone.push_back(nm);
            if (!prefix && gone.empty()) return out.write("error: no such object: " + what + "\n");
            out.write("purged " + std::to_string(gone.size()) + " objects\n");
            objects_removed(gone, out);
        });
}

void Daemon::register_push_commands() {
    // Off-peak push (docs/origin.md "Off-peak push"): progress, skips and why.
    admin_.add_command(
        "fill",
        "fill [now HH:MM[:SS] | again]: the off-peak push: window, cap, every listed title "
        "(pushed, or skipped and why); 'now' sets the window's clock (tests), 'again' "
        "reads the list anew",
        [this](const std::vector<std::string> &args, Reply &out) {
            const int64_t now = static_cast<int64_t>(std::time(nullptr));
            if (!push_) return out.write("push: off (no --push-list)\n");
            if (args.size() == 3 && args[1] == "now") {
                unsigned h = 0, m = 0, sec = 0;
                char extra;
                const int n = std::sscanf(args[2].c_str(), "%u:%u:%u%c", &h, &m, &sec, &extra);
                if ((n != 2 && n != 3) || h > 23 || m > 59 || sec > 59)
                    return out.write("error: usage: fill now HH:MM[:SS]\n");
                // The offset that makes the local clock read HH:MM:SS now.
                const time_t t = static_cast<time_t>(now);
                struct tm tm;
                localtime_r(&t, &tm);
                const int64_t cur = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
                push_->set_clock_offset(int64_t{h} * 3600 + m * 60 + sec - cur);
            } else if (args.size() == 2 && args[1] == "again") {
                push_->restart_round();
            } else if (args.size() != 1) {
                return out.write("error: usage: fill [now HH:MM[:SS] | again]\n");
            }
            if (args.size() > 1) push_->poll(mono_ns(), now);  // the new clock, seen at once
            push_->report(out, now);
        });
}

void Daemon::objects_removed(const std::vector<std::string> &names, Reply &out) {
    if (names.empty()) return;
    for (const ServiceRow &row : service_table())
        if (row.on_remove) row.on_remove(cfg_, names, out);
}

bool Daemon::ingest(const std::string &path, const std::string &prefix, Reply &out) {
    chunkstore::IngestReport rep;
    // Re-ingesting a name replaces the object (put_object does): say
    // so, so that a wrong --name cannot overwrite content unnoticed.
    std::unordered_set<std::string> existing;
    store_->for_each_object(
        [&](const chunkstore::ObjectMeta &m) { existing.emplace(m.name, m.name_len); });
    uint64_t replaced = 0;
    std::vector<std::string> stored;  // for the services that derive content from it
    // Progress every object: edgectl shows it as it comes.
    auto progress = [&](const chunkstore::IngestProgress &p) {
        stored.emplace_back(p.name);
        if (existing.erase(std::string(p.name))) {
            ++replaced;
            out.write("replaced " + std::string(p.name) + "\n");
        }
        char line[512];
        std::snprintf(line, sizeof line, "progress %llu/%llu objects %llu/%llu bytes %.*s\n",
                      static_cast<unsigned long long>(p.objects_done),
                      static_cast<unsigned long long>(p.objects_total),
                      static_cast<unsigned long long>(p.bytes_done),
                      static_cast<unsigned long long>(p.bytes_total),
                      static_cast<int>(p.name.size()), p.name.data());
        out.write(line);
    };
    chunkstore::Status st = chunkstore::ingest_path(*store_, path, prefix, progress, &rep);
    for (const std::string &f : rep.failed) out.write("failed " + f + "\n");
    char line[256], note[48] = "";
    if (replaced)
        std::snprintf(note, sizeof note, " (%llu replaced)", static_cast<unsigned long long>(replaced));
    std::snprintf(
        line, sizeof line, "stored %llu objects%s, %llu chunks, %llu bytes in %.2f s\n",
        static_cast<unsigned long long>(rep.objects), note,
        static_cast<unsigned long long>(rep.chunks),
        static_cast<unsigned long long>(rep.bytes), rep.seconds);
    out.write(line);
    const IngestEvent ev{path, prefix, stored};
    for (const ServiceRow &row : service_table())
        if (row.on_ingest) row.on_ingest(cfg_, ev, out);
    if (!st.ok()) out.write("error: " + st.msg + "\n");
    return st.ok();
}

uint64_t Daemon::ingest(std::string path, std::string prefix, IngestWorker::LineFn on_line,
                        IngestWorker::DoneFn on_done) {
    auto done = [this, on_line, on_done](const IngestOutcome &o) {
        const chunkstore::IngestReport &rep = o.report;
        char line[256], note[48] = "";
        if (o.replaced)
            std::snprintf(note, sizeof note, " (%llu replaced)",
                          static_cast<unsigned long long>(o.replaced));
        std::snprintf(line, sizeof line,
                      "stored %llu objects%s, %llu chunks, %llu bytes in %.2f s\n",
                      static_cast<unsigned long long>(rep.objects), note,
                      static_cast<unsigned long long>(rep.chunks),
                      static_cast<unsigned long long>(rep.bytes), rep.seconds);
        std::string text = line;
        // The services that derive content from what was stored (the
        // tracker's .torrent files): on this thread, holding the gate.
        Reply hooks(-1, &text, AdminSocket::kMaxReply);
        const IngestEvent ev{o.path, o.prefix, o.stored};
        for (const ServiceRow &row : service_table())
            if (row.on_ingest) row.on_ingest(cfg_, ev, hooks);
        if (on_line) on_line(text);
        if (on_done) on_done(o);
    };
    return ingest_->submit(std::move(path), std::move(prefix), std::move(on_line), done);
}

void Daemon::print_ready() const {
    for (const Port &p : ports_)
        std::printf("edgeplane: %s (port %u, %s) answers at %s/%s\n", p.device.c_str(), p.id,
                    mac_to_string(p.addr.mac).c_str(), ipv4_to_string(p.addr.ip).c_str(),
                    prefix_len(p.addr.netmask).c_str());
    // One line with what an operator checks first (docs/operations.md).
    std::string ports;
    for (const Port &p : ports_)
        ports += (ports.empty() ? "" : ", ") + p.device + " " + ipv4_to_string(p.addr.ip) + "/" +
                 prefix_len(p.addr.netmask);
    const chunkstore::Usage u = store_->usage();
    const std::string disk =
        cfg_.store_path.empty()
            ? "none (RAM only: content is gone after a restart)"
            : std::to_string(u.disk_capacity_bytes >> 20) + " MiB in " + cfg_.store_path;
    const std::string policy = cfg_.cache_policy == "default"
                                   ? "default (" + std::string(cache::default_policy_name()) + ")"
                                   : cfg_.cache_policy;
    const std::string memory = rte_eal_has_hugepages()
                                   ? "hugepages"
                                   : "--no-huge (" + std::to_string(cfg_.memory_mb) + " MiB)";
    std::printf(
        "edgeplane: summary: ports %s; http port %s; cache %s high %u%% low %u%%; ram tier "
        "%llu MiB; disk tier %s; memory %s\n",
        ports.c_str(), cfg_.http_port ? std::to_string(cfg_.http_port).c_str() : "off",
        policy.c_str(), cfg_.cache_high_pct, cfg_.cache_low_pct,
        static_cast<unsigned long long>(u.ram_capacity_bytes >> 20), disk.c_str(), memory.c_str());
    if (metrics_server_.is_open()) {
        const std::string addr = cfg_.metrics_listen.substr(0, cfg_.metrics_listen.rfind(':'));
        std::printf("edgeplane: metrics at http://%s:%u/metrics\n", addr.c_str(),
                    metrics_server_.port());
    }
    std::printf("edgeplane: telemetry: dpdk-telemetry.py -f %s (socket %s/dpdk_telemetry.v2), "
                "/edgeplane/stats\n",
                cfg_.file_prefix.c_str(), rte_eal_get_runtime_dir());
    std::printf("edgeplane: %zu data lcore(s); admin socket %s; ready\n", lcores_.size(),
                cfg_.admin_socket.c_str());
    std::fflush(stdout);
}

void Daemon::report_self(uint64_t now_ms) {
    if (now_ms < next_self_ms_) return;
    next_self_ms_ = now_ms + 1000;
    uint64_t tx = 0;
    for (const Lcore *lc : lcores_) tx += __atomic_load_n(&lc->counters.tx_bytes, __ATOMIC_RELAXED);
    if (last_tx_ms_ && now_ms > last_tx_ms_)
        tx_gbps_ = 8.0 * static_cast<double>(tx - last_tx_bytes_) /
                   (static_cast<double>(now_ms - last_tx_ms_) * 1e6);
    last_tx_bytes_ = tx;
    last_tx_ms_ = now_ms;
    if (now_ms >= next_titles_ms_) {
        // A title is the first path component of an object's name (what
        // --title NAME=DIR stores under NAME/).
        next_titles_ms_ = now_ms + 5000;
        std::set<std::string> titles;
        store_->for_each_object([&](const chunkstore::ObjectMeta &m) {
            const std::string_view name(m.name, m.name_len);
            titles.insert(std::string(name.substr(0, name.find('/'))));
        });
        self_titles_.clear();
        self_titles_more_ = 0;
        for (const std::string &t : titles)
            if (self_titles_.size() < cluster::kMaxTitles)
                self_titles_.push_back(t);
            else
                ++self_titles_more_;
    }
    cluster::Member self;
    self.name = membership_->config().name;
    self.cluster = membership_->config().cluster;
    for (const std::string &ip : cfg_.ips) {
        uint32_t be = 0, mask = 0;
        if (!parse_ipv4_prefix(ip, &be, &mask)) continue;
        std::array<uint8_t, 4> a;
        std::memcpy(a.data(), &be, 4);
        self.v4.push_back(a);
    }
    self.health = draining_ ? cluster::Health::kDraining : cluster::Health::kUp;
    self.conns = open_connections();
    // Rounded so that a rate that jitters does not rewrite the key every second.
    self.tx_gbps = static_cast<double>(static_cast<int64_t>(tx_gbps_ * 100 + 0.5)) / 100;
    self.titles = self_titles_;
    self.titles_more = self_titles_more_;
    if (clusters_) self.measured = clusters_->shared_measurements();
    membership_->set_self(self);
}

uint64_t Daemon::open_connections() const {
    uint64_t n = 0;
    for (const auto &io : tcp_) n += io->stack().connections();
    return n;
}

// Each lcore RSTs its connections and says when the segments are sent; the
// wait is bounded (an lcore that never answers does not hold the exit).
void Daemon::reset_open_connections() {
    for (Lcore *lc : lcores_) lc->reset.store(true, std::memory_order_release);
    const uint64_t until = mono_ms() + 500;
    for (Lcore *lc : lcores_)
        while (!lc->reset_done.load(std::memory_order_acquire) && mono_ms() < until)
            rte_pause();
    uint64_t n = 0;
    for (const Lcore *lc : lcores_) n += __atomic_load_n(&lc->counters.drain_resets, __ATOMIC_RELAXED);
    EP_LOG(NOTICE, "drain: %llu connections reset", static_cast<unsigned long long>(n));
}

void Daemon::begin_drain(unsigned deadline_s) {
    const uint64_t deadline = mono_ms() + uint64_t{deadline_s} * 1000;
    if (draining_) {  // a second drain may only bring the end nearer
        drain_deadline_ms_ = std::min(drain_deadline_ms_, deadline);
        return;
    }
    draining_ = true;
    drain_deadline_ms_ = deadline;
    // Out of etcd now, so the other appliances steer new clients away while
    // the open connections finish here.
    if (membership_) membership_->leave();
    for (Lcore *lc : lcores_) {
        lc->ndrain_ports = 0;
        for (const ServiceRow &row : service_table())
            if (row.tcp_port && row.tcp_port(cfg_) != 0 && lc->ndrain_ports < kMaxServices)
                lc->drain_ports[lc->ndrain_ports++] = row.tcp_port(cfg_);
        lc->drain.store(true, std::memory_order_release);  // the ports are published with it
    }
    EP_LOG(NOTICE, "drain: no new connections; %llu open get up to %u s to finish",
           static_cast<unsigned long long>(open_connections()), deadline_s);
    if (clusters_) {
        // Cluster selection: the clusters this appliance serves in are
        // marked draining, so DNS answers steer new viewers elsewhere.
        std::vector<std::string> addrs;
        for (const std::string &ip : cfg_.ips) addrs.push_back(ip.substr(0, ip.find('/')));
        for (const std::string &n : clusters_->mark_draining(addrs))
            EP_LOG(NOTICE, "drain: cluster %s marked draining (DNS steers away from it)",
                   n.c_str());
    }
    notify_.send("STOPPING=1\nSTATUS=draining: " + std::to_string(open_connections()) +
                 " connections open");
}

// A reload from either door: systemd hears RELOADING=1 then READY=1, and the
// log gets every line of the outcome (an edgectl client gets them too).
void Daemon::run_reload(Reply &out, const char *why) {
    notify_.send("RELOADING=1");
    std::string text;
    Reply collect = Reply::collector(&text);
    const bool ok = reload(collect);
    out.write(text);
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t nl = text.find('\n', at);
        const std::string line = text.substr(at, nl == std::string::npos ? nl : nl - at);
        if (line.rfind("error:", 0) == 0)
            EP_LOG(ERR, "%s: %s", why, line.c_str());
        else
            EP_LOG(NOTICE, "%s: %s", why, line.c_str());
        if (nl == std::string::npos) break;
        at = nl + 1;
    }
    (void)ok;
    notify_.send("READY=1\nSTATUS=" + status_line());
}

void Daemon::run(const std::atomic<bool> &stop, std::atomic<bool> &hup, std::atomic<bool> &term,
                 std::atomic<bool> &usr1) {
    uint64_t next_status = mono_ms() + kStatusEveryMs;
    const auto collect = [this] { return metrics(); };
    while (!stop.load(std::memory_order_relaxed)) {
        if (hup.exchange(false)) {
            // A reload may ingest new titles and reconfigure the keeper: the
            // store's writer side, so under the gate (control/store_gate.h).
            StoreGateControl hold(gate_);
            std::string text;
            Reply collect = Reply::collector(&text);
            run_reload(collect, "SIGHUP");
        }
        if (term.exchange(false)) {
            if (draining_ || cfg_.drain_deadline_s == 0) {
                EP_LOG(NOTICE, "SIGTERM: stopping now");
                break;
            }
            begin_drain(cfg_.drain_deadline_s);
        }
        if (draining_) {
            bool all_stopped_listening = true;
            for (const Lcore *lc : lcores_)
                all_stopped_listening &= lc->drained.load(std::memory_order_acquire);
            const uint64_t open = open_connections();
            if (all_stopped_listening && open == 0) {
                EP_LOG(NOTICE, "drain: every connection finished; stopping");
                break;
            }
            if (mono_ms() >= drain_deadline_ms_) {
                EP_LOG(NOTICE,
                       "drain: deadline passed with %llu connections open; resetting them; "
                       "stopping",
                       static_cast<unsigned long long>(open));
                reset_open_connections();
                break;
            }
        }
        if (usr1.exchange(false) && access_writer_.is_open()) {
            std::string err;
            if (access_writer_.reopen(&err))
                EP_LOG(NOTICE, "SIGUSR1: access log %s reopened", cfg_.access_log.c_str());
            else
                EP_LOG(ERR, "SIGUSR1: %s", err.c_str());
        }
        // Sleep without the store gate, so the ingest worker runs; then one
        // tick's work holding it (commands, scrapes and the keeper all read
        // or change the store).
        admin_.wait(kControlTickMs);
        StoreGateControl hold(gate_);
        admin_.serve();
        ingest_->poll();
        access_writer_.poll();
        metrics_server_.poll(0);
        telemetry_serve(collect);
        cache_->poll();
        if (membership_) report_self(mono_ms());
        if (clusters_) clusters_->poll(mono_ms());
        while (store_->poll() > 0) {
        }
        for (const ServiceRow &row : service_table())
            if (row.tick) row.tick();
        if (push_) push_->poll(mono_ns(), static_cast<int64_t>(std::time(nullptr)));
        // WATCHDOG=1 only from here: a control loop that hangs stops sending it.
        const uint64_t now = mono_ms();
        notify_.tick(now);
        if (notify_.enabled() && now >= next_status) {
            notify_.send("STATUS=" + status_line());
            next_status = now + kStatusEveryMs;
        }
    }
}

int Daemon::shutdown() {
    int rc = 0;
    notify_.send("STOPPING=1\nSTATUS=stopping");  // again after a drain: harmless
    // The lease first: the others stop sending clients here at once rather
    // than after the TTL.
    if (membership_) {
        if (clusters_) clusters_->set_membership(nullptr);
        membership_->stop();
    }
    // First: the worker may be mid-object (abandoned, never published) and
    // needs the gate, which nobody holds now.
    if (ingest_) ingest_->stop();
    telemetry_close();
    metrics_server_.close();
    data_stop_.store(true);
    if (lcores_launched_) rte_eal_mp_wait_lcore();
    admin_.close();
    access_writer_.close();  // the lcores are done: what their rings hold is written first
    for (Port &p : ports_) port_close(p);
    // Sessions reference the stacks; the stacks' send queues pin chunks of
    // the store: tear down in that order.
    services_.clear();
    for (const ServiceRow &row : service_table())
        if (row.teardown) row.teardown();
    tcp_.clear();
    for (auto &f : faults_) f->drain_free();
    faults_.clear();
    steer_teardown(lcores_);
    if (store_) store_->set_background_work(nullptr);
    cache_.reset();
    for (AccessLog *log : access_logs_) {
        rte_free(log->ring());
        log->~AccessLog();
        rte_free(log);
    }
    access_logs_.clear();
    for (ResponseLog *log : response_logs_) {
        rte_free(log->ring());
        log->~ResponseLog();
        rte_free(log);
    }
    response_logs_.clear();
    if (store_) {
        store_->flush();
        store_.reset();
    }
    for (rte_mbuf *m : test_reserve_) rte_pktmbuf_free(m);
    test_reserve_.clear();
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
    if (eal_up_) {
        const std::string runtime_dir = rte_eal_get_runtime_dir();
        rte_eal_cleanup();
        remove_runtime_dir(runtime_dir);
    }
    std::fflush(stdout);
    return rc;
}

}  // namespace ep

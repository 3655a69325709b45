// Daemon::reload: SIGHUP and `edgectl reload`. The command line is read again
// (so the --config file is), validated exactly as at start, and what can
// change without EAL or the ports is applied while the lcores serve: no
// connection is dropped. A config that fails validation changes nothing.
#include <rte_log.h>

#include <algorithm>
#include <cstring>

#include "control/daemon.h"
#include "control/log.h"
#include "dataplane/fault_stage.h"
#include "dataplane/response_log.h"

namespace ep {

namespace {

// Keys that need EAL, the ports, memory sizes or listening sockets built at
// start: a reload that changes one applies the rest and names these.
// X(field, flag). Zones and the steering table are the dns row's reload
// hook's (control/service_table.cc).
#define EP_RESTART_ONLY_KEYS(X)                               \
    X(ports, "port")                                          \
    X(ips, "ip")                                              \
    X(gateways, "gateway")                                    \
    X(data_lcores, "data-lcores")                             \
    X(control_lcore, "control-lcore")                         \
    X(admin_socket, "admin-socket")                           \
    X(metrics_listen, "metrics-listen")                       \
    X(file_prefix, "file-prefix")                             \
    X(no_huge, "no-huge")                                     \
    X(allow_pci, "allow-pci")                                 \
    X(memory_mb, "memory")                                    \
    X(mbufs, "mbufs")                                         \
    X(test_reserve_mbufs, "test-reserve-mbufs")               \
    X(rx_desc, "rx-desc")                                     \
    X(tx_desc, "tx-desc")                                     \
    X(store_path, "store")                                    \
    X(ram_mb, "ram-mb")                                       \
    X(disk_mb, "disk-mb")                                     \
    X(max_objects, "max-objects")                             \
    X(http_port, "http-port")                                 \
    X(http_max_conns, "http-max-conns")                       \
    X(tcp_max_conns, "tcp-max-conns")                         \
    X(tcp_rcvbuf_kb, "tcp-rcvbuf-kb")                         \
    X(tcp_cc, "tcp-cc")                                       \
    X(tcp_rto_min_ms, "tcp-rto-min-ms")                       \
    X(tcp_tick_us, "tcp-tick-us")                             \
    X(discard_port, "discard-port")                           \
    X(udp_echo_port, "udp-echo-port")                         \
    X(tracker_port, "tracker-port")                           \
    X(tracker_open, "tracker-open")                           \
    X(tracker_interval_s, "tracker-interval-s")               \
    X(tracker_swarms, "tracker-swarms")                       \
    X(tracker_peers, "tracker-peers")                         \
    X(torrents, "torrents")                                   \
    X(origin_timeout_ms, "origin-timeout-ms")                 \
    X(origin_fetches, "origin-fetches")                       \
    X(origin_readahead, "origin-readahead")                   \
    X(origin_fail_hold_ms, "origin-fail-hold-ms")             \
    X(origin_stale_if_error_s, "origin-stale-if-error-s")     \
    X(push_list, "push-list")                                 \
    X(push_window, "push-window")                             \
    X(push_mbps, "push-mbps")                                 \
    X(push_share_pct, "push-share-pct")                       \
    X(push_clock_offset_s, "push-clock-offset-s")             \
    X(swarm_port, "swarm-port")                               \
    X(swarm_max_conns, "swarm-max-conns")                     \
    X(swarm_unchoke_slots, "swarm-unchoke-slots")             \
    X(swarm_rechoke_s, "swarm-rechoke-s")                     \
    X(swarm_optimistic_s, "swarm-optimistic-s")               \
    X(swarm_seed_choker, "swarm-seed-choker")                 \
    X(swarm_upload_mbps, "swarm-upload-mbps")                 \
    X(swarm_slot_kbps, "swarm-slot-kbps")                     \
    X(swarm_fetch_ban_after, "swarm-fetch-ban-after")         \
    X(dns_rrl_rate, "dns-rrl-rate")                           \
    X(dns_rrl_slip, "dns-rrl-slip")                           \
    X(dns_rrl_v4_prefix, "dns-rrl-v4-prefix")                 \
    X(dns_rrl_v6_prefix, "dns-rrl-v6-prefix")                 \
    X(dns_rrl_buckets, "dns-rrl-buckets")                     \
    X(clusters, "clusters")                                   \
    X(cluster_policy, "cluster-policy")                       \
    X(dns_port, "dns-port")                                   \
    X(dns_max_udp, "dns-max-udp")                             \
    X(dns_tcp_conns, "dns-tcp-conns")                         \
    X(icmp_error_rate, "icmp-error-rate")                     \
    X(arp_reachable_s, "arp-reachable-s")                     \
    X(tcp_syn_backlog, "tcp-syn-backlog")                     \
    X(access_ring_size, "access-ring-size")                   \
    X(access_log, "access-log")                               \
    X(access_log_format, "access-log-format")                 \
    X(access_log_ring, "access-log-ring")                     \
    X(access_log_dns_interval_s, "access-log-dns-interval-s") \
    X(tracker_min_interval_s, "tracker-min-interval-s")       \
    X(tracker_http, "tracker-http")                           \
    X(cluster_self, "cluster-self")                           \
    X(http_redirect, "http-redirect")                         \
    X(http_redirect_margin_ms, "http-redirect-margin-ms")     \
    X(dash_steering, "dash-steering")                         \
    X(dash_steer_ttl_s, "dash-steer-ttl-s")                   \
    X(dash_steer_min_kbps, "dash-steer-min-kbps")             \
    X(origin_negative_ttl_s, "origin-negative-ttl-s")         \
    X(origin_keepalive, "origin-keepalive")                   \
    X(origin_health_interval_ms, "origin-health-interval-ms") \
    X(origin_health_path, "origin-health-path")               \
    X(origin_health_rise, "origin-health-rise")               \
    X(origin_health_fall, "origin-health-fall")               \
    X(origin_resolve_s, "origin-resolve-s")                   \
    X(purge_allow, "purge-allow")                             \
    X(tso, "tso")                                             \
    X(idle_backoff, "idle-backoff")                           \
    X(idle_sleep_after, "idle-sleep-after")                   \
    X(idle_sleep_max_us, "idle-sleep-max-us")                 \
    X(etcd, "etcd")                                           \
    X(etcd_prefix, "etcd-prefix")                             \
    X(etcd_lease_ttl_s, "etcd-lease-ttl")                     \
    X(etcd_poll_ms, "etcd-poll-ms")                           \
    X(appliance_name, "appliance-name")                       \
    X(appliance_cluster, "appliance-cluster")                 \
    X(probes, "probes")                                       \
    X(probe_rate, "probe-rate")                               \
    X(probe_interval_s, "probe-interval-s")                   \
    X(probe_retry_s, "probe-retry-s")                         \
    X(probe_timeout_ms, "probe-timeout-ms")                   \
    X(probe_ldns_ports, "probe-ldns-ports")                   \
    X(probe_client_ports, "probe-client-ports")               \
    X(eal_extra, "-- (EAL arguments)")

// rte_log level from a --log-level value; 0 when it is not a plain level
// (EAL's "type:level" forms are applied at start only).
int log_level_of(const std::string &s) {
    static constexpr const char *kNames[] = {"emerg",   "alert",  "crit", "err",
                                             "warning", "notice", "info", "debug"};
    for (int i = 0; i < 8; ++i)
        if (s == kNames[i]) return i + 1;  // RTE_LOG_EMERG is 1
    if (s.size() == 1 && s[0] >= '1' && s[0] <= '8') return s[0] - '0';
    return 0;
}

}  // namespace

bool Daemon::reload(Reply &out) {
    Config next;
    std::string err;
    const int rc = parse_config_quiet(cfg_.argv, &next, &err);
    while (!err.empty() && err.back() == '\n') err.pop_back();
    if (rc != -1) {
        out.write("error: reload rejected: " + (err.empty() ? "bad config" : err) +
                  "; the running config stays\n");
        return false;
    }
    const int level = log_level_of(next.log_level);
    if (next.log_level != cfg_.log_level && level == 0) {
        out.write("error: reload rejected: --log-level '" + next.log_level +
                  "' is not a level (emerg..debug) a reload can set; the running config stays\n");
        return false;
    }
    // Everything that can fail is judged before anything is applied: the
    // cache policy is built (a refusal leaves the running one), then each
    // service row's hook (a hook that fails changes nothing of its own).
    const CacheControlConfig cc{next.cache_policy, next.cache_high_pct, next.cache_low_pct};
    const CacheControlConfig &old_cc = cache_->config();
    const bool cache_changed = cc.policy != old_cc.policy || cc.high_pct != old_cc.high_pct ||
                               cc.low_pct != old_cc.low_pct;
    // The clusters file is read again (same path; a new path or policy
    // flag needs a restart): a model that fails validation is refused whole
    // and the running one keeps deciding.
    if (clusters_) {
        if (!clusters_->reload(&err)) {
            out.write("error: reload rejected: clusters: " + err + "; the running config stays\n");
            return false;
        }
        out.write("clusters: model reloaded from " + cfg_.clusters + "\n");
    }
    const ServiceReload sr{cfg_, next, store_.get(), out};
    for (const ServiceRow &row : service_table()) {
        if (!row.reload) continue;
        if (!row.reload(sr, &err)) {
            out.write(std::string("error: reload rejected: ") + row.section + ": " + err +
                      "; the running config stays\n");
            return false;
        }
    }
    if (cache_changed) {
        if (!cache_->reconfigure(cc, &err)) {
            out.write("error: reload rejected: cache: " + err + "; the running config stays\n");
            return false;
        }
        out.write("cache: policy " + old_cc.policy + " -> " + cc.policy + ", high " +
                  std::to_string(old_cc.high_pct) + "% -> " + std::to_string(cc.high_pct) +
                  "%, low " + std::to_string(old_cc.low_pct) + "% -> " +
                  std::to_string(cc.low_pct) + "%\n");
        cfg_.cache_policy = next.cache_policy;
        cfg_.cache_high_pct = next.cache_high_pct;
        cfg_.cache_low_pct = next.cache_low_pct;
    }
    cfg_.http_header_timeout_ms = next.http_header_timeout_ms;
    cfg_.http_idle_timeout_ms = next.http_idle_timeout_ms;
    cfg_.http_send_timeout_s = next.http_send_timeout_s;
    if (next.log_level != cfg_.log_level) {
        rte_log_set_global_level(static_cast<uint32_t>(level));
        rte_log_set_level(log_type(), static_cast<uint32_t>(level));
        out.write("log-level " + cfg_.log_level + " -> " + next.log_level + "\n");
        cfg_.log_level = next.log_level;
    }
    if (next.log_format != cfg_.log_format) {
        set_log_format(log_format_of(next.log_format));
        out.write("log-format " + cfg_.log_format + " -> " + next.log_format + "\n");
        cfg_.log_format = next.log_format;
    }
    if (next.access_log_sample != cfg_.access_log_sample) {
        for (ResponseLog *l : response_logs_) l->set_sample(next.access_log_sample);
        access_writer_.set_sample(next.access_log_sample);
        out.write("access-log-sample " + std::to_string(cfg_.access_log_sample) + " -> " +
                  std::to_string(next.access_log_sample) + "\n");
        cfg_.access_log_sample = next.access_log_sample;
    }
    if (next.fault != cfg_.fault) {
        // Validated by parse_config already; every queue's stage takes the
        // new spec at its next loop iteration (FaultStage::publish).
        FaultSpec spec;
        std::string ferr;
        if (!next.fault.empty()) parse_fault_spec(next.fault, &spec, &ferr);
        unsigned taken = 0;
        for (auto &f : faults_) taken += f->publish(spec);
        out.write("fault '" + cfg_.fault + "' -> '" + next.fault + "' (" + std::to_string(taken) +
                  " of " + std::to_string(faults_.size()) + " queues)\n");
        // TSO is chosen at start (off when the start spec acts on TX): a
        // spec that now acts on TX drops or corrupts whole super-segments.
        if (spec.tx && !next.fault.empty() && cfg_.tso)
            out.write("fault: note: TSO is on where the port offers it, so a TX fault hits a whole "
                      "super-segment (up to 45 MSS); start with --tso false (or this --fault) for "
                      "per-segment loss\n");
        cfg_.fault = next.fault;
    }
    if (next.drain_deadline_s != cfg_.drain_deadline_s) {
        out.write("drain-deadline-s " + std::to_string(cfg_.drain_deadline_s) + " -> " +
                  std::to_string(next.drain_deadline_s) + "\n");
        cfg_.drain_deadline_s = next.drain_deadline_s;
    }
    // Titles new to the list are ingested now; one taken out keeps its
    // content (edgectl remove drops it).
    bool ok = true;
    for (const std::string &t : next.titles) {
        if (std::find(cfg_.titles.begin(), cfg_.titles.end(), t) != cfg_.titles.end()) continue;
        std::string name, dir, log;
        split_title(t, &name, &dir);
        Reply quiet = Reply::collector(&log);
        const bool good = ingest(dir, name, quiet);
        const std::size_t last = log.rfind("stored ");
        out.write("title " + t + ": " +
                  (last == std::string::npos ? std::string("nothing stored\n") : log.substr(last)));
        if (!good) {
            ok = false;
            out.write("error: title " + t + ": " + log.substr(log.rfind("error: ") + 7));
        } else {
            cfg_.titles.push_back(t);
        }
    }
    for (const std::string &t : cfg_.titles)
        if (std::find(next.titles.begin(), next.titles.end(), t) == next.titles.end())
            out.write("title " + t + ": no longer listed; its objects stay until removed\n");
    std::string restart;
#define EP_X(field, flag)            \
    if (!(next.field == cfg_.field)) \
        restart += std::string(restart.empty() ? "" : ", ") + "--" + flag;
    EP_RESTART_ONLY_KEYS(EP_X)
#undef EP_X
    if (!restart.empty()) out.write("not applied (needs a restart): " + restart + "\n");
    out.write(ok ? "reloaded\n" : "reloaded, with errors above\n");
    return ok;
}

}  // namespace ep

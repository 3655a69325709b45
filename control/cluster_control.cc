#include "control/cluster_control.h"

#include <cstdlib>

#include "control/cluster/measurement_share.h"
#include "control/cluster/model_load.h"
#include "control/cluster/publish.h"
#include "control/dns_tables.h"
#include "control/http_steer_tables.h"
#include "control/log.h"

namespace ep {

bool ClusterControl::start(const std::string &file, const std::string &policy, std::string *err) {
    file_ = file;
    policy_ = policy;
    cluster::Model m;
    if (!cluster::load_and_validate(file, &m, err)) return false;
    if (!engine_.set_model(std::move(m), policy_, err)) {
        *err = file + ": " + *err;
        return false;
    }
    return true;
}

void ClusterControl::set_self(const std::string &name) {
    self_ = name;
    engine_.keep_rankings(http_steer_tables() != nullptr);
    probes_.attach(&engine_, name.empty() ? -1 : engine_.cluster_index(name), probe_channel());
}

bool ClusterControl::reload(std::string *err) {
    cluster::Model m;
    if (!cluster::load_and_validate(file_, &m, err)) return false;
    if (!engine_.set_model(std::move(m), policy_, err)) return false;
    next_ms_ = 0;  // decide with the new model at the next poll
    probes_.attach(&engine_, self_.empty() ? -1 : engine_.cluster_index(self_), probe_channel());
    return true;
}

void ClusterControl::recompute(uint64_t now_ms) {
    const dns::SteerMap &map = engine_.recompute(static_cast<double>(now_ms) / 1000.0);
    cluster::publish_to_dns(map);
    // Into the DNS server's steering FIBs (RCU, control/dns_tables.h); it
    // replaces any --dns-steer table. A map the DNS side refuses (e.g. an
    // owner outside our zones) leaves the previous one serving.
    if (dns_tables()) {
        std::string err;
        if (publish_steering(map, &err)) {
            ++dns_published_;
        } else {
            ++dns_rejected_;
            dns_error_ = err;
            EP_LOG(WARNING, "clusters: the DNS server refused map version %llu: %s",
                   static_cast<unsigned long long>(map.version), err.c_str());
        }
    }
    // The HTTP side's table: per client network its ranked clusters, for
    // redirects and steering manifests (dataplane/http/steer.h).
    if (HttpSteerTables *st = http_steer_tables()) {
        std::string err;
        if (!st->publish(engine_.http_map(engine_.cluster_index(self_)), &err)) {
            ++http_rejected_;
            http_error_ = err;
            EP_LOG(WARNING, "clusters: the HTTP steering table was not published: %s", err.c_str());
        }
    }
    next_ms_ = now_ms + uint64_t{engine_.model().settings.recompute_s} * 1000;
}

int32_t ClusterControl::measure_cluster() const {
    if (!self_.empty()) return engine_.cluster_index(self_);
    if (membership_) return engine_.cluster_index(membership_->config().cluster);
    return -1;
}

void ClusterControl::share_measurements(uint64_t now_ms) {
    if (!membership_ || now_ms < next_share_ms_) return;
    next_share_ms_ = now_ms + static_cast<uint64_t>(cluster::kShareEveryS * 1000);
    const int32_t c = measure_cluster();
    if (c < 0) return shared_.clear();
    shared_ = cluster::blocks_to_publish(engine_.measurements(), static_cast<uint16_t>(c),
                                         cluster::kShareBlocks, static_cast<double>(now_ms) / 1000);
}

void ClusterControl::poll(uint64_t now_ms) {
    now_ms_ = now_ms;
    const double now_s = static_cast<double>(now_ms) / 1000.0;
    rtt_feed_.drain(measure_cluster(), engine_.measurements(), now_s);
    share_measurements(now_ms);
    probes_.poll(now_ms);
    std::vector<cluster::Member> members;
    if (membership_ && membership_->take(&members)) {
        // The others' measurements of their clusters, replacing what they
        // said before (ours are local already).
        imported_ = cluster::import_members(
            engine_.measurements(), members, membership_->config().name,
            [this](const std::string &n) { return engine_.cluster_index(n); }, now_s);
        // Membership changed (a lease granted, expired or revoked, or a
        // member's record): decide now rather than at the next recompute_s.
        engine_.set_members(std::move(members));
        ++member_updates_;
        recompute(now_ms);
        return;
    }
    if (now_ms >= next_ms_) recompute(now_ms);
}

namespace {

bool number(const std::string &s, double *v) {
    char *end = nullptr;
    *v = std::strtod(s.c_str(), &end);
    return !s.empty() && end && *end == 0;
}

}  // namespace

std::string ClusterControl::http_text() const {
    const HttpSteerTables *st = http_steer_tables();
    if (!st) return "http steering: off\n";
    return "http steering: self " + self_ + ", published " + std::to_string(st->published()) +
           ", refused " + std::to_string(http_rejected_) + ", version " +
           std::to_string(st->version()) + ", " + std::to_string(st->routes()) + " client routes" +
           (http_error_.empty() ? "" : " (last: " + http_error_ + ")") + "\n";
}

void ClusterControl::visit_counters(const CounterVisitor &fn) const {
    const cluster::RecomputeStats &st = engine_.stats();
    fn({"recomputes", "cluster decisions recomputed since start", st.recomputes, false});
    fn({"clients_decided", "client networks with a cluster (last recompute)", st.decided, true});
    fn({"clients_changed", "client networks moved by the last recompute", st.changed, true});
    fn({"over_capacity", "clients left on a cluster above its headroom (last recompute)",
        st.over_capacity, true});
    const cluster::PassiveCounters &pc = rtt_feed_.counters();
    fn({"rtt_records_ingested",
        "passive RTT records from the data lcores added to this cluster's measurements",
        pc.ingested, false});
    fn({"rtt_records_ignored",
        "passive RTT records dropped: this appliance's cluster is not in the model (--cluster-self "
        "/ --appliance-cluster)",
        pc.no_cluster, false});
    fn({"measured_blocks", "(cluster, client block) aggregates held, own and members'",
        engine_.measurements().size(), true});
    fn({"measurements_shared", "own-cluster aggregates this appliance publishes in etcd",
        shared_.size(), true});
    fn({"measurements_imported", "aggregates imported from other members' records (last read)",
        imported_, true});
    probes_.visit_counters(fn);
    const auto &clusters = engine_.model().clusters;
    const std::vector<double> &load = engine_.load();
    std::string name;
    for (std::size_t i = 0; i < clusters.size(); ++i) {
        const cluster::Cluster &c = clusters[i];
        const double gbps = i < load.size() ? load[i] : 0;
        name = "load_mbps." + c.name;
        fn({name, "Mbit/s of client demand the last recompute assigned to the cluster",
            static_cast<uint64_t>(gbps * 1000 + 0.5), true});
        name = "capacity_mbps." + c.name;
        fn({name, "the cluster's capacity from the clusters file, Mbit/s",
            static_cast<uint64_t>(c.capacity_gbps * 1000 + 0.5), true});
        name = "up." + c.name;
        fn({name, "1: the cluster's health is up (0: draining or down)",
            c.health == cluster::Health::kUp ? 1u : 0u, true});
    }
}

std::vector<std::string> ClusterControl::mark_draining(const std::vector<std::string> &addrs) {
    std::vector<std::string> names;
    for (const cluster::Cluster &c : engine_.model().clusters) {
        bool ours = false;
        for (const auto &a : c.v4) {
            const std::string s = std::to_string(a[0]) + "." + std::to_string(a[1]) + "." +
                                  std::to_string(a[2]) + "." + std::to_string(a[3]);
            for (const std::string &x : addrs) ours |= x == s;
        }
        if (ours && c.health == cluster::Health::kUp) names.push_back(c.name);
    }
    std::string err;
    for (const std::string &n : names) engine_.set_health(n, cluster::Health::kDraining, &err);
    if (!names.empty()) recompute(now_ms_);
    return names;
}

std::string ClusterControl::membership_text() {
    if (!membership_) return "etcd: off\n";
    const MembershipStatus st = membership_->status();
    return "etcd: " + (st.endpoint.empty() ? std::string("not reached") : st.endpoint) + ", key " +
           membership_->key() + (st.registered ? ", registered, lease " + std::to_string(st.lease)
                                                : std::string(", not registered")) +
           ", ttl " + std::to_string(membership_->config().ttl_s) + " s; grants " +
           std::to_string(st.grants) + ", keepalives " + std::to_string(st.keepalives) +
           ", puts " + std::to_string(st.puts) + ", reads " + std::to_string(st.reads) +
           ", leases lost " + std::to_string(st.lost) + ", errors " + std::to_string(st.errors) +
           (st.last_error.empty() ? "" : " (last: " + st.last_error + ")") +
           "; member list changes " + std::to_string(member_updates_) + "\n";
}

void ClusterControl::register_commands(AdminSocket &admin) {
    admin.add_command("clusters", "cluster selection: the model, per-cluster load and health",
                      [this](auto &, Reply &out) {
                          const auto &pc = cluster::publish_counters();
                          out.write(engine_.clusters_text() + "published " +
                                    std::to_string(pc.published) + " maps to DNS, last version " +
                                    std::to_string(pc.last_version) + " with " +
                                    std::to_string(pc.last_routes) + " routes\n" +
                                    "dns: " + (dns_tables() ? "on" : "off") + ", published " +
                                    std::to_string(dns_published_) + ", refused " +
                                    std::to_string(dns_rejected_) +
                                    (dns_error_.empty() ? "" : " (last: " + dns_error_ + ")") +
                                    "\n" + http_text() + membership_text());
                      });
    admin.add_command("why", "why ADDRESS: the candidates, their scores and what decided",
                      [this](const std::vector<std::string> &args, Reply &out) {
                          if (args.size() != 2) return out.write("error: usage: why ADDRESS\n");
                          out.write(engine_.why(args[1], static_cast<double>(now_ms_) / 1000.0) +
                                    probes_.why(args[1]));
                      });
    admin.add_command("probes",
                      "active probes: targets, method, last RTT, answered / unanswered counts",
                      [this](auto &, Reply &out) { out.write(probes_.text()); });
    admin.add_command(
        "measure",
        "measure CLUSTER ADDRESS RTT_MS [LOSS_PCT [SAMPLES]]: feed one passive measurement",
        [this](const std::vector<std::string> &args, Reply &out) {
            if (args.size() < 4 || args.size() > 6)
                return out.write(
                    "error: usage: measure CLUSTER ADDRESS RTT_MS [LOSS_PCT [SAMPLES]]\n");
            const int32_t c = engine_.cluster_index(args[1]);
            if (c < 0) return out.write("error: no cluster '" + args[1] + "'\n");
            cluster::Prefix a;
            std::string err;
            if (!cluster::parse_prefix(args[2], &a, &err)) return out.write("error: " + err + "\n");
            double rtt = 0, loss = 0, samples = 1;
            if (!number(args[3], &rtt) || rtt < 0 ||
                (args.size() > 4 && (!number(args[4], &loss) || loss < 0 || loss > 100)) ||
                (args.size() > 5 && (!number(args[5], &samples) || samples < 1)))
                return out.write("error: RTT_MS >= 0, LOSS_PCT 0..100, SAMPLES >= 1\n");
            engine_.measurements().add(static_cast<uint16_t>(c), a, static_cast<float>(rtt),
                                       static_cast<float>(loss), static_cast<uint32_t>(samples),
                                       static_cast<double>(now_ms_) / 1000.0);
            out.write("measured " + args[1] + " " +
                      cluster::to_string(cluster::Measurements::block_of(a)) +
                      " (used from the next recompute)\n");
        });
    admin.add_command(
        "cluster-health", "cluster-health CLUSTER up|draining|down, then recompute",
        [this](const std::vector<std::string> &args, Reply &out) {
            cluster::Health h;
            if (args.size() != 3 || !cluster::parse_health(args[2], &h))
                return out.write("error: usage: cluster-health CLUSTER up|draining|down\n");
            std::string err;
            if (!engine_.set_health(args[1], h, &err)) return out.write("error: " + err + "\n");
            recompute(now_ms_);
            out.write(args[1] + " is " + args[2] + "\n");
        });
    admin.add_command("recompute", "decide every client network now", [this](auto &, Reply &out) {
        recompute(now_ms_);
        char b[128];
        std::snprintf(b, sizeof b, "recomputed in %.3f s: %llu routes per name, map version %llu\n",
                      engine_.stats().seconds,
                      static_cast<unsigned long long>(engine_.stats().routes),
                      static_cast<unsigned long long>(engine_.map().version));
        out.write(b);
    });
}

}  // namespace ep

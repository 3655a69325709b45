// Cluster selection on the daemon's control thread: loads the --clusters
// file at start, recomputes the decisions every recompute_s seconds (and at
// once after an operator's change), hands every new map to the DNS side
// (control/cluster/publish.h), and serves the admin commands:
//   clusters                       the model, per-cluster load and health
//   why ADDRESS                    candidates, scores and what decided
//   measure CLUSTER ADDRESS RTT_MS [LOSS_PCT [SAMPLES]]   one passive aggregate
// It also drains the data lcores' RTT rings into the measurements (the
// passive feed, control/rtt_feed.h) and, with --etcd, shares them: this
// appliance's in its member record, the others' from theirs
// (control/cluster/measurement_share.h).
//   cluster-health CLUSTER up|draining|down
//   recompute                      decide now
//   probes                         the active probes' targets and results (probe_control.h)
// The decision logic itself is control/cluster/ (no daemon, no DPDK).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/admin_socket.h"
#include "control/cluster/engine.h"
#include "dataplane/service.h"
#include "control/membership.h"
#include "control/rtt_feed.h"
#include "control/probe_control.h"

namespace ep {

class ClusterControl {
  public:
    // Loads and validates `file`; `policy` (may be empty) overrides the
    // file's. False with the reason; nothing is published then.
    bool start(const std::string &file, const std::string &policy, std::string *err);
    // This appliance's cluster (--cluster-self): with the HTTP steering
    // tables made (control/http_steer_tables.h), every recompute publishes
    // the clients' rankings there too.
    void set_self(const std::string &name);
    // For the reload framework: loads the file again; on any failure the
    // running model stays and *err says why.
    bool reload(std::string *err);
    // From the control loop: recomputes when due.
    void poll(uint64_t now_ms);
    void register_commands(AdminSocket &admin);
    cluster::Engine &engine() { return engine_; }
    // Per-cluster gauges, named FAMILY.CLUSTER (/metrics: label cluster=):
    // load_mbps (what the last recompute assigned), capacity_mbps, up (1:
    // health up), and the recompute's own counters. Control thread.
    void visit_counters(const CounterVisitor &fn) const;
    // A drain: every cluster that lists one of `addrs` (this appliance's
    // addresses, dotted quads) is marked draining and the decisions are
    // recomputed, so DNS steers new viewers away. Returns their names.
    std::vector<std::string> mark_draining(const std::vector<std::string> &addrs);

    // --etcd: each new member list read from etcd goes to the engine and is
    // decided at once (null: stop taking them).
    void set_membership(Membership *m) { membership_ = m; }

    // The passive measurement feed (control/rtt_feed.h): data lcore
    // `lcore`'s ring, to attach its TCP stacks to (RttRing::attach).
    RttRing *rtt_ring(uint8_t lcore, uint64_t *sent, uint64_t *full) {
        return rtt_feed_.ring(lcore, sent, full);
    }
    // What this appliance publishes in its member record: its own
    // cluster's heaviest measurements, refreshed every kShareEveryS.
    const std::vector<cluster::MeasuredBlock> &shared_measurements() const { return shared_; }

  private:
    void recompute(uint64_t now_ms);
    // The cluster this appliance measures for: --cluster-self, else
    // --appliance-cluster; -1 when neither names a cluster of the model.
    int32_t measure_cluster() const;
    void share_measurements(uint64_t now_ms);
    std::string http_text() const;
    std::string membership_text();
    cluster::Engine engine_;
    std::string file_, policy_;
    uint64_t dns_published_ = 0, dns_rejected_ = 0;  // maps the DNS tables took / refused
    std::string dns_error_;                          // the last refusal
    std::string self_;
    uint64_t http_rejected_ = 0;
    std::string http_error_;
    Membership *membership_ = nullptr;
    ProbeControl probes_;  // active probes from this appliance (--cluster-self)
    uint64_t member_updates_ = 0;
    uint64_t next_ms_ = 0;
    uint64_t now_ms_ = 0;
    RttFeed rtt_feed_;
    std::vector<cluster::MeasuredBlock> shared_;
    uint64_t next_share_ms_ = 0;
    uint64_t imported_ = 0;  // member measurements imported by the last read
};

}  // namespace ep

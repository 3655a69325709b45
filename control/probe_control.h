// Active probes on the control thread (docs/cluster_selection.md "Active
// probes"): which targets are due (control/cluster/probe_targets.h), posted
// to the probing data lcore over its request ring (dataplane/probe_service.h),
// its results read back and fed to cluster selection's measurements as this
// appliance's cluster's RTT to the target's block. ClusterControl owns one
// and drives it from its poll().
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "control/cluster/engine.h"
#include "control/cluster/probe_targets.h"
#include "dataplane/probe_service.h"
#include "dataplane/service.h"

namespace ep {

// X(name, help): the control side's counters (section "clusters").
#define EP_PROBE_CONTROL_COUNTERS(X)                                                          \
    X(probe_requests, "probes asked of the probing data lcore")                               \
    X(probe_post_refused, "probes not asked: the request ring to the data lcore was full")    \
    X(probe_measurements, "probe answers fed to cluster selection as RTT measurements")       \
    X(probe_rounds_dark, "probe rounds in which no method (ICMP, TCP ports) was answered")    \
    X(probe_skipped_passive,                                                                  \
      "probe turns skipped: the target's block had a fresh passive measurement")              \
    X(probe_stale_results, "probe results for no request in flight (a reload or a lost one)") \
    X(probe_lost, "probe requests whose result never came back")

class ProbeControl {
  public:
    // Probes run when the data plane made the prober (`ch`), this appliance
    // knows its cluster (`self` >= 0), and settings.mode is on, or auto with
    // the measured policy. Call again after a reload (the model changed).
    void attach(cluster::Engine *engine, int32_t self, ProbeChannel *ch);
    bool active() const { return active_; }
    void poll(uint64_t now_ms);
    // `edgectl probes`.
    std::string text() const;
    // Lines for `edgectl why ADDRESS` ("" when probes are off or none is near).
    std::string why(const std::string &address) const;
    void visit_counters(const CounterVisitor &fn) const;

  private:
    bool passive(uint32_t addr, double now_s) const;
    cluster::Engine *engine_ = nullptr;
    ProbeChannel *ch_ = nullptr;
    int32_t self_ = -1;
    bool active_ = false;
    std::string off_why_ = "no --clusters";
    cluster::ProbeTargets targets_;
    std::unordered_map<uint32_t, double>
        fed_;  // /24 (network order, host bits 0) -> last probe feed
    uint64_t next_ms_ = 0, now_ms_ = 0;
    uint64_t post_refused_ = 0;
};

}  // namespace ep

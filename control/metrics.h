// One list of every counter and gauge the daemon has, with its help text and
// where it comes from (lcore, port), rendered for Prometheus (/metrics) and
// DPDK telemetry. The daemon gathers it from the same visitors `edgectl
// stats` sums (Daemon::metrics, control/daemon_metrics.cc); nothing here
// names a service's counters.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/counters.h"

namespace ep {

struct Metric {
    std::string section;  // "lcore", "tcp", a service's name, "cache", "chunkstore"
    std::string name;     // as `edgectl stats` shows it; FAMILY.REASON: a reason label
    std::string help;
    uint64_t value = 0;
    double real = 0;  // used instead of value when is_real (ratios)
    bool is_real = false;
    bool gauge = false;  // a level; counters only grow
    int lcore = -1;      // -1: process-wide
    std::string port;    // ethdev name; "" when not per port
    // The label FAMILY.VALUE names take ("reason" unless set, e.g. "cluster").
    std::string label = "reason";
};

// The lcore's traffic counters and drop reasons (dataplane/counters.h), with
// help where the X-macro lists give it and the name otherwise.
void append_lcore_metrics(const LcoreCounters &c, unsigned lcore, std::vector<Metric> *out);

// "edgeplane_SECTION_NAME" (NAME up to a '.', the rest being the reason
// label), every character outside [a-zA-Z0-9_] made '_', counters ending in
// "_total" (OpenMetrics).
std::string prometheus_name(const Metric &m);

// Text exposition format 0.0.4: each family's samples together under one
// # HELP and # TYPE, label values escaped.
std::string prometheus_text(const std::vector<Metric> &metrics);

}  // namespace ep

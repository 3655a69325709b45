// The daemon's counters as DPDK telemetry commands, next to the ethdev ones
// EAL already serves on its telemetry socket (<runtime dir>/dpdk_telemetry.v2,
// read by dpdk-telemetry.py):
//   /edgeplane/stats                  the sections (lcore, tcp, http, ...)
//   /edgeplane/stats,SECTION          that section, summed over lcores and ports
//   /edgeplane/stats,SECTION,LCORE    that section on one lcore
// (names as in `edgectl stats`, with any character telemetry refuses, such
// as the dot of drops.REASON, made `_`)
//
// EAL calls the commands on its telemetry thread, but the counters are the
// control thread's to read (services, the cache keeper and the store are
// read there). So a command asks the control thread for a fresh list and
// waits for it (at most 1 s; the control loop looks every tick), then shapes
// its answer from that copy.
#pragma once

#include <functional>
#include <vector>

#include "control/metrics.h"

namespace ep {

// Registers the commands once per process (DPDK cannot unregister them) and
// lets them answer. Call after rte_eal_init.
void telemetry_open();
// Control thread, every tick: answers waiting commands with collect().
void telemetry_serve(const std::function<std::vector<Metric>()> &collect);
// From now on commands fail at once (shutdown: the sources are going away).
void telemetry_close();

}  // namespace ep

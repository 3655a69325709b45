// `edgebench mapsim`'s replay: one world (mapsim_world.h) through one
// cluster-selection policy — the real one, control/cluster/'s Engine with
// its policy, measurements, hysteresis and rebalancing, fed the way an
// appliance feeds it — or through the oracle, which knows every true RTT at
// every moment and picks the lowest (ignoring capacity).
//
// Every step (a recompute interval):
//   1. the model gets the step's demand (diurnal) and health (outages: the
//      health checks know at once); with members_load each cluster's
//      appliance reports the load it carried in the last step (what
//      load-aware weighs beyond the model's demand, Engine::extra_load);
//   2. Engine::recompute; a client is steered by its own network's
//      decision (ECS, or an ISP resolver next to it) or, behind a public
//      resolver that sends no ECS, by the resolver site's;
//   3. the cluster each client really reaches measures it (passive RTT:
//      the true RTT plus queueing noise, into Engine::measurements()), and
//      with probes every probe_every_s the nearest few clusters measure it
//      too (active probes, what issue 16 lists as not done yet);
//   4. the scoring, weighted by the step's traffic: the penalty against the
//      oracle (the true RTT of the cluster reached minus the oracle's),
//      traffic on clusters above capacity, changes of cluster (flaps;
//      those forced by an outage counted apart), and every dns_every steps
//      the DNS answers resolvers cache (the decisions aggregated as the
//      compiler does: a resolver caches one answer per distinct ECS scope
//      its clients fall in, against one for a single /0 answer).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/edgebench/mapsim_world.h"

namespace ep::bench::mapsim {

struct SimOpts {
    std::string policy = "load-aware";  // geo | measured | load-aware | content | oracle
    double step_s = 60;
    double warmup_h = 1;  // not scored: the measured policies start knowing nothing
    uint32_t probes = 0;  // active probes: nearest clusters measuring each prefix
    double probe_every_s = 600;
    bool members_load = true;
    double noise_ms = 1;  // mean of the exponential queueing noise on a measured RTT
    double within_ms = 5;
    uint32_t dns_every = 10;
};

struct TimePoint {
    double t_h = 0, mean_pen = 0, within = 0, over_cap = 0, flaps = 0;
};

struct Result {
    std::string policy;
    double mean_pen = 0, p95 = 0, p99 = 0, within = 0;  // traffic-weighted, ms and share
    // The same two for the traffic mapped as itself (ECS or an ISP resolver
    // next to it), leaving out public resolvers that send no ECS.
    double mean_self = 0, within_self = 0;
    double over_cap = 0;            // share of traffic on clusters above capacity
    double max_util = 0;            // highest load / capacity of a cluster in a step
    double flaps_ph = 0;            // unforced cluster changes per prefix-hour
    double forced_ph = 0;           // changes because the cluster went down
    double routes = 0;              // mean routes per name (the ECS scopes answered)
    double answers_ratio = 0;       // answers resolvers cache vs one /0 answer each
    double answers_per_prefix = 0;  // routes / client prefixes
    double wall_s = 0;              // the replay's wall time
    double decide_s = 0;            // of which Engine::recompute
    std::vector<TimePoint> timeline;
    std::vector<double> hist;       // traffic per 0.1 ms bin of penalty (last: overflow)
    std::vector<double> peak_util;  // per cluster
};

inline constexpr double kBinMs = 0.1;
inline constexpr uint32_t kBins = 10000;

Result replay(const World &w, const SimOpts &o);

}  // namespace ep::bench::mapsim

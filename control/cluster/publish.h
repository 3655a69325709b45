// Where cluster selection hands its map to the DNS server. The DNS side
// compiles a dns::SteerMap into per-lcore LPM tables and publishes them with
// RCU; that function is theirs. This is the one call cluster selection
// makes after every recompute; it counts, and control/cluster_control.cc
// then publishes the map into the DNS tables (control/dns_tables.h).
#pragma once

#include "dataplane/dns/steer_map.h"

namespace ep::cluster {

// Called on the control thread with every new map (version increasing).
// The map is only read during the call.
void publish_to_dns(const dns::SteerMap &map);

// How many maps were handed over, and the last one's version and size (for
// tests and `edgectl clusters` until the DNS side counts them itself).
struct PublishCounters {
    uint64_t published = 0;
    uint64_t last_version = 0;
    uint64_t last_routes = 0;
};
const PublishCounters &publish_counters();

}  // namespace ep::cluster

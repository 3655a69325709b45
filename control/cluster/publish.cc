#include "control/cluster/publish.h"

namespace ep::cluster {

namespace {
PublishCounters g_counters;
}

// Counts the maps handed over; control/cluster_control.cc publishes each
// into the DNS server's tables (this library stays free of DPDK).
void publish_to_dns(const dns::SteerMap &map) {
    g_counters.published++;
    g_counters.last_version = map.version;
    g_counters.last_routes = map.routes.size();
}

const PublishCounters &publish_counters() {
    return g_counters;
}

}  // namespace ep::cluster

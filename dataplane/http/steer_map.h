// What cluster selection hands the HTTP service: the clusters (pathway
// names, hosts, health), which one this appliance belongs to, and per
// client network the clusters ranked for it. Plain data, built on the
// control thread (control/cluster/http_map.h), then compiled into the
// read-only FIB the data lcores look clients up in (dataplane/http_steer_table.h)
// and published with RCU (control/http_steer_tables.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/http/steer.h"

namespace ep::http {

struct SteerMap {
    struct Cluster {
        std::string name;
        std::string host;  // HOST[:PORT]
        bool up = true;
    };
    struct Route {
        uint8_t family = 1;  // 1 IPv4, 2 IPv6
        uint8_t prefix = 0;
        uint8_t net[16] = {};
        ClientRanking ranking;
    };
    std::vector<Cluster> clusters;
    uint16_t self = kNoCluster;
    std::vector<Route> routes;
    uint64_t version = 0;
};

}  // namespace ep::http

// SteerMap -> the shape the per-socket FIB tables are loaded from. Pure (no
// DPDK) so unit tests and the compiler share it; the FIB loading is in
// dataplane/dns_steering.cc.
//
// Two steps:
// 1. aggregate(): per owner and family, the routes become disjoint prefixes
//    (a more specific route punches its hole into a shorter one), and
//    sibling prefixes with the same answer set merge into their parent,
//    repeatedly. The prefix length of what remains is the ECS SCOPE sent
//    back (RFC 7871 7.2.1), so it is as short as the mapping allows and
//    resolvers cache as few distinct answers as possible; and it is never
//    too short, because no shorter prefix has one answer throughout.
// 2. plan(): every owner's prefixes of a family go into one FIB (one
//    lookup per query, whatever the number of owners), each prefix a
//    "region"; a region's cell for an owner is that owner's prefix which
//    contains the region, if any. The longest match of an address is then
//    inside exactly the owner prefix that answers it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/dns/steer_map.h"

namespace ep::dns {

// Disjoint, aggregated routes of `map`, sets deduplicated by content (two
// sets with the same TTL and addresses are one answer). Routes name sets
// of the returned map. Host bits beyond each prefix are cleared.
SteerMap aggregate(const SteerMap &map);

struct SteerPlan {
    static constexpr uint32_t kNone = UINT32_MAX;
    struct Region {
        uint16_t family = 1;
        uint8_t prefix = 0;
        uint8_t net[16] = {};
    };
    struct Cell {
        uint32_t set = kNone;  // index into sets; kNone: this owner is not steered here
        uint8_t scope = 0;     // the owner's aggregated prefix length
    };
    std::vector<std::string> owners;  // lower-case wire names
    std::vector<Region> regions;      // FIB next hop = index
    std::vector<Cell> cells;          // regions.size() x owners.size(), row per region
    std::vector<SteerMap::AnswerSet> sets;
    uint32_t v4_regions = 0, v6_regions = 0;
};

// False with *err when a route is malformed (family, prefix length, set
// index out of range).
bool plan_steering(const SteerMap &map, SteerPlan *out, std::string *err);

}  // namespace ep::dns

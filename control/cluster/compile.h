// Decisions to what the DNS server reads (dataplane/dns/steer_map.h): per
// steered owner name, client prefixes and the answer set (the chosen
// cluster's appliance addresses) of each, aggregated so every route is as
// short as the mapping allows. The route's length is the ECS SCOPE answered
// (RFC 7871 7.2.1), so a shorter route means fewer answers cached per
// resolver.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "control/cluster/model.h"
#include "dataplane/dns/steer_map.h"

namespace ep::cluster {

struct Route {
    Prefix prefix;
    int32_t answer;
};

// Longest-prefix-match equivalent and minimal under two rewrites, applied
// bottom-up on a binary trie of the prefixes: (1) a route whose answer is
// what its covering route answers anyway goes; (2) a prefix whose two halves
// answer the same everywhere becomes one route (and its halves go).
// Addresses no input route covers stay uncovered (answered from the zone,
// scope 0): space the model does not know is not merged over. Answers < 0
// are "no decision" and inherit what covers them. Output sorted by family,
// address, length.
std::vector<Route> aggregate(const std::vector<Route> &in);

struct CompileStats {
    uint64_t input = 0;   // client networks with a decision
    uint64_t routes = 0;  // routes per owner after aggregation
};

// The appliances of one cluster a title is placed on (rendezvous hashing,
// control/cluster/rendezvous.h): their addresses answer instead of the
// whole cluster's.
struct Placed {
    std::vector<std::array<uint8_t, 4>> v4;
    std::vector<std::array<uint8_t, 16>> v6;
    bool empty() const { return v4.empty() && v6.empty(); }
};

// answers[i]: the cluster chosen for model.clients[i] (-1 none), per title
// group; group_of_name[n]: the group model.names[n] reads. placed, when not
// null: [group][cluster] the addresses answered for that group in that
// cluster (empty: the cluster's own addresses).
dns::SteerMap compile(const Model &m, const std::vector<std::vector<int32_t>> &answers,
                      const std::vector<uint32_t> &group_of_name, uint64_t version,
                      CompileStats *st, const std::vector<std::vector<Placed>> *placed = nullptr);

}  // namespace ep::cluster

// Sharing measurements between appliances through etcd (issue 16, "Many
// appliances"): measurements are per appliance (each one's TCP stacks see
// only its own clients' connections), but deciding a client block needs
// every cluster's view of it. Each appliance publishes its own cluster's
// heaviest aggregates in its member record (control/cluster/members.h, under
// its lease, so they go when it goes), and every appliance puts what the
// others publish into its Measurements under their cluster, one source per
// member, replaced on every read. Pure: no I/O.
//
// In the record: "measured":[["198.51.100.0/24",9.25,0.5,3.2,4],...], per
// block its RTT (ms), loss (%), decayed weight (connections) and age (s)
// when published; at most kShareBlocks of them, figures rounded so that the
// record changes only when a figure does.
#pragma once

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "control/cluster/measurements.h"
#include "control/cluster/model.h"

namespace ep::cluster {

struct Member;

inline constexpr std::size_t kShareBlocks = 64;  // K: what one record carries at most
inline constexpr double kShareEveryS = 5;        // how often the published list is refreshed

struct MeasuredBlock {
    Prefix block;
    float rtt_ms = 0, loss_pct = 0, weight = 0;
    double age_s = 0;
    bool operator==(const MeasuredBlock &o) const {
        return block == o.block && rtt_ms == o.rtt_ms && loss_pct == o.loss_pct &&
               weight == o.weight && age_s == o.age_s;
    }
};

// This appliance's aggregates of `cluster` (its own), the k heaviest,
// rounded for publication.
std::vector<MeasuredBlock> blocks_to_publish(const Measurements &m, uint16_t cluster, std::size_t k,
                                             double now_s);

nlohmann::json encode_blocks(const std::vector<MeasuredBlock> &b);
// False with *err on a malformed list; at most kShareBlocks are kept.
bool decode_blocks(const nlohmann::json &j, std::vector<MeasuredBlock> *out, std::string *err);

// Replaces, in `m`, every member's source by what its record publishes now
// (a member gone, or publishing nothing, leaves no entries). `self`: this
// appliance's name (its own record is skipped: its figures are kLocal).
// cluster_of: a member's cluster name -> index in the model, -1 unknown
// (such a member's blocks are ignored). Returns the entries imported.
std::size_t import_members(Measurements &m, const std::vector<Member> &members,
                           const std::string &self,
                           const std::function<int32_t(const std::string &)> &cluster_of,
                           double now_s);

}  // namespace ep::cluster

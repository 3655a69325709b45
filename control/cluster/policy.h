// The decision: for one client network, which cluster serves it, and why.
// Every policy works behind one interface and explains itself: a Decision
// carries the candidates it scored (each with the figures the score came
// from) and the reason the chosen one won, which `edgectl why` prints.
//
// Scores are milliseconds of expected RTT, lower is better:
//   geo         base + km x per_km (the textbook's nearest cluster)
//   measured    the measured RTT + loss x loss_ms_per_pct where the
//               (cluster, client block) pair was measured, else geo
//   load-aware  measured, plus rebalance(): keeps every cluster under
//               headroom x capacity, moving the prefixes that lose least first
//   content     load-aware, plus miss_ms for a cluster that does not hold
//               the steered name's title
// A draining cluster costs kDrainMs more (chosen only when nothing else is a
// candidate), a down one is no candidate. measured, load-aware and content
// keep a prefix where it was unless the best is stick_ms and stick_pct
// better (hysteresis: jittering RTTs do not move prefixes).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "control/cluster/client_index.h"
#include "control/cluster/geo.h"
#include "control/cluster/grid.h"
#include "control/cluster/model.h"

namespace ep::cluster {

inline constexpr unsigned kMaxCandidates = 24;  // k nearest + measured extras
inline constexpr float kDrainMs = 100000;

enum class Reason : uint8_t {
    kNone,          // no usable cluster among the candidates
    kBest,          // lowest score
    kKept,          // the previous cluster, within the hysteresis margin of the best
    kMovedForLoad,  // the best is above its headroom; this one had room
    kKeptForLoad,   // moved for load earlier; its best is not yet below headroom - band
    kOverCapacity,  // the best is above its headroom and no candidate had room
};
const char *reason_text(Reason r);

enum : uint8_t { kMeasuredFlag = 1, kHoldsTitle = 2, kDrainingFlag = 4, kOffsetFlag = 8 };

struct Candidate {
    uint16_t cluster = 0;
    uint8_t flags = 0;
    float geo_ms = 0;   // the distance's estimate
    float rtt_ms = -1;  // measured, -1 none
    float loss_pct = 0;
    float score = 0;
};

struct Decision {
    uint32_t n = 0;
    Candidate c[kMaxCandidates];
    int32_t chosen = -1;  // index into c
    Reason reason = Reason::kNone;
    int32_t cluster() const { return chosen < 0 ? -1 : c[chosen].cluster; }
};

// What a recompute keeps per client network for the next one (hysteresis)
// and for `edgectl why`.
struct Assignment {
    int32_t cluster = -1;
    Reason reason = Reason::kNone;
    float score = 0;
};

// A model with what the hot loop needs precomputed once per model.
struct World {
    const Model *model = nullptr;
    std::vector<Vec3> client_xyz, cluster_xyz;
    std::vector<uint32_t> client_cell;  // CandidateGrid cell of each client
    std::vector<uint32_t> cells;        // the cells holding a client
    ClientIndex index;
    void build(const Model &m);
};

// Measurements folded onto client networks for one recompute (CSR).
struct MeasuredView {
    struct Entry {
        uint16_t cluster;
        float rtt_ms, loss_pct;
    };
    std::vector<uint32_t> start;  // clients + 1
    std::vector<Entry> entries;
    // Per client: what its network's measurements say the geo estimate
    // misses (the median over the network's measured pairs of measured
    // score - geo estimate: access latency, path inflation). The measured
    // policies add it to an unmeasured candidate's geo estimate, so a
    // measured cluster is compared with like. Empty, or 0 for a client
    // whose network (ASN) is unknown or unmeasured.
    std::vector<float> offset;
};

struct PolicyInput {
    const World &world;
    const CandidateGrid &grid;
    const MeasuredView &measured;
    const std::vector<Assignment> *previous = nullptr;   // last recompute's, or null
    const std::vector<double> *previous_load = nullptr;  // Gbit/s per cluster then
    const std::vector<uint8_t> *holds = nullptr;         // per cluster: holds the title
    // Gbit/s per cluster that its appliances report carrying (membership,
    // etcd) beyond the demand the last recompute assigned it: clients the
    // model does not list, demand above the file's figures. load-aware
    // counts it against the headroom; null: none reported.
    const std::vector<double> *extra_load = nullptr;
    double demand_share = 1;  // this title group's share of each client's demand
};

struct RebalanceStats {
    uint64_t moved = 0;     // prefixes moved off a cluster above its headroom
    uint64_t unplaced = 0;  // prefixes left on one: no candidate had room
    uint32_t passes = 0;
};

class Policy {
  public:
    virtual ~Policy() = default;
    virtual const char *name() const = 0;
    // Scores client `i`'s candidates and picks one.
    virtual void decide(const PolicyInput &in, uint32_t i, Decision *d) const = 0;
    // Once every client has its decision: may move some (load). `load` is
    // Gbit/s per cluster of `a`, kept up to date.
    virtual void rebalance(const PolicyInput &, std::vector<Assignment> *,
                           std::vector<double> * /*load*/, RebalanceStats *) const {}
};

// geo | measured | load-aware | content; nullptr for another name.
std::unique_ptr<Policy> make_policy(const std::string &name, const Settings &s);

}  // namespace ep::cluster

// Cluster selection on the control thread: holds the model, the
// measurements and the chosen policy; recompute() decides every client
// network and compiles the result into a dns::SteerMap; why() and
// clusters_text() are what `edgectl why` and `edgectl clusters` print.
// Single-threaded (the control thread); nothing here blocks.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "control/cluster/compile.h"
#include "control/cluster/measurements.h"
#include "control/cluster/members.h"
#include "control/cluster/model.h"
#include "control/cluster/policy.h"
#include "dataplane/dns/steer_map.h"
#include "dataplane/http/steer_map.h"

namespace ep::cluster {

struct RecomputeStats {
    uint64_t recomputes = 0;
    uint64_t clients = 0;
    uint64_t decided = 0;  // clients with a cluster
    uint64_t changed = 0;  // clients whose cluster changed since the last recompute
    uint64_t kept = 0;     // kept by hysteresis
    uint64_t moved_for_load = 0;
    uint64_t over_capacity = 0;      // left on a cluster above its headroom
    uint64_t candidate_entries = 0;  // the grid's lists, summed
    uint64_t routes = 0;             // per owner, after aggregation
    uint64_t measured_blocks = 0;
    double seconds = 0;          // the last recompute's wall time
    double decide_seconds = 0;   // of which deciding (and rebalancing)
    double compile_seconds = 0;  // of which compiling the map
};

class Engine {
  public:
    Engine();
    ~Engine();
    // Takes a loaded model: validates it, indexes it, picks its policy
    // (`policy` overrides the file's when not empty). On failure nothing
    // changes and *err says why.
    bool set_model(Model m, const std::string &policy, std::string *err);
    const Model &model() const { return model_; }
    const Policy &policy() const { return *policy_; }

    Measurements &measurements() { return measurements_; }
    const Measurements &measurements() const { return measurements_; }
    // A cluster's health (an operator, later membership): takes effect at
    // the next recompute.
    bool set_health(const std::string &cluster, Health h, std::string *err);
    int32_t cluster_index(const std::string &name) const;

    // Membership (control/membership.h, etcd): the live appliances. From the
    // first call on, a cluster's addresses are those of its live members
    // (health up; the draining ones only when none is up), its health is
    // down when it has none, and its titles are what they say they hold.
    // The file's cluster entries stay the base each call starts from, so a
    // member that leaves takes its addresses with it. Takes effect at the
    // next recompute. Members of a cluster the model does not know are kept
    // (shown by clusters_text) but steer nothing.
    void set_members(std::vector<Member> members);
    bool membership() const { return membership_; }
    const std::vector<Member> &members() const { return members_; }
    // For a content-aware name's title, the members of `cluster` it is
    // placed on (rendezvous hashing, settings.replicas of them), best first;
    // indices into members(). Empty without membership.
    std::vector<uint32_t> placement(const std::string &title, int32_t cluster) const;

    // Decides every client network and compiles the map (version + 1).
    const dns::SteerMap &recompute(double now_s);
    const dns::SteerMap &map() const { return map_; }
    const RecomputeStats &stats() const { return stats_; }
    // Gbit/s assigned per cluster by the last recompute.
    const std::vector<double> &load() const { return load_; }
    // With membership: Gbit/s per cluster its members reported (tx_gbps
    // summed) and, of that, what the last recompute counted beyond the
    // demand it had assigned the cluster (load-aware weighs it). Empty
    // without membership.
    const std::vector<double> &reported_load() const { return reported_; }
    const std::vector<double> &extra_load() const { return extra_; }
    // The last recompute's decision per client network (title group g).
    const std::vector<Assignment> &assignments(std::size_t g = 0) const {
        static const std::vector<Assignment> none;
        return g < assign_.size() ? assign_[g] : none;
    }

    // HTTP steering (redirects, DASH content steering) wants, per client
    // network, its best clusters with their scores: recompute() keeps them
    // once asked (first title group; the chosen cluster first).
    void keep_rankings(bool on) { keep_rank_ = on; }
    // The map for the HTTP side; `self` is this appliance's cluster (-1: none).
    http::SteerMap http_map(int32_t self) const;

    // Text for the admin socket.
    std::string clusters_text() const;
    // now_s: for the measurements' ages (< 0: the last recompute's time).
    std::string why(std::string_view address, double now_s = -1) const;

  private:
    void fold_measurements();
    std::string measurements_text(int32_t client, double now_s) const;
    void apply_members();  // base_clusters_ + members_ -> model_.clusters, holds_, placed_
    void build_holds();
    std::vector<uint32_t> live_members(int32_t cluster) const;
    Model model_;
    World world_;
    std::unique_ptr<Policy> policy_;
    Measurements measurements_;
    CandidateGrid grid_;
    MeasuredView measured_;
    // Title groups: 0 is "no title"; content-aware adds one per title.
    std::vector<std::string> group_titles_;
    std::vector<uint32_t> group_of_name_;
    std::vector<std::vector<uint8_t>> holds_;      // per group, per cluster
    std::vector<std::vector<Assignment>> assign_;  // per group, per client
    std::vector<double> load_;
    std::vector<double> reported_, extra_;  // membership: per cluster, Gbit/s
    dns::SteerMap map_;
    bool keep_rank_ = false;
    std::vector<http::ClientRanking> rank_;  // per client, when keep_rank_
    RecomputeStats stats_;
    double last_now_ = 0;
    bool membership_ = false;
    std::vector<Member> members_;       // sorted by (cluster, name)
    std::vector<Cluster> base_clusters_;  // the file's, before membership
    std::vector<std::vector<Placed>> placed_;  // [group][cluster], content policy only
};

}  // namespace ep::cluster

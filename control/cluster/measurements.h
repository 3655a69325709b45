// Passive measurements, per (cluster, client /24 or /48): the ingest API
// cluster selection is fed through. Every appliance's TCP stack measures RTT
// and retransmissions per connection; what arrives here is an aggregate over
// some connections of one client block seen by one cluster (or one
// connection's figures, samples = 1). Kept as a time-decayed mean: each
// sample's weight halves every half-life, so a changed path shows within a
// few of them and one odd connection moves little; a block measured by no
// one for max_age is forgotten and the policies fall back to geography.
//
// Sources: what this appliance measured itself (source 0: its TCP stacks'
// rings, control/cluster/passive_feed.h, and `edgectl call measure`) and
// what other appliances publish through etcd (one source per member, named,
// control/cluster/measurement_share.h). A member's entries are replaced as a
// whole on every read of its record (replace_source), never added to what
// it said before, so a figure is not counted twice.
// The active probes (control/probe_control.h) feed source 0 too.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "control/cluster/model.h"

namespace ep::cluster {

struct Measured {
    float rtt_ms = 0;
    float loss_pct = 0;
    float weight = 0;  // decayed sample count
    double updated_s = 0;
    uint16_t source = 0;  // kLocal, or a member (Measurements::source_name)
};

class Measurements {
  public:
    static constexpr uint16_t kLocal = 0;
    Measurements(double half_life_s = 300, double max_age_s = 3600)
        : half_life_s_(half_life_s), max_age_s_(max_age_s) {}
    void configure(double half_life_s, double max_age_s) {
        half_life_s_ = half_life_s;
        max_age_s_ = max_age_s;
    }
    // RTT and loss that `cluster` saw from clients at `addr` (an address or
    // a prefix; kept per /24 or /48), over `samples` connections.
    void add(uint16_t cluster, const Prefix &addr, float rtt_ms, float loss_pct, uint32_t samples,
             double now_s);
    // Another appliance's view (source != kLocal): its aggregate for
    // (cluster, block) as it published it, age_s old then.
    struct Shared {
        uint16_t cluster;
        Prefix block;
        float rtt_ms, loss_pct, weight;
        double age_s;
    };
    // Drops every entry of `source` and puts `entries` instead.
    void replace_source(uint16_t source, const std::vector<Shared> &entries, double now_s);
    // The id of a member's source (made on first use; never kLocal).
    uint16_t source_id(const std::string &member);
    // "" for kLocal or an unknown id.
    const std::string &source_name(uint16_t id) const;
    // Every member source that has entries.
    std::vector<uint16_t> sources() const;
    // This appliance's own aggregates of `cluster`, the `k` of highest
    // decayed weight at now_s, heaviest first (what it publishes).
    std::vector<Shared> top_local(uint16_t cluster, std::size_t k, double now_s) const;
    // The weight of m decayed to now_s.
    double weight_at(const Measured &m, double now_s) const;

    // Forgets what is older than max_age.
    void expire(double now_s);
    // Every aggregate: its block (/24 or /48), cluster and values.
    void for_each(const std::function<void(const Prefix &, uint16_t, const Measured &)> &fn) const;
    // The aggregate of (cluster, the block of addr), or nullptr.
    const Measured *find(uint16_t cluster, const Prefix &addr) const;
    std::size_t size() const { return map_.size(); }
    void clear() { map_.clear(); }
    // The block an address is aggregated in.
    static Prefix block_of(const Prefix &addr);

  private:
    struct Key {
        uint64_t hi, lo;
        uint16_t cluster;
        uint8_t family;
        uint16_t source;
        bool operator==(const Key &o) const {
            return hi == o.hi && lo == o.lo && cluster == o.cluster && family == o.family &&
                   source == o.source;
        }
    };
    struct KeyHash {
        std::size_t operator()(const Key &k) const {
            return static_cast<std::size_t>((k.hi * 0x9E3779B97F4A7C15ull) ^ k.lo ^
                                            (uint64_t{k.cluster} << 48) ^ k.family ^
                                            (uint64_t{k.source} << 32));
        }
    };
    static Key key_of(uint16_t cluster, const Prefix &block, uint16_t source);
    std::vector<std::string> source_names_{""};  // [kLocal] =
    double half_life_s_, max_age_s_;
    std::unordered_map<Key, Measured, KeyHash> map_;
};

}  // namespace ep::cluster

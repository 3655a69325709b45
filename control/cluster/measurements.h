// Passive measurements, per (cluster, client /24 or /48): the ingest API
// cluster selection is fed through. Every appliance's TCP stack measures RTT
// and retransmissions per connection; what arrives here is an aggregate over
// some connections of one client block seen by one cluster (or one
// connection's figures, samples = 1). Kept as a time-decayed mean: each
// sample's weight halves every half-life, so a changed path shows within a
// few of them and one odd connection moves little; a block measured by no
// one for max_age is forgotten and the policies fall back to geography.
//
// Fed by `edgectl call measure` and the active probes
// (control/probe_control.h). Not here yet (issue 16): the per-lcore rings
// that carry the TCP stacks' figures to the control thread.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>

#include "control/cluster/model.h"

namespace ep::cluster {

struct Measured {
    float rtt_ms = 0;
    float loss_pct = 0;
    float weight = 0;  // decayed sample count
    double updated_s = 0;
};

class Measurements {
  public:
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
        bool operator==(const Key &o) const {
            return hi == o.hi && lo == o.lo && cluster == o.cluster && family == o.family;
        }
    };
    struct KeyHash {
        std::size_t operator()(const Key &k) const {
            return static_cast<std::size_t>((k.hi * 0x9E3779B97F4A7C15ull) ^ k.lo ^
                                            (uint64_t{k.cluster} << 48) ^ k.family);
        }
    };
    double half_life_s_, max_age_s_;
    std::unordered_map<Key, Measured, KeyHash> map_;
};

}  // namespace ep::cluster

// TinyLFU admission in front of a policy that can name its next victim.
//
// Every access is counted in a count-min sketch with aging. On a miss that
// needs room, the candidate is admitted only if the sketch has seen it more
// often than the victim it would displace; otherwise it is not cached at all.
// Inner must provide bool victim_key(uint64_t *key). For SIEVE,
// asking for the victim moves the hand (clearing visited bits) even when the
// candidate is then rejected, as a real eviction scan would.
#pragma once

#include <algorithm>

#include "cache/count_min.h"
#include "cache/node_list.h"
#include "cache/policy.h"

namespace ep::cache {

template <class Inner>
class TinyLfu final : public Policy {
  public:
    template <class... A>
    TinyLfu(const PolicyConfig &cfg, uint64_t sketch_width, A &&...inner_args)
        : Policy(cfg), inner_(cfg, std::forward<A>(inner_args)...), sketch_(sketch_width) {}

    using Policy::access;
    bool access(const Request &req) override {
        sketch_.increment(req.key);
        if (inner_.contains(req.key)) return inner_.access(req);
        if (inner_.used_bytes() + req.size > cfg_.capacity_bytes && inner_.objects() > 0) {
            uint64_t v;
            if (inner_.victim_key(&v) && sketch_.estimate(req.key) <= sketch_.estimate(v)) {
                ++stats_.rejected;
                return false;
            }
        }
        return inner_.access(req);
    }

    // The same test as access(), with this access counted as access() would
    // count it (count-min: the estimate after one more increment is the
    // estimate plus one, saturation aside).
    bool would_admit(const Request &req) override {
        if (inner_.contains(req.key)) return true;
        if (inner_.used_bytes() + req.size > cfg_.capacity_bytes && inner_.objects() > 0) {
            uint64_t v;
            if (inner_.victim_key(&v) && sketch_.estimate(req.key) + 1u <= sketch_.estimate(v))
                return false;
        }
        return true;
    }
    bool contains(uint64_t key) const override { return inner_.contains(key); }
    bool erase(uint64_t key) override { return inner_.erase(key); }
    uint64_t evict_to(uint64_t target_bytes) override { return inner_.evict_to(target_bytes); }
    void prefetch(uint64_t key) const override { inner_.prefetch(key); }
    std::string name() const override { return "tinylfu+" + inner_.name(); }
    uint64_t used_bytes() const override { return inner_.used_bytes(); }
    uint64_t objects() const override { return inner_.objects(); }
    void set_handler(EvictionHandler *h) override { inner_.set_handler(h); }
    PolicyStats stats() const override {
        PolicyStats s = inner_.stats();
        s.rejected += stats_.rejected;
        return s;
    }

  private:
    Inner inner_;
    CountMinSketch sketch_;
};

}  // namespace ep::cache

// SIEVE (NSDI'24): a FIFO queue with a visited bit and a moving hand.
#pragma once

#include "cache/flat_map.h"
#include "cache/node_list.h"
#include "cache/policy.h"

namespace ep::cache {

class Sieve final : public Policy {
  public:
    explicit Sieve(const PolicyConfig &cfg) : Policy(cfg), map_(table_hint(cfg, 2)) {}

    using Policy::access;
    bool access(const Request &req) override;
    bool contains(uint64_t key) const override { return map_.find(key) != FlatMap::kNone; }
    bool erase(uint64_t key) override;
    uint64_t evict_to(uint64_t target_bytes) override;
    void prefetch(uint64_t key) const override { map_.prefetch(key); }
    std::string name() const override { return "sieve"; }
    uint64_t used_bytes() const override { return list_.bytes(); }
    uint64_t objects() const override { return list_.count(); }

    bool evict_one();
    // Advances the hand past visited objects and returns the next victim.
    uint32_t victim();
    // The next victim's key, for admission filters; false when empty.
    bool victim_key(uint64_t *key) {
        if (list_.empty()) return false;
        *key = pool_[victim()].key;
        return true;
    }
    const Node &node(uint32_t i) const { return pool_[i]; }

  private:
    void remove(uint32_t i);

    FlatMap map_;
    NodePool pool_;
    NodeList list_;
    uint32_t hand_ = kNil;  // walks from tail towards head, then wraps
};

}  // namespace ep::cache

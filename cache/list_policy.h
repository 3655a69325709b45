// LRU and FIFO, weighted by object size.
#pragma once

#include "cache/flat_map.h"
#include "cache/node_list.h"
#include "cache/policy.h"

namespace ep::cache {

// FIFO is LRU without the move-to-head on a hit, so one class serves both.
class ListPolicy final : public Policy {
  public:
    ListPolicy(const PolicyConfig &cfg, bool promote_on_hit);

    using Policy::access;
    bool access(const Request &req) override;
    bool contains(uint64_t key) const override { return map_.find(key) != FlatMap::kNone; }
    bool erase(uint64_t key) override;
    uint64_t evict_to(uint64_t target_bytes) override;
    void prefetch(uint64_t key) const override { map_.prefetch(key); }
    std::string name() const override { return promote_ ? "lru" : "fifo"; }
    uint64_t used_bytes() const override { return list_.bytes(); }
    uint64_t objects() const override { return list_.count(); }

    bool evict_one();
    // The next victim's key, for admission filters; false when empty.
    bool victim_key(uint64_t *key) {
        if (list_.empty()) return false;
        *key = pool_[list_.tail()].key;
        return true;
    }
    const Node &node(uint32_t i) const { return pool_[i]; }

  private:
    const bool promote_;
    FlatMap map_;
    NodePool pool_;
    NodeList list_;
};

}  // namespace ep::cache

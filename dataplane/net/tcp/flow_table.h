// Flow table: 4-tuple -> connection index. Open addressing with linear probing
// and backward-shift deletion, keys stored inline, fixed capacity chosen at init.
// (rte_hash would be the DPDK choice; this engine stays DPDK-free.)
#pragma once

#include <cstdint>

#include "dataplane/net/tcp/addr.h"

namespace ep::tcp {

class FlowTable {
  public:
    static constexpr uint32_t kNone = UINT32_MAX;

    struct Slot {
        FlowKey key;
        uint32_t hash;
        uint32_t value;  // kNone: empty
    };

    // capacity: power of two, >= 2x the entries it will hold.
    void init(Slot *storage, uint32_t capacity, uint64_t seed);
    uint32_t hash(const FlowKey &k) const;

    uint32_t find(const FlowKey &k) const { return find(k, hash(k)); }
    uint32_t find(const FlowKey &k, uint32_t h) const;
    bool insert(const FlowKey &k, uint32_t value);  // false if full or present
    bool erase(const FlowKey &k);
    uint32_t size() const { return size_; }

  private:
    Slot *slots_ = nullptr;
    uint32_t mask_ = 0;
    uint32_t size_ = 0;
    uint64_t seed_ = 0;
};

}  // namespace ep::tcp

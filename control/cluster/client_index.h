// Longest-prefix match from an address (or a prefix) to the client network
// that contains it, on the control thread (`edgectl why`, folding
// measurements into networks). A hash table per prefix length, tried from
// the longest length present down: at most 33 or 129 probes, usually a few.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "control/cluster/model.h"

namespace ep::cluster {

class ClientIndex {
  public:
    void build(const std::vector<ClientNet> &clients);
    // The longest client network containing p (its length <= p.len), or -1.
    int32_t find(const Prefix &p) const;

  private:
    struct Key {
        uint64_t hi, lo;
        bool operator==(const Key &o) const { return hi == o.hi && lo == o.lo; }
    };
    struct KeyHash {
        std::size_t operator()(const Key &k) const {
            return static_cast<std::size_t>((k.hi * 0x9E3779B97F4A7C15ull) ^ (k.lo + (k.lo >> 29)));
        }
    };
    static Key key_of(const Prefix &p);
    std::unordered_map<Key, uint32_t, KeyHash> by_len_[2][129];
    std::vector<uint8_t> lengths_[2];  // present, longest first
};

}  // namespace ep::cluster

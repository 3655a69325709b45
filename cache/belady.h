// Offline policies that read each request's next access time.
//
// Belady (MIN): evict the resident object whose next access is furthest in
// the future; objects never requested again have next access = infinity and
// go first. Exact optimum for unit sizes. Kept in an indexed max-heap.
//
// BeladySize: for variable sizes, evict the object with the largest
// (next access distance x size) among a random sample of residents, never-
// requested-again objects first. A heuristic upper bound on the best
// achievable byte-weighted policy, not a proven bound (the exact
// variable-size problem is NP-hard; see docs/cache.md).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "cache/flat_map.h"
#include "cache/policy.h"

namespace ep::cache {

class Belady final : public Policy {
  public:
    explicit Belady(const PolicyConfig &cfg) : Policy(cfg) {}

    using Policy::access;
    bool access(const Request &req) override;
    bool contains(uint64_t key) const override { return map_.find(key) != FlatMap::kNone; }
    bool erase(uint64_t key) override;
    uint64_t evict_to(uint64_t target_bytes) override;
    std::string name() const override { return "belady"; }
    uint64_t used_bytes() const override { return used_; }
    uint64_t objects() const override { return heap_.size(); }

    bool evict_one();

  private:
    struct Obj {
        uint64_t key;
        int64_t next;
        uint32_t size;
        uint32_t pos;  // index in heap_
    };

    void sift_up(uint32_t pos);
    void sift_down(uint32_t pos);
    void swap_pos(uint32_t a, uint32_t b);
    void remove_at(uint32_t pos);

    FlatMap map_;
    std::vector<Obj> objs_;  // slot storage, reused via free_
    std::vector<uint32_t> free_;
    std::vector<uint32_t> heap_;  // max-heap of slots by next
    uint64_t used_ = 0;
};

class BeladySize final : public Policy {
  public:
    explicit BeladySize(const PolicyConfig &cfg, uint32_t samples = 64)
        : Policy(cfg), samples_(samples) {}

    using Policy::access;
    bool access(const Request &req) override;
    bool contains(uint64_t key) const override { return map_.find(key) != FlatMap::kNone; }
    bool erase(uint64_t key) override;
    uint64_t evict_to(uint64_t target_bytes) override;
    std::string name() const override { return "belady-size"; }
    uint64_t used_bytes() const override { return used_; }
    uint64_t objects() const override { return objs_.size(); }

    bool evict_one();

  private:
    struct Obj {
        uint64_t key;
        int64_t next;
        uint32_t size;
    };
    void remove_at(uint32_t pos);

    uint32_t samples_;
    int64_t now_ = -1;  // index of the current request
    FlatMap map_;       // key -> index in objs_ (dense, swap-removed)
    std::vector<Obj> objs_;
    uint64_t used_ = 0;
    std::vector<uint64_t> dead_;  // keys hit for the last time (lazy)
    std::mt19937_64 rng_{42};
};

}  // namespace ep::cache

// S3-FIFO (SOSP'23): small FIFO + main FIFO with a 2-bit CLOCK counter +
// ghost FIFO of keys, all weighted by bytes. The decisions follow
// libCacheSim's S3FIFO.c step by step so the simulator lands on its figures.
//
// Layout, for speed: one hash table holds every key the policy knows,
// resident or ghost, with its metadata (size, counter, queue, position) in
// the slot; the three queues are rings of bare keys. A hit touches one
// prefetched slot; a ghost check is the same lookup; evicting into the ghost
// rewrites the slot in place.
//
// Optional extension: a TinyLFU count-min sketch that remembers far longer
// than the ghost; a miss on a key it has seen more than `sketch_admit` times
// goes straight to main, like a ghost hit (see docs/cache.md for results).
#pragma once

#include <memory>
#include <string>

#include "cache/count_min.h"
#include "cache/flat_table.h"
#include "cache/key_ring.h"
#include "cache/policy.h"

namespace ep::cache {

struct S3FifoOptions {
    double small_ratio = 0.1;    // small FIFO share of capacity
    double ghost_ratio = 0.9;    // ghost bytes relative to capacity
    uint8_t move_threshold = 2;  // hits in small needed to move to main
    uint32_t sketch_admit = 0;   // 0: off; else sketch estimate that admits to main
    uint64_t sketch_width = 0;   // counters per row
    std::string name = "s3fifo";
};

class S3Fifo final : public Policy {
  public:
    S3Fifo(const PolicyConfig &cfg, const S3FifoOptions &opt = {});

    using Policy::access;
    bool access(const Request &req) override;
    bool contains(uint64_t key) const override;
    bool erase(uint64_t key) override;
    uint64_t evict_to(uint64_t target_bytes) override;
    void prefetch(uint64_t key) const override { table_.prefetch(key); }
    std::string name() const override { return opt_.name; }
    uint64_t used_bytes() const override { return small_bytes_ + main_bytes_; }
    uint64_t objects() const override { return objects_; }

    bool evict_one();
    // The key the next eviction would examine first (small or main tail), for
    // admission filters; false when empty or the tail entry is stale.
    bool victim_key(uint64_t *key);
    uint64_t small_bytes() const { return small_bytes_; }
    uint64_t main_bytes() const { return main_bytes_; }
    uint64_t ghost_bytes() const { return ghost_bytes_; }

  private:
    enum : uint8_t { kSmall = 0, kMain = 1, kGhost = 2 };
    struct Meta {
        uint32_t size;
        uint32_t pos;  // absolute position of the live entry in its ring
        uint8_t freq;
        uint8_t queue;
    };

    bool admit(uint64_t key, uint32_t size, uint8_t queue, Meta *m);
    bool evict_small();
    bool evict_main();
    // Pops a ring's tail; returns the key's Meta if the entry is live.
    Meta *pop_live(KeyRing &ring, uint8_t queue, uint64_t *key);
    void to_ghost(uint64_t key, Meta *m);

    S3FifoOptions opt_;
    uint64_t small_cap_;
    uint64_t main_cap_;
    uint64_t ghost_cap_;
    FlatTable<Meta> table_;
    KeyRing small_, main_, ghost_;
    uint64_t small_bytes_ = 0, main_bytes_ = 0, ghost_bytes_ = 0;
    uint64_t objects_ = 0;
    std::unique_ptr<CountMinSketch> sketch_;
};

}  // namespace ep::cache

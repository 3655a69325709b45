// S3-FIFO (SOSP'23): small FIFO + main FIFO with a 2-bit CLOCK counter +
// ghost FIFO of keys, all weighted by bytes. The structure follows
// libCacheSim's S3FIFO.c so the simulator lands on its figures.
//
// Optional extension (used by the "default" policy, see docs/cache.md): a
// TinyLFU count-min sketch that remembers far longer than the ghost. A miss on
// a key the sketch has seen often enough goes straight to main, the way a
// ghost hit does.
#pragma once

#include <memory>

#include "cache/count_min.h"
#include "cache/flat_map.h"
#include "cache/ghost_fifo.h"
#include "cache/node_list.h"
#include "cache/policy.h"

namespace ep::cache {

struct S3FifoOptions {
    double small_ratio = 0.1;    // small FIFO share of capacity
    double ghost_ratio = 0.9;    // ghost bytes relative to capacity
    uint8_t move_threshold = 2;  // hits in small needed to move to main
    uint32_t sketch_admit = 0;   // 0: off; else sketch estimate that admits to main
    uint64_t sketch_width = 0;   // counters per row (0: derived from capacity)
    std::string name = "s3fifo";
};

class S3Fifo final : public Policy {
  public:
    S3Fifo(const PolicyConfig &cfg, const S3FifoOptions &opt = {});

    using Policy::access;
    bool access(const Request &req) override;
    bool contains(uint64_t key) const override { return map_.find(key) != FlatMap::kNone; }
    bool erase(uint64_t key) override;
    uint64_t evict_to(uint64_t target_bytes) override;
    void prefetch(uint64_t key) const override { map_.prefetch(key); }
    std::string name() const override { return opt_.name; }
    uint64_t used_bytes() const override { return small_.bytes() + main_.bytes(); }
    uint64_t objects() const override { return small_.count() + main_.count(); }

    bool evict_one();
    uint64_t small_bytes() const { return small_.bytes(); }
    uint64_t main_bytes() const { return main_.bytes(); }
    uint64_t ghost_bytes() const { return ghost_.bytes(); }

  private:
    enum : uint8_t { kSmall = 0, kMain = 1 };

    bool evict_small();
    bool evict_main();
    void remove(uint32_t i);

    S3FifoOptions opt_;
    uint64_t small_cap_;
    uint64_t main_cap_;
    FlatMap map_;
    NodePool pool_;
    NodeList small_;
    NodeList main_;
    GhostFifo ghost_;
    std::unique_ptr<CountMinSketch> sketch_;
};

}  // namespace ep::cache

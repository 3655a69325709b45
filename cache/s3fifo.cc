#include "cache/s3fifo.h"

#include <algorithm>

#include "cache/evict_loop.h"

namespace ep::cache {

S3Fifo::S3Fifo(const PolicyConfig &cfg, const S3FifoOptions &opt)
    : Policy(cfg),
      opt_(opt),
      small_cap_(static_cast<uint64_t>(cfg.capacity_bytes * opt.small_ratio)),
      main_cap_(cfg.capacity_bytes - small_cap_),
      ghost_(static_cast<uint64_t>(cfg.capacity_bytes * opt.ghost_ratio)) {
    if (opt_.sketch_admit > 0)
        sketch_ = std::make_unique<CountMinSketch>(std::max<uint64_t>(opt_.sketch_width, 1024));
}

bool S3Fifo::access(const Request &req) {
    uint32_t i = map_.find(req.key);
    if (sketch_) {
        uint32_t est = sketch_->increment(req.key);
        if (i == FlatMap::kNone && est > opt_.sketch_admit) {
            // Seen often within the sketch's window: behave like a ghost hit.
            ghost_.remove(req.key);
            goto admit_main;
        }
    }
    if (i != FlatMap::kNone) {
        // libCacheSim counts without bound and clamps to 3 on reinsertion;
        // saturating at 15 gives the same decisions.
        Node &n = pool_[i];
        if (n.freq < 15) ++n.freq;
        return true;
    }
    if (ghost_.remove(req.key)) goto admit_main;
    // Objects bigger than the small FIFO could never earn their way out.
    if (req.size > small_cap_ ||
        (cfg_.auto_evict && !make_room(*this, cfg_.capacity_bytes, req.size))) {
        ++stats_.rejected;
        return false;
    }
    i = pool_.alloc(req.key, req.size);
    pool_[i].queue = kSmall;
    small_.push_head(pool_, i);
    map_.put(req.key, i);
    return false;

admit_main:
    if (cfg_.auto_evict && !make_room(*this, cfg_.capacity_bytes, req.size)) {
        ++stats_.rejected;
        return false;
    }
    i = pool_.alloc(req.key, req.size);
    pool_[i].queue = kMain;
    main_.push_head(pool_, i);
    map_.put(req.key, i);
    return false;
}

bool S3Fifo::evict_one() {
    if (main_.bytes() > main_cap_ || small_.empty()) return evict_main();
    return evict_small();
}

// Walks the small FIFO's tail: objects hit often enough move to main (and
// the walk goes on), the first cold one is evicted into the ghost.
bool S3Fifo::evict_small() {
    while (!small_.empty()) {
        uint32_t i = small_.tail();
        Node &n = pool_[i];
        if (n.freq >= opt_.move_threshold) {
            small_.unlink(pool_, i);
            n.freq = 0;  // libCacheSim creates a fresh main object
            n.queue = kMain;
            main_.push_head(pool_, i);
            continue;
        }
        if (!may_evict(n.key, n.size)) {
            small_.move_to_head(pool_, i);
            return false;
        }
        ghost_.insert(n.key, n.size);
        remove(i);
        return true;
    }
    return true;  // everything moved to main: progress, not a refusal
}

// CLOCK over the main FIFO: a non-zero counter buys another lap, one less.
bool S3Fifo::evict_main() {
    while (!main_.empty()) {
        uint32_t i = main_.tail();
        Node &n = pool_[i];
        if (n.freq >= 1) {
            n.freq = static_cast<uint8_t>(std::min<uint8_t>(n.freq, 3) - 1);
            main_.move_to_head(pool_, i);
            continue;
        }
        if (!may_evict(n.key, n.size)) {
            main_.move_to_head(pool_, i);
            return false;
        }
        remove(i);
        return true;
    }
    return true;
}

void S3Fifo::remove(uint32_t i) {
    Node &n = pool_[i];
    (n.queue == kSmall ? small_ : main_).unlink(pool_, i);
    map_.erase(n.key);
    pool_.release(i);
}

bool S3Fifo::erase(uint64_t key) {
    uint32_t i = map_.find(key);
    if (i == FlatMap::kNone) return false;
    remove(i);
    return true;
}

uint64_t S3Fifo::evict_to(uint64_t target_bytes) {
    return evict_loop(*this, target_bytes);
}

}  // namespace ep::cache

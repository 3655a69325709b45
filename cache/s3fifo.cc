#include "cache/s3fifo.h"

#include <algorithm>

#include "cache/evict_loop.h"

namespace ep::cache {

S3Fifo::S3Fifo(const PolicyConfig &cfg, const S3FifoOptions &opt)
    : Policy(cfg),
      opt_(opt),
      small_cap_(static_cast<uint64_t>(cfg.capacity_bytes * opt.small_ratio)),
      main_cap_(cfg.capacity_bytes - small_cap_),
      ghost_cap_(static_cast<uint64_t>(cfg.capacity_bytes * opt.ghost_ratio)),
      // Residents plus ghosts (~1.9x objects), a quarter full.
      table_(table_hint(cfg, 4)) {
    if (opt_.sketch_admit > 0)
        sketch_ = std::make_unique<CountMinSketch>(std::max<uint64_t>(opt_.sketch_width, 1024));
}

bool S3Fifo::contains(uint64_t key) const {
    const Meta *m = table_.find(key);
    return m != nullptr && m->queue != kGhost;
}

bool S3Fifo::access(const Request &req) {
    Meta *m = table_.find(req.key);
    bool often = sketch_ && sketch_->increment(req.key) > opt_.sketch_admit;
    if (m != nullptr && m->queue != kGhost) {
        // libCacheSim counts without bound and clamps to 3 on reinsertion;
        // saturating at 15 gives the same decisions.
        if (m->freq < 15) ++m->freq;
        return true;
    }
    if (m != nullptr) {
        // Ghost hit: libCacheSim drops it from the ghost and admits to main.
        // The slot is reused in place; its ghost ring entry turns stale.
        ghost_bytes_ -= m->size;
        m->queue = kMain;  // admit() below sets the rest
        often = true;
    } else if (!often && req.size > small_cap_) {
        // Objects bigger than the small FIFO could never earn their way out.
        ++stats_.rejected;
        return false;
    }
    if (cfg_.auto_evict && used_bytes() + req.size > cfg_.capacity_bytes) {
        // Evicting erases other slots, and backward-shift erase may move
        // this one: drop it now and insert afresh after making room.
        if (m != nullptr) table_.erase_found(m);
        if (!make_room(*this, cfg_.capacity_bytes, req.size)) {
            ++stats_.rejected;
            return false;
        }
        m = nullptr;
    }
    if (m == nullptr) m = table_.insert(req.key);
    admit(req.key, req.size, often ? kMain : kSmall, m);
    return false;
}

bool S3Fifo::admit(uint64_t key, uint32_t size, uint8_t queue, Meta *m) {
    m->size = size;
    m->freq = 0;
    m->queue = queue;
    if (queue == kSmall) {
        m->pos = small_.push(key);
        small_bytes_ += size;
    } else {
        m->pos = main_.push(key);
        main_bytes_ += size;
    }
    ++objects_;
    return true;
}

S3Fifo::Meta *S3Fifo::pop_live(KeyRing &ring, uint8_t queue, uint64_t *key) {
    while (!ring.empty()) {
        uint32_t pos = ring.tail_pos();
        // The slots of the next few victims are random accesses; start them now.
        table_.prefetch(ring.peek(4));
        *key = ring.pop();
        Meta *m = table_.find(*key);
        if (m != nullptr && m->queue == queue && m->pos == pos) return m;
    }
    return nullptr;
}

bool S3Fifo::victim_key(uint64_t *key) {
    const bool from_main = main_bytes_ > main_cap_ || small_bytes_ == 0;
    KeyRing &ring = from_main ? main_ : small_;
    if (ring.empty()) return false;
    uint32_t pos = ring.tail_pos();
    *key = ring.at(pos);
    const Meta *m = table_.find(*key);
    return m != nullptr && m->queue == (from_main ? kMain : kSmall) && m->pos == pos;
}

bool S3Fifo::evict_one() {
    if (main_bytes_ > main_cap_ || small_bytes_ == 0) return evict_main();
    return evict_small();
}

// Walks the small FIFO's tail: objects hit often enough move to main (and
// the walk goes on), the first cold one is evicted into the ghost.
bool S3Fifo::evict_small() {
    uint64_t key;
    while (Meta *m = pop_live(small_, kSmall, &key)) {
        if (m->freq >= opt_.move_threshold) {
            small_bytes_ -= m->size;
            main_bytes_ += m->size;
            m->freq = 0;  // libCacheSim creates a fresh main object
            m->queue = kMain;
            m->pos = main_.push(key);
            continue;
        }
        if (!may_evict(key, m->size)) {
            m->pos = small_.push(key);  // pinned: back of the queue
            return false;
        }
        small_bytes_ -= m->size;
        --objects_;
        to_ghost(key, m);
        return true;
    }
    return true;  // everything moved to main: progress, not a refusal
}

// CLOCK over the main FIFO: a non-zero counter buys another lap, one less.
bool S3Fifo::evict_main() {
    uint64_t key;
    while (Meta *m = pop_live(main_, kMain, &key)) {
        if (m->freq >= 1) {
            m->freq = static_cast<uint8_t>(std::min<uint8_t>(m->freq, 3) - 1);
            m->pos = main_.push(key);
            continue;
        }
        if (!may_evict(key, m->size)) {
            m->pos = main_.push(key);
            return false;
        }
        main_bytes_ -= m->size;
        --objects_;
        table_.erase_found(m);
        return true;
    }
    return true;
}

// The slot stays in the table, now as a ghost; the oldest ghosts go first
// (libCacheSim's ghost is a FIFO cache bounded in bytes).
void S3Fifo::to_ghost(uint64_t key, Meta *m) {
    uint32_t size = m->size;
    if (size > ghost_cap_) {
        table_.erase_found(m);
        return;
    }
    m->queue = kGhost;
    m->freq = 0;
    m->pos = ghost_.push(key);
    ghost_bytes_ += size;
    // m may move when erasing others (backward shift); do not touch it below.
    uint64_t old;
    while (ghost_bytes_ > ghost_cap_) {
        Meta *g = pop_live(ghost_, kGhost, &old);
        ghost_bytes_ -= g->size;
        table_.erase_found(g);
    }
}

bool S3Fifo::erase(uint64_t key) {
    Meta *m = table_.find(key);
    if (m == nullptr || m->queue == kGhost) return false;
    (m->queue == kSmall ? small_bytes_ : main_bytes_) -= m->size;
    --objects_;
    table_.erase_found(m);  // its ring entry turns stale
    return true;
}

uint64_t S3Fifo::evict_to(uint64_t target_bytes) {
    return evict_loop(*this, target_bytes);
}

}  // namespace ep::cache

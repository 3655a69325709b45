#include "cache/sieve.h"

#include "cache/evict_loop.h"

namespace ep::cache {

bool Sieve::access(const Request &req) {
    uint32_t i = map_.find(req.key);
    if (i != FlatMap::kNone) {
        pool_[i].freq = 1;
        return true;
    }
    return admit_at_head(*this, cfg_, stats_.rejected, map_, pool_, list_, req);
}

uint32_t Sieve::victim() {
    uint32_t i = hand_ == kNil ? list_.tail() : hand_;
    // Same walk as libCacheSim's Sieve_evict: clear visited bits on the way.
    while (pool_[i].freq > 0) {
        pool_[i].freq = 0;
        i = pool_[i].prev;
        if (i == kNil) i = list_.tail();
    }
    hand_ = i;
    return i;
}

bool Sieve::evict_one() {
    uint32_t i = victim();
    Node &n = pool_[i];
    if (!may_evict(n.key, n.size)) {
        // Pinned: leave it in place; the hand comes back after a full lap.
        hand_ = n.prev;
        return false;
    }
    remove(i);
    return true;
}

void Sieve::remove(uint32_t i) {
    if (hand_ == i) hand_ = pool_[i].prev;
    list_.unlink(pool_, i);
    map_.erase(pool_[i].key);
    pool_.release(i);
}

bool Sieve::erase(uint64_t key) {
    uint32_t i = map_.find(key);
    if (i == FlatMap::kNone) return false;
    remove(i);
    return true;
}

uint64_t Sieve::evict_to(uint64_t target_bytes) {
    return evict_loop(*this, target_bytes);
}

}  // namespace ep::cache

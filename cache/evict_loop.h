// The shared "evict down to a target" loop.
#pragma once

#include <cstdint>

#include "cache/policy.h"

namespace ep::cache {

// P::evict_one() evicts one victim and returns true, or returns false when the
// handler refused its victim (the policy has already moved it out of the way).
// Each resident object may be refused at most once per call, so a cache full
// of pinned objects ends the loop instead of spinning.
template <class P>
uint64_t evict_loop(P &p, uint64_t target_bytes) {
    const uint64_t before = p.used_bytes();
    const uint64_t max_refusals = p.objects();
    uint64_t refusals = 0;
    while (p.used_bytes() > target_bytes && p.objects() > 0) {
        if (!p.evict_one() && ++refusals > max_refusals) break;
    }
    return before - p.used_bytes();
}

// Room for a new object of `size` under auto_evict; false if it cannot fit at
// all (larger than the cache), in which case it is not admitted.
template <class P>
bool make_room(P &p, uint64_t capacity, uint32_t size) {
    if (size > capacity) return false;
    if (p.used_bytes() + size > capacity) evict_loop(p, capacity - size);
    return true;
}

// The miss path of the list policies (LRU, FIFO, SIEVE): make room when the
// policy evicts by itself, then insert at the list head. Counts a rejection
// when the object can never fit. Always a miss, so it returns false.
template <class P, class Map, class Pool, class List>
bool admit_at_head(P &p, const PolicyConfig &cfg, uint64_t &rejected, Map &map, Pool &pool, List &list,
                   const Request &req) {
    if (cfg.auto_evict && !make_room(p, cfg.capacity_bytes, req.size)) {
        ++rejected;
        return false;
    }
    const uint32_t i = pool.alloc(req.key, req.size);
    list.push_head(pool, i);
    map.put(req.key, i);
    return false;
}

}  // namespace ep::cache

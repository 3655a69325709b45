#include "cache/list_policy.h"

#include "cache/evict_loop.h"

namespace ep::cache {

ListPolicy::ListPolicy(const PolicyConfig &cfg, bool promote_on_hit)
    : Policy(cfg), promote_(promote_on_hit), map_(table_hint(cfg, 2)) {}

bool ListPolicy::access(const Request &req) {
    uint32_t i = map_.find(req.key);
    if (i != FlatMap::kNone) {
        if (promote_) list_.move_to_head(pool_, i);
        return true;
    }
    return admit_at_head(*this, cfg_, stats_.rejected, map_, pool_, list_, req);
}

bool ListPolicy::evict_one() {
    uint32_t i = list_.tail();
    Node &n = pool_[i];
    if (!may_evict(n.key, n.size)) {
        // Pinned: treat like a fresh insert so the rest of the queue goes first.
        list_.move_to_head(pool_, i);
        return false;
    }
    list_.unlink(pool_, i);
    map_.erase(n.key);
    pool_.release(i);
    return true;
}

bool ListPolicy::erase(uint64_t key) {
    uint32_t i = map_.find(key);
    if (i == FlatMap::kNone) return false;
    list_.unlink(pool_, i);
    map_.erase(key);
    pool_.release(i);
    return true;
}

uint64_t ListPolicy::evict_to(uint64_t target_bytes) {
    return evict_loop(*this, target_bytes);
}

}  // namespace ep::cache

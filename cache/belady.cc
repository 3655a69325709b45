#include "cache/belady.h"

#include "cache/evict_loop.h"

namespace ep::cache {

// libCacheSim's cache_get_base evicts to make room and then inserts, even
// when the new object's next use is further away than every resident's; we
// do the same so the figures match it to the last digit (REFERENCE.md).
bool Belady::access(const Request &req) {
    uint32_t s = map_.find(req.key);
    if (s != FlatMap::kNone) {
        objs_[s].next = req.next_access;
        uint32_t p = objs_[s].pos;
        sift_up(p);
        sift_down(objs_[s].pos);
        return true;
    }
    if (cfg_.auto_evict && !make_room(*this, cfg_.capacity_bytes, req.size)) {
        ++stats_.rejected;
        return false;
    }
    // Never requested again: caching it cannot produce a hit.
    if (req.next_access == kNeverAgain) {
        ++stats_.rejected;
        return false;
    }
    if (free_.empty()) {
        s = static_cast<uint32_t>(objs_.size());
        objs_.push_back({});
    } else {
        s = free_.back();
        free_.pop_back();
    }
    objs_[s] = Obj{req.key, req.next_access, req.size, static_cast<uint32_t>(heap_.size())};
    heap_.push_back(s);
    sift_up(objs_[s].pos);
    map_.put(req.key, s);
    used_ += req.size;
    return false;
}

bool Belady::evict_one() {
    uint32_t s = heap_[0];
    if (!may_evict(objs_[s].key, objs_[s].size)) return false;  // offline: pins are unusual
    remove_at(0);
    return true;
}

bool Belady::erase(uint64_t key) {
    uint32_t s = map_.find(key);
    if (s == FlatMap::kNone) return false;
    remove_at(objs_[s].pos);
    return true;
}

uint64_t Belady::evict_to(uint64_t target_bytes) {
    return evict_loop(*this, target_bytes);
}

void Belady::remove_at(uint32_t pos) {
    uint32_t s = heap_[pos];
    used_ -= objs_[s].size;
    map_.erase(objs_[s].key);
    free_.push_back(s);
    uint32_t last = static_cast<uint32_t>(heap_.size() - 1);
    if (pos != last) {
        swap_pos(pos, last);
        heap_.pop_back();
        sift_up(pos);
        sift_down(objs_[heap_[pos]].pos);
    } else {
        heap_.pop_back();
    }
}

void Belady::swap_pos(uint32_t a, uint32_t b) {
    std::swap(heap_[a], heap_[b]);
    objs_[heap_[a]].pos = a;
    objs_[heap_[b]].pos = b;
}

void Belady::sift_up(uint32_t pos) {
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (objs_[heap_[parent]].next >= objs_[heap_[pos]].next) break;
        swap_pos(pos, parent);
        pos = parent;
    }
}

void Belady::sift_down(uint32_t pos) {
    const uint32_t n = static_cast<uint32_t>(heap_.size());
    for (;;) {
        uint32_t l = 2 * pos + 1, r = l + 1, m = pos;
        if (l < n && objs_[heap_[l]].next > objs_[heap_[m]].next) m = l;
        if (r < n && objs_[heap_[r]].next > objs_[heap_[m]].next) m = r;
        if (m == pos) return;
        swap_pos(pos, m);
        pos = m;
    }
}

bool BeladySize::access(const Request &req) {
    ++now_;
    uint32_t s = map_.find(req.key);
    if (s != FlatMap::kNone) {
        Obj &o = objs_[s];
        o.next = req.next_access;
        if (o.next == kNeverAgain) dead_.push_back(o.key);
        return true;
    }
    if (req.next_access == kNeverAgain) {
        ++stats_.rejected;
        return false;
    }
    if (cfg_.auto_evict && !make_room(*this, cfg_.capacity_bytes, req.size)) {
        ++stats_.rejected;
        return false;
    }
    map_.put(req.key, static_cast<uint32_t>(objs_.size()));
    objs_.push_back(Obj{req.key, req.next_access, req.size});
    used_ += req.size;
    return false;
}

bool BeladySize::evict_one() {
    const uint32_t n = static_cast<uint32_t>(objs_.size());
    uint32_t best = 0;
    double best_score = -1;
    // A dead object (never requested again) is always the right victim. Once
    // dead an object is never accessed again, so a lazy stack of their keys
    // only needs a residency check.
    while (!dead_.empty()) {
        uint32_t s = map_.find(dead_.back());
        if (s == FlatMap::kNone) {
            dead_.pop_back();
            continue;
        }
        best = s;
        best_score = 0;
        break;
    }
    if (best_score < 0) {
        std::uniform_int_distribution<uint32_t> pick(0, n - 1);
        uint32_t k = n < samples_ ? n : samples_;
        for (uint32_t j = 0; j < k; ++j) {
            uint32_t i = n <= samples_ ? j : pick(rng_);
            double score = static_cast<double>(objs_[i].next - now_) * objs_[i].size;
            if (score > best_score) {
                best_score = score;
                best = i;
            }
        }
    }
    if (!may_evict(objs_[best].key, objs_[best].size)) return false;
    remove_at(best);
    return true;
}

void BeladySize::remove_at(uint32_t pos) {
    Obj &o = objs_[pos];
    used_ -= o.size;
    map_.erase(o.key);
    if (pos + 1 != objs_.size()) {
        objs_[pos] = objs_.back();
        map_.put(objs_[pos].key, pos);
    }
    objs_.pop_back();
}

bool BeladySize::erase(uint64_t key) {
    uint32_t s = map_.find(key);
    if (s == FlatMap::kNone) return false;
    remove_at(s);
    return true;
}

uint64_t BeladySize::evict_to(uint64_t target_bytes) {
    return evict_loop(*this, target_bytes);
}

}  // namespace ep::cache

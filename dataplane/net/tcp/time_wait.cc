#include "dataplane/net/tcp/time_wait.h"

namespace ep::tcp {

void TimeWaitTable::init(TimeWaitEntry *entries, uint32_t capacity, FlowTable::Slot *slots,
                         uint32_t slot_capacity, uint64_t seed) {
    e_ = entries;
    cap_ = capacity;
    head_ = count_ = live_ = 0;
    index_.init(slots, slot_capacity, seed);
}

bool TimeWaitTable::add(const TimeWaitEntry &e) {
    if (cap_ == 0) return false;
    bool evicted = false;
    // Drop dead entries at the head first, then the oldest live one if full.
    while (count_ && !e_[head_].live) {
        head_ = (head_ + 1) % cap_;
        --count_;
    }
    if (count_ == cap_) {
        TimeWaitEntry &old = e_[head_];
        index_.erase(old.key);
        old.live = false;
        --live_;
        head_ = (head_ + 1) % cap_;
        --count_;
        evicted = true;
    }
    uint32_t slot = (head_ + count_) % cap_;
    if (TimeWaitEntry *dup = find(e.key)) remove(dup);
    e_[slot] = e;
    e_[slot].live = true;
    index_.insert(e.key, slot);
    ++count_;
    ++live_;
    return evicted;
}

TimeWaitEntry *TimeWaitTable::find(const FlowKey &k) {
    if (live_ == 0) return nullptr;
    uint32_t v = index_.find(k);
    return v == FlowTable::kNone ? nullptr : &e_[v];
}

void TimeWaitTable::remove(TimeWaitEntry *e) {
    if (!e->live) return;
    index_.erase(e->key);
    e->live = false;
    --live_;
}

uint32_t TimeWaitTable::expire(uint64_t now_ns) {
    uint32_t n = 0;
    while (count_) {
        TimeWaitEntry &h = e_[head_];
        if (h.live) {
            if (h.expiry_ns > now_ns) break;
            index_.erase(h.key);
            h.live = false;
            --live_;
            ++n;
        }
        head_ = (head_ + 1) % cap_;
        --count_;
    }
    return n;
}

}  // namespace ep::tcp

#include "dataplane/net/tcp/flow_table.h"

#include <cstring>

namespace ep::tcp {

void FlowTable::init(Slot *storage, uint32_t capacity, uint64_t seed) {
    slots_ = storage;
    mask_ = capacity - 1;
    size_ = 0;
    seed_ = seed;
    for (uint32_t i = 0; i < capacity; ++i) slots_[i].value = kNone;
}

// Seeded multiply-xorshift over the 36-byte key: a few cycles, inlined, and
// keyed so that remote peers cannot aim collisions without knowing the seed.
uint32_t FlowTable::hash(const FlowKey &k) const {
    uint64_t w[5] = {};
    std::memcpy(w, &k, sizeof(k));
    uint64_t h = seed_;
    for (uint64_t x : w) {
        h = (h ^ x) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    h *= 0xbf58476d1ce4e5b9ull;
    return static_cast<uint32_t>(h >> 32);
}

uint32_t FlowTable::find(const FlowKey &k, uint32_t h) const {
    for (uint32_t i = h & mask_;; i = (i + 1) & mask_) {
        const Slot &s = slots_[i];
        if (s.value == kNone) return kNone;
        if (s.hash == h && s.key == k) return s.value;
    }
}

bool FlowTable::insert(const FlowKey &k, uint32_t value) {
    if (size_ + 1 > mask_) return false;  // keep at least one empty slot
    uint32_t h = hash(k);
    for (uint32_t i = h & mask_;; i = (i + 1) & mask_) {
        Slot &s = slots_[i];
        if (s.value == kNone) {
            s.key = k;
            s.hash = h;
            s.value = value;
            ++size_;
            return true;
        }
        if (s.hash == h && s.key == k) return false;
    }
}

bool FlowTable::erase(const FlowKey &k) {
    uint32_t h = hash(k);
    uint32_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
        if (slots_[i].value == kNone) return false;
        if (slots_[i].hash == h && slots_[i].key == k) break;
    }
    // Backward-shift deletion: move later entries of the probe run into the hole.
    uint32_t hole = i;
    for (uint32_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
        Slot &s = slots_[j];
        if (s.value == kNone) break;
        uint32_t home = s.hash & mask_;
        // s may move to `hole` if its home is not cyclically in (hole, j].
        bool in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!in_range) {
            slots_[hole] = s;
            hole = j;
        }
    }
    slots_[hole].value = kNone;
    --size_;
    return true;
}

}  // namespace ep::tcp

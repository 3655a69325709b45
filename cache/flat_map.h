// Open-addressing hash map from a 64-bit key to a 32-bit slot index.
//
// The policies keep their per-object state in flat node arrays; this map only
// finds the node. Linear probing keeps a lookup to one or two cache lines and
// backward-shift deletion avoids tombstones, so a long replay never degrades.
// Memory grows by doubling (amortised); steady state does no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ep::cache {

class FlatMap {
  public:
    static constexpr uint32_t kNone = 0xffffffffu;

    explicit FlatMap(size_t expected = 16) { rehash(capacity_for(expected)); }

    size_t size() const { return size_; }

    uint32_t find(uint64_t key) const {
        size_t i = home(key);
        for (;;) {
            const Slot &s = slots_[i];
            if (s.val == kNone) return kNone;
            if (s.key == key) return s.val;
            i = (i + 1) & mask_;
        }
    }

    // Inserts or overwrites.
    void put(uint64_t key, uint32_t val) {
        if ((size_ + 1) * 4 > slots_.size() * 3) rehash(slots_.size() * 2);
        size_t i = home(key);
        for (;;) {
            Slot &s = slots_[i];
            if (s.val == kNone) {
                s.key = key;
                s.val = val;
                ++size_;
                return;
            }
            if (s.key == key) {
                s.val = val;
                return;
            }
            i = (i + 1) & mask_;
        }
    }

    // Returns false when the key was absent.
    bool erase(uint64_t key) {
        size_t i = home(key);
        for (;;) {
            Slot &s = slots_[i];
            if (s.val == kNone) return false;
            if (s.key == key) break;
            i = (i + 1) & mask_;
        }
        // Backward-shift: pull later members of the probe run into the hole
        // unless doing so would move them before their home slot.
        size_t hole = i;
        size_t j = i;
        for (;;) {
            j = (j + 1) & mask_;
            Slot &s = slots_[j];
            if (s.val == kNone) break;
            size_t h = home(s.key);
            bool movable = ((j - h) & mask_) >= ((j - hole) & mask_);
            if (movable) {
                slots_[hole] = s;
                hole = j;
            }
        }
        slots_[hole].val = kNone;
        --size_;
        return true;
    }

    void prefetch(uint64_t key) const { __builtin_prefetch(&slots_[home(key)]); }

    void clear() {
        for (auto &s : slots_) s.val = kNone;
        size_ = 0;
    }

  private:
    struct Slot {
        uint64_t key;
        uint32_t val;
    };

    static size_t capacity_for(size_t n) {
        size_t c = 16;
        while (c * 3 < n * 4 + 4) c *= 2;
        return c;
    }

    // Fibonacci hashing: one multiply, and the top bits it keeps are well
    // mixed even for sequential keys (block numbers, segment indices).
    size_t home(uint64_t key) const { return (key * 0x9e3779b97f4a7c15ULL) >> shift_; }

    void rehash(size_t cap) {
        std::vector<Slot> old;
        old.swap(slots_);
        slots_.assign(cap, Slot{0, kNone});
        mask_ = cap - 1;
        shift_ = 64 - static_cast<unsigned>(__builtin_ctzll(cap));
        size_ = 0;
        for (const Slot &s : old)
            if (s.val != kNone) put(s.key, s.val);
    }

    std::vector<Slot> slots_;
    size_t mask_ = 0;
    unsigned shift_ = 64;
    size_t size_ = 0;
};

}  // namespace ep::cache

// Open-addressing hash table from a 64-bit key to a small value type.
//
// Linear probing keeps a lookup to one or two cache lines and backward-shift
// deletion avoids tombstones, so a long replay never degrades. Values live in
// the slot itself: a policy that keeps its per-object metadata here touches a
// single (prefetchable) cache line per hit. Memory grows by doubling
// (amortised); the steady state never allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ep::cache {

template <class V>
class FlatTable {
  public:
    explicit FlatTable(size_t expected = 16) { rehash(capacity_for(expected)); }

    size_t size() const { return size_; }

    V *find(uint64_t key) {
        size_t i = home(key);
        for (;;) {
            Slot &s = slots_[i];
            if (!s.used) return nullptr;
            if (s.key == key) return &s.val;
            i = (i + 1) & mask_;
        }
    }
    const V *find(uint64_t key) const { return const_cast<FlatTable *>(this)->find(key); }

    // Returns the value for key, value-initialised if it was absent. The
    // pointer is valid until the next insert or erase.
    V *insert(uint64_t key) {
        // At most half full: linear probing's miss cost grows as
        // 1/(1-load)^2, and most policy lookups on a miss are misses.
        if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
        size_t i = home(key);
        for (;;) {
            Slot &s = slots_[i];
            if (!s.used) {
                s.key = key;
                s.val = V{};
                s.used = true;
                ++size_;
                return &s.val;
            }
            if (s.key == key) return &s.val;
            i = (i + 1) & mask_;
        }
    }

    // Returns false when the key was absent.
    bool erase(uint64_t key) {
        size_t i = home(key);
        for (;;) {
            Slot &s = slots_[i];
            if (!s.used) return false;
            if (s.key == key) break;
            i = (i + 1) & mask_;
        }
        erase_slot(i);
        return true;
    }

    // Erases the entry whose value find() just returned, without probing again.
    void erase_found(V *val) {
        Slot *s = reinterpret_cast<Slot *>(reinterpret_cast<char *>(val) - offsetof(Slot, val));
        erase_slot(static_cast<size_t>(s - slots_.data()));
    }

    void prefetch(uint64_t key) const { __builtin_prefetch(&slots_[home(key)]); }

  private:
    void erase_slot(size_t i) {
        // Backward shift: pull later members of the probe run into the hole
        // unless that would move them before their home slot.
        size_t hole = i;
        size_t j = i;
        for (;;) {
            j = (j + 1) & mask_;
            Slot &s = slots_[j];
            if (!s.used) break;
            size_t h = home(s.key);
            if (((j - h) & mask_) >= ((j - hole) & mask_)) {
                slots_[hole] = s;
                hole = j;
            }
        }
        slots_[hole].used = false;
        --size_;
    }

    struct Slot {
        uint64_t key;
        V val;
        bool used;
    };

    static size_t capacity_for(size_t n) {
        size_t c = 16;
        while (c < n * 2 + 2) c *= 2;
        return c;
    }

    // Fibonacci hashing: one multiply, and the top bits it keeps are well
    // mixed even for sequential keys (block numbers, segment indices).
    size_t home(uint64_t key) const { return (key * 0x9e3779b97f4a7c15ULL) >> shift_; }

    void rehash(size_t cap) {
        std::vector<Slot> old;
        old.swap(slots_);
        slots_.assign(cap, Slot{0, V{}, false});
        mask_ = cap - 1;
        shift_ = 64 - static_cast<unsigned>(__builtin_ctzll(cap));
        size_ = 0;
        for (const Slot &s : old)
            if (s.used) *insert(s.key) = s.val;
    }

    std::vector<Slot> slots_;
    size_t mask_ = 0;
    unsigned shift_ = 64;
    size_t size_ = 0;
};

}  // namespace ep::cache

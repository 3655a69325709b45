// A byte-bounded FIFO of keys only (no data): S3-FIFO's ghost queue.
//
// Entries live in a power-of-two ring; the map points a key at its slot.
// Removing a key on a ghost hit just marks its slot dead, and dead slots are
// skipped when the ring's tail reaches them, so nothing is shifted.
#pragma once

#include <cstdint>
#include <vector>

#include "cache/flat_map.h"

namespace ep::cache {

class GhostFifo {
  public:
    explicit GhostFifo(uint64_t capacity_bytes) : cap_(capacity_bytes) { ring_.resize(16); }

    uint64_t bytes() const { return bytes_; }
    uint64_t count() const { return map_.size(); }
    bool contains(uint64_t key) const { return map_.find(key) != FlatMap::kNone; }

    // Remembers a key evicted from the cache, forgetting the oldest as needed.
    void insert(uint64_t key, uint32_t size) {
        if (size > cap_ || contains(key)) return;
        while (bytes_ + size > cap_) pop();
        if (head_ - tail_ == ring_.size()) grow();
        uint32_t slot = static_cast<uint32_t>(head_++ & (ring_.size() - 1));
        ring_[slot] = Entry{key, size, true};
        map_.put(key, slot);
        bytes_ += size;
    }

    // Returns true (and forgets the key) if it was remembered.
    bool remove(uint64_t key) {
        uint32_t slot = map_.find(key);
        if (slot == FlatMap::kNone) return false;
        ring_[slot].alive = false;
        bytes_ -= ring_[slot].size;
        map_.erase(key);
        return true;
    }

  private:
    struct Entry {
        uint64_t key;
        uint32_t size;
        bool alive;
    };

    void pop() {
        Entry &e = ring_[tail_++ & (ring_.size() - 1)];
        if (e.alive) {
            e.alive = false;
            bytes_ -= e.size;
            map_.erase(e.key);
        }
    }

    void grow() {
        std::vector<Entry> bigger(ring_.size() * 2);
        uint64_t n = 0;
        for (uint64_t s = tail_; s != head_; ++s) {
            const Entry &e = ring_[s & (ring_.size() - 1)];
            if (!e.alive) continue;
            bigger[n] = e;
            map_.put(e.key, static_cast<uint32_t>(n));
            ++n;
        }
        ring_.swap(bigger);
        tail_ = 0;
        head_ = n;
    }

    uint64_t cap_;
    uint64_t bytes_ = 0;
    std::vector<Entry> ring_;
    uint64_t head_ = 0;  // next slot to write (absolute count)
    uint64_t tail_ = 0;  // oldest slot (absolute count)
    FlatMap map_;
};

}  // namespace ep::cache

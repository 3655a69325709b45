// A growable FIFO ring of keys addressed by absolute position.
//
// S3-FIFO's three queues are rings of keys; an object's table slot records
// which ring and absolute position hold its live entry, so entries left
// behind (ghost hits, erases) are recognised as stale when popped instead of
// being searched for and removed. Growth keeps absolute positions unchanged.
#pragma once

#include <cstdint>
#include <vector>

namespace ep::cache {

class KeyRing {
  public:
    KeyRing() : ring_(64), mask_(63) {}

    bool empty() const { return head_ == tail_; }
    uint32_t tail_pos() const { return tail_; }
    uint64_t at(uint32_t pos) const { return ring_[pos & mask_]; }
    // Key at tail + ahead, or the tail key if the ring is shorter.
    uint64_t peek(uint32_t ahead) const {
        return ring_[(head_ - tail_ > ahead ? tail_ + ahead : tail_) & mask_];
    }

    uint32_t push(uint64_t key) {
        if (head_ - tail_ == ring_.size()) grow();
        ring_[head_ & mask_] = key;
        return head_++;
    }
    uint64_t pop() { return ring_[tail_++ & mask_]; }

  private:
    void grow() {
        std::vector<uint64_t> bigger(ring_.size() * 2);
        uint32_t m = static_cast<uint32_t>(bigger.size() - 1);
        for (uint32_t p = tail_; p != head_; ++p) bigger[p & m] = ring_[p & mask_];
        ring_.swap(bigger);
        mask_ = m;
    }

    std::vector<uint64_t> ring_;
    uint32_t mask_;
    uint32_t head_ = 0;  // absolute, wraps at 2^32 (rings stay far smaller)
    uint32_t tail_ = 0;
};

}  // namespace ep::cache

// Intrusive doubly-linked lists over a shared node array, addressed by index.
//
// LRU, FIFO, SIEVE and S3-FIFO all keep objects in one or more queues; nodes
// live in a vector with a free list so moving an object between queues or to
// the head is a few index writes and never allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ep::cache {

inline constexpr uint32_t kNil = 0xffffffffu;

struct Node {
    uint64_t key;
    uint32_t size;
    uint32_t prev;  // towards head (newer)
    uint32_t next;  // towards tail (older)
    uint8_t freq;   // policy-defined: visited bit, CLOCK counter
    uint8_t queue;  // policy-defined: which list holds the node
};

class NodePool {
  public:
    uint32_t alloc(uint64_t key, uint32_t size) {
        uint32_t i;
        if (free_ != kNil) {
            i = free_;
            free_ = nodes_[i].next;
        } else {
            i = static_cast<uint32_t>(nodes_.size());
            nodes_.push_back({});
        }
        nodes_[i] = Node{key, size, kNil, kNil, 0, 0};
        return i;
    }
    void release(uint32_t i) {
        nodes_[i].next = free_;
        free_ = i;
    }
    Node &operator[](uint32_t i) { return nodes_[i]; }
    const Node &operator[](uint32_t i) const { return nodes_[i]; }
    void reserve(size_t n) { nodes_.reserve(n); }

  private:
    std::vector<Node> nodes_;
    uint32_t free_ = kNil;
};

// Head is the newest end, tail the oldest (the FIFO/LRU victim end).
class NodeList {
  public:
    uint32_t head() const { return head_; }
    uint32_t tail() const { return tail_; }
    bool empty() const { return head_ == kNil; }
    uint64_t bytes() const { return bytes_; }
    uint64_t count() const { return count_; }

    void push_head(NodePool &p, uint32_t i) {
        Node &n = p[i];
        n.prev = kNil;
        n.next = head_;
        if (head_ != kNil) p[head_].prev = i;
        head_ = i;
        if (tail_ == kNil) tail_ = i;
        bytes_ += n.size;
        ++count_;
    }

    void unlink(NodePool &p, uint32_t i) {
        Node &n = p[i];
        if (n.prev != kNil)
            p[n.prev].next = n.next;
        else
            head_ = n.next;
        if (n.next != kNil)
            p[n.next].prev = n.prev;
        else
            tail_ = n.prev;
        bytes_ -= n.size;
        --count_;
    }

    void move_to_head(NodePool &p, uint32_t i) {
        if (head_ == i) return;
        unlink(p, i);
        push_head(p, i);
    }

  private:
    uint32_t head_ = kNil;
    uint32_t tail_ = kNil;
    uint64_t bytes_ = 0;
    uint64_t count_ = 0;
};

}  // namespace ep::cache

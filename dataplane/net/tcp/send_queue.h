// Per-connection send queue of references (zero-copy send path). Items are
// either external references pinned through ExtBufOps::ref, or small inline
// buffers from the stack's inline pool. Sequence space: the first byte of the
// head item is head_seq; segments are described as (item, offset, len) pieces
// built from the same items for the first transmission and every retransmission.
// A cumulative ACK releases (unrefs) the fully acknowledged items.
#pragma once

#include <cstdint>

#include "dataplane/net/tcp/segment.h"
#include "dataplane/net/tcp/send_item.h"
#include "dataplane/net/tcp/seq.h"

namespace ep::tcp {

class SendQueue {
  public:
    void init(SendItem *storage, uint32_t capacity, uint32_t byte_limit, Seq start) {
        items_ = storage;
        cap_ = capacity;
        byte_limit_ = byte_limit;
        head_ = count_ = 0;
        head_seq_ = start;
        bytes_ = 0;
        cursor_idx_ = 0;
        cursor_seq_ = start;
    }
    Seq head_seq() const { return head_seq_; }
    Seq end_seq() const { return head_seq_ + bytes_; }
    uint32_t bytes() const { return bytes_; }
    uint32_t count() const { return count_; }
    bool full() const { return count_ == cap_ || bytes_ >= byte_limit_; }
    uint32_t free_bytes() const { return bytes_ >= byte_limit_ ? 0 : byte_limit_ - bytes_; }
    uint32_t free_items() const { return cap_ - count_; }

    // Appends an item (caller already took the reference / filled the inline block).
    bool push(const SendItem &it);

    // Releases items fully below `una`; returns the released items through
    // release(item) (unref or inline-pool free). Partially acked head stays.
    template <typename F>
    void ack_to(Seq una, F &&release);

    // Fills seg pieces for [seq, seq+len); returns bytes described (may be less
    // than len when kMaxPieces is reached).
    uint32_t build(Seq seq, uint32_t len, SegmentOut &seg);

    // Releases everything (connection teardown).
    template <typename F>
    void clear(F &&release);

  private:
    SendItem &at(uint32_t i) { return items_[(head_ + i) % cap_]; }
    SendItem *items_ = nullptr;
    uint32_t cap_ = 0;
    uint32_t byte_limit_ = 0;
    uint32_t head_ = 0;
    uint32_t count_ = 0;
    Seq head_seq_ = 0;  // sequence number of items[head_].data[0]
    uint32_t bytes_ = 0;
    // Lookup cursor: item index (relative to head) and its first sequence number.
    uint32_t cursor_idx_ = 0;
    Seq cursor_seq_ = 0;
};

template <typename F>
void SendQueue::ack_to(Seq una, F &&release) {
    while (count_) {
        SendItem &h = items_[head_];
        if (seq_lt(una, head_seq_ + h.len)) break;
        head_seq_ += h.len;
        bytes_ -= h.len;
        release(h);
        head_ = (head_ + 1) % cap_;
        --count_;
        if (cursor_idx_) {
            --cursor_idx_;
        } else {
            cursor_seq_ = head_seq_;
        }
    }
}

template <typename F>
void SendQueue::clear(F &&release) {
    while (count_) {
        release(items_[head_]);
        head_seq_ += items_[head_].len;
        bytes_ -= items_[head_].len;
        head_ = (head_ + 1) % cap_;
        --count_;
    }
    cursor_idx_ = 0;
    cursor_seq_ = head_seq_;
}

}  // namespace ep::tcp

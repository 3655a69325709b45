// Receive buffer (RFC 9293 3.8.6.2, 3.10.7.4 "seventh, process the segment
// text"): a ring indexed by sequence number holding bytes the application has
// not consumed yet [read_seq, rcv_nxt) and out-of-order bytes above rcv_nxt.
// Out-of-order ranges are kept with their arrival order to build SACK blocks
// (RFC 2018 section 4: the first block reports the most recent segment).
#pragma once

#include <cstdint>

#include "dataplane/net/tcp/options.h"
#include "dataplane/net/tcp/seq.h"

namespace ep::tcp {

class RecvBuffer {
  public:
    static constexpr int kMaxOoo = 8;

    void init(uint8_t *storage, uint32_t capacity, Seq rcv_nxt) {
        buf_ = storage;
        cap_ = capacity;
        mask_ = capacity - 1;
        read_seq_ = rcv_nxt;
        rcv_nxt_ = rcv_nxt;
        nooo_ = 0;
        stamp_ = 0;
    }
    Seq rcv_nxt() const { return rcv_nxt_; }
    Seq read_seq() const { return read_seq_; }
    uint32_t capacity() const { return cap_; }
    uint32_t buffered() const { return rcv_nxt_ - read_seq_; }  // in order, unread
    // Free space for new in-order data (the receive window, RFC 9293 3.8.6.2.2).
    uint32_t space() const { return cap_ - buffered(); }
    bool has_ooo() const { return nooo_ != 0; }
    bool empty() const { return rcv_nxt_ == read_seq_ && nooo_ == 0; }

    // In-order data fast path: nothing buffered, segment starts at rcv_nxt.
    // The caller delivers the bytes in place and reports what the app took.
    bool can_deliver_direct(Seq s) const { return s == rcv_nxt_ && empty(); }
    // After direct delivery of [rcv_nxt, rcv_nxt+len) of which `consumed` were taken:
    // stores the rest and advances rcv_nxt.
    void accept_direct(const uint8_t *data, uint32_t len, uint32_t consumed);

    // Stores [s, s+len) (already clipped to [rcv_nxt, read_seq+capacity)).
    // Bytes an out-of-order range already holds keep their first copy.
    // Returns false if it was out of order and no OOO slot was free.
    // *advanced is set to the number of bytes rcv_nxt moved.
    bool insert(Seq s, const uint8_t *data, uint32_t len, uint32_t *advanced);

    // Contiguous readable bytes at read_seq (first part if the ring wraps).
    const uint8_t *peek(uint32_t *len) const;
    void consume(uint32_t n) { read_seq_ += n; }

    // Up to max SACK blocks, most recent first (RFC 2018 4).
    int sack_blocks(SackBlock *out, int max) const;

  private:
    void copy_in(Seq s, const uint8_t *data, uint32_t len);
    void copy_new(Seq s, const uint8_t *data, uint32_t len);
    struct Ooo {
        Seq start, end;
        uint32_t stamp;
    };
    uint8_t *buf_ = nullptr;
    uint32_t cap_ = 0;
    uint32_t mask_ = 0;
    Seq read_seq_ = 0;
    Seq rcv_nxt_ = 0;
    Ooo ooo_[kMaxOoo];
    int nooo_ = 0;
    uint32_t stamp_ = 0;
};

}  // namespace ep::tcp

#include "dataplane/net/tcp/send_queue.h"

namespace ep::tcp {

bool SendQueue::push(const SendItem &it) {
    if (count_ == cap_ || it.len == 0) return false;
    items_[(head_ + count_) % cap_] = it;
    ++count_;
    bytes_ += it.len;
    return true;
}

uint32_t SendQueue::build(Seq seq, uint32_t len, SegmentOut &seg) {
    // Find the item holding `seq`, starting at the cursor when it is not past seq.
    uint32_t idx = 0;
    Seq s0 = head_seq_;
    if (cursor_idx_ < count_ && seq_le(cursor_seq_, seq)) {
        idx = cursor_idx_;
        s0 = cursor_seq_;
    }
    while (idx < count_ && seq_ge(seq, s0 + at(idx).len)) {
        s0 += at(idx).len;
        ++idx;
    }
    cursor_idx_ = idx;
    cursor_seq_ = s0;
    uint32_t done = 0;
    seg.npieces = 0;
    while (done < len && idx < count_ && seg.npieces < kMaxPieces) {
        const SendItem &it = at(idx);
        uint32_t off = (seq + done) - s0;
        uint32_t n = it.len - off;
        if (n > len - done) n = len - done;
        PayloadPiece &p = seg.pieces[seg.npieces++];
        p.item = &it;
        p.data = it.data + off;
        p.offset = off;
        p.len = n;
        done += n;
        s0 += it.len;
        ++idx;
    }
    seg.payload_len = done;
    return done;
}

}  // namespace ep::tcp

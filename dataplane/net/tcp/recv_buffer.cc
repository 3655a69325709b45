#include "dataplane/net/tcp/recv_buffer.h"

#include <cstring>

namespace ep::tcp {

void RecvBuffer::copy_in(Seq s, const uint8_t *data, uint32_t len) {
    uint32_t off = s & mask_;
    uint32_t first = cap_ - off;
    if (first > len) first = len;
    std::memcpy(buf_ + off, data, first);
    if (len > first) std::memcpy(buf_, data + first, len - first);
}

// Copies only the parts of [s, s+len) no out-of-order range holds yet: for
// bytes not yet delivered the first copy received is kept, as Linux and the
// BSDs do (RFC 9293 3.10.7.4 leaves the choice open; RFC 793 3.9 only says
// to process the segment text). A later copy with other bytes cannot rewrite
// a request already partly queued.
void RecvBuffer::copy_new(Seq s, const uint8_t *data, uint32_t len) {
    const Seq e = s + len;
    Seq cur = s;
    while (seq_lt(cur, e)) {
        Seq gap_end = e;
        bool covered = false;
        for (int i = 0; i < nooo_; ++i) {
            if (seq_le(ooo_[i].start, cur) && seq_gt(ooo_[i].end, cur)) {
                cur = seq_min(ooo_[i].end, e);  // held already: skip
                covered = true;
                break;
            }
            if (seq_gt(ooo_[i].start, cur) && seq_lt(ooo_[i].start, gap_end))
                gap_end = ooo_[i].start;
        }
        if (covered) continue;
        copy_in(cur, data + (cur - s), gap_end - cur);
        cur = gap_end;
    }
}

void RecvBuffer::accept_direct(const uint8_t *data, uint32_t len, uint32_t consumed) {
    if (consumed > len) consumed = len;
    read_seq_ = rcv_nxt_ + consumed;
    if (consumed < len) copy_in(read_seq_, data + consumed, len - consumed);
    rcv_nxt_ += len;
}

bool RecvBuffer::insert(Seq s, const uint8_t *data, uint32_t len, uint32_t *advanced) {
    *advanced = 0;
    if (len == 0) return true;
    Seq e = s + len;
    if (seq_gt(s, rcv_nxt_)) {
        // Out of order: merge into the range list. The bytes go in first,
        // while the ranges still say what is held (bytes written outside any
        // range when no slot is free are not part of the buffer).
        copy_new(s, data, len);
        int first = -1;
        Seq ns = s, ne = e;
        for (int i = 0; i < nooo_; ++i) {
            if (seq_le(ooo_[i].start, ne) && seq_ge(ooo_[i].end, ns)) {
                ns = seq_min(ns, ooo_[i].start);
                ne = seq_max(ne, ooo_[i].end);
                if (first < 0) {
                    first = i;
                } else {
                    ooo_[i] = ooo_[--nooo_];  // absorbed
                    --i;
                }
            }
        }
        if (first < 0) {
            if (nooo_ == kMaxOoo) return false;
            first = nooo_++;
        }
        ooo_[first] = {ns, ne, ++stamp_};
        return true;
    }
    copy_new(s, data, len);
    Seq old = rcv_nxt_;
    rcv_nxt_ = seq_max(rcv_nxt_, e);
    // Pull in every OOO range that now touches rcv_nxt.
    bool again = true;
    while (again) {
        again = false;
        for (int i = 0; i < nooo_; ++i) {
            if (seq_le(ooo_[i].start, rcv_nxt_)) {
                rcv_nxt_ = seq_max(rcv_nxt_, ooo_[i].end);
                ooo_[i] = ooo_[--nooo_];
                again = true;
                break;
            }
        }
    }
    *advanced = rcv_nxt_ - old;
    return true;
}

const uint8_t *RecvBuffer::peek(uint32_t *len) const {
    uint32_t n = rcv_nxt_ - read_seq_;
    uint32_t off = read_seq_ & mask_;
    if (n > cap_ - off) n = cap_ - off;
    *len = n;
    return buf_ + off;
}

int RecvBuffer::sack_blocks(SackBlock *out, int max) const {
    int idx[kMaxOoo];
    for (int i = 0; i < nooo_; ++i) idx[i] = i;
    // Insertion sort by stamp, newest first.
    for (int i = 1; i < nooo_; ++i) {
        int v = idx[i], j = i;
        while (j > 0 && ooo_[idx[j - 1]].stamp < ooo_[v].stamp) {
            idx[j] = idx[j - 1];
            --j;
        }
        idx[j] = v;
    }
    int n = nooo_ < max ? nooo_ : max;
    for (int i = 0; i < n; ++i) out[i] = {ooo_[idx[i]].start, ooo_[idx[i]].end};
    return n;
}

}  // namespace ep::tcp

// Sender-side SACK scoreboard (RFC 2018 section 4, RFC 6675 sections 3-4):
// the SACKed ranges above SND.UNA, sorted and merged, plus the RFC 6675 loss
// and pipe predicates. Bounded: when more ranges arrive than fit, the highest
// range is dropped (conservative: that data is treated as not SACKed).
#pragma once

#include <cstdint>

#include "dataplane/net/tcp/seq.h"

namespace ep::tcp {

class SackScoreboard {
  public:
    static constexpr int kMaxRanges = 16;
    struct Range {
        Seq start, end;
    };

    void clear() {
        n_ = 0;
        sacked_bytes_ = 0;
        nx_ = 0;
    }
    bool empty() const { return n_ == 0; }
    int size() const { return n_; }
    const Range &range(int i) const { return r_[i]; }
    uint32_t sacked_bytes() const { return sacked_bytes_; }
    Seq high_sacked() const { return r_[n_ - 1].end; }  // requires !empty()

    // Records a SACK block; blocks outside (snd_una, snd_max] are ignored.
    // Returns true if it added newly SACKed bytes.
    bool add(Seq start, Seq end, Seq snd_una, Seq snd_max);
    // Drops everything below the new cumulative ACK.
    void ack_to(Seq snd_una);

    bool is_sacked(Seq s) const;
    // If s is SACKed, the end of its range, else s.
    Seq skip_sacked(Seq s) const;
    // Start of the first SACKed range above s, or `none` if there is none.
    Seq next_sacked(Seq s, Seq none) const;
    // SACKed bytes above seq.
    uint32_t sacked_above(Seq s) const;
    // RFC 6675 IsLost(SeqNum): at least dup_thresh discontiguous SACKed ranges
    // or more than (dup_thresh-1)*mss SACKed bytes above seq.
    bool is_lost(Seq s, uint32_t mss, int dup_thresh = 3) const;
    // The first hole byte >= from that is below the highest SACKed byte, and the
    // end of that hole. Returns false if there is none.
    bool next_hole(Seq from, Seq *hole_start, Seq *hole_end) const;
    // RFC 6675 SetPipe(): bytes in flight given [snd_una, snd_max) outstanding
    // and everything below high_rxt already retransmitted.
    uint32_t pipe(Seq snd_una, Seq snd_max, Seq high_rxt, uint32_t mss) const;

    // Retransmissions in flight (RFC 6675 NextSeg()/SetPipe() bookkeeping and
    // RFC 8985's "sent after" order): each retransmitted range remembers SND.MAX
    // when it was sent (`mark`: everything at or above was sent after it) and
    // the send time. A range leaves the list when cumulatively ACKed, fully
    // SACKed, or declared lost (then NextSeg() may send it again).
    static constexpr int kMaxRxt = 32;
    struct Rxt {
        Seq start, end, mark;
        uint32_t ts;  // send time in 1.024 us units, mod 2^32 (16-byte records)
    };
    int rxt_count() const { return nx_; }
    bool rxt_full() const { return nx_ == kMaxRxt; }
    // Records [start, end) retransmitted now with SND.MAX = mark (merged with
    // a contiguous previous record). False when the list is full.
    bool rxt_add(Seq start, Seq end, Seq mark, uint64_t now_ns);
    // If s is inside a live retransmission, its end, else s.
    Seq rxt_skip(Seq s) const;
    // Start of the first live retransmission above s, or `none`.
    Seq rxt_next(Seq s, Seq none) const;
    // Un-SACKed bytes of live retransmissions (each is in flight a second time).
    uint32_t rxt_bytes() const;
    // Drops records below snd_una or fully SACKed.
    void rxt_prune(Seq snd_una);
    // RFC 8985 6.2 in sequence terms: a retransmission is lost when more than
    // (dup_thresh-1)*mss bytes sent after it were SACKed. Returns how many
    // records were declared lost (removed).
    int rxt_detect_lost(uint32_t mss, int dup_thresh = 3);
    // RACK reordering timeout: records sent at or before `sent_before_ns` (one
    // RACK.rtt + reo_wnd ago, with ACKs arriving meanwhile) are lost.
    int rxt_expire(uint64_t sent_before_ns);
    void rxt_clear() { nx_ = 0; }
    // SetPipe() with the retransmission list: outstanding, minus SACKed, minus
    // lost holes (holes below lost_below count as lost too: RTO / RACK
    // timeout), plus retransmissions in flight.
    uint32_t pipe_rxt(Seq snd_una, Seq snd_max, Seq lost_below, uint32_t mss) const;

  private:
    void recount();
    void rxt_remove(int i);
    Rxt x_[kMaxRxt];
    int nx_ = 0;
    Range r_[kMaxRanges];
    int n_ = 0;
    uint32_t sacked_bytes_ = 0;
};

}  // namespace ep::tcp

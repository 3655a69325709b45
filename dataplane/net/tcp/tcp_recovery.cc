// Loss recovery: what the sender does once it suspects a loss, short of the
// RTO (tcp_timers.cc). RFC 6675 (SACK-based recovery: entry, NextSeg()),
// RFC 6582 (NewReno full and partial ACKs), RFC 6937 (Proportional Rate
// Reduction), RFC 8985 (RACK: lost retransmissions, reordering-timer expiry;
// TLP: the probe and its congestion response). Limited Transmit (RFC 3042)
// is part of the send loop (tcp_output.cc); arming the RACK and TLP timers
// is in tcp_timers.cc beside arm_rto().
//
// The callers test the cheap conditions (in recovery, a TLP episode open,
// new SACK information) before calling in here, so a lossless transfer runs
// none of this file.
#include "dataplane/net/tcp/stack.h"

namespace ep::tcp {

// Fast retransmit and recovery entry (RFC 6675 5 step 4, RFC 6582 3.2 step 2),
// also after a RACK reordering timeout.
void Stack::enter_recovery(Tcb *t, bool new_episode) {
    ++ctr_.fast_retransmits;
    t->in_recovery = true;
    t->tlp_episode = false;  // recovery's own reduction covers the probe
    t->high_rxt = t->snd_una;
    t->retx_una = true;
    t->rtt_timing = false;
    if (new_episode) {
        t->ccops->on_loss(t->cc, t->snd_max - t->snd_una, now_);
    } else {
        t->cc.ssthresh = t->cc.cwnd > 2 * t->mss ? t->cc.cwnd : 2 * t->mss;
    }
    t->recover = t->snd_max;
    t->prr_delivered = 0;
    t->prr_out = 0;
    t->recover_fs = t->snd_max - t->snd_una;
}

// Duplicate ACK (RFC 5681 2; with SACK, any ACK with new SACK information,
// RFC 6675 2): counted, and at DupThresh or when IsLost(SND.UNA) the fast
// retransmit enters recovery. Called for segments without data with ACK =
// SND.UNA.
void Stack::dup_ack(Tcb *t, const SegmentIn &s, uint32_t wnd, bool new_sack) {
    const bool dup = s.payload_len == 0 && !(s.flags & (kSyn | kFin)) && wnd == t->snd_wnd &&
                     t->snd_max != t->snd_una;
    if (!dup && !(new_sack && s.payload_len == 0)) return;
    ++ctr_.dup_acks;
    if (t->dupacks < 255) ++t->dupacks;
    // RFC 6582 3.2 step 2: not again for losses of the same window. With
    // SACK the duplicate ACKs name real holes, so SACK recovery may start
    // inside the window of an RTO; the window was already reduced then.
    const bool new_episode = seq_ge(t->snd_una, t->recover);
    if (!t->in_recovery && (new_episode || t->sack_ok) &&
        (t->dupacks >= 3 || (t->sack_ok && t->sb.is_lost(t->snd_una, t->mss)))) {
        // Fast retransmit, enter recovery (RFC 6675 5 step 4, RFC 6582 3.2 step 2).
        enter_recovery(t, new_episode);
        // The RACK reordering timer replaces a pending TLP (RFC 8985 6.3).
        arm_rack(t);
    }
}

// An ACK of new data during recovery: a full ACK (at or beyond RecoveryPoint)
// ends it (RFC 6582 3.2 step 3, RFC 6675 5); a partial ACK without SACK
// retransmits the next hole at once (RFC 6582 3.2 step 5).
void Stack::recovery_ack(Tcb *t, Seq ack) {
    if (seq_ge(ack, t->recover)) {
        t->in_recovery = false;
        t->dupacks = 0;
        t->ccops->on_recovery_exit(t->cc);
    } else if (!t->sack_ok) {
        t->retx_una = true;
        t->dupacks = 0;
    }
}

// Lost retransmissions (RFC 8985 6.2 in sequence terms): more than 2*SMSS
// sent after a retransmission were SACKed while it was not. It leaves the
// in-flight list, so NextSeg() sends it again instead of waiting for the RTO.
void Stack::rack_detect_lost(Tcb *t) {
    t->rack_fires = 0;
    t->sb.rxt_prune(t->snd_una);
    ctr_.lost_retransmits += static_cast<uint64_t>(t->sb.rxt_detect_lost(t->mss));
    if (t->snd_una != t->snd_max) arm_rack(t);
}

// Proportional Rate Reduction (RFC 6937 3), per ACK during recovery: cwnd
// follows the data the peer reports delivered instead of dropping to
// ssthresh at once.
void Stack::prr_ack(Tcb *t, Seq una_before, uint32_t sacked_before) {
    int64_t delivered = static_cast<int64_t>(t->snd_una - una_before) +
                        static_cast<int64_t>(t->sb.sacked_bytes()) - sacked_before;
    if (!t->sack_ok && t->snd_una == una_before) delivered = t->mss;  // a DupAck
    if (delivered < 0) delivered = 0;
    prr_update(t, static_cast<uint32_t>(delivered));
}

// RFC 6937 3: sndcnt from DeliveredData, then cwnd = pipe + sndcnt.
void Stack::prr_update(Tcb *t, uint32_t delivered) {
    t->prr_delivered += delivered;
    const uint64_t p = pipe(t);
    const uint64_t ssthresh = t->cc.ssthresh;
    int64_t sndcnt;
    if (p > ssthresh) {
        // Proportional part: CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out.
        uint64_t fs = t->recover_fs ? t->recover_fs : 1;
        sndcnt = static_cast<int64_t>((t->prr_delivered * ssthresh + fs - 1) / fs) -
                 static_cast<int64_t>(t->prr_out);
    } else {
        // Slow-start reduction bound (PRR-SSRB).
        int64_t limit = static_cast<int64_t>(t->prr_delivered) - static_cast<int64_t>(t->prr_out);
        if (limit < static_cast<int64_t>(delivered)) limit = delivered;
        limit += t->mss;
        sndcnt = static_cast<int64_t>(ssthresh - p);
        if (sndcnt > limit) sndcnt = limit;
    }
    if (sndcnt < 0) sndcnt = 0;
    t->cc.cwnd = static_cast<uint32_t>(p + static_cast<uint64_t>(sndcnt));
}

// The fast retransmission (RFC 6675 5 (4.3), RFC 6582 3.2 step 2 and the
// partial ACK of step 5): the segment at SND.UNA goes regardless of cwnd,
// cut short at the next SACKed byte, unless it is being retransmitted
// already or the in-flight list is full.
void Stack::retransmit_una(Tcb *t, Seq data_end) {
    if (seq_lt(t->snd_una, data_end) &&
        !(t->sack_ok && (t->sb.rxt_skip(t->snd_una) != t->snd_una || t->sb.rxt_full()))) {
        uint32_t len = data_end - t->snd_una;
        if (len > t->mss) len = t->mss;
        if (t->sack_ok) {
            Seq stop = t->sb.next_sacked(t->snd_una, data_end);
            if (seq_lt(stop, t->snd_una + len)) len = stop - t->snd_una;
        }
        len = emit(t, t->snd_una, kAck, len, true);
        t->retx_una = false;
        if (t->sack_ok && len) t->sb.rxt_add(t->snd_una, t->snd_una + len, t->snd_max, now_);
        t->high_rxt = seq_max(t->high_rxt, t->snd_una + len);
        ++ctr_.recovery_retransmits;
    }
    t->retx_una = false;
}

// NextSeg() (RFC 6675 5) over holes below the highest SACK: rule 1 (lost)
// when `lost_only`, rule 3 (any hole) otherwise; skips ranges being
// retransmitted. Sends one segment and returns true if there was one.
bool Stack::next_seg(Tcb *t, bool lost_only, Seq data_end) {
    Seq from = t->snd_una, hs, he;
    while (t->sb.next_hole(from, &hs, &he)) {
        if (lost_only && !seq_lt(hs, t->lost_below) && !t->sb.is_lost(hs, t->mss)) return false;
        if (seq_gt(he, data_end)) he = data_end;
        Seq s = hs;
        for (;;) {
            Seq n = t->sb.rxt_skip(s);
            if (n == s) break;
            s = n;
        }
        if (!seq_lt(s, he)) {
            from = seq_max(s, he);
            continue;
        }
        Seq e = t->sb.rxt_next(s, he);
        uint32_t len = e - s;
        if (len > t->mss) len = t->mss;
        len = emit(t, s, kAck, len, true);
        if (len == 0) return false;
        t->sb.rxt_add(s, s + len, t->snd_max, now_);
        t->high_rxt = seq_max(t->high_rxt, s + len);
        ++ctr_.recovery_retransmits;
        return true;
    }
    return false;
}

// RFC 8985 6.3: the reordering timer expired. Holes below the highest SACK are
// lost now, and so are retransmissions sent before now - RACK.rtt - reo_wnd
// that something sent later has overtaken. If that finds nothing, probe the
// tail (the RFC 8985 7.3 probe; recovery cannot end without an ACK for it).
void Stack::rack_expired(Tcb *t) {
    t->rtx_kind = RtxKind::kNone;
    t->rtx_deadline = 0;
    if (t->rack_fires < 255) ++t->rack_fires;
    if (t->snd_una == t->snd_max) return;
    ++ctr_.rack_timeouts;
    const uint64_t to = rack_timeout(t);
    int lost = t->sb.rxt_expire(now_ > to ? now_ - to : 0);
    ctr_.lost_retransmits += static_cast<uint64_t>(lost);
    bool more = lost > 0;
    if (!t->sb.empty() && seq_gt(t->sb.high_sacked(), t->lost_below)) {
        t->lost_below = t->sb.high_sacked();
        more = true;
    }
    if (!more) {
        tlp_expired(t);  // probes the last segment, arms the RTO
        return;
    }
    if (!t->in_recovery) enter_recovery(t, seq_ge(t->snd_una, t->recover));
    mark_dirty(t);  // output() retransmits, then arms the RTO and the next reordering timer
}

// RFC 8985 7.3: send one probe, the last segment again (new data would do too
// but may be blocked by the windows), then fall back to the RTO. (The probe
// timeout itself is chosen with the RTO, in arm_rto(), RFC 8985 7.2.)
void Stack::tlp_expired(Tcb *t) {
    t->rtx_kind = RtxKind::kNone;
    t->rtx_deadline = 0;
    if (t->snd_una == t->snd_max) return;
    ++ctr_.tlp_probes;
    if (t->tlp_out < 255) ++t->tlp_out;
    if (!t->tlp_episode) {  // RFC 8985 7.4.1
        t->tlp_episode = true;
        t->tlp_high = t->snd_max;
    }
    const bool fin_out = t->fin_queued && t->snd_max == t->sq.end_seq() + 1;
    const Seq data_end = fin_out ? t->sq.end_seq() : t->snd_max;
    uint32_t len = data_end - t->snd_una;
    if (len > t->mss) len = t->mss;
    uint8_t flags = kAck | (fin_out ? kFin : 0);
    emit(t, data_end - len, flags, len, true);
    arm_rto(t);
}

// RFC 8985 7.4.2: what the ACKs after a probe say. A D-SACK means the
// original and the probe both arrived: nothing was lost. An ACK beyond
// SND.MAX at the probe without one means a probe repaired a loss, which
// calls for the congestion response of a fast recovery, once. The decision
// waits for that ACK because the ACK of the probe itself may come before its
// D-SACK. A duplicate ACK at the probe's edge with neither ends the episode
// (a receiver that does not D-SACK).
void Stack::tlp_ack(Tcb *t, const SegmentIn &s, bool dsack, bool progress) {
    if (seq_lt(s.ack, t->tlp_high)) return;
    if (dsack) {
        t->tlp_episode = false;
    } else if (seq_gt(s.ack, t->tlp_high)) {
        t->tlp_episode = false;
        if (!t->in_recovery) {
            ++ctr_.tlp_loss_repairs;
            t->ccops->on_loss(t->cc, t->snd_max - t->snd_una, now_);
        }
    } else if (!progress) {
        t->tlp_episode = false;
    }
}

}  // namespace ep::tcp

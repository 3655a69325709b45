// Connection timers on one wheel node: retransmission (RFC 6298 5) or the
// tail-loss probe in its place (RFC 8985 7.2), persist (RFC 9293 3.8.6.1),
// delayed ACK (3.8.6.3), keepalive (3.8.4), orphaned FIN-WAIT-2, user timeout
// (3.8.3 R2), PMTU black-hole steps (RFC 4821), and arming the RACK reordering
// timer (RFC 8985 6.3). What the RACK and TLP timers do when they fire is in
// tcp_recovery.cc; arming stays here, beside arm_rto(), which runs on every
// ACK of new data (in another file arm_rack() would cost that path a call).
// The node sits at the earliest deadline; when a deadline moves later the
// node is left in place and fires early (cheap on the per-ACK path), then
// re-arms at the new earliest deadline.
#include "dataplane/net/tcp/stack.h"

namespace ep::tcp {

void Stack::arm(Tcb *t) {
    uint64_t d = 0;
    auto take = [&d](uint64_t v) {
        if (v && (!d || v < d)) d = v;
    };
    take(t->rtx_deadline);
    take(t->dack_deadline);
    take(t->fw2_deadline);
    if (cfg_.keepalive && t->state == State::kEstablished) {
        t->ka_deadline = t->last_rx_ns + cfg_.keepalive_idle_ns +
                         uint64_t{t->ka_sent} * cfg_.keepalive_interval_ns;
        take(t->ka_deadline);
    } else {
        t->ka_deadline = 0;
    }
    if (!d) return;  // a node left scheduled fires once and finds nothing to do
    if (t->timer.linked() && t->timer.expiry_tick <= wheel_.tick_of(d)) return;
    wheel_.schedule(&t->timer, d);
}

void Stack::arm_rto(Tcb *t) {
    t->rtx_kind = RtxKind::kRto;
    t->rtx_deadline = now_ + t->rtt.current_rto(cfg_.rto_max_ns);
    if (t->rtx_deadline < now_ + cfg_.rto_min_ns && t->rtt.has_sample)
        t->rtx_deadline = now_ + cfg_.rto_min_ns;
    // RFC 8985 7.2: a probe timeout before the RTO when a tail loss could
    // otherwise only be repaired by the RTO. Unlike the RFC (one probe), up to
    // cfg_.tlp_max_probes, each at twice the last PTO (see config.h).
    if (cfg_.tlp && t->sack_ok && !t->in_recovery && t->sb.empty() &&
        t->tlp_out < cfg_.tlp_max_probes && t->rtt.has_sample && t->rtt.backoff == 0 &&
        t->synchronized()) {
        uint64_t pto = 2 * t->rtt.srtt_ns;
        const bool delack = t->snd_max - t->snd_una <= t->mss;
        if (delack) pto += cfg_.delayed_ack_ns;
        if (pto < cfg_.tlp_min_ns) pto = cfg_.tlp_min_ns;
        pto <<= t->tlp_out;
        if (now_ + pto < t->rtx_deadline) {
            t->rtx_kind = RtxKind::kTlp;
            t->rtx_deadline = now_ + pto;
            t->tlp_delack = delack;
        }
    }
    clamp_to_user_timeout(t);
    arm_rack(t);
    arm(t);
}

// RFC 9293 3.8.3 R2 as a time bound: once a retransmission or a zero-window
// probe is unanswered, the connection goes user_timeout_ns later, not at the
// first expiry after that (which a 60 s backoff could put a minute past it;
// Linux's tcp_clamp_rto_to_user_timeout does the same).
void Stack::clamp_to_user_timeout(Tcb *t) {
    if (!cfg_.user_timeout_ns || !t->first_rtx_ns) return;
    uint64_t limit = t->first_rtx_ns + cfg_.user_timeout_ns;
    if (limit < now_) limit = now_;
    if (t->rtx_deadline > limit) t->rtx_deadline = limit;
}

// RFC 8985 6.3: with SACKed data above SND.UNA (in recovery or not yet), the
// reordering timer (RACK.rtt + RACK.reo_wnd) declares what is still missing
// lost instead of waiting for the RTO. Up to cfg_.rack_max_fires times without
// progress, the timeout doubling each time (a retransmission sent at the first
// expiry may be lost too); then the RTO. It only moves the deadline earlier.
void Stack::arm_rack(Tcb *t) {
    if (!t->in_recovery && t->sb.empty()) return;
    if (!cfg_.tlp || !t->sack_ok || t->rack_fires >= cfg_.rack_max_fires || !t->rtt.has_sample ||
        !t->synchronized())
        return;
    if (t->rtx_kind != RtxKind::kRto && t->rtx_kind != RtxKind::kTlp) return;
    uint64_t d = now_ + (rack_timeout(t) << t->rack_fires);
    if (d < t->rtx_deadline || t->rtx_kind == RtxKind::kTlp) {
        t->rtx_kind = RtxKind::kRack;
        t->rtx_deadline = d;
        arm(t);
    }
}

// RACK.rtt + RACK.reo_wnd (RFC 8985 6.2: reo_wnd = min RTT / 4, here SRTT / 4)
// plus two timer ticks of granularity.
uint64_t Stack::rack_timeout(const Tcb *t) const {
    return t->rtt.srtt_ns + t->rtt.srtt_ns / 4 + 2 * cfg_.tick_ns;
}

void Stack::arm_persist(Tcb *t) {
    uint64_t base = t->rtt.rto_ns > cfg_.persist_min_ns ? t->rtt.rto_ns : cfg_.persist_min_ns;
    uint64_t d = base << (t->persist_backoff < 12 ? t->persist_backoff : 12);
    if (d > cfg_.rto_max_ns) d = cfg_.rto_max_ns;
    t->rtx_kind = RtxKind::kPersist;
    t->rtx_deadline = now_ + d;
    clamp_to_user_timeout(t);
    arm(t);
}

void Stack::on_timer(Tcb *t) {
    if (!t->in_use || t->state == State::kClosed) return;
    if (t->rtx_deadline && now_ >= t->rtx_deadline) {
        if (t->rtx_kind == RtxKind::kPersist)
            persist_expired(t);
        else if (t->rtx_kind == RtxKind::kTlp)
            tlp_expired(t);
        else if (t->rtx_kind == RtxKind::kRack)
            rack_expired(t);
        else
            rto_expired(t);
        if (t->state == State::kClosed) return;
    }
    if (t->dack_deadline && now_ >= t->dack_deadline) {
        t->dack_deadline = 0;
        t->ack_now = true;
        ++ctr_.delayed_acks;
    }
    if (t->fw2_deadline && now_ >= t->fw2_deadline) {
        ++ctr_.fin_wait2_timeouts;
        release(t, CloseReason::kTimeout, true);
        return;
    }
    if (t->ka_deadline && now_ >= t->ka_deadline) {
        keepalive_expired(t);
        if (t->state == State::kClosed) return;
    }
    mark_dirty(t);
    arm(t);
}

// RFC 6298 5.4-5.7: retransmit the earliest unacknowledged segment, back off,
// restart; RFC 5681 3.1 eq. 4 for ssthresh; RFC 6582 4 sets recover = highest sent.
void Stack::rto_expired(Tcb *t) {
    t->rtx_kind = RtxKind::kNone;
    t->rtx_deadline = 0;
    if (t->state == State::kSynSent || t->state == State::kSynRcvd) {
        if (++t->retries > cfg_.syn_retries) {
            ++ctr_.syn_timeouts;
            release(t, CloseReason::kTimeout, !(t->passive && t->state == State::kSynRcvd));
            return;
        }
        if (t->rtt.backoff < 30) ++t->rtt.backoff;
        t->rtt_start_ns = 0;
        send_syn(t);
        return;
    }
    if (t->snd_una == t->snd_max) return;
    ++ctr_.rto_fires;
    if (!t->first_rtx_ns) t->first_rtx_ns = now_;
    if (++t->retries > cfg_.max_retries ||
        (cfg_.user_timeout_ns && now_ - t->first_rtx_ns >= cfg_.user_timeout_ns)) {
        ++ctr_.user_timeouts;
        release(t, CloseReason::kTimeout, true);
        return;
    }
    const uint32_t flight = t->snd_max - t->snd_una;
    // PMTU black hole (RFC 4821 / RFC 8899 style; Linux's tcp_mtu_probing =
    // 1): full-size segments keep timing out and no ICMP came (filtered on
    // the way). From the pmtu_blackhole_rtos-th consecutive RTO, each RTO
    // lowers the MSS one step, 1024 then 536, while the segment at SND.UNA is
    // larger than the step: a small segment cannot be the MTU's victim.
    if (cfg_.pmtu_blackhole_rtos && t->retries >= cfg_.pmtu_blackhole_rtos) {
        const uint32_t opt = t->ts_ok ? 12 : 0;
        const uint32_t head = flight < t->mss ? flight : t->mss;
        const uint32_t step = t->mss + opt > kBlackholeMss1 ? kBlackholeMss1 : kBlackholeMss2;
        if (head + opt > step && lower_mss(t, step)) ++ctr_.pmtu_blackhole;
    }
    if (t->retries == 1) {
        t->ccops->on_rto(t->cc, flight);  // ssthresh only on the first expiry
    } else {
        t->cc.cwnd = t->mss;
    }
    t->in_recovery = false;
    t->retx_una = false;
    t->dupacks = 0;
    t->tlp_episode = false;  // the RTO's own response covers it
    // Go back to SND.UNA, everything not SACKed is lost, retransmissions in
    // flight too. The SACKed data is not sent again (RFC 6675 5.1) unless the
    // timer expires again: then the receiver may have reneged (RFC 2018 8).
    t->sb.rxt_clear();
    if (t->retries > 1) t->sb.clear();
    t->lost_below = t->snd_max;
    t->recover = t->snd_max;
    t->high_rxt = t->snd_una;
    t->snd_nxt = t->snd_una;  // go back N
    t->rtt_timing = false;    // Karn
    if (t->rtt.backoff < 30) ++t->rtt.backoff;
    mark_dirty(t);  // output() retransmits and re-arms with the backed-off RTO
}

// Zero-window probing (RFC 9293 3.8.6.1). RFC 1122 4.2.2.17 keeps the
// connection open only while the peer acknowledges the probes: any acceptable
// segment from it (conn_input) clears the count, even with the window still
// zero. A probe that goes unanswered counts like an unanswered retransmission
// towards R2 (3.8.3): max_retries of them, or user_timeout_ns since the first,
// and the connection is dropped (user_timeouts).
void Stack::persist_expired(Tcb *t) {
    t->rtx_kind = RtxKind::kNone;
    t->rtx_deadline = 0;
    if (t->snd_wnd != 0 || !seq_lt(t->snd_nxt, t->sq.end_seq())) return;
    if (t->retries > 0 &&
        (t->retries >= cfg_.max_retries ||
         (cfg_.user_timeout_ns && now_ - t->first_rtx_ns >= cfg_.user_timeout_ns))) {
        ++ctr_.user_timeouts;
        release(t, CloseReason::kTimeout, true);
        return;
    }
    // Zero-window probe: an old sequence number forces the peer to ACK with its
    // current window (the Linux form of the RFC 9293 3.8.6.1 probe).
    ++ctr_.persist_probes;
    if (t->retries == 0) t->first_rtx_ns = now_;
    ++t->retries;
    emit(t, t->snd_una - 1, kAck, 0, false);
    if (t->persist_backoff < 12) ++t->persist_backoff;
    arm_persist(t);
}

void Stack::keepalive_expired(Tcb *t) {
    if (t->ka_sent >= cfg_.keepalive_probes) {
        ++ctr_.keepalive_timeouts;
        release(t, CloseReason::kKeepalive, true);
        return;
    }
    ++t->ka_sent;
    ++ctr_.keepalive_probes;
    emit(t, t->snd_una - 1, kAck, 0, false);
}

}  // namespace ep::tcp

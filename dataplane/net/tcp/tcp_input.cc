// Segment arrival, RFC 9293 section 3.10.7, state by state (3.10.7.4 as one
// function per step), with RFC 5961 (blind RST/SYN/data injection defenses),
// RFC 7323 (PAWS, TS.Recent), RFC 2018 (SACK blocks into the scoreboard),
// RFC 6298 (RTT samples, timer restart), RFC 4987 (SYN cookies), RFC 1191 /
// RFC 5927 (ICMP fragmentation needed). What an ACK means for loss recovery
// (RFC 6675, 6582, 6937, 8985) is in tcp_recovery.cc.
#include "dataplane/net/tcp/stack.h"

namespace ep::tcp {

namespace {
uint32_t initial_window(uint32_t mss, uint32_t segments) {
    // RFC 6928 section 2: min(10*MSS, max(2*MSS, 14600)), generalised to N segments.
    uint32_t cap = segments * 1460;
    if (cap < 2 * mss) cap = 2 * mss;
    uint32_t w = segments * mss;
    return w < cap ? w : cap;
}
}  // namespace

// 3.10.7.1 CLOSED: no connection and no listener.
void Stack::closed_input(const SegmentIn &s) {
    if (s.flags & kRst) return;
    ++ctr_.no_listener;
    send_rst_for(s);
}

// 3.10.7.2 LISTEN.
void Stack::listen_input(Listener *l, const FlowKey &k, const SegmentIn &s) {
    if (s.flags & kRst) return;  // first: ignore an incoming RST
    if (s.flags & kAck) {        // second: ACK -> RST <SEQ=SEG.ACK>, unless a valid cookie
        if (!(s.flags & kSyn) && cookie_ack(l, k, s)) return;
        send_rst_for(s);
        return;
    }
    if (!(s.flags & kSyn) || (s.flags & kFin)) {  // fourth: other text or control
        ++ctr_.bad_flags;
        return;
    }
    // third: SYN
    if (l->syn_rcvd >= l->backlog) {
        ++ctr_.syn_queue_full;
        if (!cfg_.syn_cookies) {
            ++ctr_.backlog_drop;
            return;
        }
        uint16_t peer_mss = s.opts.has_mss ? s.opts.mss : 536;
        uint8_t idx = SynCookies::mss_index(peer_mss < cfg_.mss ? peer_mss : cfg_.mss);
        uint32_t cookie = cookies_.make(k, s.seq, idx, now_);
        l->cookies_used = true;
        l->last_cookie_ns = now_;
        send_cookie_synack(k, s, cookie, cfg_.mss);
        return;
    }
    Tcb *t = alloc_tcb(k);
    if (!t) return;  // counted as conn_limit
    t->passive = true;
    t->listener = static_cast<uint16_t>(l - listeners_.get());
    t->handler = l->handler;
    ++l->syn_rcvd;
    set_state(t, State::kSynRcvd);
    negotiate(t, s.opts, true);
    setup_rcv(t, s.seq);
    setup_snd(t, make_iss(k));
    t->snd_wnd = s.window;  // never scaled in a SYN (RFC 7323 2.2)
    t->max_snd_wnd = t->snd_wnd;
    t->snd_wl1 = s.seq;
    t->snd_wl2 = t->iss;
    t->ccops->init(t->cc, t->mss, initial_window(t->mss, cfg_.initial_window_segments));
    // Data in the SYN is not queued; the peer retransmits it (3.10.7.2 allows both).
    send_syn(t);
}

// RFC 4987 3.6: the final ACK of a stateless handshake carries the cookie.
bool Stack::cookie_ack(Listener *l, const FlowKey &k, const SegmentIn &s) {
    if (!cfg_.syn_cookies || !l->cookies_used ||
        now_ - l->last_cookie_ns > 2 * SynCookies::kPeriodNs)
        return false;
    uint8_t idx = 0;
    Seq peer_isn = s.seq - 1;
    Seq cookie = s.ack - 1;
    if (!cookies_.check(k, peer_isn, cookie, now_, &idx)) {
        ++ctr_.syncookies_invalid;
        return false;
    }
    Tcb *t = alloc_tcb(k);
    if (!t) return true;
    ++ctr_.syncookies_valid;
    TcpOptions o;
    o.has_mss = true;
    o.mss = SynCookies::kMssTable[idx];
    if (cfg_.timestamps && s.opts.has_ts) {
        // Options we agreed to ride in the low bits of the TSval we sent.
        uint32_t bits = s.opts.ts_ecr & SynCookies::kTsOptMask;
        o.has_ts = true;
        o.ts_val = s.opts.ts_val;
        if ((bits & 0xf) != 0xf) {
            o.has_wscale = true;
            o.wscale = static_cast<uint8_t>(bits & 0xf);
        }
        o.sack_permitted = (bits & 0x10) != 0;
    }
    t->passive = true;
    t->listener = static_cast<uint16_t>(l - listeners_.get());
    t->handler = l->handler;
    ++l->syn_rcvd;
    set_state(t, State::kSynRcvd);
    t->ts_offset = 0;  // the cookie SYN-ACK used the bare clock
    negotiate(t, o, true);
    setup_rcv(t, peer_isn);
    setup_snd(t, cookie);
    t->snd_nxt = t->snd_max = cookie + 1;
    t->snd_wl1 = peer_isn;
    t->ccops->init(t->cc, t->mss, initial_window(t->mss, cfg_.initial_window_segments));
    conn_input(t, s);
    if (t->state != State::kClosed) mark_dirty(t);
    return true;
}

// 3.10.7.3 SYN-SENT.
void Stack::syn_sent_input(Tcb *t, const SegmentIn &s) {
    if (s.flags & kAck) {
        if (seq_le(s.ack, t->iss) || seq_gt(s.ack, t->snd_max)) {
            ++ctr_.ack_too_new;
            send_rst_for(s);  // <SEQ=SEG.ACK><CTL=RST> unless RST
            return;
        }
    }
    if (s.flags & kRst) {
        if (s.flags & kAck) {
            ++ctr_.rst_rx;
            release(t, CloseReason::kRefused, true);  // "error: connection reset"
        }
        return;
    }
    if (!(s.flags & kSyn)) {
        ++ctr_.bad_flags;
        return;
    }
    negotiate(t, s.opts, false);
    setup_rcv(t, s.seq);
    t->ccops->init(t->cc, t->mss, initial_window(t->mss, cfg_.initial_window_segments));
    if (s.flags & kAck) {
        // RTT of the handshake: timestamps, or Karn (no SYN retransmission).
        if (t->ts_ok && s.opts.ts_ecr) {
            uint32_t ms = ts_clock(t->ts_offset) - s.opts.ts_ecr;
            t->rtt.sample(uint64_t{ms} * 1'000'000, cfg_.tick_ns, cfg_.rto_min_ns, cfg_.rto_max_ns);
        } else if (t->retries == 0 && t->rtt_start_ns) {
            t->rtt.sample(now_ - t->rtt_start_ns, cfg_.tick_ns, cfg_.rto_min_ns, cfg_.rto_max_ns);
        } else {
            t->rtt.backoff = 0;
        }
        t->snd_una = s.ack;
        t->snd_wnd = s.window;  // not scaled in a SYN-ACK (RFC 7323 2.2)
        t->max_snd_wnd = t->snd_wnd;
        t->snd_wl1 = s.seq;
        t->snd_wl2 = s.ack;
        t->rtx_kind = RtxKind::kNone;
        t->rtx_deadline = 0;
        t->retries = 0;
        set_state(t, State::kEstablished);
        t->ack_now = true;
        conn_established(t);
        if (t->state == State::kClosed) return;
        if (s.payload_len) data_input(t, s, s.seq + 1, s.payload, s.payload_len);
        if (t->state != State::kClosed && (s.flags & kFin) &&
            t->rcv.rcv_nxt() == s.seq + 1 + s.payload_len)
            fin_input(t);
        return;
    }
    // Simultaneous open: SYN-SENT -> SYN-RECEIVED, send SYN,ACK <SEQ=ISS><ACK=RCV.NXT>.
    ++ctr_.simultaneous_open;
    set_state(t, State::kSynRcvd);
    t->snd_wnd = s.window;
    t->max_snd_wnd = t->snd_wnd;
    t->snd_wl1 = s.seq;
    t->snd_wl2 = t->iss;
    send_syn(t);
}

void Stack::conn_established(Tcb *t) {
    t->retries = 0;
    if (t->passive) {
        Listener &l = listeners_[t->listener];
        if (l.syn_rcvd) --l.syn_rcvd;
        ++ctr_.conn_passive_opened;
        if (t->handler) t->handler->on_accept(*this, t->id());
    } else {
        ++ctr_.conn_active_opened;
        if (t->handler) t->handler->on_connected(*this, t->id());
    }
}

// RFC 5961 section 7: challenge ACKs are rate-limited per stack.
void Stack::challenge_ack(Tcb *t) {
    if (now_ - challenge_window_ns_ >= 1'000'000'000ull) {
        challenge_window_ns_ = now_;
        challenge_count_ = 0;
    }
    if (++challenge_count_ > cfg_.challenge_ack_limit) {
        ++ctr_.challenge_ack_limited;
        return;
    }
    ++ctr_.challenge_acks;
    send_ack(t);
}

// A duplicate ACK that a later segment overtook (reordering on the path, or
// ACKs sent from several queues): its TSval is older than TS.Recent, so PAWS
// would drop it, and with it SACK blocks the sender needs. RFC 7323 5.3 only
// means to stop old duplicate segments from corrupting data, so like Linux we
// let through a pure ACK that can change nothing but the scoreboard: in
// sequence, no data, ACK = SND.UNA, the same window, and a TSval behind
// TS.Recent by no more than one RTO (an ACK from this connection's recent
// past, not from an earlier incarnation).
bool Stack::disordered_ack(const Tcb *t, const SegmentIn &s) const {
    if ((s.flags & (kSyn | kFin | kRst)) || !(s.flags & kAck) || s.payload_len != 0) return false;
    if (s.seq != t->rcv_nxt() || s.ack != t->snd_una) return false;
    if ((uint32_t{s.window} << t->snd_wscale) != t->snd_wnd) return false;
    const uint64_t rto_ms = t->rtt.rto_ns / 1'000'000 + 1;  // TS clock: 1 ms (ts_clock)
    return t->ts_recent - s.opts.ts_val <= rto_ms;
}

// RFC 9293 3.10.7.4 SEGMENT ARRIVES "Otherwise" (SYN-RECEIVED and all
// synchronized states), one function per step of the RFC. Each step returns
// false when the segment is done with (dropped, answered, or the connection
// ended). The steps are declared inline and used only here, so the compiler
// folds them back into this one body: naming them costs the fast path nothing.
void Stack::conn_input(Tcb *t, const SegmentIn &s) {
    InSeg g{s.flags, s.seq, s.payload, s.payload_len};
    if (!syn_rcvd_repeat(t, g)) return;
    bool stale_ts = false;
    if (!check_paws(t, s, g, &stale_ts)) return;
    if (!check_sequence(t, g)) return;  // first
    if (!check_rst(t, g)) return;       // second
    // third, security: no IP security options are in use, nothing to check.
    if (!check_syn(t, g)) return;               // fourth
    if (!check_ack(t, s, g, stale_ts)) return;  // fifth
    // sixth, URG: not supported (RFC 9293 3.8.5 / RFC 6093 discourage its use).
    if (!process_text(t, s, g)) return;  // seventh
    check_fin(t, g);                     // eighth
}

// SYN-RECEIVED, before the steps: a retransmitted SYN means our SYN-ACK was
// lost, send it again. In a simultaneous open the peer's SYN,ACK repeats its
// SYN at IRS; its ACK is what completes our SYN-RECEIVED (RFC 9293 figure 8),
// so take it as an ACK.
bool Stack::syn_rcvd_repeat(Tcb *t, InSeg &g) {
    if (t->state != State::kSynRcvd || !(g.flags & kSyn) || g.seq != t->irs) return true;
    if (!(g.flags & (kAck | kRst))) {
        send_syn(t);
        return false;
    }
    if (!t->passive && (g.flags & kAck)) {
        g.flags &= static_cast<uint8_t>(~kSyn);
        ++g.seq;
    }
    return true;
}

// PAWS (RFC 7323 5.3 R1): a TSval older than TS.Recent -> ACK and drop, unless
// TS.Recent is older than 24 days (R1's exception, RFC 7323 5.5) or the segment
// is a reordered duplicate ACK (disordered_ack()). `*stale_ts` tells the fifth
// step not to move TS.Recent back.
bool Stack::check_paws(Tcb *t, const SegmentIn &s, const InSeg &g, bool *stale_ts) {
    if (!t->ts_ok || !s.opts.has_ts || (g.flags & kRst) ||
        static_cast<int32_t>(s.opts.ts_val - t->ts_recent) >= 0)
        return true;
    *stale_ts = true;
    if (now_ - t->ts_recent_ns < 24ull * 86400 * 1'000'000'000) {
        if (!disordered_ack(t, s)) {
            ++ctr_.paws_reject;
            t->ack_now = true;
            return false;
        }
        ++ctr_.paws_disordered_acks;
    }
    return true;
}

// First, check sequence number (RFC 9293 3.10.7.4): the acceptability table
// (a zero window still takes the ACK and RST of an in-sequence segment, not
// its text), then trimming to the window, the left part already received, the
// right beyond it.
bool Stack::check_sequence(Tcb *t, InSeg &g) {
    const Seq rcv_nxt = t->rcv_nxt();
    const uint32_t rcv_wnd = seq_gt(t->rcv_adv, rcv_nxt) ? t->rcv_adv - rcv_nxt : 0;
    const uint32_t seglen = g.len + ((g.flags & kSyn) ? 1 : 0) + ((g.flags & kFin) ? 1 : 0);
    bool ok;
    if (seglen == 0) {
        ok = rcv_wnd == 0 ? g.seq == rcv_nxt : seq_in(g.seq, rcv_nxt, rcv_nxt + rcv_wnd);
    } else if (rcv_wnd == 0) {
        ok = false;
        if (g.seq == rcv_nxt && !(g.flags & kSyn)) {
            ++ctr_.zero_window_drop;
            ok = true;
            g.len = 0;
            t->ack_now = true;  // tell the sender the window is still zero
            g.flags &= static_cast<uint8_t>(~kFin);
        }
    } else {
        ok = seq_in(g.seq, rcv_nxt, rcv_nxt + rcv_wnd) ||
             seq_in(g.seq + seglen - 1, rcv_nxt, rcv_nxt + rcv_wnd);
    }
    if (!ok) {
        if (!(g.flags & kRst)) {
            ++ctr_.out_of_window;
            t->ack_now = true;  // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
        }
        return false;
    }
    if (seq_lt(g.seq, rcv_nxt)) {
        uint32_t cut = rcv_nxt - g.seq;
        if (g.flags & kSyn) {
            g.flags &= static_cast<uint8_t>(~kSyn);
            --cut;
            ++g.seq;
        }
        if (cut >= g.len) {
            if (cut > g.len) g.flags &= static_cast<uint8_t>(~kFin);
            g.seq += g.len;
            g.len = 0;
        } else {
            g.p += cut;
            g.len -= cut;
            g.seq += cut;
        }
    }
    if (g.len && seq_gt(g.seq + g.len, rcv_nxt + rcv_wnd)) {
        g.len = rcv_wnd - (g.seq - rcv_nxt);
        g.flags &= static_cast<uint8_t>(~kFin);
        ++ctr_.rcv_trimmed;
    }
    return true;
}

// Second, check the RST bit (RFC 9293 3.10.7.4 with RFC 5961 3.2): an exact
// match resets (SYN-RECEIVED from a passive open goes back to LISTEN), an
// in-window one gets a challenge ACK.
bool Stack::check_rst(Tcb *t, const InSeg &g) {
    if (!(g.flags & kRst)) return true;
    if (g.seq != t->rcv_nxt()) {
        challenge_ack(t);
        return false;
    }
    ++ctr_.rst_rx;
    if (t->state == State::kSynRcvd && t->passive) {
        release(t, CloseReason::kReset, false);  // back to LISTEN
    } else if (t->state == State::kSynRcvd) {
        release(t, CloseReason::kRefused, true);
    } else {
        release(t, CloseReason::kReset, true);
    }
    return false;
}

// Fourth, check the SYN bit (RFC 9293 3.10.7.4 with RFC 5961 4.2): in a
// synchronized state a challenge ACK; in SYN-RECEIVED from a passive open,
// back to LISTEN.
bool Stack::check_syn(Tcb *t, const InSeg &g) {
    if (!(g.flags & kSyn)) return true;
    if (t->state == State::kSynRcvd && t->passive) {
        release(t, CloseReason::kReset, false);
        return false;
    }
    challenge_ack(t);
    return false;
}

// Fifth, check the ACK field (RFC 9293 3.10.7.4): a segment without ACK is
// dropped; one with an acceptable ACK shows the peer alive (keepalive, and
// the zero-window probe count, RFC 1122 4.2.2.17: persist_expired counts only
// unanswered probes), may update TS.Recent (RFC 7323 4.3 (2): in-sequence
// segments only, never from a disordered ACK let through by PAWS), and goes
// to ack_input().
bool Stack::check_ack(Tcb *t, const SegmentIn &s, const InSeg &g, bool stale_ts) {
    if (!(g.flags & kAck)) {
        ++ctr_.bad_flags;
        return false;
    }
    t->last_rx_ns = now_;
    t->ka_sent = 0;
    if (t->rtx_kind == RtxKind::kPersist) {
        t->retries = 0;
        t->first_rtx_ns = 0;
    }
    if (t->ts_ok && s.opts.has_ts && !stale_ts && seq_le(s.seq, t->last_ack_sent)) {
        t->ts_recent = s.opts.ts_val;
        t->ts_recent_ns = now_;
    }
    if (!ack_input(t, s)) return false;
    return t->state != State::kClosed;
}

// Seventh, process the segment text (RFC 9293 3.10.7.4): only in the states
// that still receive (ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2).
bool Stack::process_text(Tcb *t, const SegmentIn &s, const InSeg &g) {
    if (!g.len) return true;
    if (t->state == State::kEstablished || t->state == State::kFinWait1 ||
        t->state == State::kFinWait2) {
        data_input(t, s, g.seq, g.p, g.len);
        if (t->state == State::kClosed) return false;
    }
    return true;
}

// Eighth, check the FIN bit (RFC 9293 3.10.7.4), in order only: a FIN above
// RCV.NXT is kept until the data before it arrives; a repeated one is ACKed.
void Stack::check_fin(Tcb *t, const InSeg &g) {
    if (g.flags & kFin) {
        Seq fin_seq = g.seq + g.len;
        if (!t->peer_fin) {
            if (fin_seq == t->rcv.rcv_nxt()) {
                fin_input(t);
            } else if (seq_gt(fin_seq, t->rcv.rcv_nxt())) {
                t->ooo_fin = true;
                t->ooo_fin_seq = fin_seq;
                t->ack_now = true;
            }
        } else {
            t->ack_now = true;  // retransmitted FIN
        }
    } else if (t->ooo_fin && !t->peer_fin && t->rcv.rcv_nxt() == t->ooo_fin_seq) {
        fin_input(t);
    }
}

// The fifth step's ACK processing (RFC 9293 3.10.7.4 "fifth, check the ACK
// field", with RFC 5961 5.2, RFC 2018/6675 SACK, RFC 8985 and RFC 6937 in
// tcp_recovery.cc). Returns false when the segment is done with.
bool Stack::ack_input(Tcb *t, const SegmentIn &s) {
    if (t->state == State::kSynRcvd && !syn_rcvd_ack(t, s)) return false;
    if (!ack_acceptable(t, s)) return false;
    const uint32_t wnd = uint32_t{s.window} << t->snd_wscale;
    const uint32_t sacked_before = t->sb.sacked_bytes();
    const Seq una_before = t->snd_una;
    bool new_sack = false;
    bool dsack = false;  // RFC 2883: the first block reports a duplicate
    if (t->sack_ok && s.opts.num_sack) new_sack = sack_input(t, s, &dsack);

    if (seq_gt(s.ack, t->snd_una)) {
        if (!new_ack(t, s)) return false;
    } else if (s.ack == t->snd_una && s.payload_len == 0) {
        // Only a segment without data can be a duplicate ACK (RFC 5681 2,
        // RFC 6675 2); tested here so the receiver's per-segment path, whose
        // data segments all carry ACK = SND.UNA, makes no call.
        dup_ack(t, s, wnd, new_sack);
    }
    if (t->tlp_episode) tlp_ack(t, s, dsack, seq_gt(s.ack, una_before) || new_sack);
    if (t->sack_ok && new_sack) rack_detect_lost(t);
    if (t->in_recovery && cfg_.prr) prr_ack(t, una_before, sacked_before);
    window_update(t, s, wnd);
    return true;
}

// SYN-RECEIVED, fifth step: SND.UNA < SEG.ACK =< SND.NXT enters ESTABLISHED
// (the handshake's RTT from the timestamp echo), else <SEQ=SEG.ACK><CTL=RST>.
bool Stack::syn_rcvd_ack(Tcb *t, const SegmentIn &s) {
    if (!seq_gt(s.ack, t->snd_una) || !seq_le(s.ack, t->snd_max)) {
        send_rst_for(s);
        return false;
    }
    if (t->ts_ok && s.opts.has_ts && s.opts.ts_ecr) {
        uint32_t ms = ts_clock(t->ts_offset) - s.opts.ts_ecr;
        t->rtt.sample(uint64_t{ms} * 1'000'000, cfg_.tick_ns, cfg_.rto_min_ns, cfg_.rto_max_ns);
    }
    t->snd_una = t->iss + 1;
    t->snd_wnd = uint32_t{s.window} << t->snd_wscale;
    t->max_snd_wnd = t->snd_wnd;
    t->snd_wl1 = s.seq;
    t->snd_wl2 = s.ack;
    t->rtx_kind = RtxKind::kNone;
    t->rtx_deadline = 0;
    set_state(t, State::kEstablished);
    conn_established(t);
    return t->state != State::kClosed;
}

// RFC 5961 5.2: acceptable iff SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT;
// otherwise ACK and drop (RFC 9293 3.10.7.4 fifth, "ACK acks something not
// yet sent").
bool Stack::ack_acceptable(Tcb *t, const SegmentIn &s) {
    if (seq_gt(s.ack, t->snd_max)) {
        ++ctr_.ack_too_new;
        t->ack_now = true;
        return false;
    }
    if (seq_lt(s.ack, t->snd_una - t->max_snd_wnd)) {
        ++ctr_.ack_too_old;
        t->ack_now = true;
        return false;
    }
    return true;
}

// SACK blocks (RFC 2018 4) into the scoreboard; a block at or below SEG.ACK is
// a D-SACK (RFC 2883) when first, ignored in any case. A first block inside
// the second is a D-SACK too (RFC 2883 4.1.2/4.1.3: a duplicate above the
// cumulative ACK). Each D-SACK is counted (dsack_rx): the receiver got the
// same bytes twice, which on a path that does not duplicate packets means a
// spurious retransmission (RFC 3708 2) - the figure Linux reports as
// tcpi_dsack_dups (`ss -ti` dsack_dups). Returns whether the scoreboard
// learned something new.
bool Stack::sack_input(Tcb *t, const SegmentIn &s, bool *dsack) {
    bool new_sack = false;
    if (s.opts.num_sack >= 2) {
        const SackBlock &a = s.opts.sack[0], &b = s.opts.sack[1];
        *dsack |= seq_gt(a.end, s.ack) && seq_le(b.start, a.start) && seq_le(a.end, b.end);
    }
    for (int i = 0; i < s.opts.num_sack; ++i) {
        ++ctr_.sack_blocks_rx;
        const SackBlock &b = s.opts.sack[i];
        if (seq_le(b.end, s.ack)) {
            *dsack |= i == 0;
            ++ctr_.dsack_ignored;
            continue;
        }
        new_sack |= t->sb.add(b.start, b.end, seq_max(s.ack, t->snd_una), t->snd_max);
    }
    ctr_.dsack_rx += *dsack;
    return new_sack;
}

// SND.UNA < SEG.ACK =< SND.NXT (RFC 9293 3.10.7.4 fifth, ESTABLISHED): set
// SND.UNA, release what it acknowledges, feed the RTT estimator and
// congestion control (or recovery), restart the timer, and see whether our
// FIN is acknowledged. Returns false when the connection ended.
bool Stack::new_ack(Tcb *t, const SegmentIn &s) {
    const uint32_t acked = s.ack - t->snd_una;
    const uint32_t flight = t->snd_max - t->snd_una;
    rtt_on_ack(t, s);
    t->snd_una = s.ack;
    t->sq.ack_to(s.ack, [this](const SendItem &it) { release_item(it); });
    if (seq_lt(t->snd_nxt, t->snd_una)) t->snd_nxt = t->snd_una;
    if (seq_lt(t->high_rxt, t->snd_una)) t->high_rxt = t->snd_una;
    if (seq_lt(t->lost_below, t->snd_una)) t->lost_below = t->snd_una;
    t->sb.ack_to(t->snd_una);
    t->sb.rxt_prune(t->snd_una);
    t->rack_fires = 0;
    t->retries = 0;
    t->first_rtx_ns = 0;
    t->rtt.backoff = 0;
    t->tlp_out = 0;
    if (t->in_recovery) {
        recovery_ack(t, s.ack);
    } else {
        t->dupacks = 0;
        t->ccops->on_ack(t->cc, acked, flight, now_, t->rtt.srtt_ns);
    }
    restart_rto_on_ack(t);
    if (!fin_acked(t)) return false;
    if (t->want_writable && !t->sq.full() && !t->fin_queued) {
        t->want_writable = false;
        if (t->handler && !t->app_closed) t->handler->on_writable(*this, t->id());
        if (t->state == State::kClosed) return false;
    }
    return true;
}

// RTT from an ACK of new data: the timed segment (RFC 6298 3, Karn) gives a
// nanosecond sample once per RTT; timestamps (RFC 7323 4.1) give one per ACK
// but in milliseconds, so they are used only when they can resolve the path
// (2 ms and more), never to round a sub-millisecond RTT to 0 or 1 ms.
void Stack::rtt_on_ack(Tcb *t, const SegmentIn &s) {
    if (t->rtt_timing && seq_gt(s.ack, t->rtt_seq)) {
        t->rtt.sample(now_ - t->rtt_start_ns, cfg_.tick_ns, cfg_.rto_min_ns, cfg_.rto_max_ns);
        t->rtt_timing = false;
    } else if (t->ts_ok && s.opts.has_ts && s.opts.ts_ecr) {
        uint32_t ms = ts_clock(t->ts_offset) - s.opts.ts_ecr;
        if (ms >= 2 && ms < 600'000)
            t->rtt.sample(uint64_t{ms} * 1'000'000, cfg_.tick_ns, cfg_.rto_min_ns, cfg_.rto_max_ns);
    }
    // A long-lived connection (a stream, a peer) is sampled as it goes, not
    // only when it ends.
    if (sampler_ && t->passive && t->rtt.has_sample && now_ - t->sampled_ns >= sample_every_ns_)
        sample_conn(t, false);
}

// RFC 6298 5.2 / 5.3: stop the retransmission timer (or the probe and
// reordering timers standing in for it) when all is acked, else restart it.
void Stack::restart_rto_on_ack(Tcb *t) {
    if (t->snd_una == t->snd_max) {
        if (t->rtx_kind == RtxKind::kRto || t->rtx_kind == RtxKind::kTlp ||
            t->rtx_kind == RtxKind::kRack) {
            t->rtx_kind = RtxKind::kNone;
            t->rtx_deadline = 0;
        }
    } else {
        arm_rto(t);
    }
}

// Our FIN acknowledged (RFC 9293 3.10.7.4 fifth, FIN-WAIT-1 -> FIN-WAIT-2,
// CLOSING -> TIME-WAIT, LAST-ACK -> CLOSED). Returns false when the
// connection ended.
bool Stack::fin_acked(Tcb *t) {
    if (!t->fin_queued || t->snd_una != t->sq.end_seq() + 1) return true;
    if (t->state == State::kFinWait1) {
        set_state(t, State::kFinWait2);
        if (t->app_closed) t->fw2_deadline = now_ + cfg_.fin_wait2_timeout_ns;
    } else if (t->state == State::kClosing) {
        enter_time_wait(t);
        return false;
    } else if (t->state == State::kLastAck) {
        release(t, CloseReason::kNormal, true);
        return false;
    }
    return true;
}

// Send window update (RFC 9293 3.10.7.4 fifth, the SND.WL1/SND.WL2 rule); an
// opening window ends zero-window probing (3.8.6.1).
void Stack::window_update(Tcb *t, const SegmentIn &s, uint32_t wnd) {
    if (seq_lt(t->snd_wl1, s.seq) || (t->snd_wl1 == s.seq && seq_le(t->snd_wl2, s.ack))) {
        t->snd_wnd = wnd;
        t->snd_wl1 = s.seq;
        t->snd_wl2 = s.ack;
        if (wnd > t->max_snd_wnd) t->max_snd_wnd = wnd;
        if (wnd && t->rtx_kind == RtxKind::kPersist) {
            t->rtx_kind = RtxKind::kNone;
            t->rtx_deadline = 0;
            t->persist_backoff = 0;
        }
    }
}

// Seventh step: text into the receive buffer, delayed ACKs (RFC 9293 3.8.6.3,
// RFC 5681 4.2: at least every second full segment, immediately when out of
// order or filling a hole).
void Stack::data_input(Tcb *t, const SegmentIn &, Seq seq, const uint8_t *p, uint32_t len) {
    RecvBuffer &rb = t->rcv;
    // The receive-side MSS estimate learns up to the MSS we advertised, no
    // further: a longer segment is several coalesced (LRO, GRO, vhost taking
    // a virtio guest's TSO packet), and counting it as one full-sized
    // segment would hold every ACK for twice its size (Linux caps
    // icsk_ack.rcv_mss at advmss likewise).
    // (Ours less the timestamp option, as set up at the handshake.)
    const uint32_t adv_mss = cfg_.mss - (t->ts_ok ? 12u : 0u);
    if (len > t->rcv_mss) t->rcv_mss = static_cast<uint16_t>(len < adv_mss ? len : adv_mss);
    Seq limit = rb.read_seq() + rb.capacity();
    if (!seq_lt(seq, limit)) {
        ++ctr_.zero_window_drop;
        t->ack_now = true;
        return;
    }
    if (seq_gt(seq + len, limit)) len = limit - seq;
    const bool discard = t->app_closed || !t->handler;
    if (rb.can_deliver_direct(seq)) {
        size_t used = discard ? len : t->handler->on_data(*this, t->id(), p, len);
        if (t->state == State::kClosed) return;
        rb.accept_direct(p, len, static_cast<uint32_t>(used));
        ctr_.rx_data_bytes += len;
        if (rb.rcv_nxt() - t->last_ack_sent >= 2u * t->rcv_mss)
            t->ack_now = true;
        else if (!t->dack_deadline)
            t->dack_deadline = now_ + cfg_.delayed_ack_ns;
        return;
    }
    const bool had_ooo = rb.has_ooo();
    const bool in_order = seq == rb.rcv_nxt();
    uint32_t advanced = 0;
    if (!rb.insert(seq, p, len, &advanced)) {
        ++ctr_.ooo_dropped;
        t->ack_now = true;
        return;
    }
    if (!in_order) {
        ++ctr_.ooo_segments;
        t->ack_now = true;
        return;
    }
    ctr_.rx_data_bytes += advanced;
    if (had_ooo || rb.rcv_nxt() - t->last_ack_sent >= 2u * t->rcv_mss)
        t->ack_now = true;
    else if (!t->dack_deadline)
        t->dack_deadline = now_ + cfg_.delayed_ack_ns;
    deliver(t);
}

void Stack::deliver(Tcb *t) {
    RecvBuffer &rb = t->rcv;
    while (rb.buffered()) {
        uint32_t n = 0;
        const uint8_t *p = rb.peek(&n);
        size_t used =
            (t->app_closed || !t->handler) ? n : t->handler->on_data(*this, t->id(), p, n);
        if (t->state == State::kClosed) return;
        if (used > n) used = n;
        rb.consume(static_cast<uint32_t>(used));
        if (used < n) break;
    }
}

// Eighth step: FIN (3.10.7.4).
void Stack::fin_input(Tcb *t) {
    t->peer_fin = true;
    t->ooo_fin = false;
    t->ack_now = true;
    const State prev = t->state;
    switch (prev) {
        case State::kSynRcvd:
        case State::kEstablished:
            set_state(t, State::kCloseWait);
            break;
        case State::kFinWait1:
            set_state(t, State::kClosing);  // our FIN not yet acked (else FIN-WAIT-2)
            break;
        default:
            break;
    }
    // The application sees CLOSE-WAIT already, so close() from the callback goes
    // to LAST-ACK (not a simultaneous close).
    if (t->handler && !t->app_closed) {
        t->handler->on_peer_closed(*this, t->id());
        if (t->state == State::kClosed) return;
    }
    if (prev == State::kFinWait2) enter_time_wait(t);
}

void Stack::enter_time_wait(Tcb *t) {
    if (t->ack_now) send_ack(t);
    ++ctr_.tw_entered;
    if (cfg_.time_wait_capacity) {
        TimeWaitEntry e;
        e.key = t->key;
        e.snd_nxt = t->snd_max;
        e.rcv_nxt = t->rcv_nxt();
        e.ts_ok = t->ts_ok;
        e.ts_recent = t->ts_recent;
        e.ts_offset = t->ts_offset;
        e.rcv_wnd = window_field(t, false);
        e.expiry_ns = now_ + 2 * cfg_.msl_ns;
        if (tw_.add(e)) ++ctr_.tw_evicted;
    }
    release(t, CloseReason::kNormal, true);
}

// TIME-WAIT (3.10.7.4 per-state rules on the compact record). Returns false when
// the entry was ended by an acceptable new SYN and the segment goes to LISTEN.
bool Stack::time_wait_input(TimeWaitEntry *tw, const SegmentIn &s) {
    if (s.flags & kRst) {
        ++ctr_.tw_rst_ignored;  // RFC 1337 TIME-WAIT assassination hazard
        return true;
    }
    if ((s.flags & kSyn) && !(s.flags & kAck)) {
        // RFC 9293 3.6.1 / RFC 6191: a new incarnation may reuse the 4-tuple when
        // its SYN is above RCV.NXT (or carries a newer timestamp).
        bool newer = (tw->ts_ok && s.opts.has_ts)
                         ? static_cast<int32_t>(s.opts.ts_val - tw->ts_recent) > 0
                         : seq_gt(s.seq, tw->rcv_nxt);
        if (newer && find_listener(s.dport)) {
            tw_.remove(tw);
            ++ctr_.tw_reused_by_syn;
            return false;
        }
    }
    if (!(s.flags & (kSyn | kFin)) && s.payload_len == 0) return true;  // pure ACK
    // FIN retransmission, or anything else: acknowledge (the 2*MSL timer is not
    // restarted: the FIFO ring keeps expiry order).
    SegmentOut seg;
    seg.src = tw->key.local;
    seg.dst = tw->key.remote;
    seg.sport = tw->key.lport;
    seg.dport = tw->key.rport;
    seg.seq = tw->snd_nxt;
    seg.ack = tw->rcv_nxt;
    seg.flags = kAck;
    seg.window = tw->rcv_wnd;
    if (tw->ts_ok) {
        seg.opts.has_ts = true;
        seg.opts.ts_val = ts_clock(tw->ts_offset);
        seg.opts.ts_ecr = tw->ts_recent;
    }
    ++ctr_.tx_segments;
    out_->emit(seg);
    return true;
}

// ICMP destination unreachable, fragmentation needed and DF set (RFC 792,
// RFC 1191 4): the path is narrower than our segments. RFC 5927 4.1: accept
// it only when the quoted sequence number is one we sent and have not seen
// acknowledged (SND.UNA <= SEG.SEQ < SND.NXT, SND.NXT being the highest sent),
// so a blind attacker must guess the window. The MTU is taken at least
// kMinPmtu (RFC 1191 says no less than 68; a forged in-window message could
// otherwise shrink segments to nothing; Linux's min_pmtu is 552). What is
// outstanding is sent again at the new size at once, without a congestion
// response: the loss was the MTU's, not congestion (Linux's
// tcp_simple_retransmit).
IcmpVerdict Stack::icmp_frag_needed(const FlowKey &k, Seq seq, uint32_t mtu, uint64_t now_ns) {
    if (now_ns > now_) now_ = now_ns;
    const uint32_t idx = flows_.find(k);
    if (idx == FlowTable::kNone) {
        ++ctr_.icmp_frag_no_conn;
        return IcmpVerdict::kNoConnection;
    }
    Tcb *t = &tcbs_[idx];
    if (!t->in_use || t->state == State::kClosed) {
        ++ctr_.icmp_frag_no_conn;
        return IcmpVerdict::kNoConnection;
    }
    if (!seq_in(seq, t->snd_una, t->snd_max)) {
        ++ctr_.icmp_frag_out_of_window;
        return IcmpVerdict::kOutOfWindow;
    }
    if (mtu < kMinPmtu) mtu = kMinPmtu;  // also RFC 1191 5's "no MTU given" (0)
    const uint32_t hdr_mss = mtu - 40;   // IPv4 + TCP headers without options
    const bool was_busy = busy_;
    busy_ = true;
    const bool lowered = lower_mss(t, hdr_mss);
    if (lowered) {
        ++ctr_.icmp_frag_needed;
        mark_dirty(t);
    } else {
        ++ctr_.icmp_frag_ignored;
    }
    if (!was_busy) {
        flush();
        busy_ = false;
        reap();
    }
    return lowered ? IcmpVerdict::kAccepted : IcmpVerdict::kIgnored;
}

// Lowers the segment size to `hdr_mss` (an MSS option's value: options not
// counted) if that is smaller than what we send, and goes back to SND.UNA so
// that output() resends everything outstanding at the new size. cwnd stays
// in bytes, so it holds a few more (smaller) segments.
bool Stack::lower_mss(Tcb *t, uint32_t hdr_mss) {
    const uint32_t opt = t->ts_ok ? 12 : 0;
    if (hdr_mss <= opt + 64) return false;
    const uint32_t m = hdr_mss - opt;
    if (m >= t->mss) return false;
    t->mss = static_cast<uint16_t>(m);
    t->cc.mss = m;
    if (t->synchronized() && t->snd_max != t->snd_una) {
        t->sb.rxt_clear();
        t->lost_below = t->snd_max;
        t->high_rxt = t->snd_una;
        t->snd_nxt = t->snd_una;
        t->retx_una = false;
        t->rtt_timing = false;  // Karn
    }
    return true;
}

}  // namespace ep::tcp

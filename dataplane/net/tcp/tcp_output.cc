// Segment generation: the send loop (RFC 9293 3.8.6.2.1 sender SWS avoidance,
// RFC 5681 cwnd, RFC 3042 Limited Transmit, RFC 6675 5 NextSeg() rules and
// 5.1 go-back-N; the recovery pieces themselves are in tcp_recovery.cc), ACKs
// with window (3.8.6.2.2 receiver SWS avoidance), timestamps (RFC 7323 3) and
// SACK blocks (RFC 2018 4), RSTs (3.10.7.1), SYN and SYN-ACK options.
#include <cstring>

#include "dataplane/net/tcp/stack.h"

namespace ep::tcp {

uint16_t Stack::window_field(Tcb *t, bool syn) {
    uint32_t space = t->rcv.space();
    Seq nxt = t->rcv.rcv_nxt();
    Seq edge = nxt + space;
    // Receiver SWS avoidance: move the right edge only by min(buffer/2, MSS) or more.
    uint32_t thresh = t->rcv.capacity() / 2;
    if (thresh > t->rcv_mss) thresh = t->rcv_mss;
    if (seq_gt(edge, t->rcv_adv)) {
        if (edge - t->rcv_adv >= thresh) t->rcv_adv = edge;
    }
    // Never shrink the window (3.8.6.2.2).
    uint32_t win = seq_gt(t->rcv_adv, nxt) ? t->rcv_adv - nxt : 0;
    if (syn) return win > 65535 ? 65535 : static_cast<uint16_t>(win);  // RFC 7323 2.2
    win >>= t->rcv_wscale;
    return win > 65535 ? 65535 : static_cast<uint16_t>(win);
}

namespace {
// Shortens seg's payload to `len` bytes (len <= payload_len), dropping or
// cutting its last pieces. Returns len.
uint32_t trim_pieces(SegmentOut &seg, uint32_t len) {
    uint32_t kept = 0;
    uint8_t i = 0;
    while (i < seg.npieces && kept + seg.pieces[i].len <= len) kept += seg.pieces[i++].len;
    if (i < seg.npieces && kept < len) {
        seg.pieces[i].len = len - kept;
        kept = len;
        ++i;
    }
    seg.npieces = i;
    seg.payload_len = kept;
    return kept;
}
}  // namespace

uint32_t Stack::emit(Tcb *t, Seq seq, uint8_t flags, uint32_t len, bool retransmit) {
    SegmentOut seg;
    seg.src = t->key.local;
    seg.dst = t->key.remote;
    seg.sport = t->key.lport;
    seg.dport = t->key.rport;
    seg.seq = seq;
    seg.flags = flags;
    seg.retransmit = retransmit;
    const uint32_t asked = len;
    if (t->ts_ok) {
        seg.opts.has_ts = true;
        seg.opts.ts_val = ts_clock(t->ts_offset);
        seg.opts.ts_ecr = t->ts_recent;
    }
    if (t->sack_ok && t->rcv.has_ooo() && (flags & kAck)) {
        int max = t->ts_ok ? 3 : 4;
        seg.opts.num_sack = static_cast<uint8_t>(t->rcv.sack_blocks(seg.opts.sack, max));
        ctr_.sack_blocks_tx += seg.opts.num_sack;
        // Keep the segment within the MSS (options eat payload room; the MSS is
        // at least kMinPeerMss - 12, larger than 4 SACK blocks).
        uint32_t room = t->mss - (4 + 8 * seg.opts.num_sack);
        if (len > room) len = room;
    }
    if (len) {
        len = t->sq.build(seq, len, seg);
        // A super-segment cut short by the piece limit keeps whole MSS
        // segments only, so no short segment goes out mid-stream.
        if (len > t->mss && len < asked) len = trim_pieces(seg, len - len % t->mss);
        if (len > t->mss) {
            seg.tso_segsz = t->mss;
            ++ctr_.tso_sends;
            ctr_.tso_segments += (len + t->mss - 1) / t->mss;
        }
        ctr_.tx_data_bytes += len;
        if (retransmit) ctr_.retransmit_bytes += len;
        const uint32_t nseg = (len + t->mss - 1) / t->mss;
        t->segs_out += nseg;
        if (retransmit) t->segs_retrans += nseg;
        if (t->in_recovery) t->prr_out += len;
    }
    if (len < asked) seg.flags = flags &= static_cast<uint8_t>(~(kFin | kPsh));
    if (flags & kAck) {
        seg.ack = t->rcv_nxt();
        seg.window = window_field(t, false);
        if (seg.window == 0) ++ctr_.zero_window_tx;
        t->last_ack_sent = seg.ack;
        t->ack_now = false;
        t->dack_deadline = 0;
    }
    ++ctr_.tx_segments;
    if (retransmit) ++ctr_.retransmits;
    out_->emit(seg);
    return len;
}

void Stack::send_syn(Tcb *t) {
    // SYN (active open) or SYN-ACK (passive / simultaneous open), RFC 9293 3.5.
    SegmentOut seg;
    seg.src = t->key.local;
    seg.dst = t->key.remote;
    seg.sport = t->key.lport;
    seg.dport = t->key.rport;
    seg.seq = t->iss;
    seg.flags = kSyn;
    seg.retransmit = t->snd_max != t->iss;
    seg.opts.has_mss = true;
    seg.opts.mss = cfg_.mss;
    bool synack = t->state == State::kSynRcvd;
    if (synack) {
        seg.flags |= kAck;
        seg.ack = t->rcv.rcv_nxt();
        seg.window = window_field(t, true);
        seg.opts.has_wscale = t->ws_ok;
        seg.opts.wscale = t->rcv_wscale;
        seg.opts.sack_permitted = t->sack_ok;
        if (t->ts_ok) {
            seg.opts.has_ts = true;
            seg.opts.ts_val = ts_clock(t->ts_offset);
            seg.opts.ts_ecr = t->ts_recent;
        }
    } else {
        uint8_t ws = 0;
        while (ws < 14 && (cfg_.rcv_buf_bytes >> ws) > 65535) ++ws;
        uint32_t w = cfg_.rcv_buf_bytes > 65535 ? 65535 : cfg_.rcv_buf_bytes;
        seg.window = static_cast<uint16_t>(w);
        seg.opts.has_wscale = cfg_.window_scale;
        seg.opts.wscale = ws;
        seg.opts.sack_permitted = cfg_.sack;
        if (cfg_.timestamps) {
            seg.opts.has_ts = true;
            seg.opts.ts_val = ts_clock(t->ts_offset);
            seg.opts.ts_ecr = 0;
        }
    }
    if (seg.retransmit) {
        ++ctr_.syn_retransmits;
        ++ctr_.retransmits;
    }
    t->snd_nxt = t->iss + 1;
    t->snd_max = t->iss + 1;
    ++ctr_.tx_segments;
    out_->emit(seg);
    arm_rto(t);
}

void Stack::send_cookie_synack(const FlowKey &k, const SegmentIn &s, uint32_t cookie,
                               uint16_t mss) {
    SegmentOut seg;
    seg.src = k.local;
    seg.dst = k.remote;
    seg.sport = k.lport;
    seg.dport = k.rport;
    seg.seq = cookie;
    seg.ack = s.seq + 1;
    seg.flags = kSyn | kAck;
    seg.window = static_cast<uint16_t>(cfg_.rcv_buf_bytes > 65535 ? 65535 : cfg_.rcv_buf_bytes);
    seg.opts.has_mss = true;
    seg.opts.mss = mss;
    // Without timestamps there is nowhere to keep wscale/SACK: offer neither.
    if (cfg_.timestamps && s.opts.has_ts) {
        uint8_t ws = 0;
        while (ws < 14 && (cfg_.rcv_buf_bytes >> ws) > 65535) ++ws;
        bool use_ws = cfg_.window_scale && s.opts.has_wscale;
        bool use_sack = cfg_.sack && s.opts.sack_permitted;
        seg.opts.has_wscale = use_ws;
        seg.opts.wscale = ws;
        seg.opts.sack_permitted = use_sack;
        uint32_t now_ts = ts_clock(0);
        uint32_t tsv = (now_ts & ~SynCookies::kTsOptMask) |
                       SynCookies::encode_ts_opts(s.opts.has_wscale, s.opts.wscale, use_sack);
        if (tsv > now_ts) tsv -= SynCookies::kTsOptMask + 1;  // keep TSval monotonic
        seg.opts.has_ts = true;
        seg.opts.ts_val = tsv;
        seg.opts.ts_ecr = s.opts.ts_val;
    }
    ++ctr_.tx_segments;
    ++ctr_.syncookies_sent;
    out_->emit(seg);
}

void Stack::send_rst_for(const SegmentIn &s) {
    // RFC 9293 3.10.7.1: if ACK, <SEQ=SEG.ACK><CTL=RST>; else
    // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
    if (s.flags & kRst) return;
    SegmentOut seg;
    seg.src = s.dst;
    seg.dst = s.src;
    seg.sport = s.dport;
    seg.dport = s.sport;
    if (s.flags & kAck) {
        seg.seq = s.ack;
        seg.flags = kRst;
    } else {
        seg.seq = 0;
        seg.ack = s.seq + s.payload_len + ((s.flags & kSyn) ? 1 : 0) + ((s.flags & kFin) ? 1 : 0);
        seg.flags = kRst | kAck;
    }
    ++ctr_.rst_tx;
    ++ctr_.tx_segments;
    out_->emit(seg);
}

void Stack::send_rst(Tcb *t) {
    SegmentOut seg;
    seg.src = t->key.local;
    seg.dst = t->key.remote;
    seg.sport = t->key.lport;
    seg.dport = t->key.rport;
    seg.seq = t->snd_nxt;
    seg.flags = kRst;
    if (t->state != State::kSynSent) {
        seg.flags |= kAck;
        seg.ack = t->rcv_nxt();
    }
    ++ctr_.rst_tx;
    ++ctr_.tx_segments;
    out_->emit(seg);
}

namespace {
// SetPipe() (RFC 6675 4): the data in flight. It belongs to recovery but stays
// beside the send loop, which asks for it before every segment, and is forced
// inline there: out of line (in tcp_recovery.cc, or when GCC's budget for
// output() runs out) it costs the lossless path a call per segment.
[[gnu::always_inline]] inline uint32_t set_pipe(const Tcb *t) {
    if (!t->in_recovery) {
        uint32_t p = t->snd_nxt - t->snd_una;
        // Go-back-N after an RTO: what the peer SACKed below SND.NXT is not in flight.
        if (t->sack_ok && seq_gt(t->lost_below, t->snd_una) && !t->sb.empty())
            p -= t->sb.sacked_bytes() - t->sb.sacked_above(t->snd_nxt);
        return p;
    }
    if (t->sack_ok) return t->sb.pipe_rxt(t->snd_una, t->snd_max, t->lost_below, t->mss);
    // NewReno without SACK: each duplicate ACK stands for one segment that left
    // the network (RFC 6675 section 5, the DupAck-as-SACK approximation).
    uint32_t out = t->snd_max - t->snd_una;
    uint32_t gone = uint32_t{t->dupacks} * t->mss;
    return gone >= out ? 0 : out - gone;
}
}  // namespace

uint32_t Stack::pipe(const Tcb *t) const {
    return set_pipe(t);
}

// The send path of a connection (RFC 9293 3.10 "SEND" and the ACKs the input
// asked for): data and FIN in the states that may send, then a pending ACK,
// then the timer node.
void Stack::output(Tcb *t) {
    switch (t->state) {
        case State::kSynSent:
        case State::kSynRcvd:
        case State::kClosed:
        case State::kTimeWait:
            return;
        case State::kEstablished:
        case State::kCloseWait:
        case State::kFinWait1:
        case State::kClosing:
        case State::kLastAck:
            send_data(t);
            break;
        default:  // FIN-WAIT-2: our side is closed, it only ACKs
            break;
    }
    if (t->ack_now) send_ack(t);
    arm(t);
}

// Data and FIN: the fast retransmission first (RFC 6675 5 (4.3), in
// tcp_recovery.cc), then what cwnd and the peer's window let out, a lone
// FIN, and the timers that outstanding data needs.
void Stack::send_data(Tcb *t) {
    const Seq data_end = t->sq.end_seq();
    const Seq max_before = t->snd_max;
    if (t->retx_una) retransmit_una(t, data_end);
    send_window(t, data_end);
    send_fin_alone(t, data_end);
    arm_after_send(t, max_before);
}

// The send loop: while pipe < cwnd (RFC 5681 3, RFC 6675 5), in recovery
// NextSeg() rule 1 (a lost hole), rule 2 (new data), rule 3 (any hole not
// yet retransmitted when no new data can go); outside it go-back-N after an
// RTO or new data. Limited Transmit (RFC 3042): the first two duplicate ACKs
// each let one new segment out beyond cwnd, so small windows still reach
// DupThresh.
void Stack::send_window(Tcb *t, Seq data_end) {
    const uint32_t mss = t->mss;
    const uint32_t cwnd =
        t->cc.cwnd + (t->in_recovery ? 0u : uint32_t{t->dupacks < 2 ? t->dupacks : 2u} * mss);
    for (;;) {
        // cwnd is counted in segments (as Linux does): while pipe < cwnd a
        // full segment may go. Cutting it to the byte remainder would leave
        // a sub-MSS room that SWS avoidance never fills, and one segment in
        // flight then waits for the peer's delayed ACK (40 ms and more).
        const uint32_t in_flight = set_pipe(t);
        if (in_flight >= cwnd) break;
        // Recovery: NextSeg() (RFC 6675 5). Rule 1: the first lost hole byte
        // that is not already being retransmitted (lost retransmissions left
        // the in-flight list and qualify again).
        const bool sack_rec = t->in_recovery && t->sack_ok;
        if (sack_rec && next_seg(t, true, data_end)) continue;
        if (sack_rec && t->sb.rxt_full()) break;
        if (go_back_n_skip(t, data_end)) continue;
        // Rule 2 is new data; when none can go (nothing queued or the peer's
        // window is full), rule 3: any hole not yet retransmitted.
        const Seq wnd_edge = t->snd_una + t->snd_wnd;
        if (sack_rec && (seq_ge(t->snd_nxt, data_end) || !seq_lt(t->snd_nxt, wnd_edge))) {
            if (next_seg(t, false, data_end)) continue;
            break;
        }
        if (!send_segment(t, data_end, cwnd - in_flight)) break;
    }
}

// Go-back-N after an RTO (SND.NXT < SND.MAX, RFC 6675 5.1): skip what the
// peer SACKed since and what is being retransmitted already. Returns true
// when SND.NXT moved.
bool Stack::go_back_n_skip(Tcb *t, Seq data_end) {
    if (!t->sack_ok || !seq_lt(t->snd_nxt, t->snd_max)) return false;
    Seq s = t->sb.rxt_skip(t->sb.skip_sacked(t->snd_nxt));
    if (s == t->snd_nxt) return false;
    t->snd_nxt = seq_min(s, data_end);
    return true;
}

// One segment at SND.NXT: new data, or go-back-N after an RTO when SND.NXT <
// SND.MAX, within the peer's window and sender SWS avoidance (RFC 9293
// 3.8.6.2.1); the FIN rides on the last data segment. Returns false when the
// loop should stop.
bool Stack::send_segment(Tcb *t, Seq data_end, uint32_t cwnd_room) {
    if (seq_ge(t->snd_nxt, data_end)) return false;
    const uint32_t mss = t->mss;
    uint32_t avail = data_end - t->snd_nxt;
    if (t->sack_ok && seq_lt(t->snd_nxt, t->snd_max)) {
        Seq stop = t->sb.next_sacked(t->snd_nxt, data_end);
        stop = t->sb.rxt_next(t->snd_nxt, stop);
        if (seq_lt(stop, data_end)) avail = stop - t->snd_nxt;
        if (t->sb.rxt_full()) return false;
    }
    Seq wnd_end = t->snd_una + t->snd_wnd;
    uint32_t wnd_room = seq_gt(wnd_end, t->snd_nxt) ? wnd_end - t->snd_nxt : 0;
    uint32_t len = avail < mss ? avail : mss;
    // TSO: new data only (go-back-N after an RTO stays one MSS a segment),
    // as many segments as the loop below would send one by one: one per
    // MSS of cwnd room begun (while pipe < cwnd a full segment may go),
    // within the peer's window, whole segments unless it ends the queue.
    if (cfg_.tso_max_bytes > mss && avail > mss && t->snd_nxt == t->snd_max) {
        uint32_t segs = (cwnd_room + mss - 1) / mss;
        const uint32_t max_segs = cfg_.tso_max_bytes / mss;
        if (segs > max_segs) segs = max_segs;
        uint32_t n = segs * mss;
        if (n > avail) n = avail;
        if (n > wnd_room) n = wnd_room;
        if (n < avail) n -= n % mss;
        if (n > len) len = n;
    }
    if (len > wnd_room) len = wnd_room;
    if (len == 0) return false;
    // Sender SWS avoidance (3.8.6.2.1): a short segment only if it ends the
    // queue, or nothing is in flight and it is at least half the max window.
    if (len < mss && len < avail && t->snd_nxt != t->snd_una && len < t->max_snd_wnd / 2)
        return false;
    uint8_t flags = kAck;
    if (len == avail) flags |= kPsh;
    if (t->fin_queued && t->snd_nxt + len == data_end) flags |= kFin;
    bool rtx = seq_lt(t->snd_nxt, t->snd_max);
    // RFC 6298 3 / Karn: time one new segment per RTT, with
    // timestamps too: their clock ticks in ms, too coarse for the
    // tens-of-microseconds RTTs of a LAN path.
    if (!rtx && !t->rtt_timing) {
        t->rtt_timing = true;
        t->rtt_seq = t->snd_nxt;
        t->rtt_start_ns = now_;
    }
    const uint32_t sent = emit(t, t->snd_nxt, flags, len, rtx);
    if (sent == 0) return false;
    if (rtx && t->sack_ok) t->sb.rxt_add(t->snd_nxt, t->snd_nxt + sent, t->snd_max, now_);
    if (sent < len) flags &= static_cast<uint8_t>(~kFin);
    t->snd_nxt += sent + ((flags & kFin) ? 1 : 0);
    t->snd_max = seq_max(t->snd_max, t->snd_nxt);
    return !(flags & kFin);
}

// A FIN alone (RFC 9293 3.10.4 CLOSE: queue empty, all data sent); a FIN
// needs no window.
void Stack::send_fin_alone(Tcb *t, Seq data_end) {
    if (!t->fin_queued || t->snd_nxt != data_end) return;
    bool rtx = seq_lt(t->snd_nxt, t->snd_max);
    emit(t, t->snd_nxt, kAck | kFin, 0, rtx);
    t->snd_nxt += 1;
    t->snd_max = seq_max(t->snd_max, t->snd_nxt);
}

// Timers after sending: the RTO when data is outstanding (RFC 6298 5.1), and
// the PTO rescheduled after new data when it was armed with one segment in
// flight (RFC 8985 7.2, the delayed-ACK allowance); the persist timer when
// data waits for a zero window (RFC 9293 3.8.6.1).
void Stack::arm_after_send(Tcb *t, Seq max_before) {
    if (t->snd_max != t->snd_una) {
        if (t->rtx_kind == RtxKind::kNone || t->rtx_kind == RtxKind::kPersist ||
            (t->rtx_kind == RtxKind::kTlp && t->tlp_delack && t->snd_max != max_before))
            arm_rto(t);
    } else if (t->snd_wnd == 0 && t->sq.bytes() && seq_lt(t->snd_nxt, t->sq.end_seq())) {
        if (t->rtx_kind != RtxKind::kPersist) arm_persist(t);
    }
}

}  // namespace ep::tcp

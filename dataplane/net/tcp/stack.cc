// Stack setup, connection pool, demultiplexing and the application API.
#include "dataplane/net/tcp/stack.h"

#include <xxhash.h>

#include <cstring>
#include <new>

namespace ep::tcp {

const char *state_name(State s) {
    switch (s) {
        case State::kClosed:
            return "CLOSED";
        case State::kSynSent:
            return "SYN-SENT";
        case State::kSynRcvd:
            return "SYN-RECEIVED";
        case State::kEstablished:
            return "ESTABLISHED";
        case State::kFinWait1:
            return "FIN-WAIT-1";
        case State::kFinWait2:
            return "FIN-WAIT-2";
        case State::kCloseWait:
            return "CLOSE-WAIT";
        case State::kClosing:
            return "CLOSING";
        case State::kLastAck:
            return "LAST-ACK";
        case State::kTimeWait:
            return "TIME-WAIT";
    }
    return "?";
}

const char *close_reason_name(CloseReason r) {
    switch (r) {
        case CloseReason::kNormal:
            return "normal";
        case CloseReason::kReset:
            return "reset";
        case CloseReason::kRefused:
            return "refused";
        case CloseReason::kTimeout:
            return "timeout";
        case CloseReason::kKeepalive:
            return "keepalive";
        case CloseReason::kAborted:
            return "aborted";
    }
    return "?";
}

namespace {
bool pow2(uint64_t v) {
    return v && !(v & (v - 1));
}
uint32_t pow2_at_least(uint64_t v) {
    uint32_t r = 1;
    while (r < v) r <<= 1;
    return r;
}
}  // namespace

bool Stack::init(const StackConfig &cfg, Output *out, uint64_t now_ns) {
    cfg_ = cfg;
    out_ = out;
    now_ = now_ns;
    if (!pow2(cfg.rcv_buf_bytes) || !pow2(cfg.wheel_slots) || cfg.max_connections == 0 ||
        cfg.snd_queue_items == 0 || cfg.mss < 64)
        return false;
    const uint32_t n = cfg.max_connections;
    tcbs_.reset(new (std::nothrow) Tcb[n]);
    rcv_mem_.reset(new (std::nothrow) uint8_t[size_t{n} * cfg.rcv_buf_bytes]);
    sq_mem_.reset(new (std::nothrow) SendItem[size_t{n} * cfg.snd_queue_items]);
    inline_mem_.reset(new (std::nothrow)
                          uint8_t[size_t{cfg.inline_blocks} * cfg.inline_block_bytes]);
    inline_free_.reset(new (std::nothrow) uint32_t[cfg.inline_blocks]);
    uint32_t fcap = pow2_at_least(uint64_t{n} * 2);
    flow_mem_.reset(new (std::nothrow) FlowTable::Slot[fcap]);
    uint32_t twcap = cfg.time_wait_capacity ? cfg.time_wait_capacity : 1;
    uint32_t twicap = pow2_at_least(uint64_t{twcap} * 2);
    tw_mem_.reset(new (std::nothrow) TimeWaitEntry[twcap]);
    tw_index_mem_.reset(new (std::nothrow) FlowTable::Slot[twicap]);
    wheel_mem_.reset(new (std::nothrow) TimerNode[cfg.wheel_slots]);
    listeners_.reset(new (std::nothrow) Listener[cfg.max_listeners ? cfg.max_listeners : 1]);
    if (!tcbs_ || !rcv_mem_ || !sq_mem_ || !inline_mem_ || !inline_free_ || !flow_mem_ ||
        !tw_mem_ || !tw_index_mem_ || !wheel_mem_ || !listeners_)
        return false;
    // Touch the receive memory now so that faults do not happen on the fast path.
    std::memset(rcv_mem_.get(), 0, size_t{n} * cfg.rcv_buf_bytes);
    free_ = nullptr;
    for (uint32_t i = n; i-- > 0;) {
        Tcb &t = tcbs_[i];
        t.idx = i;
        t.gen = 1;
        t.next_free = free_;
        free_ = &t;
    }
    nconn_ = 0;
    inline_nfree_ = cfg.inline_blocks;
    for (uint32_t i = 0; i < cfg.inline_blocks; ++i) inline_free_[i] = cfg.inline_blocks - 1 - i;
    flows_.init(flow_mem_.get(), fcap, cfg.secret ^ 0x5bd1e995u);
    tw_.init(tw_mem_.get(), cfg.time_wait_capacity, tw_index_mem_.get(), twicap,
             cfg.secret ^ 0x27d4eb2fu);
    wheel_.init(wheel_mem_.get(), cfg.wheel_slots, cfg.tick_ns, now_ns);
    cookies_.init(cfg.secret * 0x9e3779b97f4a7c15ull + 1);
    ccops_ = cc_ops(cfg.cc);
    rng_ = cfg.seed ? cfg.seed : 1;
    ctr_ = Counters{};
    return true;
}

uint32_t Stack::rand32() {
    // xorshift64*
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return static_cast<uint32_t>((rng_ * 0x2545f4914f6cdd1dull) >> 32);
}

Seq Stack::make_iss(const FlowKey &k) {
    // RFC 6528 section 3: ISN = M + F(4-tuple, secret), M a 4-microsecond clock.
    uint32_t f = static_cast<uint32_t>(XXH3_64bits_withSeed(&k, sizeof(k), cfg_.secret));
    return static_cast<Seq>(now_ / 4000) + f;
}

Tcb *Stack::get(ConnId c) const {
    if (c.idx >= cfg_.max_connections) return nullptr;
    Tcb *t = &tcbs_[c.idx];
    if (t->gen != c.gen || !t->in_use) return nullptr;
    return t;
}

Stack::Listener *Stack::find_listener(uint16_t port) {
    for (uint32_t i = 0; i < cfg_.max_listeners; ++i)
        if (listeners_[i].active && listeners_[i].port == port) return &listeners_[i];
    return nullptr;
}

Tcb *Stack::alloc_tcb(const FlowKey &k) {
    if (!free_) {
        ++ctr_.conn_limit;
        return nullptr;
    }
    Tcb *t = free_;
    if (!flows_.insert(k, t->idx)) {
        ++ctr_.conn_limit;
        return nullptr;
    }
    free_ = t->next_free;
    uint32_t idx = t->idx, gen = t->gen;
    *t = Tcb{};
    t->idx = idx;
    t->gen = gen;
    t->timer.owner = idx;
    t->in_use = true;
    t->key = k;
    t->ccops = ccops_;
    t->ts_offset = cfg_.random_ts_offset ? rand32() : 0;
    t->rtt.init(cfg_.rto_initial_ns);
    t->last_rx_ns = now_;
    t->sampled_ns = now_;
    ++nconn_;
    return t;
}

void Stack::release_item(const SendItem &it) {
    if (it.is_inline()) {
        inline_free_[inline_nfree_++] = it.inline_block;
    } else if (it.ops->unref) {
        it.ops->unref(it.ref);
    }
}

// Leaves the flow table, stops timers, drops references; the TCB memory is
// recycled by reap() once no callback can still be looking at it.
void Stack::release(Tcb *t, CloseReason r, bool notify) {
    if (!t->in_use || t->state == State::kClosed) return;
    if (t->passive && t->state == State::kSynRcvd) {
        Listener &l = listeners_[t->listener];
        if (l.syn_rcvd) --l.syn_rcvd;
    }
    set_state(t, State::kClosed);
    flows_.erase(t->key);
    wheel_.cancel(&t->timer);
    t->sq.clear([this](const SendItem &it) { release_item(it); });
    ++ctr_.conn_closed;
    if (sampler_ && t->passive && t->rtt.has_sample) sample_conn(t, true);
    if (notify && t->handler) t->handler->on_closed(*this, t->id(), r);
    t->next_free = reap_;
    reap_ = t;
}

void Stack::sample_conn(Tcb *t, bool final) {
    ConnSample s;
    s.remote = t->key.remote;
    s.srtt_ns = t->rtt.srtt_ns;
    s.segs_out = t->segs_out;
    s.segs_retrans = t->segs_retrans;
    s.final = final;
    t->segs_out = t->segs_retrans = 0;
    t->sampled_ns = now_;
    sampler_(sampler_ctx_, s);
}

void Stack::reap() {
    if (busy_) return;
    while (reap_) {
        Tcb *t = reap_;
        reap_ = t->next_free;
        t->in_use = false;
        ++t->gen;
        t->next_free = free_;
        free_ = t;
        --nconn_;
    }
}

void Stack::mark_dirty(Tcb *t) {
    if (t->dirty) return;
    t->dirty = true;
    t->next_dirty = dirty_;
    dirty_ = t;
}

void Stack::flush() {
    while (dirty_) {
        Tcb *t = dirty_;
        dirty_ = t->next_dirty;
        t->dirty = false;
        if (t->in_use && t->state != State::kClosed) output(t);
    }
}

// Output now if no input/timer processing is running, else after it.
void Stack::kick(Tcb *t) {
    if (busy_) {
        mark_dirty(t);
        return;
    }
    busy_ = true;
    output(t);
    flush();
    busy_ = false;
    reap();
}

void Stack::setup_snd(Tcb *t, Seq iss) {
    t->iss = iss;
    t->snd_una = iss;
    t->snd_nxt = iss;
    t->snd_max = iss;
    t->recover = iss;
    t->high_rxt = iss;
    t->lost_below = iss;
    t->rack_fires = 0;
    t->sq.init(&sq_mem_[size_t{t->idx} * cfg_.snd_queue_items], cfg_.snd_queue_items,
               cfg_.snd_buf_bytes, iss + 1);
}

void Stack::setup_rcv(Tcb *t, Seq irs) {
    t->irs = irs;
    t->rcv.init(&rcv_mem_[size_t{t->idx} * cfg_.rcv_buf_bytes], cfg_.rcv_buf_bytes, irs + 1);
    t->last_ack_sent = irs + 1;
    // The window our SYN or SYN-ACK offered (unscaled, RFC 7323 2.2).
    t->rcv_adv = irs + 1 + (cfg_.rcv_buf_bytes > 65535 ? 65535 : cfg_.rcv_buf_bytes);
}

// Option negotiation from the peer's SYN (RFC 9293 3.7.1 MSS, RFC 7323 2.2 and
// 3.2, RFC 2018 2). Our own window shift is the smallest that covers the buffer.
void Stack::negotiate(Tcb *t, const TcpOptions &o, bool) {
    t->peer_mss = o.has_mss ? o.mss : 536;  // RFC 9293 3.7.1: default 536 (IPv4)
    // A tiny advertised MSS would leave no room for options (and is an attack
    // vector): clamp like Linux's TCP_MIN_MSS.
    if (t->peer_mss < kMinPeerMss) t->peer_mss = kMinPeerMss;
    t->ws_ok = cfg_.window_scale && o.has_wscale;
    t->snd_wscale = t->ws_ok ? o.wscale : 0;
    uint8_t ws = 0;
    while (ws < 14 && (cfg_.rcv_buf_bytes >> ws) > 65535) ++ws;
    t->rcv_wscale = t->ws_ok ? ws : 0;
    t->sack_ok = cfg_.sack && o.sack_permitted;
    t->ts_ok = cfg_.timestamps && o.has_ts;
    if (t->ts_ok) {
        t->ts_recent = o.ts_val;
        t->ts_recent_ns = now_;
    }
    uint16_t m = t->peer_mss < cfg_.mss ? t->peer_mss : cfg_.mss;
    // RFC 6691: the MSS excludes options; leave room for the timestamp option.
    if (t->ts_ok) m = static_cast<uint16_t>(m - 12);
    t->mss = m;
    t->rcv_mss = m;
}

// --- input demultiplexing -------------------------------------------------------

void Stack::input(const SegmentIn &s, uint64_t now_ns) {
    if (now_ns > now_) now_ = now_ns;
    ++ctr_.rx_segments;
    FlowKey k;
    k.local = s.dst;
    k.remote = s.src;
    k.lport = s.dport;
    k.rport = s.sport;
    busy_ = true;
    // One-entry cache: bursts usually belong to one flow.
    Tcb *t = last_;
    if (!(t && t->in_use && t->state != State::kClosed && t->key == k)) {
        uint32_t idx = flows_.find(k);
        t = idx != FlowTable::kNone ? &tcbs_[idx] : nullptr;
    }
    if (t) {
        last_ = t;
        if (t->state == State::kSynSent)
            syn_sent_input(t, s);
        else
            conn_input(t, s);
        if (t->state != State::kClosed) mark_dirty(t);
    } else {
        TimeWaitEntry *tw = tw_.find(k);
        if (!tw || !time_wait_input(tw, s)) {
            Listener *l = find_listener(s.dport);
            if (l)
                listen_input(l, k, s);
            else
                closed_input(s);
        }
    }
    if (in_burst_) return;  // end_burst() flushes; TCBs are recycled after it
    flush();
    busy_ = false;
    reap();
}

void Stack::end_burst() {
    in_burst_ = false;
    flush();
    busy_ = false;
    reap();
}

void Stack::poll(uint64_t now_ns) {
    if (now_ns > now_) now_ = now_ns;
    busy_ = true;
    wheel_.advance(now_, [this](TimerNode *n) { on_timer(&tcbs_[n->owner]); });
    ctr_.tw_expired += tw_.expire(now_);
    flush();
    busy_ = false;
    reap();
}

// --- application API ------------------------------------------------------------

bool Stack::listen(uint16_t port, Handler *h, uint32_t backlog) {
    if (find_listener(port)) return false;
    for (uint32_t i = 0; i < cfg_.max_listeners; ++i) {
        Listener &l = listeners_[i];
        if (!l.active) {
            l = Listener{};
            l.active = true;
            l.port = port;
            l.handler = h;
            l.backlog = backlog ? backlog : cfg_.syn_backlog;
            return true;
        }
    }
    return false;
}

void Stack::unlisten(uint16_t port) {
    if (Listener *l = find_listener(port)) l->active = false;
}

ConnId Stack::connect(const IpAddr &local, const IpAddr &remote, uint16_t rport, Handler *h,
                      PortFilter filter, void *ctx) {
    uint32_t range = uint32_t{cfg_.ephemeral_hi} - cfg_.ephemeral_lo + 1;
    uint32_t start = rand32() % range;
    FlowKey k;
    k.local = local;
    k.remote = remote;
    k.rport = rport;
    for (uint32_t i = 0; i < range; ++i) {
        k.lport = static_cast<uint16_t>(cfg_.ephemeral_lo + (start + i) % range);
        if (flows_.find(k) != FlowTable::kNone || tw_.find(k)) continue;
        if (filter && !filter(ctx, k)) continue;
        Tcb *t = alloc_tcb(k);
        if (!t) return {};
        t->handler = h;
        set_state(t, State::kSynSent);
        setup_snd(t, make_iss(k));
        t->ccops->init(t->cc, cfg_.mss, cfg_.initial_window_segments * cfg_.mss);
        bool was_busy = busy_;
        busy_ = true;
        send_syn(t);
        busy_ = was_busy;
        return t->id();
    }
    ++ctr_.ports_exhausted;
    return {};
}

uint32_t Stack::send(ConnId c, const uint8_t *data, uint32_t len, void *ref, const ExtBufOps *ops) {
    Tcb *t = get(c);
    if (!t || t->fin_queued || t->state == State::kClosed || len == 0 || !ops) return 0;
    uint32_t n = t->sq.free_items() ? t->sq.free_bytes() : 0;
    if (n > len) n = len;
    if (n == 0) {
        ++ctr_.send_queue_full;
        t->want_writable = true;
        return 0;
    }
    if (n < len) {
        ++ctr_.send_queue_full;
        t->want_writable = true;
    }
    if (ops->ref) ops->ref(ref);
    SendItem it;
    it.data = data;
    it.len = n;
    it.ref = ref;
    it.ops = ops;
    t->sq.push(it);
    if (t->synchronized()) kick(t);
    return n;
}

uint32_t Stack::send_copy(ConnId c, const uint8_t *data, uint32_t len) {
    Tcb *t = get(c);
    if (!t || t->fin_queued || t->state == State::kClosed) return 0;
    uint32_t done = 0;
    while (done < len) {
        if (!inline_nfree_ || !t->sq.free_items() || !t->sq.free_bytes()) break;
        uint32_t n = len - done;
        if (n > cfg_.inline_block_bytes) n = cfg_.inline_block_bytes;
        if (n > t->sq.free_bytes()) n = t->sq.free_bytes();
        uint32_t blk = inline_free_[--inline_nfree_];
        uint8_t *dst = &inline_mem_[size_t{blk} * cfg_.inline_block_bytes];
        std::memcpy(dst, data + done, n);
        SendItem it;
        it.data = dst;
        it.len = n;
        it.inline_block = blk;
        t->sq.push(it);
        done += n;
    }
    if (done < len) {
        ++ctr_.send_queue_full;
        t->want_writable = true;
    }
    if (done && t->synchronized()) kick(t);
    return done;
}

bool Stack::reserve_copy(ConnId c, uint32_t len) {
    Tcb *t = get(c);
    if (!t || t->fin_queued || t->state == State::kClosed) return false;
    const uint32_t blocks = (len + cfg_.inline_block_bytes - 1) / cfg_.inline_block_bytes;
    if (inline_nfree_ >= blocks && t->sq.free_items() >= blocks && t->sq.free_bytes() >= len)
        return true;
    t->want_writable = true;
    return false;
}

uint32_t Stack::send_space(ConnId c) const {
    Tcb *t = get(c);
    if (!t || t->fin_queued || !t->sq.free_items()) return 0;
    return t->sq.free_bytes();
}

void Stack::shutdown_write(ConnId c) {
    Tcb *t = get(c);
    if (!t || t->fin_queued) return;
    switch (t->state) {
        case State::kSynSent:
            // 3.10.4: delete the TCB. on_closed(kAborted) is called before this returns.
            release(t, CloseReason::kAborted, true);
            reap();
            return;
        case State::kSynRcvd:
        case State::kEstablished:
            t->fin_queued = true;
            set_state(t, State::kFinWait1);
            break;
        case State::kCloseWait:
            t->fin_queued = true;
            set_state(t, State::kLastAck);
            break;
        default:
            return;
    }
    if (t->synchronized()) kick(t);
}

void Stack::close(ConnId c) {
    Tcb *t = get(c);
    if (!t) return;
    t->app_closed = true;
    shutdown_write(c);
}

void Stack::abort(ConnId c) {
    Tcb *t = get(c);
    if (!t || t->state == State::kClosed) return;
    if (t->state != State::kSynSent) send_rst(t);  // 3.10.5: <SEQ=SND.NXT><CTL=RST>
    release(t, CloseReason::kAborted, false);
    reap();
}

uint32_t Stack::reset_all() {
    uint32_t n = 0;
    const bool was_busy = busy_;
    busy_ = true;  // handlers may call back in; TCBs are recycled after the loop
    for (uint32_t i = 0; i < cfg_.max_connections; ++i) {
        Tcb *t = &tcbs_[i];
        if (!t->in_use || t->state == State::kClosed) continue;
        if (t->state != State::kSynSent) send_rst(t);
        release(t, CloseReason::kAborted, true);
        ++n;
    }
    busy_ = was_busy;
    reap();
    return n;
}

void Stack::resume_read(ConnId c) {
    Tcb *t = get(c);
    if (!t || t->state == State::kClosed) return;
    bool was_busy = busy_;
    busy_ = true;
    deliver(t);
    // Window update once the right edge can move by min(buffer/2, MSS) (RFC 9293
    // 3.8.6.2.2); window_field() applies the same threshold.
    if (t->state != State::kClosed) {
        uint32_t thresh = t->rcv.capacity() / 2;
        if (thresh > t->rcv_mss) thresh = t->rcv_mss;
        Seq edge = t->rcv.rcv_nxt() + t->rcv.space();
        if (seq_ge(edge, t->rcv_adv + thresh)) {
            t->ack_now = true;
            mark_dirty(t);
        }
    }
    if (!was_busy) {
        flush();
        busy_ = false;
        reap();
    }
}

void Stack::set_handler(ConnId c, Handler *h) {
    if (Tcb *t = get(c)) t->handler = h;
}
void Stack::set_user(ConnId c, void *u) {
    if (Tcb *t = get(c)) t->user = u;
}
void *Stack::user(ConnId c) const {
    Tcb *t = get(c);
    return t ? t->user : nullptr;
}

FlowKey Stack::flow(ConnId c) const {
    Tcb *t = get(c);
    return t ? t->key : FlowKey{};
}

ConnInfo Stack::info(ConnId c) const {
    ConnInfo i;
    Tcb *t = get(c);
    if (!t) return i;
    i.state = t->state;
    i.cwnd = t->cc.cwnd;
    i.ssthresh = t->cc.ssthresh;
    i.snd_wnd = t->snd_wnd;
    i.rcv_wnd = t->rcv.space();
    i.flight = t->snd_max - t->snd_una;
    i.srtt_ns = t->rtt.srtt_ns;
    i.rto_ns = t->rtt.current_rto(cfg_.rto_max_ns);
    i.mss = t->mss;
    i.ts = t->ts_ok;
    i.sack = t->sack_ok;
    i.wscale = t->ws_ok;
    i.snd_wscale = t->snd_wscale;
    i.rcv_wscale = t->rcv_wscale;
    i.send_queued = t->sq.bytes();
    i.rcv_buffered = t->rcv.buffered();
    i.in_recovery = t->in_recovery;
    return i;
}

}  // namespace ep::tcp

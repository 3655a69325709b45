#include "dataplane/http_server.h"

#include <algorithm>
#include <cstdio>
#include <new>
#include <string>

#include "dataplane/http/send_pins.h"
#include "dataplane/tcp_io.h"

namespace ep {

namespace {
constexpr uint64_t kSweepNs = 100'000'000;             // timeouts checked every 100 ms
constexpr uint64_t kChunkWaitLimitNs = 5'000'000'000;  // a promotion that never comes
constexpr uint8_t kObjSlots = 8;                    // > response queue depth + 1 streaming
constexpr uint64_t kPromoRetryNs = 1'000'000;        // re-ask a promotion at most every 1 ms
// A connection blocked by a pin limit that acknowledged something this
// recently is retried every loop (a fast reader must not wait for the
// sweep); one that did not is retried by the sweep.
constexpr uint64_t kActiveNs = 100'000'000;
}  // namespace

struct HttpServer::Conn {
    // The object versions this connection's queued responses refer to;
    // a body piece's handle is an index here.
    struct ObjRef {
        chunkstore::ObjectId oid = 0;
        uint64_t generation = 0;
    };

    tcp::ConnId id;
    bool in_use = false;
    bool head_done = false;
    bool peer_closed = false;
    bool input_pending = false;  // on_data consumed less than offered
    bool woken = false;
    // finish() was called: the stack sends what is queued, then FIN. The
    // connection stays ours until its send queue drains, so a peer that
    // stops reading is still timed out (send_timeout) and its pins counted.
    bool closing = false;
    uint8_t piece = 0;
    uint8_t next_obj = 0;
    uint32_t head_off = 0;
    uint64_t piece_off = 0;
    uint64_t waiting_since_ns = 0;  // a chunk promotion is pending since then (0: none)
    // Bytes the stack accepted (send/send_copy). Minus ConnInfo::send_queued
    // it is the bytes acknowledged: the progress measure of send_timeout.
    uint64_t queued = 0;
    // Pinned RAM: the chunk runs in the send queue, in the stream offsets of
    // `queued`; the ACK point is queued - ConnInfo::send_queued.
    http::SendPins pins;
    bool pin_blocked = false;  // a new chunk waits for a pin limit
    bool budget_wait = false;  // ... for the total share (counted once per wait)
    uint64_t promo_ns = 0;     // last promotion request of the chunk waited for
    ObjRef objs[kObjSlots];
    Conn *next_free = nullptr;
    Conn *next_wake = nullptr;
    alignas(http::HttpSession) unsigned char session_mem[sizeof(http::HttpSession)];

    http::HttpSession &session() {
        return *std::launder(reinterpret_cast<http::HttpSession *>(session_mem));
    }
};

HttpServer::HttpServer(const http::HttpConfig &cfg) : ctx_(cfg, *this) {}

HttpServer::~HttpServer() {
    for (uint32_t i = 0; i < pool_.size(); ++i) pool_[i].session().~HttpSession();
}

bool HttpServer::init(tcp::Stack *stack, chunkstore::Store *store, uint32_t reader_id,
                      uint32_t max_conns, uint16_t port, AccessSink *access) {
    stack_ = stack;
    store_ = store;
    tid_ = reader_id;
    access_ = access;
    if (!pool_.init(max_conns)) return false;
    // Pin limits in whole chunks (a pin holds a 256 KiB RAM slot whatever
    // the chunk's length). Every server gets an even part of the share.
    const uint32_t cap = ctx_.config.pin_conn_bytes / chunkstore::kChunkSize;
    conn_pin_cap_ = std::clamp<uint32_t>(cap, 1, http::kMaxPinRuns);
    const uint64_t slots = store_->usage().ram_capacity_bytes / chunkstore::kChunkSize;
    const uint32_t servers = std::max<uint32_t>(ctx_.config.pin_servers, 1);
    pin_budget_ = static_cast<uint32_t>(std::max<uint64_t>(
        slots * std::min<uint32_t>(ctx_.config.pin_ram_pct, 100) / 100 / servers, 1));
    for (uint32_t i = 0; i < max_conns; ++i) {
        new (pool_[i].session_mem) http::HttpSession(ctx_);
    }
    return stack_->listen(port, this);
}

HttpServer::Conn *HttpServer::conn_of(tcp::ConnId c) const {
    return static_cast<Conn *>(stack_->user(c));
}

std::optional<http::ObjectInfo> HttpServer::lookup(std::string_view key) const noexcept {
    const chunkstore::ObjectMeta *m = store_->lookup_object(tid_, key);
    if (!m && access_) access_->record_absent(chunkstore::object_id(key));
    if (!m || !feeding_) return std::nullopt;
    // The meta is only valid until this core's next quiescent state, and the
    // response may stream for a long time: keep the version, not the pointer.
    const uint8_t slot = feeding_->next_obj;
    feeding_->next_obj = static_cast<uint8_t>((slot + 1) % kObjSlots);
    feeding_->objs[slot] = {m->id, m->generation};
    http::ObjectInfo info;
    info.handle = slot;
    info.size = m->size;
    info.etag64 = m->etag;
    info.mtime = m->mtime_ns / 1'000'000'000;
    info.content_type = m->content_type();
    return info;
}

void HttpServer::on_accept(tcp::Stack &st, tcp::ConnId id) {
    Conn *c = pool_.acquire();
    if (!c) {
        ++ctr_.conn_pool_exhausted;
        st.abort(id);
        return;
    }
    c->id = id;
    c->in_use = true;
    c->head_done = c->peer_closed = c->input_pending = c->woken = c->closing = false;
    c->queued = 0;
    c->pins.reset(now_ns_);
    c->pin_blocked = c->budget_wait = false;
    c->promo_ns = 0;
    c->piece = 0;
    c->head_off = 0;
    c->piece_off = 0;
    c->waiting_since_ns = 0;
    c->session().start(now_);
    st.set_user(id, c);
}

size_t HttpServer::on_data(tcp::Stack &, tcp::ConnId id, const uint8_t *data, size_t len) {
    Conn *c = conn_of(id);
    if (!c) return len;
    feeding_ = c;
    const size_t n = c->session().feed({data, len}, now_);
    feeding_ = nullptr;
    // After the FIN, bytes still in the receive ring beyond this part (it
    // wraps) are requests too: pump() must not finish before they are fed.
    if (c->peer_closed && n == len && stack_->info(id).rcv_buffered > len)
        c->session().more_input_follows();
    c->input_pending = n < len;  // the response queue is full: resume after pop()
    pump(c);
    return n;
}

void HttpServer::on_peer_closed(tcp::Stack &, tcp::ConnId id) {
    if (Conn *c = conn_of(id)) {
        c->peer_closed = true;
        c->session().on_peer_closed();
        pump(c);
    }
}

void HttpServer::on_writable(tcp::Stack &, tcp::ConnId id) {
    if (Conn *c = conn_of(id)) pump(c);
}

void HttpServer::on_closed(tcp::Stack &, tcp::ConnId id, tcp::CloseReason) {
    if (Conn *c = conn_of(id)) release(c);
}

bool HttpServer::send_body_piece(Conn *c, const http::Response &r, const http::BodyPiece &p) {
    if (p.kind == http::BodyPiece::Kind::kInline) {
        const std::string_view bytes = r.inline_bytes(p);
        while (c->piece_off < bytes.size()) {
            const uint32_t n = stack_->send_copy(
                c->id, reinterpret_cast<const uint8_t *>(bytes.data()) + c->piece_off,
                static_cast<uint32_t>(bytes.size() - c->piece_off));
            if (n == 0) return false;
            c->piece_off += n;
            c->queued += n;
        }
        return true;
    }
    const Conn::ObjRef &obj = c->objs[p.handle % kObjSlots];
    while (c->piece_off < p.length) {
        const uint64_t pos = p.offset + c->piece_off;
        const auto index = static_cast<uint32_t>(pos / chunkstore::kChunkSize);
        const auto in_chunk = static_cast<uint32_t>(pos % chunkstore::kChunkSize);
        chunkstore::Chunk *ch = store_->lookup(tid_, obj.oid, index);
        if (ch && ch->generation != obj.generation) {
            // Re-ingested while streaming: the bytes would no longer match the
            // ETag and length already sent. Never mix versions: reset.
            ++ctr_.version_aborts;
            abort(c);
            return false;
        }
        // A chunk this connection may not pin yet is neither promoted nor
        // counted as an access: a blocked slow reader must not churn the RAM
        // tier for chunks it cannot take.
        const chunkstore::ChunkKey key = chunkstore::chunk_key(obj.oid, index);
        if (c->pins.is_new(key) && !may_pin(c)) return false;  // retried by poll(): see block_on_pin()
        c->pin_blocked = c->budget_wait = false;
        // One access per chunk a response starts on, for the cache policy:
        // at the piece's start or a chunk edge, and once per wait.
        if (access_ && (c->piece_off == 0 || in_chunk == 0) && c->waiting_since_ns == 0)
            access_->record(chunkstore::chunk_key(obj.oid, index),
                            ch ? ch->len : chunkstore::kChunkSize, ch != nullptr);
        if (!ch) {
            // A chunk that can never come ends the response at once: the
            // object was removed or replaced (its length and ETag are sent),
            // the chunk failed its checksum, or RAM was the only copy.
            const chunkstore::ObjectMeta *m = store_->lookup_object(tid_, obj.oid);
            const bool gone = !m || m->generation != obj.generation;
            if (gone || m->chunk_lost(index) || !store_->has_disk()) {
                ++(gone ? ctr_.object_gone_aborts : ctr_.chunk_lost_aborts);
                abort(c);
                return false;
            }
            // On disk only (or being replaced): ask for it and wait, without
            // holding the core. The wait is bounded.
            // Asked again every millisecond, not every loop: a request the
            // full ring refused is retried, without flooding it.
            if (c->waiting_since_ns == 0 || now_ns_ - c->promo_ns >= kPromoRetryNs) {
                c->promo_ns = now_ns_;
                store_->request_promotion(tid_, key);
            }
            if (c->waiting_since_ns == 0) {
                c->waiting_since_ns = now_ns_;
                ++ctr_.chunk_waits;
            }
            if (now_ns_ - c->waiting_since_ns > kChunkWaitLimitNs) {
                ++ctr_.chunk_wait_timeouts;
                abort(c);
                return false;
            }
            wake(c);
            return false;
        }
        c->waiting_since_ns = 0;
        const uint64_t want = std::min<uint64_t>(p.length - c->piece_off, ch->len - in_chunk);
        const uint32_t n = stack_->send(c->id, ch->data + in_chunk, static_cast<uint32_t>(want), ch,
                                        &kChunkBufOps);
        if (n == 0) return false;  // on_writable() resumes
        c->piece_off += n;
        c->queued += n;
        if (c->pins.queued(key, c->queued)) ++pinned_;
        ctr_.body_bytes_queued += n;
    }
    return true;
}

void HttpServer::pump(Conn *c) {
    if (c->closing) return;
    http::HttpSession &s = c->session();
    while (c->in_use && s.has_response()) {
        const http::Response &r = s.front();
        const std::string_view head = r.head();
        while (!c->head_done) {
            const uint32_t n = stack_->send_copy(
                c->id, reinterpret_cast<const uint8_t *>(head.data()) + c->head_off,
                static_cast<uint32_t>(head.size() - c->head_off));
            c->head_off += n;
            c->queued += n;
            if (c->head_off == head.size()) c->head_done = true;
            if (n == 0) return;
        }
        const auto body = r.body();
        while (c->piece < body.size()) {
            if (!send_body_piece(c, r, body[c->piece])) return;
            ++c->piece;
            c->piece_off = 0;
        }
        const bool close_after = r.close_after();
        s.pop();
        c->head_done = false;
        c->head_off = 0;
        c->piece = 0;
        if (close_after) return finish(c);
        if (c->input_pending) wake(c);  // room in the response queue again
    }
    // After the peer's FIN, finished() waits for the requests still in the
    // receive buffer (input_pending) to be parsed and answered.
    if (c->in_use && s.finished()) finish(c);
}

void HttpServer::finish(Conn *c) {
    // FIN after the queued data. The session stays ours until the send
    // queue drains (sweep) or on_closed(): a peer that stops reading after
    // the last response must still meet the send timeout.
    if (c->closing) return;
    c->closing = true;
    stack_->close(c->id);
}

void HttpServer::abort(Conn *c) {
    const tcp::ConnId id = c->id;
    release(c);
    stack_->abort(id);
}

void HttpServer::settle(Conn *c, uint32_t unacked) {
    pinned_ -= c->pins.settle(c->queued - unacked, unacked > 0, now_ns_);
}

bool HttpServer::may_pin(Conn *c) {
    settle(c, stack_->info(c->id).send_queued);
    switch (http::pin_verdict(c->pins.count(), conn_pin_cap_, pinned_, pin_budget_)) {
        case http::PinVerdict::kOk: return true;
        case http::PinVerdict::kConnCap: return block_on_pin(c);
        case http::PinVerdict::kBudget:
            // The share is used up: the sweep resets stalled holders (reclaim).
            if (!c->budget_wait) ++ctx_.counters.pin_waits;
            c->budget_wait = true;
            contended_ = true;
            return block_on_pin(c);
    }
    return false;
}

bool HttpServer::block_on_pin(Conn *c) {
    // No stack callback says "acknowledged": a connection that is moving is
    // retried every loop, a stalled one at the next sweep.
    c->pin_blocked = true;
    if (!c->pins.stalled(now_ns_, kActiveNs)) wake(c);
    return false;
}

void HttpServer::reclaim() {
    // Largest holders first; only connections that acknowledged nothing for
    // pin_stall_ms: a slow but moving reader is throttled (it waits), never
    // reset for its pins.
    const uint64_t stall_ns = ctx_.config.pin_stall_ms * 1'000'000;
    for (uint32_t k = conn_pin_cap_; k > 0 && pinned_ >= pin_budget_; --k) {
        for (uint32_t i = 0; i < pool_.size() && pinned_ >= pin_budget_; ++i) {
            Conn *c = &pool_[i];
            if (!c->in_use || c->pins.count() != k || !c->pins.stalled(now_ns_, stall_ns)) continue;
            ++ctx_.counters.pin_resets;
            abort(c);
        }
    }
}

void HttpServer::release(Conn *c) {
    if (!c->in_use) return;
    // The stack drops (or already dropped) the send queue's references.
    pinned_ -= c->pins.count();
    c->pins.reset(now_ns_);
    stack_->set_user(c->id, nullptr);
    c->in_use = false;
    pool_.release(c);
}

void HttpServer::wake(Conn *c) {
    pool_.wake(c);
}

void HttpServer::poll(uint64_t now_ns, int64_t unix_s) {
    now_ns_ = now_ns;
    now_ = {now_ns / 1'000'000, unix_s};
    pool_.drain_wakes([this](Conn *c) {
        if (!c->in_use) return;
        if (c->input_pending) {
            c->input_pending = false;
            stack_->resume_read(c->id);  // re-delivers through on_data()
        }
        if (c->in_use) pump(c);
    });
    if (now_ns < next_sweep_ns_) return;
    next_sweep_ns_ = now_ns + kSweepNs;
    for (uint32_t i = 0; i < pool_.size(); ++i) {
        Conn *c = &pool_[i];
        if (!c->in_use) continue;
        const uint32_t unacked = stack_->info(c->id).send_queued;
        settle(c, unacked);
        if (c->closing && unacked == 0) {
            release(c);  // all acknowledged: nothing left to time out or pin
            continue;
        }
        const bool sending = (!c->closing && c->session().has_response()) || unacked > 0;
        switch (c->session().poll(now_, sending, c->queued - unacked)) {
            case http::HttpSession::TimerAction::kNone: break;
            case http::HttpSession::TimerAction::kClose: finish(c); break;
            case http::HttpSession::TimerAction::kTimedOut: pump(c); break;
            case http::HttpSession::TimerAction::kAbort: abort(c); break;  // counted by the session
        }
    }
    if (contended_) {
        contended_ = false;
        reclaim();
    }
    // Connections waiting for a pin: moving ones first, so a reader that
    // makes progress gets the freed share before stalled newcomers.
    const uint64_t stall_ns = ctx_.config.pin_stall_ms * 1'000'000;
    for (int pass = 0; pass < 2; ++pass) {
        for (uint32_t i = 0; i < pool_.size(); ++i) {
            Conn *c = &pool_[i];
            if (!c->in_use || !c->pin_blocked) continue;
            if (c->pins.stalled(now_ns, stall_ns) == (pass == 0)) continue;
            c->pin_blocked = false;
            pump(c);
        }
    }
    ctx_.counters.pinned_bytes = uint64_t{pinned_} * chunkstore::kChunkSize;
}

// stats shows the HTTP core's counters as requests, status_404,
// parse_error.KIND; the glue's own counters follow.
void HttpServer::visit_counters(const CounterVisitor &fn) const {
    const http::Counters &h = ctx_.counters;
#define EP_X(field, kind, help) \
    fn({#field, help, __atomic_load_n(&h.field, __ATOMIC_RELAXED), EP_HTTP_IS_GAUGE_##kind});
    EP_HTTP_COUNTERS(EP_X)
#undef EP_X
    char key[48];
    for (std::size_t i = 0; i < h.status.size(); ++i) {
        std::snprintf(key, sizeof key, "status_%s", http::kStatusSlotCodes[i]);
        fn({key, "responses with this status code", __atomic_load_n(&h.status[i], __ATOMIC_RELAXED)});
    }
    for (std::size_t i = 1; i < h.parse_errors.size(); ++i) {
        const std::string_view kind = http::parse_error_name(static_cast<http::ParseError>(i));
        std::snprintf(key, sizeof key, "parse_error.%.*s", static_cast<int>(kind.size()),
                      kind.data());
        fn({key, "requests refused by the parser for this reason",
            __atomic_load_n(&h.parse_errors[i], __ATOMIC_RELAXED)});
    }
#define EP_X(field, help) fn({#field, help, __atomic_load_n(&ctr_.field, __ATOMIC_RELAXED)});
    EP_HTTP_SERVER_COUNTERS(EP_X)
#undef EP_X
}

}  // namespace ep

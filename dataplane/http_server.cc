#include "dataplane/http_server.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "dataplane/http_steer_table.h"

namespace ep {

namespace {
constexpr uint64_t kSweepNs = 100'000'000;  // timeouts checked every 100 ms
// Body pieces carry the stream's object handle (low byte); this bit above it
// says the request was held until an origin fill (or revalidation) answered,
// so its access-log record says "fill" even when no chunk wait followed.
constexpr uint64_t kHeldForOrigin = 1u << 8;
}  // namespace

// The stream state is the base: ChunkStream hands it back to the callbacks.
struct HttpServer::Conn : StreamConn {
    tcp::ConnId id;
    bool in_use = false;
    bool head_done = false;
    bool peer_closed = false;
    bool input_pending = false;  // on_data consumed less than offered
    // finish() was called: the stack sends what is queued, then FIN. The
    // connection stays ours until its send queue drains, so a peer that
    // stops reading is still timed out (send_timeout) and its pins counted.
    bool closing = false;
    uint8_t piece = 0;
    uint32_t head_off = 0;
    uint64_t piece_off = 0;
    uint32_t waits_mark = 0;  // StreamConn::disk_waits when this response started
    uint64_t queued_mark = 0;  // StreamConn::queued when this response started
    uint64_t held_for = 0;    // the object id its held request waited for (0: none)
    uint64_t held_gen = 0;    // the stored version it was revalidating (0: a cold miss)
    Conn *next_free = nullptr;
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
                      uint32_t max_conns, uint16_t port, AccessSink *access,
                      const OriginConfig *origin) {
    stack_ = stack;
    store_ = store;
    tid_ = reader_id;
    access_ = access;
    if (!pool_.init(max_conns)) return false;
    StreamConfig sc;
    sc.live = pin_live_;
    sc.pin_conn_bytes = ctx_.config.pin_conn_bytes;
    sc.pin_ram_pct = ctx_.config.pin_ram_pct;
    sc.pin_sharers = ctx_.config.pin_servers;
    sc.pin_stall_ms = ctx_.config.pin_stall_ms;
    if (!stream_.init(stack, store, reader_id, max_conns, sc, this, access)) return false;
    if (origin && !fill_.init(*origin, stack, store, reader_id, &stream_)) return false;
    for (uint32_t i = 0; i < max_conns; ++i) {
        new (pool_[i].session_mem) http::HttpSession(ctx_);
    }
    return stack_->listen(port, this);
}

void HttpServer::set_tracker(const swarm::TrackerConfig &cfg, const swarm::TorrentSet *ours,
                             swarm::SwarmTable *table, uint32_t shard, uint64_t seed) {
    tracker_ = std::make_unique<swarm::HttpTracker>(cfg, ours, table, shard, seed);
    ctx_.generator = this;
}

bool HttpServer::owns(std::string_view path) const noexcept {
    return tracker_ && swarm::HttpTracker::route(path) != swarm::HttpTracker::Route::kNone;
}

std::size_t HttpServer::generate(std::string_view path, std::string_view query, char *out,
                                 std::size_t room, std::string_view *content_type) noexcept {
    if (!tracker_ || !feeding_) return 0;
    // The announcing peer is this connection's remote address (IPv4 is
    // stored IPv4-mapped in the TCP engine).
    const tcp::FlowKey k = stack_->flow(feeding_->id);
    swarm::Addr src;
    if (k.remote.is_v4()) {
        src.family = 4;
        std::memcpy(src.ip, k.remote.b + 12, 4);
    } else {
        src.family = 6;
        std::memcpy(src.ip, k.remote.b, 16);
    }
    src.port = k.rport;
    *content_type = "text/plain";  // BEP 3 names none; what other trackers send
    return tracker_->handle(swarm::HttpTracker::route(path), query, src, now_.unix_s, out, room);
}

void HttpServer::set_steering(const std::atomic<const HttpSteerTable *> *table, rte_rcu_qsbr *rcu,
                              uint32_t rcu_id) {
    steer_table_ = table;
    steer_rcu_ = rcu;
    steer_rcu_id_ = rcu_id;
    ctx_.steer = this;
}

// Runs inside feed() for the connection being fed: the table pointer stays
// valid until this lcore's next quiescent state (the end of poll()).
bool HttpServer::steer_view(http::SteerView *out) const noexcept {
    if (!steer_table_ || !feeding_) return false;
    const HttpSteerTable *t = steer_table_->load(std::memory_order_acquire);
    if (!t) return false;
    const tcp::FlowKey k = stack_->flow(feeding_->id);
    if (k.remote.is_v4())
        t->view(1, k.remote.b + 12, out);
    else
        t->view(2, k.remote.b, out);
    return true;
}

HttpServer::Conn *HttpServer::conn_of(tcp::ConnId c) const {
    return static_cast<Conn *>(stack_->user(c));
}

std::optional<http::ObjectInfo> HttpServer::lookup(std::string_view key) const noexcept {
    return lookup_from(key, 0);
}

std::optional<http::ObjectInfo> HttpServer::lookup_from(std::string_view key,
                                                        uint64_t first_byte) const noexcept {
    const chunkstore::ObjectMeta *m = store_->lookup_object(tid_, key);
    // A request held for this object's fill is answered by what it brought
    // (a version other than the one it found stale), even a no-store copy
    // (always stale: anyone else fetches anew). A retry before that lands
    // joins the fetch again.
    const bool was_held = feeding_ && m && feeding_->held_for == m->id &&
                          m->generation != feeding_->held_gen;
    if (feeding_) feeding_->held_for = 0;
    if (m && m->negative_status) {
        // A remembered origin 404/410 (negative caching): not found, the
        // origin is not asked; once expired, a miss like any other.
        if (fill_.negative_fresh(*m)) return std::nullopt;
        m = nullptr;
    }
    if (!m && access_) access_->record_absent(chunkstore::object_id(key));
    if (!m && feeding_ && fill_.enabled()) {
        // Pull on miss: the first request starts the fill, later ones join;
        // the request is held until the object's length is known.
        const OriginMiss miss = fill_.object_miss(key, first_byte);
        http::ObjectInfo info;
        switch (miss.kind) {
            case OriginMiss::Kind::kNoOrigin:
                return std::nullopt;
            case OriginMiss::Kind::kPending:
                held_key_ = miss.wait_key;
                feeding_->held_for = miss.wait_key;
                feeding_->held_gen = 0;
                info.pending = true;
                return info;
            case OriginMiss::Kind::kBusy:
                info.available = false;  // 503 + Retry-After
                return info;
            case OriginMiss::Kind::kError:
                if (miss.status == 404) return std::nullopt;
                info.error_status = miss.status;
                return info;
        }
    }
    if (m && feeding_ && fill_.stale(*m) && !(m->no_store && was_held)) {
        // Expired: revalidate with the origin first (held meanwhile). The
        // answer keeps this version (304) or replaces it; a response never
        // mixes two (chunk generations are checked per chunk).
        const OriginMiss miss = fill_.revalidate(*m, first_byte);
        http::ObjectInfo info;
        if (miss.kind == OriginMiss::Kind::kPending) {
            held_key_ = miss.wait_key;
            feeding_->held_for = miss.wait_key;
            feeding_->held_gen = m->generation;
            info.pending = true;
            return info;
        }
        if (miss.kind == OriginMiss::Kind::kError && !fill_.serve_stale(*m)) {
            if (miss.status == 404) return std::nullopt;
            info.error_status = miss.status;
            return info;
        }
        // kNoOrigin, kBusy, stale-if-error: serve the stored version.
    }
    if (!m || !feeding_) return std::nullopt;
    // The meta is only valid until this core's next quiescent state, and the
    // response may stream for a long time: keep the version, not the pointer.
    http::ObjectInfo info;
    info.handle = ChunkStream::hold(*feeding_, *m);
    if (feeding_->session().held()) info.handle |= kHeldForOrigin;  // answered by retry()
    info.size = m->size;
    info.etag64 = m->etag;
    info.mtime = m->mtime_ns / 1'000'000'000;
    info.content_type = m->content_type();
    return info;
}

uint16_t HttpServer::purge(std::string_view key) const noexcept {
    if (!feeding_) return 405;
    const tcp::FlowKey k = stack_->flow(feeding_->id);
    return fill_.purge(key, k.remote.is_v4() ? k.remote.v4_host() : 0);
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
    ++ctr_.connections_open;
    c->head_done = c->peer_closed = c->input_pending = c->closing = false;
    stream_.attach(*c, id);
    c->piece = 0;
    c->held_for = 0;
    c->head_off = 0;
    c->piece_off = 0;
    c->waits_mark = c->disk_waits;
    c->queued_mark = c->queued;
    c->session().start(now_);
    st.set_user(id, c);
}

size_t HttpServer::on_data(tcp::Stack &, tcp::ConnId id, const uint8_t *data, size_t len) {
    Conn *c = conn_of(id);
    if (!c) return len;
    feeding_ = c;
    const size_t n = c->session().feed({data, len}, now_);
    feeding_ = nullptr;
    if (c->session().held()) stream_.park(*c, held_key_);  // woken when the fill knows more
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
        auto done = static_cast<uint32_t>(c->piece_off);
        const bool all = stream_.copy(*c, reinterpret_cast<const uint8_t *>(bytes.data()),
                                      static_cast<uint32_t>(bytes.size()), &done);
        c->piece_off = done;
        return all;
    }
    const auto h = static_cast<ChunkStream::Handle>(p.handle & 0xff);
    switch (stream_.send(*c, h, p.offset, p.length, &c->piece_off)) {
        case ChunkStream::Sent::kDone:
            return true;
        case ChunkStream::Sent::kBlocked:
            return false;  // the stream or on_writable() resumes
        case ChunkStream::Sent::kAbort:
            abort(c);
            return false;  // counted by the stream
    }
    return false;
}

bool HttpServer::retry_held(Conn *c) {
    feeding_ = c;
    const bool answered = c->session().retry(now_);
    feeding_ = nullptr;
    if (!answered) {
        if (c->session().held()) stream_.park(*c, held_key_);
        return false;
    }
    stream_.unpark(*c);
    if (c->input_pending) pool_.wake(c);  // the requests behind it
    return true;
}

void HttpServer::pump(Conn *c) {
    if (c->closing) return;
    http::HttpSession &s = c->session();
    if (s.held() && !s.has_response() && !retry_held(c)) return;
    while (c->in_use && s.has_response()) {
        const http::Response &r = s.front();
        const std::string_view head = r.head();
        if (!c->head_done) {
            if (!stream_.copy(*c, reinterpret_cast<const uint8_t *>(head.data()),
                              static_cast<uint32_t>(head.size()), &c->head_off))
                return;
            c->head_done = true;
        }
        const auto body = r.body();
        while (c->piece < body.size()) {
            if (!send_body_piece(c, r, body[c->piece])) return;
            ++c->piece;
            c->piece_off = 0;
        }
        const bool close_after = r.close_after();
        if (rlog_) log_response(*c, r, true);
        s.pop();
        c->waits_mark = c->disk_waits;
        c->queued_mark = c->queued;
        c->head_done = false;
        c->head_off = 0;
        c->piece = 0;
        if (close_after) return finish(c);
        if (c->input_pending) pool_.wake(c);  // room in the response queue again
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
    ++ctr_.connections_closing;
    stack_->close(c->id);
}

void HttpServer::abort(Conn *c) {
    const tcp::ConnId id = c->id;
    release(c);
    stack_->abort(id);
}

void HttpServer::release(Conn *c) {
    if (!c->in_use) return;
    // A response cut short (client gone, send timeout, drain reset, a chunk
    // that never came): logged with what was sent, marked incomplete.
    if (rlog_ && !c->closing && c->session().has_response() && (c->head_done || c->head_off > 0))
        log_response(*c, c->session().front(), false);
    stream_.detach(*c);
    stack_->set_user(c->id, nullptr);
    c->in_use = false;
    --ctr_.connections_open;
    if (c->closing) --ctr_.connections_closing;
    pool_.release(c);
}

// One access-log record per response whose last byte is queued, and one for
// a response reset midway (complete == false: the bytes are what was handed
// to TCP by then). Fixed-size copy into the lcore's ring.
void HttpServer::log_response(const Conn &c, const http::Response &r, bool complete) {
    if (!rlog_->wanted()) return;
    const http::RequestSummary &q = r.request();
    ResponseRecord rec;
    rec.service = LogService::kHttp;
    rec.unix_s = now_.unix_s;
    rec.duration_us = (now_.mono_ms - std::min(q.start_ms, now_.mono_ms)) * 1000;
    // A small generated answer (an error page) carries its body in head():
    // the header fields end at the blank line.
    const std::string_view head = r.head();
    const std::size_t blank = head.find("\r\n\r\n");
    const std::size_t fields = blank == std::string_view::npos ? head.size() : blank + 4;
    rec.head_bytes = fields;
    rec.bytes = (head.size() - fields) + r.body_length();
    if (!complete) {
        const uint64_t sent = c.queued - c.queued_mark;
        rec.head_bytes = std::min<uint64_t>(sent, fields);
        rec.bytes = sent - rec.head_bytes;
        rec.flags |= ResponseRecord::kIncomplete;
    }
    rec.status = http::code(r.status());
    const tcp::FlowKey k = stack_->flow(c.id);
    rec.client_ip = k.remote.is_v4() ? k.remote.v4_host() : 0;
    rec.client_port = k.rport;
    static constexpr std::string_view kMethods[] = {"GET", "HEAD", "OPTIONS", "-", "PURGE"};
    rec.set_method(kMethods[static_cast<unsigned>(q.method)]);
    rec.set_path(q.target_view());
    rec.set_range(q.range_view());
    if (q.target_cut) rec.flags |= ResponseRecord::kPathTruncated;
    if (q.range_cut) rec.flags |= ResponseRecord::kRangeTruncated;
    if (q.version == http::Version::kHttp10) rec.flags |= ResponseRecord::kHttp10;
    bool object = false, held = false;
    for (const http::BodyPiece &p : r.body()) {
        if (p.kind != http::BodyPiece::Kind::kObject) continue;
        object = true;
        held |= (p.handle & kHeldForOrigin) != 0;
    }
    // fill: a chunk had to come from the disk tier or an origin during this
    // response, or the request waited for the origin before it was answered.
    if (rec.status == 404)
        rec.cache = CacheResult::kMiss;
    else if (object)
        rec.cache = held || c.disk_waits != c.waits_mark ? CacheResult::kFill : CacheResult::kHit;
    rlog_->push(rec);
}

void HttpServer::stream_wake(StreamConn &sc) {
    pool_.wake(static_cast<Conn *>(&sc));
}

void HttpServer::stream_run(StreamConn &sc) {
    Conn *c = static_cast<Conn *>(&sc);
    if (c->in_use) pump(c);
}

void HttpServer::stream_abort(StreamConn &sc) {
    abort(static_cast<Conn *>(&sc));
}

void HttpServer::poll(uint64_t now_ns, int64_t unix_s) {
    now_ = {now_ns / 1'000'000, unix_s};
    // Between requests: nothing of the steering table is held from here on.
    if (steer_rcu_) rte_rcu_qsbr_quiescent(steer_rcu_, steer_rcu_id_);
    fill_.poll(now_ns, unix_s);  // origin fetches: landed chunks, timeouts
    stream_.poll(now_ns);        // settled promotions (and fills) wake their connections
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
        const uint32_t unacked = stream_.settle(*c);
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
    stream_.sweep(now_ns);  // chunk wait timeouts, pin reclaim and retries
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
#define EP_X(field, help) fn({#field, help, __atomic_load_n(&ctr_.field, __ATOMIC_RELAXED), true});
    EP_HTTP_SERVER_GAUGES(EP_X)
#undef EP_X
    stream_.visit_counters(fn);
    fill_.visit_counters(fn);
    if (tracker_) {
        // The HTTP tracker's counters, named tracker_* in this section (the
        // UDP tracker's are in `stats tracker`).
        const swarm::HttpTrackerCounters &t = tracker_->counters();
#define EP_X(field, help) \
    fn({"tracker_" #field, help, __atomic_load_n(&t.field, __ATOMIC_RELAXED)});
        EP_HTTP_TRACKER_COUNTERS(EP_X)
#undef EP_X
#define EP_X(field, help) \
    fn({"tracker_" #field, "failure sent: " help, __atomic_load_n(&t.field, __ATOMIC_RELAXED)});
        EP_HTTPT_QUERY_ERRORS(EP_X)
#undef EP_X
    }
}

}  // namespace ep

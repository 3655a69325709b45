#include "dataplane/origin_fill.h"

#include <rte_byteorder.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>

#include "dataplane/http/http_date.h"

namespace ep {

namespace {
constexpr uint64_t kSweepNs = 50'000'000;  // timeouts and failure holds, every 50 ms
constexpr uint32_t kMaxPath = chunkstore::kMaxName + 1;
constexpr uint32_t kMaxRequest = kMaxPath + 512;
using origin::kFillChunk;
}  // namespace

struct OriginFill::Fetch {
    bool in_use = false;
    bool first = false;        // also learns the object: table keys oid and the chunk key
    bool head_ok = false;      // the answer's head was checked and taken
    bool landing = false;      // posted to the control thread, waiting for its answer
    bool posted = false;       // the post went through (else retried by poll)
    bool reval = false;        // first, of a stored version that expired: If-None-Match
    bool expire_only = false;  // landing: only a "stale now" note for the store (slots done)
    bool reused = false;       // sent on a kept-alive connection (it may have gone stale)
    bool peer_closed = false;  // the origin sent FIN: the connection cannot be kept
    uint32_t srv_ip_be = 0;    // the server this attempt went to (what a kept connection is for)
    uint16_t srv_port = 0;
    const origin::Route *route = nullptr;
    uint64_t key = 0;  // chunk key: the FillTable slot that holds the failover state
    uint64_t oid = 0;
    uint32_t index = 0;
    uint64_t size = 0, etag64 = 0, generation = 0;  // later chunks: the stored version
    tcp::ConnId conn{};
    uint64_t started_ns = 0;
    uint64_t moved_ns = 0;  // last time the answer moved (the timeout counts from here)
    uint32_t req_len = 0, req_off = 0;
    uint32_t got = 0, want = 0;  // body bytes received / expected
    uint16_t path_len = 0;
    origin::ObjectHead meta;  // first: what the answer said
    http::ResponseParser parser{8192};
    chunkstore::Store::FillMsg msg;
    uint8_t *buf = nullptr;  // kFillChunk bytes of staging
    char path[kMaxPath];
    char req[kMaxRequest];

    // For a new fill: everything but the staging buffer, the parser's
    // memory and the message (whose state the control thread may still read).
    void clear() {
        in_use = first = head_ok = landing = posted = reval = expire_only = false;
        reused = peer_closed = false;
        route = nullptr;
        key = oid = size = etag64 = generation = started_ns = moved_ns = 0;
        index = req_len = req_off = got = want = 0;
        conn = {};
        path_len = 0;
        meta = origin::ObjectHead{};
        parser.reset();
    }
};

// One server of one route: its health (origin/health.h), what it served,
// and its check connection (a HEAD on the data plane's own TCP client).
struct OriginFill::Check {
    const origin::Table *table = nullptr;
    uint8_t route = 0, server = 0;
    uint32_t ip_be = 0;  // 0: unresolved (never checked, never tried)
    uint16_t port = 0;
    origin::ServerHealth h;
    int64_t last_unix_s = 0;
    uint64_t checks = 0, attempts = 0, fills = 0;
    bool busy = false;  // a check is in flight on conn
    tcp::ConnId conn{};
    uint64_t sent_ns = 0, next_ns = 0;
    uint32_t req_len = 0, req_off = 0;
    char req[kMaxPath + 192];
    http::ResponseParser parser{2048};
};

OriginFill::OriginFill() = default;
OriginFill::~OriginFill() = default;

bool OriginFill::init(const OriginConfig &cfg, tcp::Stack *stack, chunkstore::Store *store,
                      uint32_t reader_id, ChunkStream *stream) {
    cfg_ = cfg;
    stack_ = stack;
    store_ = store;
    tid_ = reader_id;
    stream_ = stream;
    if (!cfg.routes || cfg.routes->size() == 0 || !store) return true;  // off
    cfg_.fetches = std::max<uint32_t>(cfg_.fetches, 1);
    cfg_.table = std::max<uint32_t>(cfg_.table, cfg_.fetches * 2);
    if (!table_.init(cfg_.table)) return false;
    fetches_.reset(new (std::nothrow) Fetch[cfg_.fetches]);
    staging_.reset(new (std::nothrow) uint8_t[size_t{cfg_.fetches} * kFillChunk]);
    queue_.reset(new (std::nothrow) uint64_t[cfg_.table]);
    purge_msgs_.reset(new (std::nothrow) chunkstore::Store::FillMsg[kPurgeMsgs]);
    checks_.reset(new (std::nothrow) Check[kMaxChecks]);
    if (!fetches_ || !staging_ || !queue_ || !purge_msgs_ || !checks_) return false;
    for (uint32_t i = 0; i < kPurgeMsgs; ++i)
        purge_msgs_[i].state.store(chunkstore::Store::FillMsg::kDone, std::memory_order_relaxed);
    for (uint32_t i = 0; i < cfg_.fetches; ++i) fetches_[i].buf = &staging_[size_t{i} * kFillChunk];
    channel_ = store->add_fill_channel();
    if (channel_ == UINT32_MAX || stream->waiter() == chunkstore::kNoWaiter) return false;
    stream->set_filler(this);
    routes_ = cfg.routes;
    live_ = cfg.live_routes;
    rebuild_checks();
    return true;
}

OriginFill::Fetch *OriginFill::free_fetch() {
    for (uint32_t i = 0; i < cfg_.fetches; ++i)
        if (!fetches_[i].in_use) return &fetches_[i];
    return nullptr;
}

// ---------------------------------------------------------------- requests

// A request for an object whose fill is already under way joins it
// (coalescing), or gets the failure a recent fill left (the fail hold).
OriginMiss OriginFill::join(const origin::FillSlot &s, OriginMiss r) {
    if (s.state == origin::FillState::kFailed) {
        r.kind = OriginMiss::Kind::kError;
        r.status = s.fail_status;
        ++(r.status == 504   ? ctr_.origin_504
           : r.status == 404 ? ctr_.origin_404
                             : ctr_.origin_502);
        return r;
    }
    ++ctr_.origin_coalesced;
    r.kind = OriginMiss::Kind::kPending;
    return r;
}

OriginMiss OriginFill::object_miss(std::string_view key, uint64_t first_byte) {
    OriginMiss r;
    if (!routes_) return r;
    const origin::Route *route = routes_->match_key(key);
    if (!route || key.size() + 1 > kMaxPath - 1) return r;
    const uint64_t oid = chunkstore::object_id(key);
    r.wait_key = oid;
    if (origin::FillSlot *s = table_.find(oid)) return join(*s, r);
    ++ctr_.origin_objects_started;
    return start_first(key, oid, origin::chunk_of(first_byte), route, nullptr);
}

OriginMiss OriginFill::revalidate(const chunkstore::ObjectMeta &m, uint64_t first_byte) {
    OriginMiss r;
    const origin::Route *route = routes_ ? routes_->match_key(m.name_view()) : nullptr;
    if (!route || m.name_len + 1u > kMaxPath - 1) return r;  // no origin now: serve it as is
    r.wait_key = m.id;
    // A failed revalidation answers like a failed fill (stale-if-error aside).
    if (origin::FillSlot *s = table_.find(m.id)) return join(*s, r);
    const uint32_t index = std::min(origin::chunk_of(first_byte), m.chunk_count - 1);
    r = start_first(m.name_view(), m.id, index, route, &m);
    if (r.kind == OriginMiss::Kind::kPending) ++ctr_.origin_revalidations;
    return r;
}

OriginMiss OriginFill::start_first(std::string_view key, uint64_t oid, uint32_t index,
                                   const origin::Route *route, const chunkstore::ObjectMeta *old) {
    OriginMiss r;
    r.wait_key = oid;
    const uint64_t ck = chunkstore::chunk_key(oid, index);
    Fetch *f = free_fetch();
    if (!f || table_.in_flight() + 2 > table_.capacity() || table_.find(ck)) {
        ++ctr_.origin_busy;
        r.kind = OriginMiss::Kind::kBusy;
        return r;
    }
    origin::FillSlot *s;
    table_.join(oid, oid, index, now_ns_, &s);
    table_.join(ck, oid, index, now_ns_, &s);
    f->clear();
    f->in_use = true;
    f->first = true;
    f->route = route;
    f->key = ck;
    f->oid = oid;
    f->index = index;
    if (old && !old->no_store) {  // the stored version, for If-None-Match and the comparison
        f->reval = true;
        f->size = old->size;
        f->etag64 = old->etag;
        f->generation = old->generation;
        f->meta.etag_len = static_cast<uint8_t>(
            std::min<size_t>(old->origin_etag_len, origin::ObjectHead::kMaxEtag - 1));
        std::memcpy(f->meta.etag, old->origin_etag, f->meta.etag_len);
        if (f->meta.etag_len == 0 && old->mtime_ns > 0) {
            // No ETag: the stored Last-Modified is the validator (If-Modified-Since).
            http::format_imf_fixdate(old->mtime_ns / 1'000'000'000, f->meta.last_modified);
            f->meta.last_modified_len = static_cast<uint8_t>(http::kImfFixdateLen);
        }
    }
    f->path[0] = '/';
    std::memcpy(f->path + 1, key.data(), key.size());
    f->path_len = static_cast<uint16_t>(key.size() + 1);
    start(*f);
    r.kind = OriginMiss::Kind::kPending;
    return r;
}

ChunkFiller::Want OriginFill::want_chunk(const chunkstore::ObjectMeta &m, uint32_t index,
                                         chunkstore::ChunkKey key) {
    if (!routes_) return Want::kFail;
    if (origin::FillSlot *s = table_.find(key)) {
        if (s->state != origin::FillState::kFailed) {
            // In flight (maybe for another version: then this reader is
            // woken when it lands or fails, and looks again).
            ++ctr_.origin_coalesced;
            return Want::kWait;
        }
        if (s->generation == m.generation) return Want::kFail;
        table_.finish(s);  // another version's failure: fetch this one's
    }
    if (!start_chunk(key, m, index)) return Want::kFail;
    // Read-ahead: the next chunks a sequential reader will want, so serving
    // while filling streams rather than stopping at every chunk edge.
    for (uint32_t i = index + 1; i < m.chunk_count && i - index < cfg_.readahead; ++i) {
        const uint64_t k = chunkstore::chunk_key(m.id, i);
        // One in RAM, or on disk (a promotion brings it, docs/origin.md
        // "Disk tier and restart"), is not asked of the origin.
        if (table_.find(k) || store_->lookup(tid_, m, i) || m.chunk_on_disk(i)) continue;
        if (table_.in_flight() + 1 >= table_.capacity()) break;
        start_chunk(k, m, i);
    }
    return Want::kWait;
}

bool OriginFill::start_chunk(uint64_t key, const chunkstore::ObjectMeta &m, uint32_t index) {
    const origin::Route *route = routes_->match_key(m.name_view());
    if (!route || uint32_t{m.name_len} + 1 > kMaxPath - 1) return false;
    origin::FillSlot *s;
    if (table_.join(key, m.id, index, now_ns_, &s) == origin::FillTable::Join::kFull) {
        ++ctr_.origin_busy;
        return false;
    }
    s->generation = m.generation;
    Fetch *f = free_fetch();
    if (!f) {
        // Waits for a connection; the path is read from the store again then.
        if (qlen_ == cfg_.table) {
            table_.finish(s);
            ++ctr_.origin_busy;
            return false;
        }
        queue_[(qhead_ + qlen_++) % cfg_.table] = key;
        ++ctr_.origin_queued;
        return true;
    }
    f->clear();
    f->in_use = true;
    f->route = route;
    f->key = key;
    f->oid = m.id;
    f->index = index;
    f->size = m.size;
    f->etag64 = m.etag;
    f->generation = m.generation;
    f->path[0] = '/';
    std::memcpy(f->path + 1, m.name, m.name_len);
    f->path_len = static_cast<uint16_t>(m.name_len + 1);
    start(*f);
    return true;
}

void OriginFill::start_queued() {
    while (qlen_ > 0) {
        Fetch *f = free_fetch();
        if (!f) return;
        const uint64_t key = queue_[qhead_];
        qhead_ = (qhead_ + 1) % cfg_.table;
        --qlen_;
        origin::FillSlot *s = table_.find(key);
        if (!s || s->state != origin::FillState::kConnecting) continue;
        // A key queued twice (finished and joined again meanwhile) is fetched once.
        bool fetching = false;
        for (uint32_t i = 0; i < cfg_.fetches; ++i)
            fetching |= fetches_[i].in_use && fetches_[i].key == key;
        if (fetching) continue;
        const chunkstore::ObjectMeta *m = store_->lookup_object(tid_, s->oid);
        const origin::Route *route = m ? routes_->match_key(m->name_view()) : nullptr;
        if (!m || !route || !m->filled || store_->lookup(tid_, *m, s->index) ||
            m->chunk_on_disk(s->index)) {
            // Gone, replaced, or there already (RAM or disk): whoever waits re-checks.
            stream_->wake(key);
            table_.finish(s);
            continue;
        }
        s->generation = m->generation;
        f->clear();
        f->in_use = true;
        f->route = route;
        f->key = key;
        f->oid = m->id;
        f->index = s->index;
        f->size = m->size;
        f->etag64 = m->etag;
        f->generation = m->generation;
        f->path[0] = '/';
        std::memcpy(f->path + 1, m->name, m->name_len);
        f->path_len = static_cast<uint16_t>(m->name_len + 1);
        start(*f);
    }
}

bool OriginFill::start(Fetch &f) {
    origin::FillSlot *s = table_.find(f.key);
    if (s && s->tried == 0) {  // the fill's first attempt: the first usable server
        const int i = pick(f.route, 0);
        if (i < 0) {
            ++ctr_.origin_unresolved;
            give_up(f, 502);
            return false;
        }
        s->server = static_cast<uint8_t>(i);
        s->tried = static_cast<uint8_t>(1u << i);
    }
    const origin::Server &srv = f.route->servers[s ? s->server : 0];
    if (!srv.resolved()) {
        ++ctr_.origin_unresolved;
        give_up(f, 502);
        return false;
    }
    if (s) {
        s->state = origin::FillState::kConnecting;
        s->started_ns = now_ns_;
    }
    f.started_ns = f.moved_ns = now_ns_;
    f.head_ok = false;
    f.got = f.want = 0;
    f.req_off = 0;
    f.parser.reset();
    char host[origin::Server::kMaxName + 8];
    size_t hl;
    if (srv.name_len) {  // Host: the name the operator gave (virtual hosts), RFC 9110 7.2
        std::memcpy(host, srv.name, srv.name_len);
        hl = srv.name_len;
        if (srv.port != 80) {
            char pb[8];
            const int n = std::snprintf(pb, sizeof pb, ":%u", unsigned{srv.port});
            std::memcpy(host + hl, pb, static_cast<size_t>(n));
            hl += static_cast<size_t>(n);
        }
    } else {
        hl = origin::format_host(host, sizeof host, srv.ip_be, srv.port);
    }
    const uint32_t ip = rte_be_to_cpu_32(srv.ip_be);
    // A revalidation names the stored version; its etag is in f.meta until
    // the answer's head replaces f.meta.
    const std::string_view inm = f.reval ? f.meta.etag_view() : std::string_view{};
    const std::string_view ims =
        f.reval && inm.empty() ? f.meta.last_modified_view() : std::string_view{};
    if (!inm.empty()) ++ctr_.origin_revalidations_inm;
    if (!ims.empty()) ++ctr_.origin_revalidations_ims;
    f.req_len = static_cast<uint32_t>(origin::format_chunk_request(
        f.req, sizeof f.req, {f.path, f.path_len}, {host, hl}, f.index, {}, inm, ims));
    stack_->set_time(now_ns_);
    f.reused = f.peer_closed = false;
    f.srv_ip_be = srv.ip_be;
    f.srv_port = srv.port;
    for (uint32_t i = 0; i < nchecks_; ++i)
        if (checks_[i].ip_be == srv.ip_be && checks_[i].port == srv.port) ++checks_[i].attempts;
    for (Idle &e : idle_) {
        // HTTP/1.1 persistence (RFC 9112 9.3): the next range on the same
        // connection, no handshake.
        if (!e.used || e.ip_be != srv.ip_be || e.port != srv.port || f.req_len == 0) continue;
        const tcp::ConnId c = e.conn;
        e.used = false;
        if (!stack_->alive(c)) continue;
        f.conn = c;
        f.reused = true;
        stack_->set_user(c, &f);
        ++ctr_.origin_conn_reused;
        ++ctr_.origin_fetches;
        send_request(f);
        return true;
    }
    f.conn = stack_->connect(tcp::IpAddr::v4(rte_be_to_cpu_32(cfg_.local_ip_be)),
                             tcp::IpAddr::v4(ip), srv.port, this);
    if (!f.conn.valid() || f.req_len == 0) {
        f.conn = {};
        fail(f, origin::FailKind::kConnect);
        return false;
    }
    stack_->set_user(f.conn, &f);
    ++ctr_.origin_fetches;
    return true;
}

void OriginFill::send_request(Fetch &f) {
    while (f.req_off < f.req_len) {
        const uint32_t n = stack_->send_copy(
            f.conn, reinterpret_cast<const uint8_t *>(f.req) + f.req_off, f.req_len - f.req_off);
        if (n == 0) return;  // on_writable() resumes
        f.req_off += n;
    }
    if (origin::FillSlot *s = table_.find(f.key)) s->state = origin::FillState::kFetching;
}

// ---------------------------------------------------------------- answers

OriginFill::Idle *OriginFill::idle_of(void *user) {
    auto *p = static_cast<Idle *>(user);
    return p >= idle_ && p < idle_ + kMaxIdle ? p : nullptr;
}

void OriginFill::forget_idle(Idle &e, bool close) {
    if (!e.used) return;
    e.used = false;
    stack_->set_user(e.conn, nullptr);
    if (close) stack_->close(e.conn);
}

void OriginFill::keep_conn(Fetch &f) {
    const http::RespHead &h = f.parser.head();
    if (cfg_.keepalive && f.conn.valid() && !f.peer_closed && h.keep_alive && h.has_length &&
        h.minor >= 1 && stack_->alive(f.conn)) {
        uint32_t kept = 0;
        for (Idle &e : idle_) kept += e.used;
        for (Idle &e : idle_) {
            if (e.used || kept >= cfg_.keepalive) continue;
            e = {f.conn, f.srv_ip_be, f.srv_port, true, now_ns_};
            stack_->set_user(f.conn, &e);
            f.conn = {};
            ++ctr_.origin_conn_kept;
            return;
        }
    }
    drop_conn(f, false);
}

void OriginFill::on_connected(tcp::Stack &, tcp::ConnId id) {
    void *u = stack_->user(id);
    if (idle_of(u)) return;
    if (Check *c = check_of(u)) return send_check(*c);
    if (auto *f = static_cast<Fetch *>(u)) send_request(*f);
}

void OriginFill::on_writable(tcp::Stack &, tcp::ConnId id) {
    void *u = stack_->user(id);
    if (idle_of(u)) return;
    if (Check *c = check_of(u)) return send_check(*c);
    if (auto *f = static_cast<Fetch *>(u)) send_request(*f);
}

size_t OriginFill::on_data(tcp::Stack &, tcp::ConnId id, const uint8_t *data, size_t len) {
    if (Idle *e = idle_of(stack_->user(id))) {  // bytes nobody asked for: not reusable
        forget_idle(*e, true);
        return len;
    }
    if (Check *c = check_of(stack_->user(id))) {
        if (!c->busy) return len;
        const http::RespStep st = c->parser.feed(data, len);
        if (st.error != http::RespError::none) {
            check_done(*c, origin::CheckResult::bad_answer, 0);
        } else if (st.head_done || st.complete) {
            const uint16_t status = c->parser.head().status;
            check_done(*c,
                       origin::status_up(status) ? origin::CheckResult::pass
                                                 : origin::CheckResult::bad_status,
                       status);
        }
        return len;
    }
    auto *f = static_cast<Fetch *>(stack_->user(id));
    if (!f || f->landing) return len;  // extra bytes after the answer: ignored
    f->moved_ns = now_ns_;
    size_t off = 0;
    while (off < len && f->in_use && !f->landing) {
        const http::RespStep st = f->parser.feed(data + off, len - off);
        off += st.consumed;
        if (st.error != http::RespError::none) {
            ++ctr_.origin_bad_answers;
            fail(*f, origin::FailKind::kAnswer);
            return len;
        }
        if (st.head_done) {
            head_arrived(*f);
            if (!f->in_use || !f->head_ok || f->landing) return len;
        }
        if (st.body_len && f->head_ok) {
            const size_t n = std::min<size_t>(st.body_len, f->want - f->got);
            std::memcpy(f->buf + f->got, st.body, n);  // fill path: a copy is fine here
            f->got += static_cast<uint32_t>(n);
            ctr_.origin_body_bytes += n;
        }
        if (st.complete) {
            if (f->got == f->want) {
                body_complete(*f);
            } else {
                ++ctr_.origin_cut_short;
                fail(*f, origin::FailKind::kAnswer);
            }
            return len;
        }
        if (st.consumed == 0) break;
    }
    return len;
}

void OriginFill::head_arrived(Fetch &f) {
    using origin::Verdict;
    origin::Span body;
    Verdict v;
    if (f.first && f.reval && f.parser.head().status == 304) {
        // Not modified (RFC 9111 4.3.4): the stored version stays, with the
        // freshness this answer gives.
        ++ctr_.origin_not_modified;
        passive(f.srv_ip_be, f.srv_port, true);
        origin::ObjectHead h;
        bool found;
        origin::parse_cache_control(f.parser.field("cache-control", &found), &h);
        keep_conn(f);
        chunkstore::Store::FillMsg &m = f.msg;
        m.kind = chunkstore::Store::FillMsg::Kind::refresh;
        m.waiter = stream_->waiter();
        m.oid = f.oid;
        m.generation = f.generation;
        m.expires_unix_s = origin::expires_at(h, unix_s_);
        m.data = nullptr;
        m.index = f.index;
        f.landing = true;
        if (origin::FillSlot *s = table_.find(f.key)) s->state = origin::FillState::kLanding;
        post(f);
        return;
    }
    if (f.first) {
        const uint64_t old_size = f.size, old_etag = f.etag64;
        v = origin::first_answer(f.parser, f.index, &f.meta, &body);
        if (f.reval && v == Verdict::ok) {
            f.reval = false;  // a failover after this asks unconditionally
            const bool same = f.meta.size == old_size &&
                              origin::version_hash(f.meta.etag_view(), f.meta.last_modified_view(), f.meta.size) == old_etag;
            ++(same ? ctr_.origin_not_modified : ctr_.origin_new_versions);
        }
        if (v == Verdict::range_unsatisfiable && f.index != 0) {
            // The range starts past the end: fetch the first chunk instead,
            // so the object (and its length) is known and the server answers
            // 416 itself.
            ++ctr_.verdicts[static_cast<size_t>(v)];
            drop_conn(f, true);
            if (origin::FillSlot *s = table_.find(f.key)) table_.finish(s);
            f.index = 0;
            f.key = chunkstore::chunk_key(f.oid, 0);
            origin::FillSlot *s;
            if (table_.join(f.key, f.oid, 0, now_ns_, &s) != origin::FillTable::Join::kStarted) {
                give_up(f, 502);
                return;
            }
            start(f);
            return;
        }
    } else {
        v = origin::next_answer(f.parser, f.index, f.size, f.etag64);
        body = origin::chunk_span(f.index, f.size);
    }
    ++ctr_.verdicts[static_cast<size_t>(v)];
    if (v == Verdict::not_found) {
        if (!f.first || cfg_.negative_ttl_s == 0) return give_up(f, 404);
        // Negative caching: the store remembers the 404 for every lcore
        // (the fail hold answers this lcore's waiters meanwhile).
        fail_slots(f, 404);
        chunkstore::Store::FillMsg &m = f.msg;
        m.kind = chunkstore::Store::FillMsg::Kind::negative;
        m.waiter = chunkstore::kNoWaiter;
        m.oid = f.oid;
        m.status = f.parser.head().status;
        m.expires_unix_s = unix_s_ + cfg_.negative_ttl_s;
        m.data = nullptr;
        m.name_len = static_cast<uint16_t>(f.path_len - 1);
        std::memcpy(m.name, f.path + 1, m.name_len);
        f.landing = f.expire_only = true;
        ++ctr_.origin_negative_stored;
        post(f);
        return;
    }
    if (v != Verdict::ok) {
        ++ctr_.origin_bad_answers;
        // Another version at the origin: no other server can mend that.
        // Readers of the stored version are reset; the store is told it is
        // stale now, so the next request revalidates and gets the new one.
        if (v == Verdict::etag_changed || v == Verdict::size_changed) {
            fail_slots(f, 502);
            chunkstore::Store::FillMsg &m = f.msg;
            m.kind = chunkstore::Store::FillMsg::Kind::refresh;
            m.waiter = chunkstore::kNoWaiter;
            m.oid = f.oid;
            m.generation = f.generation;
            m.expires_unix_s = 1;  // long past
            m.data = nullptr;
            f.landing = f.expire_only = true;
            post(f);
            return;
        }
        return fail(f, origin::FailKind::kAnswer);
    }
    f.head_ok = true;
    f.want = static_cast<uint32_t>(body.length());
    if (f.first && f.meta.size == 0) f.want = 0;
    if (f.want == 0 && f.parser.head().content_length == 0) body_complete(f);
}

void OriginFill::body_complete(Fetch &f) {
    passive(f.srv_ip_be, f.srv_port, true);
    keep_conn(f);  // the next range to this server may reuse it
    chunkstore::Store::FillMsg &m = f.msg;
    m.waiter = stream_->waiter();
    m.oid = f.oid;
    m.index = f.index;
    m.len = f.want;
    m.data = f.buf;
    if (f.first) {
        m.kind = chunkstore::Store::FillMsg::Kind::begin;
        m.size = f.meta.size;
        m.etag = origin::version_hash(f.meta.etag_view(), f.meta.last_modified_view(), f.meta.size);
        m.expires_unix_s = origin::expires_at(f.meta, unix_s_);
        m.origin_etag_len =
            static_cast<uint8_t>(std::min<size_t>(f.meta.etag_len, sizeof m.origin_etag));
        std::memcpy(m.origin_etag, f.meta.etag, m.origin_etag_len);
        const auto lm = http::parse_http_date(f.meta.last_modified_view());
        m.mtime_ns = lm ? *lm * 1'000'000'000 : 0;
        m.name_len = static_cast<uint16_t>(f.path_len - 1);
        std::memcpy(m.name, f.path + 1, m.name_len);
        const std::string_view ct = f.meta.content_type_view();
        m.ctype_len = static_cast<uint16_t>(std::min<size_t>(ct.size(), sizeof m.ctype));
        std::memcpy(m.ctype, ct.data(), m.ctype_len);
        // no-store/private (RFC 9111 5.2.2.5): this copy streams the
        // responses waiting for it and is never reused: always stale, and
        // the next request fetches a new version (Store::begin_fill).
        m.no_store = f.meta.no_store;
        if (f.meta.no_store) {
            m.expires_unix_s = 1;
            ++ctr_.origin_no_store_passed;
        }
    } else {
        m.kind = chunkstore::Store::FillMsg::Kind::chunk;
        m.generation = f.generation;
    }
    f.landing = true;
    if (origin::FillSlot *s = table_.find(f.key)) s->state = origin::FillState::kLanding;
    post(f);
}

void OriginFill::post(Fetch &f) {
    f.posted = store_->post_fill(channel_, &f.msg);
    if (!f.posted) ++ctr_.origin_post_retries;
}

void OriginFill::on_peer_closed(tcp::Stack &, tcp::ConnId id) {
    if (Idle *e = idle_of(stack_->user(id))) {  // the origin ended an idle one
        forget_idle(*e, true);
        return;
    }
    if (Check *c = check_of(stack_->user(id))) {  // closed before a status line
        if (c->busy) check_done(*c, origin::CheckResult::bad_answer, 0);
        return;
    }
    auto *f = static_cast<Fetch *>(stack_->user(id));
    if (!f || f->landing) return;
    f->peer_closed = true;
    if (f->reused && f->parser.idle()) {
        // The origin closed the kept connection as we reused it (its idle
        // timeout): not a failure of the server, ask again on a new one.
        ++ctr_.origin_conn_stale;
        drop_conn(*f, true);
        start(*f);
        return;
    }
    // A read-until-close body ends here; anything else was cut short.
    const http::RespStep st = f->parser.eof();
    if (st.complete && f->head_ok && f->got == f->want) return body_complete(*f);
    ++ctr_.origin_cut_short;
    fail(*f, f->parser.idle() ? origin::FailKind::kConnect : origin::FailKind::kAnswer);
}

void OriginFill::on_closed(tcp::Stack &, tcp::ConnId id, tcp::CloseReason why) {
    if (Idle *e = idle_of(stack_->user(id))) {
        e->used = false;  // gone: nothing to close
        return;
    }
    if (Check *c = check_of(stack_->user(id))) {
        c->conn = {};  // gone
        if (c->busy)
            check_done(*c,
                       why == tcp::CloseReason::kTimeout ? origin::CheckResult::timeout
                                                         : origin::CheckResult::refused,
                       0);
        return;
    }
    auto *f = static_cast<Fetch *>(stack_->user(id));
    if (!f) return;
    f->conn = {};  // gone: nothing to close or abort
    if (f->landing) return;
    if (f->reused && f->parser.idle()) {  // reset as we reused it: a new connection
        ++ctr_.origin_conn_stale;
        start(*f);
        return;
    }
    if (why == tcp::CloseReason::kRefused || why == tcp::CloseReason::kTimeout)
        ++ctr_.origin_connect_failures;
    else
        ++ctr_.origin_cut_short;
    fail(*f,
         f->head_ok || !f->parser.idle() ? origin::FailKind::kAnswer : origin::FailKind::kConnect);
}

// ---------------------------------------------------------------- failures

void OriginFill::drop_conn(Fetch &f, bool abort) {
    if (!f.conn.valid()) return;
    const tcp::ConnId c = f.conn;
    f.conn = {};
    stack_->set_user(c, nullptr);  // later callbacks are not ours
    if (abort)
        stack_->abort(c);
    else
        stack_->close(c);
}

void OriginFill::fail(Fetch &f, origin::FailKind kind) {
    drop_conn(f, true);
    origin::FillSlot *s = table_.find(f.key);
    if (!s) return release(f);
    if (kind == origin::FailKind::kTimeout) ++ctr_.origin_timeouts;
    passive(f.srv_ip_be, f.srv_port, false);  // counts toward its fall threshold
    s->tried = static_cast<uint8_t>(s->tried | 1u << s->server);
    // The next server of the route: an untried one that is up first, a down
    // one only when no other is left (origin/health.h pick_server).
    const int next = pick(f.route, s->tried);
    if (next >= 0) {
        s->server = static_cast<uint8_t>(next);
        s->tried = static_cast<uint8_t>(s->tried | 1u << next);
        ++s->attempts;
        s->state = origin::FillState::kConnecting;
        s->started_ns = now_ns_;
        ++ctr_.origin_failovers;
        start(f);
        return;
    }
    give_up(f, kind == origin::FailKind::kTimeout ? 504 : 502);
}

void OriginFill::give_up(Fetch &f, uint16_t status) {
    fail_slots(f, status);
    release(f);
}

void OriginFill::fail_slots(Fetch &f, uint16_t status) {
    drop_conn(f, true);
    ++ctr_.origin_gave_up;
    // The waiters see the failure when they look again (held requests
    // answer `status`, sends reset); the slots go after fail_hold_ms.
    const uint64_t keys[2] = {f.key, f.first ? f.oid : f.key};
    for (uint64_t k : keys) {
        if (origin::FillSlot *s = table_.find(k)) {
            s->state = origin::FillState::kFailed;
            s->fail_status = status;
            s->started_ns = now_ns_;
            s->generation = f.generation;
        }
        stream_->wake(k);
    }
}

void OriginFill::release(Fetch &f) {
    drop_conn(f, true);
    f.in_use = false;
    f.landing = false;
}

// ---------------------------------------------------------------- time

void OriginFill::poll(uint64_t now_ns, int64_t unix_s) {
    now_ns_ = now_ns;
    unix_s_ = unix_s;
    if (live_) routes_ = live_->load(std::memory_order_acquire);  // a reload's routes
    if (!routes_) return;
    if (routes_ != checked_) rebuild_checks();  // a reload, or names resolved anew
    if (cfg_.health_interval_ms && now_ns >= next_check_scan_ns_) {
        next_check_scan_ns_ = now_ns + 10'000'000;  // due checks looked for every 10 ms
        run_checks();
    }
    for (uint32_t i = 0; i < cfg_.fetches; ++i) {
        Fetch &f = fetches_[i];
        if (!f.in_use || !f.landing) continue;
        if (!f.posted) {
            post(f);
            continue;
        }
        const uint8_t st = f.msg.state.load(std::memory_order_acquire);
        if (st == chunkstore::Store::FillMsg::kPosted) continue;
        if (f.expire_only) {  // the slots were settled when it was posted
            release(f);
            continue;
        }
        if (st == chunkstore::Store::FillMsg::kRefused) {
            // The version it was for is gone (replaced, purged) or RAM is
            // full: its readers are reset, another version's fetch anew.
            ++ctr_.origin_store_refused;
            give_up(f, 502);
            continue;
        }
        // Published: the store already told the stream's ring; the slots go.
        ++ctr_.origin_chunks_stored;
        if (origin::FillSlot *s = table_.find(f.key)) table_.finish(s);
        if (f.first)
            if (origin::FillSlot *s = table_.find(f.oid)) table_.finish(s);
        release(f);
    }
    serve_push_asks();
    start_queued();
    if (now_ns >= next_sweep_ns_) {
        next_sweep_ns_ = now_ns + kSweepNs;
        sweep();
    }
}

void OriginFill::sweep() {
    for (Idle &e : idle_)
        if (e.used && now_ns_ - e.since_ns > cfg_.keepalive_idle_ms * 1'000'000)
            forget_idle(e, true);
    const uint64_t limit = cfg_.timeout_ms * 1'000'000;
    for (uint32_t i = 0; i < cfg_.fetches; ++i) {
        Fetch &f = fetches_[i];
        // Like nginx's proxy_read_timeout: the connect and each silence
        // between reads, not the whole chunk (a starved lcore or a slow
        // link moves a chunk in more than the limit and is not failing).
        if (f.in_use && !f.landing && now_ns_ - f.moved_ns > limit)
            fail(f, origin::FailKind::kTimeout);
    }
    // A check gets the fill's timeout (haproxy's `timeout check`); the next
    // one of that server waits for it, so a slow server is not piled on.
    for (uint32_t i = 0; i < nchecks_; ++i)
        if (checks_[i].busy && now_ns_ - checks_[i].sent_ns > limit)
            check_done(checks_[i], origin::CheckResult::timeout, 0);
    // Progress gauges: a scan of a few fetches and the fill table.
    uint64_t active = 0, bytes = 0, fills = 0;
    for (uint32_t i = 0; i < cfg_.fetches; ++i) {
        const Fetch &f = fetches_[i];
        if (!f.in_use) continue;
        ++active;
        bytes += f.got;
    }
    table_.for_each([&](origin::FillSlot *s) { fills += s->state != origin::FillState::kFailed; });
    __atomic_store_n(&ctr_.origin_fetches_active, active, __ATOMIC_RELAXED);
    __atomic_store_n(&ctr_.origin_fetch_bytes, bytes, __ATOMIC_RELAXED);
    __atomic_store_n(&ctr_.origin_fills_in_flight, fills, __ATOMIC_RELAXED);
    __atomic_store_n(&ctr_.origin_fetches_waiting, uint64_t{qlen_}, __ATOMIC_RELAXED);
    // Failed fills are forgotten after the hold (collected first: finish()
    // moves slots).
    uint64_t done[16];
    unsigned n;
    do {
        n = 0;
        const uint64_t hold = cfg_.fail_hold_ms * 1'000'000;
        table_.for_each([&](origin::FillSlot *s) {
            if (n < 16 && s->state == origin::FillState::kFailed && now_ns_ - s->started_ns > hold)
                done[n++] = s->key;
        });
        for (unsigned k = 0; k < n; ++k)
            if (origin::FillSlot *s = table_.find(done[k])) table_.finish(s);
    } while (n == 16);
}

// ---------------------------------------------------------------- push

void OriginFill::serve_push_asks() {
    for (PushAsk &a : push_asks_) {
        if (a.state.load(std::memory_order_acquire) != PushAsk::kAsked) continue;
        ++ctr_.origin_push_asks;
        push_one(a);
        if (a.result == PushAsk::Result::started) ++ctr_.origin_push_fetches;
        a.state.store(PushAsk::kAnswered, std::memory_order_release);
    }
}

void OriginFill::push_one(PushAsk &a) {
    using R = PushAsk::Result;
    const std::string_view key{a.name, a.name_len};
    const chunkstore::ObjectMeta *m = store_->lookup_object(tid_, key);
    if (!m || m->negative_status != 0) {
        if (a.index != 0) {  // later chunks need the object's version
            a.result = R::no_object;
            return;
        }
        // A reader's fill of it under way: no new fetch, the push waits.
        const origin::FillSlot *s = table_.find(chunkstore::object_id(key));
        const bool joined = s && s->state != origin::FillState::kFailed;
        const OriginMiss r = object_miss(key, 0);
        a.status = r.status;
        a.result = r.kind == OriginMiss::Kind::kPending ? (joined ? R::in_flight : R::started)
                   : r.kind == OriginMiss::Kind::kBusy  ? R::busy
                   : r.kind == OriginMiss::Kind::kError ? R::failed
                                                        : R::no_route;
        return;
    }
    if (!m->filled || a.index >= m->chunk_count || store_->lookup(tid_, *m, a.index)) {
        a.result = R::present;  // ingested (whole), or this chunk is in already
        return;
    }
    const uint64_t ck = chunkstore::chunk_key(m->id, a.index);
    if (origin::FillSlot *s = table_.find(ck)) {
        if (s->state == origin::FillState::kFailed) {
            a.result = R::failed;
            a.status = s->fail_status;
        } else {
            a.result = R::in_flight;  // a reader's fill: the push waits for it
        }
        return;
    }
    a.result = start_chunk(ck, *m, a.index) ? R::started : R::busy;
}

uint16_t OriginFill::purge(std::string_view key, uint32_t client) {
    if (!routes_ || cfg_.npurge_nets == 0) {
        ++ctr_.purge_not_allowed;
        return 405;
    }
    bool allowed = false;
    for (uint32_t i = 0; i < cfg_.npurge_nets && !allowed; ++i)
        allowed = (client & cfg_.purge_mask[i]) == cfg_.purge_net[i];
    if (!allowed) {
        ++ctr_.purge_forbidden;
        return 403;
    }
    if (key.empty() || key.size() > chunkstore::kMaxName) return 404;
    for (uint32_t i = 0; i < kPurgeMsgs; ++i) {
        chunkstore::Store::FillMsg &m = purge_msgs_[i];
        if (m.state.load(std::memory_order_acquire) == chunkstore::Store::FillMsg::kPosted) continue;
        m.kind = chunkstore::Store::FillMsg::Kind::purge;
        m.waiter = chunkstore::kNoWaiter;
        m.data = nullptr;
        m.name_len = static_cast<uint16_t>(key.size());
        std::memcpy(m.name, key.data(), key.size());
        if (!store_->post_fill(channel_, &m)) {  // the channel is full: free again
            m.state.store(chunkstore::Store::FillMsg::kDone, std::memory_order_relaxed);
            break;
        }
        ++ctr_.purge_accepted;
        return 200;
    }
    ++ctr_.purge_busy;
    return 503;
}

// ---------------------------------------------------------------- health

OriginFill::Check *OriginFill::check_of(void *user) const {
    auto *p = static_cast<Check *>(user);
    return checks_ && p >= checks_.get() && p < checks_.get() + kMaxChecks ? p : nullptr;
}

// One entry per server of every route of the current table. A server that
// was in the old table (same address and port) keeps its health and its
// figures; a new one starts up. Checks in flight are dropped (the next
// round starts at once).
void OriginFill::rebuild_checks() {
    struct Kept {
        uint32_t ip_be;
        uint16_t port;
        origin::ServerHealth h;
        int64_t last;
        uint64_t checks, attempts, fills;
    };
    Kept old[kMaxChecks];
    const uint32_t nold = nchecks_;
    for (uint32_t i = 0; i < nold; ++i) {
        Check &c = checks_[i];
        if (c.busy && c.conn.valid()) {
            stack_->set_user(c.conn, nullptr);
            stack_->abort(c.conn);
        }
        c.busy = false;
        c.conn = {};
        old[i] = {c.ip_be, c.port, c.h, c.last_unix_s, c.checks, c.attempts, c.fills};
    }
    uint32_t n = 0;
    checked_ = routes_;
    for (size_t r = 0; routes_ && r < routes_->size(); ++r) {
        const origin::Route &route = routes_->at(r);
        for (uint8_t k = 0; k < route.nservers && n < kMaxChecks; ++k) {
            Check &c = checks_[n++];
            const origin::Server &srv = route.servers[k];
            c.table = routes_;
            c.route = static_cast<uint8_t>(r);
            c.server = k;
            c.ip_be = srv.ip_be;
            c.port = srv.port;
            c.h = {};
            c.last_unix_s = 0;
            c.checks = c.attempts = c.fills = 0;
            c.next_ns = 0;  // due now
            for (uint32_t j = 0; j < nold; ++j) {
                if (old[j].ip_be == 0 || old[j].ip_be != srv.ip_be || old[j].port != srv.port)
                    continue;
                c.h = old[j].h;
                c.last_unix_s = old[j].last;
                c.checks = old[j].checks;
                c.attempts = old[j].attempts;
                c.fills = old[j].fills;
                break;
            }
        }
    }
    nchecks_ = n;
}

void OriginFill::run_checks() {
    for (uint32_t i = 0; i < nchecks_; ++i) {
        Check &c = checks_[i];
        if (!c.busy && c.ip_be != 0 && now_ns_ >= c.next_ns) start_check(c);
    }
}

void OriginFill::start_check(Check &c) {
    c.next_ns = now_ns_ + cfg_.health_interval_ms * 1'000'000;
    const origin::Route &route = c.table->at(c.route);
    const origin::Server &srv = route.servers[c.server];
    const std::string_view path = cfg_.health_path_len
                                      ? std::string_view{cfg_.health_path, cfg_.health_path_len}
                                      : route.prefix_view();
    char hostport[origin::Server::kMaxName + 24];
    if (srv.name_len)
        std::snprintf(hostport, sizeof hostport, "%.*s:%u", int{srv.name_len}, srv.name,
                      unsigned{srv.port});
    else
        origin::format_host(hostport, sizeof hostport, srv.ip_be, srv.port);
    // HEAD (RFC 9110 9.3.2): the status line is all a check needs; the
    // connection is closed after it.
    const int len = std::snprintf(c.req, sizeof c.req,
                                  "HEAD %.*s HTTP/1.1\r\nHost: %s\r\nUser-Agent: "
                                  "edgeplane-health-check\r\nConnection: close\r\n\r\n",
                                  static_cast<int>(path.size()), path.data(), hostport);
    if (len <= 0 || static_cast<size_t>(len) >= sizeof c.req) return;
    c.req_len = static_cast<uint32_t>(len);
    c.req_off = 0;
    c.parser.reset(true);  // a HEAD answer has no body
    stack_->set_time(now_ns_);
    c.sent_ns = now_ns_;
    ++c.checks;
    ++ctr_.origin_checks_sent;
    c.conn = stack_->connect(tcp::IpAddr::v4(rte_be_to_cpu_32(cfg_.local_ip_be)),
                             tcp::IpAddr::v4(rte_be_to_cpu_32(c.ip_be)), c.port, this);
    c.busy = true;
    if (!c.conn.valid()) {
        c.conn = {};
        return check_done(c, origin::CheckResult::refused, 0);
    }
    stack_->set_user(c.conn, &c);
}

void OriginFill::send_check(Check &c) {
    if (!c.busy) return;
    while (c.req_off < c.req_len) {
        const uint32_t n = stack_->send_copy(
            c.conn, reinterpret_cast<const uint8_t *>(c.req) + c.req_off, c.req_len - c.req_off);
        if (n == 0) return;  // on_writable() resumes
        c.req_off += n;
    }
}

void OriginFill::check_done(Check &c, origin::CheckResult r, uint16_t status) {
    c.busy = false;
    if (c.conn.valid()) {
        const tcp::ConnId id = c.conn;
        c.conn = {};
        stack_->set_user(id, nullptr);
        if (r == origin::CheckResult::pass || r == origin::CheckResult::bad_status)
            stack_->close(id);
        else
            stack_->abort(id);
    }
    const bool ok = r == origin::CheckResult::pass;
    ++(ok ? ctr_.origin_checks_passed : ctr_.origin_checks_failed);
    c.h.last = r;
    c.h.last_status = status;
    c.last_unix_s = unix_s_;
    mark(c, ok);
}

void OriginFill::mark(Check &c, bool ok) {
    if (!origin::record(c.h, ok, cfg_.health)) return;
    ++ctr_.origin_state_changes;
    ++(c.h.up ? ctr_.origin_marked_up : ctr_.origin_marked_down);
}

bool OriginFill::server_up(uint32_t ip_be, uint16_t port) const {
    if (cfg_.health_interval_ms == 0) return true;  // no checks: every server is tried
    for (uint32_t i = 0; i < nchecks_; ++i)
        if (checks_[i].ip_be == ip_be && checks_[i].port == port) return checks_[i].h.up;
    return true;
}

// What a fill says of its server: a failure counts toward `fall` like a
// failed check (only with checks on: they alone bring a server back); a
// success resets the failures of a server that is up, and is counted.
void OriginFill::passive(uint32_t ip_be, uint16_t port, bool ok) {
    for (uint32_t i = 0; i < nchecks_; ++i) {
        Check &c = checks_[i];
        if (c.ip_be != ip_be || c.port != port || ip_be == 0) continue;
        if (ok) {
            ++c.fills;
            if (cfg_.health_interval_ms && c.h.up) c.h.fails = 0;
            continue;
        }
        if (!cfg_.health_interval_ms) continue;
        ++ctr_.origin_passive_fails;
        c.h.last = origin::CheckResult::fill_failed;
        c.h.last_status = 0;
        c.last_unix_s = unix_s_;
        if (c.h.up) mark(c, false);  // a down server's failed fill proves nothing new
    }
}

int OriginFill::pick(const origin::Route *r, uint8_t tried) {
    auto resolved = [&](int i) { return r->servers[i].resolved(); };
    auto up = [&](int i) { return server_up(r->servers[i].ip_be, r->servers[i].port); };
    const int i = origin::pick_server(r->nservers, tried, resolved, up);
    for (int j = 0; j < r->nservers; ++j) {
        if (tried >> j & 1 || !resolved(j)) continue;
        if (j != i) ++ctr_.origin_down_skipped;  // the first candidate was down
        break;
    }
    return i;
}

uint32_t OriginFill::servers_view(OriginServerView *out, uint32_t cap) const {
    const uint32_t n = std::min(__atomic_load_n(&nchecks_, __ATOMIC_RELAXED), cap);
    for (uint32_t i = 0; i < n; ++i) {
        const Check &c = checks_[i];
        OriginServerView &v = out[i];
        v.table = __atomic_load_n(&c.table, __ATOMIC_RELAXED);
        v.route = __atomic_load_n(&c.route, __ATOMIC_RELAXED);
        v.server = __atomic_load_n(&c.server, __ATOMIC_RELAXED);
        v.h.up = __atomic_load_n(&c.h.up, __ATOMIC_RELAXED);
        v.h.passes = __atomic_load_n(&c.h.passes, __ATOMIC_RELAXED);
        v.h.fails = __atomic_load_n(&c.h.fails, __ATOMIC_RELAXED);
        v.h.last = static_cast<origin::CheckResult>(
            __atomic_load_n(reinterpret_cast<const uint8_t *>(&c.h.last), __ATOMIC_RELAXED));
        v.h.last_status = __atomic_load_n(&c.h.last_status, __ATOMIC_RELAXED);
        v.last_check_unix_s = __atomic_load_n(&c.last_unix_s, __ATOMIC_RELAXED);
        v.checks = __atomic_load_n(&c.checks, __ATOMIC_RELAXED);
        v.attempts = __atomic_load_n(&c.attempts, __ATOMIC_RELAXED);
        v.fills = __atomic_load_n(&c.fills, __ATOMIC_RELAXED);
    }
    return n;
}

void OriginFill::visit_counters(const CounterVisitor &fn) const {
#define EP_X(field, help) fn({#field, help, __atomic_load_n(&ctr_.field, __ATOMIC_RELAXED)});
    EP_ORIGIN_FILL_COUNTERS(EP_X)
#undef EP_X
#define EP_X(field, help) \
    fn({#field, help, cfg_.resolve ? cfg_.resolve->field.load(std::memory_order_relaxed) : 0});
    EP_ORIGIN_RESOLVE_COUNTERS(EP_X)
#undef EP_X
#define EP_X(name, help)                                                            \
    fn({"origin_verdict." #name, help,                                              \
        __atomic_load_n(&ctr_.verdicts[static_cast<size_t>(origin::Verdict::name)], \
                        __ATOMIC_RELAXED)});
    EP_ORIGIN_VERDICTS(EP_X)
#undef EP_X
#define EP_X(field, help) fn({#field, help, __atomic_load_n(&ctr_.field, __ATOMIC_RELAXED), true});
    EP_ORIGIN_FILL_GAUGES(EP_X)
#undef EP_X
}

}  // namespace ep

// Pull on miss (issue 14, docs/origin.md): the data lcore's origin client.
// One OriginFill per HttpServer (per data lcore and port), on that queue's
// own tcp::Stack: origin traffic leaves through the data-plane port, with
// the data plane's TCP client side (Stack::connect), never a kernel socket.
//
// Why here, on the data lcore, and not on the control thread: the fill's
// bytes arrive on this lcore's stack, the connections waiting for them are
// this lcore's, and coalescing needs no lock when one core decides who
// fetches (origin/fill_table.h). What must be the control thread's stays
// there: only it mutates the store, so a verified chunk is posted (a copy
// into chunk memory happens there, once, off the serve path) and comes back
// as a completion on the stream's ring, exactly like a disk promotion.
//
// A fetch: connect to the route's current server, GET one 256 KiB-aligned
// range, check the head (origin/fill_plan.h), copy the body into this
// fetch's staging buffer, post it whole. Any failure before that leaves
// nothing in the store; the next server is tried, then the waiters are told
// (502, 504, or a reset mid-response).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "chunkstore/store.h"
#include "dataplane/chunk_stream.h"
#include "dataplane/http/response_parser.h"
#include "dataplane/net/tcp/handler.h"
#include "dataplane/net/tcp/stack.h"
#include "dataplane/origin/fill_plan.h"
#include "dataplane/origin/fill_table.h"
#include "dataplane/origin/health.h"
#include "dataplane/origin/origin_table.h"
#include "dataplane/service.h"

namespace ep {

// X(field, help): what the control thread's resolver of origin names
// (control/origin_resolver.h) counts; shown in the http section through the
// first fill client (the others show 0, so the section's sum is right).
#define EP_ORIGIN_RESOLVE_COUNTERS(X)                                                    \
    X(origin_resolves, "origin server names looked up (getaddrinfo, control thread)")    \
    X(origin_resolve_failures, "origin server name look-ups that found no IPv4 address") \
    X(origin_resolve_changes, "origin server names whose address changed (tables published)")

struct OriginResolveCounters {
#define EP_X(field, help) std::atomic<uint64_t> field{0};
    EP_ORIGIN_RESOLVE_COUNTERS(EP_X)
#undef EP_X
};

// One origin server of one route as `edgectl origins` shows it (a racy
// copy of the lcore's entry: fine for display).
struct OriginServerView {
    const origin::Table *table = nullptr;  // the routes the entry is of (kept until exit)
    uint8_t route = 0, server = 0;
    origin::ServerHealth h;
    int64_t last_check_unix_s = 0;  // 0: never
    uint64_t checks = 0;            // active checks sent to it
    uint64_t attempts = 0;          // fill connections started to it (new or kept-alive)
    uint64_t fills = 0;             // chunks (or 304s) it served
};

struct OriginConfig {
    const origin::Table *routes = nullptr;  // the routes at start; nullptr or empty: off
    // A reload publishes new routes here (the tables it replaces are kept
    // until exit: fetches under way point into them). Read once per poll.
    const std::atomic<const origin::Table *> *live_routes = nullptr;
    uint32_t local_ip_be = 0;               // the port's address (network order)
    uint32_t fetches = 8;                   // origin connections at once, per instance
    uint32_t table = 64;                    // chunk fills in flight (coalesced), per instance
    uint32_t readahead = 2;                 // chunks fetched from the one a reader needs on
    uint64_t timeout_ms = 3000;             // one attempt: connect, then each silence between reads
    uint64_t fail_hold_ms = 500;            // a failed fill answers its waiters this long
    uint32_t stale_if_error_s = 0;          // a failed revalidation serves a copy this stale
    uint32_t negative_ttl_s = 0;            // an origin 404/410 is remembered this long (0: off)
    uint32_t keepalive = 0;                 // idle origin connections kept for reuse (0: off)
    uint64_t keepalive_idle_ms = 10'000;    // an idle one is closed after this long
    // Active health checks (docs/origin.md "Health"): a HEAD of health_path
    // (empty: the route's prefix) to every server this often; 0: none (and
    // no passive marking either: nothing would bring a server back up).
    uint64_t health_interval_ms = 0;
    origin::HealthRule health;
    static constexpr uint32_t kMaxHealthPath = 128;
    char health_path[kMaxHealthPath] = {};
    uint32_t health_path_len = 0;
    const OriginResolveCounters *resolve = nullptr;  // shown by this instance (one of them)
    // HTTP PURGE is accepted from these IPv4 networks (host order); none: 405.
    static constexpr uint32_t kMaxPurgeNets = 16;
    uint32_t purge_net[kMaxPurgeNets] = {}, purge_mask[kMaxPurgeNets] = {};
    uint32_t npurge_nets = 0;
};

// X(field, help). Shown in the http section (HttpServer::visit_counters).
#define EP_ORIGIN_FILL_COUNTERS(X)                                                                 \
    X(origin_objects_started, "cold objects whose first chunk and metadata were fetched")          \
    X(origin_fetches, "origin range requests sent (one per cold chunk, however many wait)")        \
    X(origin_coalesced, "requests for a cold object or chunk already being fetched")               \
    X(origin_chunks_stored, "chunks fetched, verified and published in the store")                 \
    X(origin_body_bytes, "body bytes received from origins")                                       \
    X(origin_connect_failures, "origin connections refused, reset or never answered")              \
    X(origin_cut_short, "origin answers that ended (FIN or RST) before the chunk was whole")       \
    X(origin_bad_answers, "origin answers refused (the origin_verdict.* counter says why)")        \
    X(origin_timeouts, "fetches silent for longer than --origin-timeout-ms")                       \
    X(origin_failovers, "fetches moved to the next server of the route")                           \
    X(origin_gave_up, "fills given up after the last server failed")                               \
    X(origin_502, "requests answered 502: the origins failed or answered badly")                   \
    X(origin_504, "requests answered 504: the origins did not answer in time")                     \
    X(origin_404, "requests answered 404 because the origin said 404/410")                         \
    X(origin_busy, "cold requests answered 503: no fetch slot or fill table entry free")           \
    X(origin_queued, "chunk fetches that waited for a free origin connection")                     \
    X(origin_store_refused, "verified chunks the store refused (RAM full, version gone)")          \
    X(origin_post_retries, "chunks posted again: the fill channel to the control thread was full") \
    X(origin_no_store_passed,                                                                      \
      "answers the origin marked no-store/private: served, never reused (fetched anew each time)") \
    X(origin_conn_reused, "origin requests sent on a kept-alive connection (no handshake)")        \
    X(origin_conn_kept, "origin connections kept idle after a complete answer")                    \
    X(origin_conn_stale, "kept connections the origin had closed: the request went on a new one")  \
    X(origin_negative_stored, "origin 404/410 answers remembered for --origin-negative-ttl-s")     \
    X(origin_negative_hits, "requests answered 404 from a remembered origin 404/410 (not asked)")  \
    X(purge_accepted, "HTTP PURGE requests from an allowed network, done by the control thread")   \
    X(purge_forbidden, "HTTP PURGE requests from outside --purge-allow: 403")                      \
    X(purge_not_allowed, "HTTP PURGE requests with no --purge-allow configured: 405")              \
    X(purge_busy, "HTTP PURGE requests answered 503: every purge message was still in flight")     \
    X(origin_revalidations, "expired objects revalidated with the origin")                         \
    X(origin_revalidations_inm,                                                                    \
      "revalidation requests sent with If-None-Match (the origin's ETag)")                         \
    X(origin_revalidations_ims,                                                                    \
      "revalidation requests sent with If-Modified-Since (no ETag: its Last-Modified)")            \
    X(origin_not_modified, "revalidations the origin answered 304: the stored version stays")      \
    X(origin_new_versions, "revalidations that brought another version (new ETag or length)")      \
    X(origin_stale_served,                                                                         \
      "requests served an expired copy: revalidation failed (stale-if-error)")                     \
    X(origin_push_fetches,                                                                         \
      "chunk fetches the off-peak push started (control thread, under --push-mbps)")               \
    X(origin_push_asks, "chunks the off-peak push asked this lcore for (started or not)")          \
    X(origin_checks_sent, "active health checks sent to origin servers (HEAD, data-plane TCP)")    \
    X(origin_checks_passed, "health checks answered below 500")                                    \
    X(origin_checks_failed, "health checks refused, reset, timed out, 5xx or not HTTP")            \
    X(origin_passive_fails, "failed fills counted against their server's fall threshold")          \
    X(origin_state_changes, "origin servers marked down or up again (rise/fall thresholds)")       \
    X(origin_marked_down, "origin servers marked down (fall consecutive failures)")                \
    X(origin_marked_up, "origin servers marked up again (rise consecutive passes)")                \
    X(origin_down_skipped, "fill attempts that skipped a server marked down")                      \
    X(origin_unresolved, "fills given up: no server of the route has an address (unresolved)")

// Levels of the fill's progress, X(field, help), refreshed by each sweep
// (every 100 ms): what an operator graphs while an origin is slow.
#define EP_ORIGIN_FILL_GAUGES(X)                                                        \
    X(origin_fills_in_flight, "chunk fills under way now (coalesced: one per chunk)")   \
    X(origin_fetches_active, "origin connections fetching a chunk now")                 \
    X(origin_fetches_waiting, "chunk fetches waiting for a free origin connection now") \
    X(origin_fetch_bytes, "body bytes received so far by the fetches under way")

struct OriginFillCounters {
#define EP_X(field, help) uint64_t field = 0;
    EP_ORIGIN_FILL_COUNTERS(EP_X)
    EP_ORIGIN_FILL_GAUGES(EP_X)
#undef EP_X
    uint64_t verdicts[static_cast<size_t>(origin::Verdict::count_)] = {};
};

// What a request for an object the store does not hold gets.
struct OriginMiss {
    enum class Kind : uint8_t { kNoOrigin, kPending, kBusy, kError };
    Kind kind = Kind::kNoOrigin;
    uint16_t status = 0;    // kError: 404, 502 or 504
    uint64_t wait_key = 0;  // kPending: park the connection on it (the object id)
};

// Off-peak push (control/origin_push.h): the control thread asks a data
// lcore for one chunk at a time through one of these slots (kFree or
// kAnswered: the control thread's; kAsked: the lcore's). The lcore starts
// the fetch in poll() exactly as a reader's miss does (object_miss for the
// first chunk of an object the store lacks, the chunk fill of want_chunk
// without read-ahead for a later one), so a pushed chunk takes the pull
// path: coalesced with readers, verified, published by the control thread.
struct PushAsk {
    enum : uint8_t { kFree, kAsked, kAnswered };
    enum class Result : uint8_t { started, present, in_flight, busy, no_route, no_object, failed };
    std::atomic<uint8_t> state{kFree};
    Result result = Result::busy;
    uint16_t status = 0;  // failed: the fail hold's 404/502/504
    uint32_t index = 0;
    uint16_t name_len = 0;
    char name[chunkstore::kMaxName];
};

class OriginFill final : public tcp::Handler, public ChunkFiller {
  public:
    static constexpr uint32_t kPushAsks = 4;
    OriginFill();
    ~OriginFill() override;
    OriginFill(const OriginFill &) = delete;
    OriginFill &operator=(const OriginFill &) = delete;

    // Allocates everything (control thread, before the lcore runs).
    bool init(const OriginConfig &cfg, tcp::Stack *stack, chunkstore::Store *store,
              uint32_t reader_id, ChunkStream *stream);
    bool enabled() const { return routes_ != nullptr; }

    // A request for `key` (path without '/') that the store lacks; the
    // request's byte range starts at `first_byte`.
    OriginMiss object_miss(std::string_view key, uint64_t first_byte);
    // A request for a filled object past its freshness (ObjectMeta::
    // expires_unix_s): revalidates it (once for every request that asks
    // meanwhile, held like a cold miss). kNoOrigin: serve what is stored.
    OriginMiss revalidate(const chunkstore::ObjectMeta &m, uint64_t first_byte);
    // Revalidation failed: may the expired copy be served (and is it counted)?
    bool serve_stale(const chunkstore::ObjectMeta &m) {
        if (cfg_.stale_if_error_s == 0 || m.no_store ||
            unix_s_ >= m.expires_unix_s + cfg_.stale_if_error_s)
            return false;
        ++ctr_.origin_stale_served;
        return true;
    }
    // A remembered origin 404/410 (ObjectMeta::negative_status) still
    // answers; counted. Expired: the caller treats it as a miss.
    bool negative_fresh(const chunkstore::ObjectMeta &m) {
        if (unix_s_ >= m.expires_unix_s) return false;
        ++ctr_.origin_negative_hits;
        return true;
    }
    // HTTP PURGE of `key` (a trailing '/' takes everything under it) from
    // `client` (IPv4, host order): 200 (handed to the control thread, done
    // within its next tick), 403 outside --purge-allow, 405 with none
    // configured, 503 when no purge message is free.
    uint16_t purge(std::string_view key, uint32_t client);
    bool stale(const chunkstore::ObjectMeta &m) const {
        return routes_ && m.filled && m.expires_unix_s != 0 && unix_s_ >= m.expires_unix_s;
    }
    // ChunkFiller: a filled object's chunk is missing.
    Want want_chunk(const chunkstore::ObjectMeta &m, uint32_t index,
                    chunkstore::ChunkKey key) override;

    // Once per loop iteration, before the stream's poll.
    void poll(uint64_t now_ns, int64_t unix_s);
    void visit_counters(const CounterVisitor &fn) const;
    const OriginFillCounters &counters() const { return ctr_; }
    // Every server of every route, for `edgectl origins` (control thread,
    // racy copies). Returns how many it wrote.
    uint32_t servers_view(OriginServerView *out, uint32_t cap) const;
    // The control thread's side of the push slots (kPushAsks of them).
    PushAsk *push_asks() { return push_asks_; }

    // tcp::Handler (origin connections)
    void on_connected(tcp::Stack &, tcp::ConnId) override;
    size_t on_data(tcp::Stack &, tcp::ConnId, const uint8_t *data, size_t len) override;
    void on_peer_closed(tcp::Stack &, tcp::ConnId) override;
    void on_writable(tcp::Stack &, tcp::ConnId) override;
    void on_closed(tcp::Stack &, tcp::ConnId, tcp::CloseReason) override;

  private:
    struct Fetch;
    struct Check;  // one server of one route: its health and its check connection
    static constexpr uint32_t kMaxChecks = origin::Table::kMaxRoutes * origin::Route::kMaxServers;
    Check *check_of(void *user) const;
    void rebuild_checks();  // the routes changed (reload, names resolved)
    void run_checks();
    void start_check(Check &c);
    void send_check(Check &c);
    void check_done(Check &c, origin::CheckResult r, uint16_t status);
    void mark(Check &c, bool ok);
    bool server_up(uint32_t ip_be, uint16_t port) const;
    void passive(uint32_t ip_be, uint16_t port, bool ok);
    int pick(const origin::Route *r, uint8_t tried);
    Fetch *free_fetch();
    OriginMiss join(const origin::FillSlot &s, OriginMiss r);
    OriginMiss start_first(std::string_view key, uint64_t oid, uint32_t index,
                           const origin::Route *route, const chunkstore::ObjectMeta *stale);
    bool start(Fetch &f);  // connect to the slot's current server
    void send_request(Fetch &f);
    void head_arrived(Fetch &f);
    void body_complete(Fetch &f);
    void post(Fetch &f);
    void fail(Fetch &f, origin::FailKind kind);
    void give_up(Fetch &f, uint16_t status);     // fail_slots, then release
    void fail_slots(Fetch &f, uint16_t status);  // waiters see `status`; wakes them
    void release(Fetch &f);  // frees the fetch (and closes or aborts its connection)
    void drop_conn(Fetch &f, bool abort);
    // A complete, keep-alive answer: park the connection for the next fetch
    // to the same server, else close it.
    void keep_conn(Fetch &f);
    struct Idle {
        tcp::ConnId conn{};
        uint32_t ip_be = 0;
        uint16_t port = 0;
        bool used = false;
        uint64_t since_ns = 0;
    };
    Idle *idle_of(void *user);
    void forget_idle(Idle &e, bool close);
    bool start_chunk(uint64_t key, const chunkstore::ObjectMeta &m, uint32_t index);
    void start_queued();
    void sweep();
    void serve_push_asks();
    void push_one(PushAsk &a);

    const origin::Table *routes_ = nullptr;  // this iteration's (live_routes, once per poll)
    const std::atomic<const origin::Table *> *live_ = nullptr;
    OriginConfig cfg_;
    tcp::Stack *stack_ = nullptr;
    chunkstore::Store *store_ = nullptr;
    ChunkStream *stream_ = nullptr;
    uint32_t tid_ = 0;
    uint32_t channel_ = UINT32_MAX;
    uint64_t now_ns_ = 0;
    int64_t unix_s_ = 0;
    uint64_t next_sweep_ns_ = 0;
    origin::FillTable table_;
    std::unique_ptr<Fetch[]> fetches_;
    std::unique_ptr<uint8_t[]> staging_;
    // Chunk keys whose fetch waits for a free connection (FIFO ring).
    std::unique_ptr<uint64_t[]> queue_;
    // PURGE messages to the control thread (a free one: state not kPosted).
    static constexpr uint32_t kPurgeMsgs = 4;
    static constexpr uint32_t kMaxIdle = 32;
    Idle idle_[kMaxIdle];
    std::unique_ptr<chunkstore::Store::FillMsg[]> purge_msgs_;
    uint32_t qhead_ = 0, qlen_ = 0;
    std::unique_ptr<Check[]> checks_;
    uint32_t nchecks_ = 0;
    const origin::Table *checked_ = nullptr;  // the routes checks_ describes
    uint64_t next_check_scan_ns_ = 0;
    OriginFillCounters ctr_;
    PushAsk push_asks_[kPushAsks];
};

}  // namespace ep

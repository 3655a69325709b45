// HTTP/1.1 over the data plane's TCP, bodies straight from the chunk store.
// One HttpServer per TCP stack (per data lcore and port): thin glue between
// http::HttpSession (one per connection, pure), ChunkStream and tcp::Stack.
// It feeds received bytes to the session and pumps each response out: the
// head (generated) is copied, the body is streamed by ChunkStream as
// references to chunk memory (dataplane/chunk_stream.h: object versions,
// disk waits, the access stream, pinned-RAM limits).
//
// A response nothing acknowledges for send_timeout_ms is reset; that and
// the pin limits still apply after the last response: a connection stays
// here until its send queue drains.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include <rte_rcu_qsbr.h>
#include "chunkstore/store.h"
#include "dataplane/chunk_stream.h"
#include "dataplane/conn_pool.h"

#include <atomic>

#include "dataplane/http/context.h"
#include "dataplane/http/session.h"
#include "dataplane/net/tcp/stack.h"
#include "dataplane/origin_fill.h"
#include "dataplane/response_log.h"
#include "dataplane/service.h"
#include "dataplane/swarm/http_tracker.h"

namespace ep {

// What the glue between HTTP and TCP counts itself: X(field, help). The
// streaming counters (chunk waits, aborts, pins) are ChunkStream's, shown in
// the same section.
#define EP_HTTP_SERVER_COUNTERS(X) \
    X(conn_pool_exhausted, "accepted connections refused: no session free")

// Levels, not totals: connections per state, for operators' graphs.
#define EP_HTTP_SERVER_GAUGES(X)                                                        \
    X(connections_open, "HTTP connections open now (reading, sending or closing)")      \
    X(connections_closing, "of those, closing: the last response queued, not all ACKed")

struct HttpServerCounters {
#define EP_X(field, help) uint64_t field = 0;
    EP_HTTP_SERVER_COUNTERS(EP_X)
    EP_HTTP_SERVER_GAUGES(EP_X)
#undef EP_X
};

class HttpSteerTable;

class HttpServer final : public Service,
                         public tcp::Handler,
                         public http::ObjectCatalog,
                         public http::Generator,
                         public http::SteerSource,
                         private StreamOwner {
  public:
    explicit HttpServer(const http::HttpConfig &cfg);
    ~HttpServer() override;

    // `origin`: pull on miss (docs/origin.md); nullptr or no routes: off.
    bool init(tcp::Stack *stack, chunkstore::Store *store, uint32_t reader_id, uint32_t max_conns,
              uint16_t port, AccessSink *access = nullptr, const OriginConfig *origin = nullptr);
    // The HTTP tracker (BEP 3/23/48) on /announce and /scrape, writing
    // `shard` of the swarm table the UDP tracker shares (the lcore's own).
    // Called before the lcore runs; without it those paths are objects.
    void set_tracker(const swarm::TrackerConfig &cfg, const swarm::TorrentSet *ours,
                     swarm::SwarmTable *table, uint32_t shard, uint64_t seed);
    // The lcore's access-log ring (--access-log); nullptr: no access log.
    void set_response_log(ResponseLog *log) { rlog_ = log; }
    // Cluster steering (control/http_steer_tables.h): the published table
    // and this instance's RCU reader id (quiescent in every poll()).
    void set_steering(const std::atomic<const HttpSteerTable *> *table, rte_rcu_qsbr *rcu,
                      uint32_t rcu_id);
    // Before init(): pin limits a reload may change (ChunkStream follows them).
    void set_pin_limits(const PinLimits *l) { pin_live_ = l; }
    // Once per loop iteration: resumes connections that wait (send space,
    // promotions, buffered input) and runs timeouts.
    void poll(uint64_t now_ns, int64_t unix_s);

    // Service
    std::string_view name() const override { return "http"; }
    void poll(const Clock &clk) override { poll(clk.now_ns, clk.unix_s); }
    void visit_counters(const CounterVisitor &fn) const override;

    const http::Counters &http_counters() const { return ctx_.counters; }
    const HttpServerCounters &counters() const { return ctr_; }
    const StreamCounters &stream_counters() const { return stream_.counters(); }
    const OriginFillCounters &origin_counters() const { return fill_.counters(); }
    // The off-peak push's way in (control/origin_push.h: its push slots).
    OriginFill &origin_fill() { return fill_; }

    // tcp::Handler
    void on_accept(tcp::Stack &, tcp::ConnId) override;
    size_t on_data(tcp::Stack &, tcp::ConnId, const uint8_t *data, size_t len) override;
    void on_peer_closed(tcp::Stack &, tcp::ConnId) override;
    void on_writable(tcp::Stack &, tcp::ConnId) override;
    void on_closed(tcp::Stack &, tcp::ConnId, tcp::CloseReason) override;

    // http::ObjectCatalog: runs inside HttpSession::feed for the connection
    // being fed, and remembers the object version it answered with.
    std::optional<http::ObjectInfo> lookup(std::string_view key) const noexcept override;
    // With an origin for `key`, a miss starts (or joins) a fill.
    std::optional<http::ObjectInfo> lookup_from(std::string_view key,
                                                uint64_t first_byte) const noexcept override;
    // HTTP PURGE, from the connection being fed (OriginFill::purge).
    uint16_t purge(std::string_view key) const noexcept override;

    // http::Generator: the tracker's routes, answered for the connection
    // being fed (its remote address is the announcing peer).
    bool owns(std::string_view path) const noexcept override;
    std::size_t generate(std::string_view path, std::string_view query, char *out, std::size_t room,
                         std::string_view *content_type) noexcept override;
    // http::SteerSource: the client of the connection being fed.
    bool steer_view(http::SteerView *out) const noexcept override;

  private:
    struct Conn;
    Conn *conn_of(tcp::ConnId c) const;
    void pump(Conn *c);
    bool send_body_piece(Conn *c, const http::Response &r, const http::BodyPiece &p);
    void finish(Conn *c);  // close after queued data; released once it drains
    void abort(Conn *c);   // reset now, release the session
    void release(Conn *c);
    void log_response(const Conn &c, const http::Response &r, bool complete);
    bool retry_held(Conn *c);  // a request held for a fill: answer it if it can be now

    // StreamOwner
    void stream_wake(StreamConn &sc) override;
    void stream_run(StreamConn &sc) override;
    void stream_abort(StreamConn &sc) override;

    http::HttpContext ctx_;
    tcp::Stack *stack_ = nullptr;
    chunkstore::Store *store_ = nullptr;
    AccessSink *access_ = nullptr;
    ResponseLog *rlog_ = nullptr;
    const PinLimits *pin_live_ = nullptr;
    uint32_t tid_ = 0;
    ConnPool<Conn> pool_;
    ChunkStream stream_;
    mutable OriginFill fill_;  // after stream_: it registers with it
    mutable Conn *feeding_ = nullptr;  // the connection whose feed() calls lookup()
    mutable uint64_t held_key_ = 0;    // what a held request waits for (set by lookup)
    http::Now now_{};
    uint64_t next_sweep_ns_ = 0;
    std::unique_ptr<swarm::HttpTracker> tracker_;  // nullptr: no tracker routes
    HttpServerCounters ctr_;
    const std::atomic<const HttpSteerTable *> *steer_table_ = nullptr;
    rte_rcu_qsbr *steer_rcu_ = nullptr;
    uint32_t steer_rcu_id_ = 0;
};

}  // namespace ep

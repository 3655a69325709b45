// HTTP/1.1 over the data plane's TCP, bodies straight from the chunk store.
// One HttpServer per TCP stack (per data lcore and port). It feeds received
// bytes to an http::HttpSession per connection and pumps each response onto
// the TCP send queue: the head is copied (it is generated), the body is
// queued as references to chunk memory, pinned until acknowledged.
//
// A chunk that is on disk but not in RAM is promoted by the control thread;
// the connection waits (never the core) and resumes when it arrives.
//
// Pinned chunks are bounded per connection and per server (docs/http.md
// "Pinned RAM"); a response nothing acknowledges for send_timeout_ms is
// reset. Both still apply after the last response: a connection stays here
// until its send queue drains.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "chunkstore/store.h"
#include "dataplane/conn_pool.h"
#include "dataplane/http/context.h"
#include "dataplane/http/session.h"
#include "dataplane/net/tcp/stack.h"
#include "dataplane/service.h"

namespace ep {

// Called for every chunk a response starts to send (hit or miss in RAM):
// the cache policy's access stream. Must not block.
struct AccessSink {
    virtual ~AccessSink() = default;
    virtual void record(uint64_t key, uint32_t bytes, bool hit) = 0;
    // A request named an object the store does not hold.
    virtual void record_absent(uint64_t) {}
};

// What the glue between HTTP, TCP and the store counts: X(field, help).
#define EP_HTTP_SERVER_COUNTERS(X)                                                         \
    X(body_bytes_queued, "object bytes put on TCP send queues")                            \
    X(chunk_waits, "body pieces that waited for a disk promotion")                         \
    X(chunk_wait_timeouts, "connections aborted: a chunk never arrived")                   \
    X(object_gone_aborts, "aborted: the object was removed or replaced mid-response")      \
    X(chunk_lost_aborts, "aborted: the response needs a chunk lost to a checksum failure") \
    X(conn_pool_exhausted, "accepted connections refused: no session free")                \
    X(version_aborts, "object replaced mid-response: connection reset")

struct HttpServerCounters {
#define EP_X(field, help) uint64_t field = 0;
    EP_HTTP_SERVER_COUNTERS(EP_X)
#undef EP_X
    HttpServerCounters &operator+=(const HttpServerCounters &o) {
#define EP_X(field, help) field += o.field;
        EP_HTTP_SERVER_COUNTERS(EP_X)
#undef EP_X
        return *this;
    }
};

class HttpServer final : public Service, public tcp::Handler, public http::ObjectCatalog {
  public:
    explicit HttpServer(const http::HttpConfig &cfg);
    ~HttpServer() override;

    bool init(tcp::Stack *stack, chunkstore::Store *store, uint32_t reader_id, uint32_t max_conns,
              uint16_t port, AccessSink *access = nullptr);
    // Once per loop iteration: resumes connections that wait (send space,
    // promotions, buffered input) and runs timeouts.
    void poll(uint64_t now_ns, int64_t unix_s);

    // Service
    std::string_view name() const override { return "http"; }
    void poll(const Clock &clk) override { poll(clk.now_ns, clk.unix_s); }
    void visit_counters(const CounterVisitor &fn) const override;

    const http::Counters &http_counters() const { return ctx_.counters; }
    const HttpServerCounters &counters() const { return ctr_; }

    // tcp::Handler
    void on_accept(tcp::Stack &, tcp::ConnId) override;
    size_t on_data(tcp::Stack &, tcp::ConnId, const uint8_t *data, size_t len) override;
    void on_peer_closed(tcp::Stack &, tcp::ConnId) override;
    void on_writable(tcp::Stack &, tcp::ConnId) override;
    void on_closed(tcp::Stack &, tcp::ConnId, tcp::CloseReason) override;

    // http::ObjectCatalog: runs inside HttpSession::feed for the connection
    // being fed, and remembers the object version it answered with.
    std::optional<http::ObjectInfo> lookup(std::string_view key) const noexcept override;

  private:
    struct Conn;
    Conn *conn_of(tcp::ConnId c) const;
    void pump(Conn *c);
    bool send_body_piece(Conn *c, const http::Response &r, const http::BodyPiece &p);
    void finish(Conn *c);  // close after queued data; released once it drains
    void abort(Conn *c);   // reset now, release the session
    void release(Conn *c);
    void wake(Conn *c);    // run pump() again at the next poll()
    // Pinned RAM limits (docs/http.md "Pinned RAM").
    void settle(Conn *c, uint32_t unacked);  // releases acknowledged pins, notes progress
    bool may_pin(Conn *c);                   // false: blocked, retried later
    bool block_on_pin(Conn *c);
    void reclaim();                          // resets stalled holders while over budget
    http::Now now() const { return now_; }

    http::HttpContext ctx_;
    tcp::Stack *stack_ = nullptr;
    chunkstore::Store *store_ = nullptr;
    AccessSink *access_ = nullptr;
    uint32_t tid_ = 0;
    ConnPool<Conn> pool_;
    mutable Conn *feeding_ = nullptr;  // the connection whose feed() calls lookup()
    http::Now now_{};
    uint64_t now_ns_ = 0;
    uint64_t next_sweep_ns_ = 0;
    uint32_t pinned_ = 0;        // chunks all send queues of this server pin
    uint32_t pin_budget_ = 1;    // this server's share of the RAM tier, in chunks
    uint32_t conn_pin_cap_ = 1;  // chunks one connection may pin
    bool contended_ = false;     // a pin waited for the budget since the last sweep
    HttpServerCounters ctr_;
};

}  // namespace ep

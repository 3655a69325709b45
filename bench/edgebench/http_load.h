// The HTTP/1.1 load of `edgebench http`, over our TCP engine's client side.
// Knows nothing of DPDK: it drives a tcp::Stack (connect, send_copy, the
// Handler callbacks) and is polled with the time, so it runs the same over
// DpdkClient (bench/loadgen) or two stacks back to back in a test.
//
// Workloads:
//  - urls: a fixed list, round robin per connection;
//  - zipf: the list is a catalogue, rank i drawn with probability ∝ 1/i^alpha;
//  - dash: each connection plays DASH sessions one after another: MPD, then
//    init and media segments in order, the bitrate chosen by the Player
//    (dash_abr.h) with its buffer drained in real time.
// Bodies are counted, never copied (except MPDs, which are parsed); a sample
// of them is hashed with XXH3-64 and compared with the source files' hashes.
#pragma once

#include <xxhash.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/edgebench/dash_abr.h"
#include "bench/edgebench/dash_mpd.h"
#include "bench/edgebench/http_histogram.h"
#include "bench/edgebench/rate_schedule.h"
#include "dataplane/http/response_parser.h"
#include "dataplane/net/tcp/handler.h"
#include "dataplane/net/tcp/stack.h"

namespace ep::bench {

// The response parser is shared with the origin fill client (dataplane/http/).
using http::RespError;
using http::RespHead;
using http::ResponseParser;
using http::RespStep;

#define EB_ERRORS(X)                                                                          \
    X(connect_refused)                                                                        \
    X(connect_timeout)                                                                        \
    X(reset) X(timeout) X(closed_early) X(parse) X(status_4xx) X(status_5xx) X(body_mismatch) \
        X(send_failed) X(mpd_invalid) X(conn_limit)
enum class ErrKind : uint8_t {
#define EB_X(n) n,
    EB_ERRORS(EB_X)
#undef EB_X
        count_
};
const char *err_kind_name(ErrKind k);

enum class Workload : uint8_t { urls, zipf, dash };

struct HttpLoadOptions {
    Workload workload = Workload::urls;
    std::vector<std::string> urls;  // paths; for dash: MPD paths
    double zipf_alpha = 0.99;
    uint64_t seed = 1;
    uint32_t conns = 32;
    uint32_t pipeline = 1;  // requests in flight per connection (urls, zipf)
    double duration_s = 10;
    uint64_t max_requests = 0;  // 0: no limit
    double drain_s = 2;         // after the end: wait this long for responses in flight
    // Open loop (urls, zipf): requests/s over all connections on one
    // schedule (rate_schedule.h); latency from each request's scheduled time.
    // 0: closed loop, every connection sends as soon as it has room.
    double rate = 0;
    std::string host = "edgeplane";
    uint32_t server_ip = 0;  // host order
    uint16_t server_port = 80;
    uint32_t local_ip = 0;  // host order
    // Byte-exactness: expected XXH3-64 of the body by path; every
    // `verify_every`-th response with a known path is hashed (0: none).
    std::unordered_map<std::string, uint64_t> expected;
    uint32_t verify_every = 0;
    AbrConfig abr;
    bool progress = false;  // a line on stderr every second
};

struct SessionReport {
    std::string mpd;
    PlayerMetrics m;
    bool complete = false;
};

struct HttpLoadReport {
    double seconds = 0;     // from start to the end of the measured window
    uint64_t requests = 0;  // responses completed
    uint64_t body_bytes = 0, head_bytes = 0;
    uint64_t connects = 0;
    uint64_t verified = 0;     // bodies hashed and matching
    uint64_t retried = 0;      // pipelined requests a server close left unanswered, sent again
    double rate = 0;           // the offered rate (--rate), 0: closed loop
    uint64_t scheduled = 0;    // slots of the schedule taken (requests sent on it)
    uint64_t max_backlog = 0;  // most slots due and not yet sent at once: the client fell behind
    std::array<uint64_t, static_cast<size_t>(ErrKind::count_)> errors{};
    std::map<int, uint64_t> status;
    std::unique_ptr<LatencyHistogram> latency = std::make_unique<LatencyHistogram>();
    std::vector<SessionReport> sessions;
    uint64_t total_errors() const {
        uint64_t s = 0;
        for (uint64_t e : errors) s += e;
        return s;
    }
};

class HttpLoad final : public tcp::Handler {
  public:
    static constexpr uint32_t kMaxPipeline = 64;

    HttpLoad(HttpLoadOptions opt, tcp::Stack &st);
    ~HttpLoad() override;

    void start(uint64_t now_ns);
    // Opens connections, issues requests, fires DASH timers. Returns false
    // when the run is over (all connections closed or given up on).
    bool poll(uint64_t now_ns);
    // Aborts what is left (RST): for a run cut short.
    void abort_all();
    const HttpLoadReport &report() const { return rep_; }

    // tcp::Handler
    void on_connected(tcp::Stack &, tcp::ConnId) override;
    size_t on_data(tcp::Stack &, tcp::ConnId, const uint8_t *, size_t len) override;
    void on_peer_closed(tcp::Stack &, tcp::ConnId) override;
    void on_closed(tcp::Stack &, tcp::ConnId, tcp::CloseReason) override;

  private:
    enum class Phase : uint8_t { running, draining, closing, done };
    enum class ReqKind : uint8_t { object, mpd, init, segment };
    struct Pending {
        uint64_t sent_ns = 0;
        uint32_t url = 0;  // index into opt_.urls (object workloads)
        ReqKind kind = ReqKind::object;
        bool verify = false;
        uint64_t expect = 0;
    };
    struct DashSession;
    struct Conn {
        uint32_t slot = 0;
        tcp::ConnId id;
        enum class St : uint8_t { none, connecting, open, closing } st = St::none;
        ResponseParser parser;
        Pending q[kMaxPipeline];
        uint32_t qh = 0, qn = 0;
        XXH3_state_t *xx = nullptr;
        uint64_t next_url = 0;
        bool server_closes = false;
        bool given_up = false;  // a manifest that can't be played: stop using this slot
        uint64_t retry_ns = 0;  // reconnect not before (after a failure)
        uint64_t body = 0;      // body bytes of the response being received
        uint64_t wake_ns = 0;   // dash: waiting for the playback buffer
        std::unique_ptr<DashSession> dash;
    };

    void open_conn(Conn &c);
    void fill(Conn &c);
    bool send_request(Conn &c, const std::string &path, Pending p);
    void complete(Conn &c, uint64_t now);
    void fail(Conn &c, ErrKind k);
    bool issuing(uint64_t now) const;
    uint32_t pick_url(Conn &c);
    void dash_step(Conn &c, uint64_t now);
    void dash_response(Conn &c, const Pending &p, uint64_t now, uint64_t body_bytes);
    void finish_session(Conn &c, bool complete);
    void progress(uint64_t now);
    Conn *conn_of(tcp::ConnId id);

    HttpLoadOptions opt_;
    tcp::Stack &st_;
    std::vector<Conn> conns_;
    HttpLoadReport rep_;
    Phase phase_ = Phase::running;
    uint64_t t0_ = 0, t_end_ = 0, phase_t_ = 0, last_progress_ = 0;
    uint64_t issued_ = 0, prog_requests_ = 0, prog_bytes_ = 0;
    uint64_t rng_;
    uint64_t verify_tick_ = 0;
    std::vector<double> zipf_cdf_;
    std::vector<uint64_t> url_expect_;  // per url: expected hash
    std::vector<bool> url_known_;
    uint64_t last_done_ = 0;
    uint64_t draining_since_ = 0;
    uint32_t dash_rr_ = 0;
    RateSchedule sched_;
    uint32_t rr_ = 0;  // open loop: the connection poll() offers due slots first, rotating
};

}  // namespace ep::bench

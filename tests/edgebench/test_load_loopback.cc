// HttpLoad (the client side of `edgebench http`) over two TCP engines back to
// back (tests/tcp/loopback.h: simulated wire, fake clock, seeded faults),
// against a small scripted HTTP server: pipelining, keep-alive with server
// closes and reconnects, byte-exact sampled bodies, losses, error kinds.
#include <gtest/gtest.h>
#include <xxhash.h>

#include <deque>
#include <map>
#include <memory>
#include <string>

#include "bench/edgebench/http_load.h"
#include "tests/tcp/loopback.h"

using namespace ep;
using namespace ep::bench;
using ep::tcp::ConnId;
using ep::tcp::Stack;

namespace {

const tcp::ExtBufOps kStaticOps = {[](void *) {}, [](void *) {}, nullptr};

std::string body_for(const std::string &path) {
    const size_t n = path == "/big" ? 70000 : path == "/small" ? 1000 : 0;
    std::string b(n, '\0');
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<char>((i * 2654435761u + path.size()) >> 7);
    return b;
}

// HTTP/1.1 server: answers GETs in order; every `close_every`-th response on a
// connection carries Connection: close and the server closes after it.
class Server : public tcp::Handler {
  public:
    explicit Server(int close_every) : close_every_(close_every) {
        for (const char *p : {"/small", "/big"}) bodies_[p] = body_for(p);
    }
    void on_accept(Stack &, ConnId c) override { conns_[c.idx] = {}; }
    size_t on_data(Stack &st, ConnId c, const uint8_t *p, size_t len) override {
        Conn &k = conns_[c.idx];
        k.in.append(reinterpret_cast<const char *>(p), len);
        size_t end;
        while (!k.closing && (end = k.in.find("\r\n\r\n")) != std::string::npos) {
            const std::string req = k.in.substr(0, end);
            k.in.erase(0, end + 4);
            const size_t sp = req.find(' ');
            const std::string path = req.substr(sp + 1, req.find(' ', sp + 1) - sp - 1);
            auto it = bodies_.find(path);
            ++k.served;
            const bool close = close_every_ && k.served % close_every_ == 0;
            std::string head =
                it == bodies_.end()
                    ? "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                    : "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(it->second.size()) +
                          "\r\n";
            if (close) head += "Connection: close\r\n";
            head += "\r\n";
            k.out.push_back({std::make_shared<std::string>(head), 0});
            if (it != bodies_.end()) k.out.push_back({nullptr, 0, &it->second});
            if (close) k.closing = true;
        }
        pump(st, c);
        return len;
    }
    void on_writable(Stack &st, ConnId c) override { pump(st, c); }
    void on_peer_closed(Stack &st, ConnId c) override { st.close(c); }
    void on_closed(Stack &, ConnId c, tcp::CloseReason) override { conns_.erase(c.idx); }

  private:
    struct Piece {
        std::shared_ptr<std::string> copy;  // head: send_copy
        size_t off = 0;
        const std::string *ext = nullptr;  // body: external reference
    };
    struct Conn {
        std::string in;
        std::deque<Piece> out;
        uint64_t served = 0;
        bool closing = false, closed = false;
    };
    void pump(Stack &st, ConnId c) {
        Conn &k = conns_[c.idx];
        while (!k.out.empty()) {
            Piece &pc = k.out.front();
            const std::string &s = pc.copy ? *pc.copy : *pc.ext;
            while (pc.off < s.size()) {
                const auto *d = reinterpret_cast<const uint8_t *>(s.data()) + pc.off;
                const uint32_t want =
                    static_cast<uint32_t>(std::min<size_t>(s.size() - pc.off, 16384));
                const uint32_t n = pc.copy ? st.send_copy(c, d, std::min<uint32_t>(want, 1024))
                                           : st.send(c, d, want, nullptr, &kStaticOps);
                if (n == 0) return;  // on_writable resumes
                pc.off += n;
            }
            k.out.pop_front();
        }
        if (k.closing && !k.closed) {
            k.closed = true;
            st.close(c);
        }
    }
    int close_every_;
    std::map<std::string, std::string> bodies_;
    std::map<uint32_t, Conn> conns_;
};

struct Outcome {
    std::unique_ptr<HttpLoadReport> rep;
    uint64_t steps = 0;
};

Outcome run(HttpLoadOptions o, int close_every, const fault::FaultConfig &f) {
    tcp::test::Wire w(50'000, f);  // 50 µs one way
    tcp::StackConfig cfg;
    cfg.max_connections = 64;
    cfg.time_wait_capacity = 64;
    cfg.rcv_buf_bytes = 64 * 1024;
    cfg.inline_blocks = 512;
    cfg.msl_ns = 100'000'000;
    auto cli = std::make_unique<Stack>();
    auto srv = std::make_unique<Stack>();
    EXPECT_TRUE(cli->init(cfg, &w.port[0], w.now));
    EXPECT_TRUE(srv->init(cfg, &w.port[1], w.now));
    Server server(close_every);
    srv->listen(80, &server);
    o.local_ip = 0x0a000001;
    o.server_ip = 0x0a000002;
    o.server_port = 80;
    for (const char *p : {"/small", "/big"}) {
        const std::string b = body_for(p);
        o.expected[p] = XXH3_64bits(b.data(), b.size());
    }
    Outcome out;
    {
        HttpLoad load(o, *cli);
        Stack *st[2] = {cli.get(), srv.get()};
        load.start(w.now);
        while (load.poll(w.now) && out.steps < 5'000'000) {
            w.step(st, 100'000);
            ++out.steps;
        }
        out.rep = std::make_unique<HttpLoadReport>();
        const HttpLoadReport &r = load.report();
        out.rep->seconds = r.seconds;
        out.rep->requests = r.requests;
        out.rep->body_bytes = r.body_bytes;
        out.rep->connects = r.connects;
        out.rep->verified = r.verified;
        out.rep->retried = r.retried;
        out.rep->rate = r.rate;
        out.rep->scheduled = r.scheduled;
        out.rep->max_backlog = r.max_backlog;
        out.rep->errors = r.errors;
        out.rep->status = r.status;
        out.rep->latency->merge(*r.latency);
    }
    return out;
}

std::string errors(const HttpLoadReport &r) {
    std::string s;
    for (size_t i = 0; i < r.errors.size(); ++i)
        if (r.errors[i])
            s += std::string(err_kind_name(static_cast<ErrKind>(i))) + "=" +
                 std::to_string(r.errors[i]) + " ";
    return s;
}

}  // namespace

TEST(HttpLoadLoopback, PipelinedKeepAliveWithServerCloses) {
    HttpLoadOptions o;
    o.urls = {"/small", "/big"};
    o.conns = 4;
    o.pipeline = 3;
    o.duration_s = 0.5;
    o.verify_every = 1;
    Outcome out = run(o, /*close_every=*/7, {});
    const HttpLoadReport &r = *out.rep;
    EXPECT_EQ(r.total_errors(), 0u) << errors(r);
    EXPECT_GT(r.requests, 100u);
    EXPECT_EQ(r.verified, r.requests);  // every body byte-exact, in pipeline order
    EXPECT_EQ(r.status.size(), 1u);
    EXPECT_GT(r.connects, o.conns);  // the server's closes were followed by reconnects
    EXPECT_GT(r.retried, 0u);        // pipelined behind a close: sent again, not errors
    EXPECT_GT(r.latency->percentile(0.5), 100'000u);  // at least one round trip (2 × 50 µs)
}

TEST(HttpLoadLoopback, LossyWireStillByteExact) {
    HttpLoadOptions o;
    o.urls = {"/big", "/small"};
    o.conns = 3;
    o.pipeline = 2;
    o.duration_s = 1.0;
    o.drain_s = 5;
    o.verify_every = 1;
    fault::FaultConfig f{
        .drop = 0.02, .duplicate = 0.01, .reorder = 0.02, .reorder_delay_ns = 200'000, .seed = 9};
    Outcome out = run(o, 0, f);
    const HttpLoadReport &r = *out.rep;
    EXPECT_EQ(r.total_errors(), 0u) << errors(r);
    EXPECT_GT(r.requests, 10u);
    EXPECT_EQ(r.verified, r.requests);
    EXPECT_EQ(r.connects, o.conns);
}

TEST(HttpLoadLoopback, RequestBoundAndErrorKinds) {
    HttpLoadOptions o;
    o.urls = {"/small", "/missing"};
    o.conns = 2;
    o.pipeline = 4;
    o.duration_s = 10;
    o.max_requests = 40;
    Outcome out = run(o, 0, {});
    const HttpLoadReport &r = *out.rep;
    EXPECT_EQ(r.requests, 40u);
    EXPECT_EQ(r.errors[static_cast<size_t>(ErrKind::status_4xx)], 20u);
    EXPECT_EQ(r.status.at(404), 20u);
    EXPECT_EQ(r.status.at(200), 20u);
    EXPECT_LT(r.seconds, 1.0);  // ended by the bound, not the duration
}

TEST(HttpLoadLoopback, RefusedConnectionsAreCounted) {
    HttpLoadOptions o;
    o.urls = {"/small"};
    o.conns = 2;
    o.duration_s = 0.1;
    o.server_port = 81;  // overwritten by run(): use a port nobody listens on instead
    tcp::test::Wire w(50'000, {});
    tcp::StackConfig cfg;
    cfg.max_connections = 16;
    cfg.inline_blocks = 64;
    auto cli = std::make_unique<Stack>();
    auto srv = std::make_unique<Stack>();
    ASSERT_TRUE(cli->init(cfg, &w.port[0], w.now));
    ASSERT_TRUE(srv->init(cfg, &w.port[1], w.now));
    o.local_ip = 0x0a000001;
    o.server_ip = 0x0a000002;
    HttpLoad load(o, *cli);
    Stack *st[2] = {cli.get(), srv.get()};
    load.start(w.now);
    uint64_t steps = 0;
    while (load.poll(w.now) && ++steps < 1'000'000) w.step(st, 100'000);
    const HttpLoadReport &r = load.report();
    EXPECT_EQ(r.requests, 0u);
    EXPECT_GE(r.errors[static_cast<size_t>(ErrKind::connect_refused)], 2u);
}

TEST(HttpLoadLoopback, OpenLoopSendsAtTheOfferedRate) {
    // 2000 requests/s for 0.5 s on the fake clock: the slots due in the window
    // are 0, 0.5 ms, ..., 499.5 ms, so 1000 requests; closed loop, the same
    // 4 connections x 2 in flight would do tens of thousands.
    HttpLoadOptions o;
    o.urls = {"/small"};
    o.conns = 4;
    o.pipeline = 2;
    o.duration_s = 0.5;
    o.rate = 2000;
    o.verify_every = 1;
    Outcome out = run(o, 0, {});
    const HttpLoadReport &r = *out.rep;
    EXPECT_EQ(r.total_errors(), 0u) << errors(r);
    EXPECT_EQ(r.requests, 1000u);
    EXPECT_EQ(r.scheduled, 1000u);
    EXPECT_EQ(r.verified, r.requests);
    EXPECT_LE(r.max_backlog, 2u);  // the server kept up: never more than a slot or so behind
}

TEST(HttpLoadLoopback, OpenLoopLatencyCountsTheQueueBehindASlowServer) {
    // One connection, one request in flight, 100 µs round trips: it can't do
    // 20 000/s. The slots it owes pile up and each is stamped with the time it
    // was due, so latency grows with the queue (a closed-loop client would
    // report one round trip and hide it: coordinated omission).
    HttpLoadOptions o;
    o.urls = {"/small"};
    o.conns = 1;
    o.pipeline = 1;
    o.duration_s = 0.1;
    o.rate = 20000;
    Outcome out = run(o, 0, {});
    const HttpLoadReport &r = *out.rep;
    EXPECT_EQ(r.total_errors(), 0u) << errors(r);
    EXPECT_LT(r.requests, 2000u);  // fewer than offered: the client fell behind
    EXPECT_GT(r.max_backlog, 100u);
    EXPECT_GT(r.latency->percentile(0.99), 10'000'000u);  // > 10 ms: the queue, not the RTT
}

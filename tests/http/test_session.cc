// Connection state machine: pipelining, persistence, errors, timeouts, counters.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "dataplane/http/http_date.h"
#include "tests/http/harness.h"

namespace ep::http {
namespace {

using test::Captured;
using test::Harness;

class SessionTest : public ::testing::Test {
  protected:
    SessionTest() {
        h.cat.add("a.m4s", "AAAA");
        h.cat.add("b.m4s", "BB");
        h.cat.add("c.mpd", "<MPD/>");
    }
    Harness h;
};

TEST_F(SessionTest, PipelinedRequestsAnsweredInOrder) {
    auto v = h.feed(
        "GET /a.m4s HTTP/1.1\r\nHost: h\r\n\r\n"
        "HEAD /b.m4s HTTP/1.1\r\nHost: h\r\n\r\n"
        "GET /nope HTTP/1.1\r\nHost: h\r\n\r\n"
        "GET /c.mpd HTTP/1.1\r\nHost: h\r\nRange: bytes=0-0\r\n\r\n"
        "OPTIONS /a.m4s HTTP/1.1\r\nHost: h\r\n\r\n"
        "GET /b.m4s HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_EQ(v.size(), 6u);
    EXPECT_EQ(v[0].body, "AAAA");
    EXPECT_EQ(v[1].status, 200);
    EXPECT_EQ(v[1].get("content-length"), "2");
    EXPECT_EQ(v[2].status, 404);
    EXPECT_EQ(v[3].status, 206);
    EXPECT_EQ(v[3].body, "<");
    EXPECT_EQ(v[4].status, 204);
    EXPECT_EQ(v[5].body, "BB");
    EXPECT_EQ(h.ctx->counters.requests, 6u);
    EXPECT_GE(h.ctx->counters.pipelined, 3u);
}

TEST_F(SessionTest, BackPressureWhenQueueIsFull) {
    std::string six;
    for (int i = 0; i < 6; ++i) six += "GET /a.m4s HTTP/1.1\r\nHost: h\r\n\r\n";
    const std::size_t n = h.s->feed(std::string_view(six), h.now);
    EXPECT_LT(n, six.size());  // stopped after kResponseQueueDepth answers
    int answered = 0;
    while (h.s->has_response()) {
        h.s->pop();
        ++answered;
    }
    EXPECT_EQ(answered, static_cast<int>(kResponseQueueDepth));
    EXPECT_EQ(h.s->feed(std::string_view(six).substr(n), h.now), six.size() - n);
}

TEST_F(SessionTest, ConnectionCloseStopsReading) {
    const std::string a = "GET /a.m4s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    const std::size_t n =
        h.s->feed(std::string_view(a + "GET /b.m4s HTTP/1.1\r\nHost: h\r\n\r\n"), h.now);
    EXPECT_EQ(n, a.size());
    ASSERT_TRUE(h.s->has_response());
    EXPECT_TRUE(h.s->front().close_after());
    EXPECT_NE(h.s->front().head().find("Connection: close\r\n"), std::string_view::npos);
    EXPECT_TRUE(h.s->input_closed());
    h.s->pop();
    EXPECT_TRUE(h.s->finished());
}

TEST_F(SessionTest, Http10KeepAlive) {
    Captured c = h.one("GET /a.m4s HTTP/1.0\r\n\r\n");
    EXPECT_TRUE(c.close);
    EXPECT_EQ(c.get("connection"), "close");
    h.reset();
    auto v =
        h.feed("GET /a.m4s HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b.m4s HTTP/1.0\r\n\r\n");
    ASSERT_EQ(v.size(), 2u);
    EXPECT_FALSE(v[0].close);
    EXPECT_EQ(v[0].get("connection"), "keep-alive");
    EXPECT_TRUE(v[1].close);
}

TEST_F(SessionTest, ExpectWithBodyAnswersAndCloses) {
    auto v = h.feed(
        "GET /a.m4s HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        "GET /b.m4s HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].status, 200);
    EXPECT_TRUE(v[0].close);
    // Without a body Expect changes nothing.
    h.reset();
    v = h.feed(
        "GET /a.m4s HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\nGET /b.m4s "
        "HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_EQ(v.size(), 2u);
    EXPECT_FALSE(v[0].close);
}

TEST_F(SessionTest, MaxRequestsPerConnection) {
    h.cfg.max_requests_per_connection = 2;
    h.reset();
    auto v = h.feed(
        "GET /a.m4s HTTP/1.1\r\nHost: h\r\n\r\nGET /a.m4s HTTP/1.1\r\nHost: h\r\n\r\nGET /a.m4s "
        "HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_EQ(v.size(), 2u);
    EXPECT_FALSE(v[0].close);
    EXPECT_TRUE(v[1].close);
}

struct ErrCase {
    std::string bytes;
    int status;
    ParseError kind;
};

TEST_F(SessionTest, ParseErrorsAnswerAndClose) {
    const ErrCase cases[] = {
        {"\x16\x03\x01\x00\xa5\x01\x00\x00", 400, ParseError::kBadRequestLine},
        {"hello world\r\n\r\n", 400, ParseError::kBadRequestLine},
        {"GET / HTTP/1.1\r\n\r\n", 400, ParseError::kMissingHost},
        {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: "
         "chunked\r\n\r\n0\r\n\r\n",
         400, ParseError::kContentLengthAndTransferEncoding},
        {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400,
         ParseError::kDuplicateContentLength},
        {"GET /" + std::string(5000, 'a') + " HTTP/1.1\r\n", 414, ParseError::kUriTooLong},
        {"GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(1 << 20, 'a') + "\r\n\r\n", 431,
         ParseError::kHeadTooLarge},
        {"GET / HTTP/3.0\r\n", 505, ParseError::kVersionNotSupported},
        {"GET /%2e%2e/secret HTTP/1.1\r\nHost: h\r\n\r\n", 400, ParseError::kBadPath},
        {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 999999999\r\n\r\n", 413,
         ParseError::kBodyTooLarge},
    };
    for (const ErrCase &k : cases) {
        Harness fresh;
        auto v = fresh.feed(k.bytes + "GET /a.m4s HTTP/1.1\r\nHost: h\r\n\r\n");
        ASSERT_EQ(v.size(), 1u) << k.bytes.substr(0, 40);  // nothing after the error is read
        EXPECT_EQ(v[0].status, k.status) << k.bytes.substr(0, 40);
        EXPECT_TRUE(v[0].close);
        EXPECT_EQ(v[0].get("connection"), "close");
        EXPECT_EQ(fresh.ctx->counters.parse_error_count(k.kind), 1u) << parse_error_name(k.kind);
        EXPECT_EQ(fresh.ctx->counters.closes_after_error, 1u);
        EXPECT_TRUE(fresh.s->finished());
    }
}

TEST_F(SessionTest, SmugglingAttemptNeverReachesSecondRequest) {
    // The classic CL.TE payload: a lenient server would see a second request.
    auto v = h.feed(
        "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\nGET /a.m4s HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].status, 400);
    EXPECT_TRUE(v[0].close);
}

TEST_F(SessionTest, SlowlorisGets408) {
    h.cfg.header_timeout_ms = 10'000;
    h.reset();
    const std::string req = "GET /a.m4s HTTP/1.1\r\nHost: h\r\nX-Slow: 1\r\n\r\n";
    Now now = h.now;
    std::size_t i = 0;
    for (; i < req.size(); ++i) {
        ASSERT_EQ(h.s->poll(now, false), HttpSession::TimerAction::kNone) << i;
        EXPECT_EQ(h.s->feed(std::string_view(req).substr(i, 1), now), 1u);
        now.mono_ms += 1000;  // one byte per second
        if (now.mono_ms - h.now.mono_ms >= 10'000) break;
    }
    EXPECT_LE(h.s->deadline_ms(), now.mono_ms);
    EXPECT_EQ(h.s->poll(now, false), HttpSession::TimerAction::kTimedOut);
    ASSERT_TRUE(h.s->has_response());
    EXPECT_EQ(h.s->front().status(), Status::kRequestTimeout);
    EXPECT_TRUE(h.s->front().close_after());
    EXPECT_EQ(h.ctx->counters.header_timeouts, 1u);
    EXPECT_EQ(h.s->feed(std::string_view(req).substr(i), now), 0u);  // no longer reading
}

TEST_F(SessionTest, HeaderTimerRestartsPerRequest) {
    Now now = h.now;
    h.s->feed(std::string_view("GET /a.m4s HTTP/1.1\r\nHost: h\r\n\r\n"), now);
    h.s->pop();
    now.mono_ms += 9'000;
    h.s->feed(std::string_view("GET /a.m4s HTTP/1.1\r\n"), now);
    now.mono_ms += 9'000;
    EXPECT_EQ(h.s->poll(now, false), HttpSession::TimerAction::kNone);
    h.s->feed(std::string_view("Host: h\r\n\r\n"), now);
    EXPECT_TRUE(h.s->has_response());
}

TEST_F(SessionTest, IdleTimeoutClosesSilently) {
    h.cfg.idle_timeout_ms = 5'000;
    h.reset();
    Now now = h.now;
    h.s->feed(std::string_view("GET /a.m4s HTTP/1.1\r\nHost: h\r\n\r\n"), now);
    h.s->pop();
    now.mono_ms += 6'000;
    // Still streaming a big body: not idle.
    EXPECT_EQ(h.s->poll(now, /*output_pending=*/true), HttpSession::TimerAction::kNone);
    now.mono_ms += 4'000;
    EXPECT_EQ(h.s->poll(now, false), HttpSession::TimerAction::kNone);
    now.mono_ms += 1'000;
    EXPECT_EQ(h.s->poll(now, false), HttpSession::TimerAction::kClose);
    EXPECT_FALSE(h.s->has_response());
    EXPECT_EQ(h.ctx->counters.idle_timeouts, 1u);
}

TEST_F(SessionTest, SlowBodyCountsAgainstHeaderTimer) {
    Now now = h.now;
    h.s->feed(std::string_view("GET /a.m4s HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nxx"),
              now);
    h.s->pop();
    now.mono_ms += 10'000;
    EXPECT_EQ(h.s->poll(now, false), HttpSession::TimerAction::kTimedOut);
}

TEST_F(SessionTest, NextRequestAfterBodyGetsItsOwnTimer) {
    Now now = h.now;
    h.s->feed(std::string_view("GET /a.m4s HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab"),
              now);
    h.s->pop();
    now.mono_ms += 5'000;
    // The body ends and the next head starts in the same segment.
    h.s->feed(std::string_view("cdGET /b.m4s HTTP/1.1\r\n"), now);
    now.mono_ms += 9'000;  // 14 s after the first request, 9 s into this one
    EXPECT_EQ(h.s->poll(now, false), HttpSession::TimerAction::kNone);
    h.s->feed(std::string_view("Host: h\r\n\r\n"), now);
    ASSERT_TRUE(h.s->has_response());
    EXPECT_EQ(h.s->front().status(), Status::kOk);
}

TEST_F(SessionTest, CountersByStatus) {
    h.feed(
        "GET /a.m4s HTTP/1.1\r\nHost: h\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\nPUT /a.m4s "
        "HTTP/1.1\r\nHost: h\r\n\r\n");
    const Counters &c = h.ctx->counters;
    EXPECT_EQ(c.status_count(Status::kOk), 1u);
    EXPECT_EQ(c.status_count(Status::kNotFound), 1u);
    EXPECT_EQ(c.status_count(Status::kMethodNotAllowed), 1u);
    EXPECT_EQ(c.body_bytes_out, 4u);
    EXPECT_GT(c.head_bytes_out, 300u);
    EXPECT_EQ(c.connections, 1u);
}

TEST_F(SessionTest, CountersSumAndVisit) {
    h.feed("GET /a.m4s HTTP/1.1\r\nHost: h\r\n\r\nGET /%2e%2e/x HTTP/1.1\r\nHost: h\r\n\r\n");
    Counters total;
    total += h.ctx->counters;
    total += h.ctx->counters;
    EXPECT_EQ(total.requests, 2u);
    std::map<std::string, uint64_t> seen;
    visit_counters(total, [&](std::string_view name, std::string_view label, std::string_view value,
                              uint64_t v) {
        std::string key(name);
        if (!label.empty()) key += "{" + std::string(label) + "=\"" + std::string(value) + "\"}";
        seen[key] = v;
    });
    EXPECT_EQ(seen["http_requests_total"], 2u);
    EXPECT_EQ(seen["http_responses_total{status=\"200\"}"], 2u);
    EXPECT_EQ(seen["http_responses_total{status=\"400\"}"], 2u);
    EXPECT_EQ(seen["http_parse_errors_total{kind=\"bad_path\"}"], 2u);
    EXPECT_EQ(seen.count("http_parse_errors_total{kind=\"none\"}"), 0u);
}

TEST(HttpDateTest, FormatAndParse) {
    char buf[kImfFixdateLen];
    format_imf_fixdate(784111777, buf);
    EXPECT_EQ(std::string_view(buf, kImfFixdateLen), "Sun, 06 Nov 1994 08:49:37 GMT");
    format_imf_fixdate(0, buf);
    EXPECT_EQ(std::string_view(buf, kImfFixdateLen), "Thu, 01 Jan 1970 00:00:00 GMT");
    format_imf_fixdate(951782400, buf);  // leap day
    EXPECT_EQ(std::string_view(buf, kImfFixdateLen), "Tue, 29 Feb 2000 00:00:00 GMT");
    // RFC 9110 §5.6.7's three examples are the same instant.
    EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
    EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
    EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
    EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));
    EXPECT_FALSE(parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT"));
    EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 24:49:37 GMT"));
    EXPECT_FALSE(parse_http_date(""));
    for (int64_t t : {0ll, 1ll, 86399ll, 1'700'000'000ll, 4'102'444'800ll, 253402300799ll}) {
        format_imf_fixdate(t, buf);
        EXPECT_EQ(parse_http_date({buf, kImfFixdateLen}), t);
    }
}

TEST(HttpDateTest, CacheReformatsOncePerSecond) {
    DateCache d;
    const std::string_view a = d.get(784111777);
    EXPECT_EQ(a, "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(d.get(784111777).data(), a.data());
    EXPECT_EQ(d.get(784111778), "Sun, 06 Nov 1994 08:49:38 GMT");
}

// Generated routes (http/generator.h, the tracker's /announce): asked
// before the catalog, GET only, body framed with its length, the query
// passed as sent; other paths still reach the catalog.
struct EchoGenerator : Generator {
    bool owns(std::string_view path) const noexcept override { return path == "/announce"; }
    std::size_t generate(std::string_view path, std::string_view query, char *out, std::size_t room,
                         std::string_view *type) noexcept override {
        ++calls;
        last_room = room;
        const std::string body = std::string(path) + "|" + std::string(query);
        *type = "text/plain";
        body.copy(out, room);
        return body.size() < room ? body.size() : room;
    }
    int calls = 0;
    std::size_t last_room = 0;
};

TEST_F(SessionTest, GeneratedRoutesAnswerBeforeTheCatalog) {
    EchoGenerator g;
    h.ctx->generator = &g;
    h.cat.add("announce", "an object shadowed by the route");
    auto v = h.feed(
        "GET /announce?info_hash=%12%ab&port=1 HTTP/1.1\r\nHost: h\r\n\r\n"
        "HEAD /announce?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"
        "GET /a.m4s HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].status, 200);
    EXPECT_EQ(v[0].body, "/announce|info_hash=%12%ab&port=1");
    EXPECT_EQ(v[0].get("content-length"), std::to_string(v[0].body.size()));
    EXPECT_EQ(v[0].get("content-type"), "text/plain");
    EXPECT_EQ(v[0].get("cache-control"), "no-store");
    EXPECT_GE(g.last_room, 2000u);  // the tracker's largest reply fits
    EXPECT_EQ(v[1].status, 405);    // HEAD must not announce
    EXPECT_EQ(v[1].get("allow"), "GET");
    EXPECT_EQ(v[1].body, "");
    EXPECT_EQ(v[2].body, "AAAA");
    EXPECT_EQ(g.calls, 1);
}

}  // namespace
}  // namespace ep::http

namespace ep::http {
namespace {

// A peer's FIN ends its requests, not our answers: everything received before
// it is parsed and answered in order, then the session is finished. The glue
// order is: on_data feeds what fits, the FIN follows at once, and the rest of
// the bytes are fed again after each pop().
void pipelined_then_fin(std::size_t n) {
    Harness h;
    h.cat.add("a.m4s", "AAAA");
    h.cat.add("b.m4s", "BB");
    std::string all;
    for (std::size_t i = 0; i < n; ++i)
        all += i % 2 ? "GET /b.m4s HTTP/1.1\r\nHost: h\r\n\r\n" : "GET /a.m4s HTTP/1.1\r\nHost: h\r\n\r\n";
    std::size_t pos = h.s->feed(std::string_view(all), h.now);
    h.s->on_peer_closed();
    std::vector<std::string> bodies;
    for (std::size_t guard = 0; guard < 4 * n + 8; ++guard) {
        while (h.s->has_response()) {
            bodies.push_back(test::capture(h.s->front(), h.cat).body);
            h.s->pop();
        }
        if (h.s->finished()) break;
        ASSERT_LT(pos, all.size()) << "not finished, yet nothing left to feed";
        pos += h.s->feed(std::string_view(all).substr(pos), h.now);
    }
    EXPECT_TRUE(h.s->finished());
    EXPECT_EQ(pos, all.size());
    ASSERT_EQ(bodies.size(), n);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(bodies[i], i % 2 ? "BB" : "AAAA") << i;
    EXPECT_EQ(h.ctx->counters.requests, n);
}

TEST(SessionHalfClose, PipelinedThenFinAnswersEverything) {
    for (std::size_t n : {1u, 10u, 50u, 1000u}) {
        SCOPED_TRACE(n);
        pipelined_then_fin(n);
    }
}

TEST(SessionHalfClose, FinMidRequestFinishesAfterTheCompleteOnes) {
    Harness h;
    h.cat.add("a.m4s", "AAAA");
    const std::string bytes = "GET /a.m4s HTTP/1.1\r\nHost: h\r\n\r\nGET /a.m4s HTTP/1.1\r\nHo";
    EXPECT_EQ(h.s->feed(std::string_view(bytes), h.now), bytes.size());
    h.s->on_peer_closed();
    EXPECT_FALSE(h.s->finished());  // one answer still queued
    ASSERT_TRUE(h.s->has_response());
    EXPECT_EQ(test::capture(h.s->front(), h.cat).body, "AAAA");
    h.s->pop();
    EXPECT_TRUE(h.s->finished());  // the half request is never answered
    EXPECT_EQ(h.s->deadline_ms(), UINT64_MAX);
}

}  // namespace
}  // namespace ep::http

namespace ep::http {
namespace {

TEST(SessionSendTimeout, NoProgressAbortsWhateverTheWindow) {
    Harness h;
    h.cat.add("a.m4s", "AAAA");
    h.cfg.send_timeout_ms = 3'000;
    h.reset();
    Now now = h.now;
    h.s->feed(std::string_view("GET /a.m4s HTTP/1.1\r\nHost: h\r\n\r\n"), now);
    h.s->pop();
    uint64_t acked = 100;
    EXPECT_EQ(h.s->poll(now, true, acked), HttpSession::TimerAction::kNone);
    // Progress restarts the timer.
    for (int i = 0; i < 5; ++i) {
        now.mono_ms += 2'500;
        acked += 1;
        EXPECT_EQ(h.s->poll(now, true, acked), HttpSession::TimerAction::kNone) << i;
    }
    now.mono_ms += 2'900;
    EXPECT_EQ(h.s->poll(now, true, acked), HttpSession::TimerAction::kNone);
    now.mono_ms += 200;  // 3.1 s without an acknowledged byte
    EXPECT_EQ(h.s->poll(now, true, acked), HttpSession::TimerAction::kAbort);
    EXPECT_EQ(h.ctx->counters.send_timeouts, 1u);
}

TEST(SessionSendTimeout, AppliesAfterHalfCloseAndNotWhenNothingIsPending) {
    Harness h;
    h.cat.add("a.m4s", "AAAA");
    h.cfg.send_timeout_ms = 1'000;
    h.cfg.idle_timeout_ms = 100'000;
    h.reset();
    Now now = h.now;
    EXPECT_EQ(h.s->poll(now, false, 0), HttpSession::TimerAction::kNone);
    now.mono_ms += 50'000;  // idle, nothing to send: not a send timeout
    EXPECT_EQ(h.s->poll(now, false, 0), HttpSession::TimerAction::kNone);
    h.s->feed(std::string_view("GET /a.m4s HTTP/1.1\r\nHost: h\r\n\r\n"), now);
    h.s->on_peer_closed();
    h.s->pop();
    EXPECT_TRUE(h.s->finished());
    EXPECT_EQ(h.s->poll(now, true, 0), HttpSession::TimerAction::kNone);
    now.mono_ms += 1'000;
    EXPECT_EQ(h.s->poll(now, true, 0), HttpSession::TimerAction::kAbort);
    EXPECT_EQ(h.ctx->counters.send_timeouts, 1u);
    EXPECT_EQ(h.ctx->counters.idle_timeouts, 0u);
}

}  // namespace
}  // namespace ep::http

namespace ep::http {
namespace {

// The receive ring wraps: the glue is offered the requests in two parts after
// the FIN. Consuming all of the first part must not end the input.
TEST(SessionHalfClose, InputInTwoPartsAfterFin) {
    Harness h;
    h.cat.add("a.m4s", "AAAA");
    const std::string req = "GET /a.m4s HTTP/1.1\r\nHost: h\r\n\r\n";
    h.s->on_peer_closed();
    EXPECT_EQ(h.s->feed(std::string_view(req + "GET /a.m"), h.now), req.size() + 8);
    h.s->more_input_follows();
    ASSERT_TRUE(h.s->has_response());
    h.s->pop();
    EXPECT_FALSE(h.s->finished());  // the second part is still to come
    const std::string rest = req.substr(8);
    EXPECT_EQ(h.s->feed(std::string_view(rest), h.now), rest.size());
    ASSERT_TRUE(h.s->has_response());
    h.s->pop();
    EXPECT_TRUE(h.s->finished());
    EXPECT_EQ(h.ctx->counters.requests, 2u);
}

}  // namespace
}  // namespace ep::http

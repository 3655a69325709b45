// The load generator's HTTP/1.1 response parser: heads split anywhere, bodies
// handed back in place, keep-alive rules, bounds and malformed input.
#include <gtest/gtest.h>

#include <string>

#include "dataplane/http/response_parser.h"

using namespace ep::http;

namespace {

const uint8_t *u(const std::string &s) {
    return reinterpret_cast<const uint8_t *>(s.data());
}

struct Parsed {
    RespHead head;
    std::string body;
    bool complete = false;
    RespError error = RespError::none;
    size_t consumed = 0;
};

// Feeds `in` in pieces of `step` bytes until one response completes.
Parsed run(ResponseParser &p, const std::string &in, size_t step) {
    Parsed r;
    size_t off = 0;
    while (off < in.size() && !r.complete) {
        const size_t n = std::min(step, in.size() - off);
        size_t k = 0;
        while (k < n && !r.complete) {
            RespStep s = p.feed(u(in) + off + k, n - k);
            if (s.error != RespError::none) {
                r.error = s.error;
                return r;
            }
            if (s.body_len) {
                // Zero copy: the body view points into the input.
                EXPECT_GE(s.body, u(in));
                EXPECT_LE(s.body + s.body_len, u(in) + in.size());
                r.body.append(reinterpret_cast<const char *>(s.body), s.body_len);
            }
            k += s.consumed;
            if (s.complete) r.complete = true;
            if (s.consumed == 0 && !s.complete) break;
        }
        off += k;
    }
    r.head = p.head();
    r.consumed = off;
    return r;
}

}  // namespace

TEST(ResponseParser, SimpleAnyChunking) {
    const std::string body(1000, 'x');
    const std::string in =
        "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 1000\r\n\r\n" + body;
    for (size_t step : {1ul, 2ul, 7ul, 64ul, in.size()}) {
        ResponseParser p;
        Parsed r = run(p, in, step);
        ASSERT_TRUE(r.complete) << step;
        EXPECT_EQ(r.head.status, 200);
        EXPECT_TRUE(r.head.has_length);
        EXPECT_EQ(r.head.content_length, 1000u);
        EXPECT_TRUE(r.head.keep_alive);
        EXPECT_EQ(r.body, body);
        EXPECT_EQ(r.consumed, in.size());
    }
}

TEST(ResponseParser, PipelinedResponsesStopAtBoundary) {
    const std::string a = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    const std::string b = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
    const std::string in = a + b;
    ResponseParser p;
    size_t off = 0;
    std::string body;
    RespStep s;
    do {
        s = p.feed(u(in) + off, in.size() - off);
        off += s.consumed;
        body.append(reinterpret_cast<const char *>(s.body), s.body_len);
    } while (!s.complete);
    EXPECT_EQ(off, a.size());
    EXPECT_EQ(body, "abc");
    p.reset();
    s = p.feed(u(in) + off, in.size() - off);
    EXPECT_TRUE(s.complete);
    EXPECT_EQ(p.head().status, 404);
    EXPECT_EQ(off + s.consumed, in.size());
}

TEST(ResponseParser, KeepAliveRules) {
    struct Case {
        const char *head;
        bool keep;
    } cases[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true},
        {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false},
        {"HTTP/1.1 200 OK\r\nConnection: foo, Close\r\nContent-Length: 0\r\n\r\n", false},
        {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false},
        {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", true},
    };
    for (const Case &c : cases) {
        ResponseParser p;
        Parsed r = run(p, c.head, 5);
        ASSERT_TRUE(r.complete) << c.head;
        EXPECT_EQ(r.head.keep_alive, c.keep) << c.head;
    }
}

TEST(ResponseParser, NoBodyFor204_304_Head_AndInterim) {
    {
        ResponseParser p;
        Parsed r = run(p, "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n", 100);
        EXPECT_TRUE(r.complete);
        EXPECT_TRUE(r.body.empty());
    }
    {
        ResponseParser p;
        p.reset(/*head_request=*/true);
        Parsed r = run(p, "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", 100);
        EXPECT_TRUE(r.complete);
    }
    {
        ResponseParser p;
        Parsed r = run(
            p, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", 3);
        EXPECT_TRUE(r.complete);
        EXPECT_EQ(r.head.status, 200);
        EXPECT_EQ(r.body, "hi");
    }
}

TEST(ResponseParser, ReadUntilClose) {
    ResponseParser p;
    const std::string in = "HTTP/1.1 200 OK\r\n\r\nsome bytes";
    RespStep s = p.feed(u(in), in.size());
    EXPECT_TRUE(s.head_done);
    EXPECT_FALSE(s.complete);
    EXPECT_EQ(s.body_len, 10u);
    EXPECT_FALSE(p.head().keep_alive);
    s = p.eof();
    EXPECT_TRUE(s.complete);
}

TEST(ResponseParser, TruncatedBody) {
    ResponseParser p;
    const std::string in = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    p.feed(u(in), in.size());
    EXPECT_EQ(p.body_remaining(), 7u);
    EXPECT_EQ(p.eof().error, RespError::truncated);
}

TEST(ResponseParser, Malformed) {
    struct Case {
        const char *in;
        RespError e;
    } cases[] = {
        {"HTTP/2 200 OK\r\n\r\n", RespError::bad_status_line},
        {"HTTP/1.1 20 OK\r\n\r\n", RespError::bad_status_line},
        {"HTTP/1.1 200OK\r\n\r\n", RespError::bad_status_line},
        {"HTTP/1.1 099 x\r\n\r\n", RespError::bad_status_line},
        {"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", RespError::bad_header},
        {"HTTP/1.1 200 OK\r\nName : v\r\n\r\n", RespError::bad_header},
        {"HTTP/1.1 200 OK\r\nX: a\x01"
         "b\r\n\r\n",
         RespError::bad_header},
        {"HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", RespError::bad_content_length},
        {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", RespError::bad_content_length},
        {"HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999\r\n\r\n",
         RespError::bad_content_length},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
         RespError::bad_content_length},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", RespError::chunked_unsupported},
    };
    for (const Case &c : cases) {
        ResponseParser p;
        Parsed r = run(p, c.in, 4);
        EXPECT_EQ(r.error, c.e) << c.in;
    }
    // Equal duplicate lengths are fine (RFC 9110 §8.6).
    ResponseParser p;
    Parsed r = run(p, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nz", 4);
    EXPECT_TRUE(r.complete);
}

TEST(ResponseParser, HeadIsBounded) {
    ResponseParser p(64);
    std::string in = "HTTP/1.1 200 OK\r\nX: " + std::string(100, 'a') + "\r\n\r\n";
    Parsed r = run(p, in, 1000);
    EXPECT_EQ(r.error, RespError::head_too_long);
    EXPECT_LE(r.consumed, 64u);
    // Errors stick until reset().
    EXPECT_NE(p.feed(u(in), 1).error, RespError::none);
    p.reset();
    Parsed ok = run(p, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 9);
    EXPECT_TRUE(ok.complete);
}

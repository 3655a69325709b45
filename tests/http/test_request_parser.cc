// Request parser: grammar, limits, smuggling defences, path safety.
#include <gtest/gtest.h>

#include <string>

#include "dataplane/http/request_parser.h"
#include "tests/http/harness.h"

namespace ep::http {
namespace {

struct Parsed {
    RequestParser::State state;
    ParseError error;
    std::size_t consumed;
};

Parsed parse_all(RequestParser &p, const std::string &s) {
    const std::size_t n = p.parse(reinterpret_cast<const uint8_t *>(s.data()), s.size());
    return {p.state(), p.error(), n};
}

class ParserTest : public ::testing::Test {
  protected:
    HttpConfig cfg;
    RequestParser p{cfg};
    ParseError err(const std::string &s) {
        p.reset();
        return parse_all(p, s).error;
    }
    bool ok(const std::string &s) {
        p.reset();
        return parse_all(p, s).state == RequestParser::State::kComplete;
    }
};

TEST_F(ParserTest, SimpleGet) {
    const std::string req =
        "GET /bbb/manifest.mpd?x=1 HTTP/1.1\r\nHost: edge:80\r\nRange: bytes=0-9 \r\n\r\n";
    auto r = parse_all(p, req);
    ASSERT_EQ(r.state, RequestParser::State::kComplete);
    EXPECT_EQ(r.consumed, req.size());
    EXPECT_EQ(p.method(), Method::kGet);
    EXPECT_EQ(p.version(), Version::kHttp11);
    EXPECT_EQ(p.target_form(), TargetForm::kOrigin);
    EXPECT_EQ(p.raw_target(), "/bbb/manifest.mpd?x=1");
    EXPECT_EQ(p.path(), "/bbb/manifest.mpd");
    EXPECT_EQ(p.field(Field::kHost), "edge:80");
    EXPECT_EQ(p.field(Field::kRange), "bytes=0-9");  // trailing OWS trimmed (RFC 9112 §5.1)
    EXPECT_TRUE(p.keep_alive());
}

TEST_F(ParserTest, StopsAtEndOfHeadForPipelining) {
    const std::string a = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
    auto r = parse_all(p, a + "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(r.state, RequestParser::State::kComplete);
    EXPECT_EQ(r.consumed, a.size());
}

// Feeding the same bytes split at every position must give the same result.
TEST_F(ParserTest, SplitAtEveryBytePosition) {
    const std::string reqs[] = {
        "GET /a/b.m4s HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\", W/\"y\"\r\nConnection: "
        "keep-alive, close\r\n\r\n",
        "\r\nHEAD http://edge/x.mpd HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: h\r\nAccess-Control-Request-Headers: range\r\nContent-Length: "
        "3\r\n\r\n",
    };
    for (const std::string &req : reqs) {
        RequestParser whole(cfg);
        ASSERT_EQ(parse_all(whole, req).state, RequestParser::State::kComplete) << req;
        for (std::size_t cut = 0; cut <= req.size(); ++cut) {
            for (std::size_t cut2 = cut; cut2 <= req.size(); cut2 += 7) {
                RequestParser q(cfg);
                std::size_t n = parse_all(q, req.substr(0, cut)).consumed;
                n += parse_all(q, req.substr(cut, cut2 - cut)).consumed;
                n += parse_all(q, req.substr(cut2)).consumed;
                ASSERT_EQ(q.state(), RequestParser::State::kComplete) << cut << "/" << cut2;
                ASSERT_EQ(n, req.size());
                EXPECT_EQ(q.method(), whole.method());
                EXPECT_EQ(q.path(), whole.path());
                EXPECT_EQ(q.version(), whole.version());
                EXPECT_EQ(q.keep_alive(), whole.keep_alive());
                EXPECT_EQ(q.content_length(), whole.content_length());
                EXPECT_EQ(q.field(Field::kIfNoneMatch), whole.field(Field::kIfNoneMatch));
                EXPECT_EQ(q.field(Field::kAcRequestHeaders), whole.field(Field::kAcRequestHeaders));
            }
        }
    }
}

TEST_F(ParserTest, VersionsAndKeepAlive) {
    ASSERT_TRUE(ok("GET / HTTP/1.0\r\n\r\n"));  // Host optional in 1.0
    EXPECT_EQ(p.version(), Version::kHttp10);
    EXPECT_FALSE(p.keep_alive());  // RFC 9112 §9.3: 1.0 needs keep-alive
    ASSERT_TRUE(ok("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    EXPECT_TRUE(p.keep_alive());
    ASSERT_TRUE(ok("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
    EXPECT_FALSE(p.keep_alive());
    ASSERT_TRUE(ok("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo,CLOSE\r\n\r\n"));
    EXPECT_FALSE(p.keep_alive());
    ASSERT_TRUE(ok("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n"));
    EXPECT_TRUE(p.keep_alive());
    ASSERT_TRUE(ok("GET / HTTP/1.2\r\nHost: h\r\n\r\n"));  // higher minor → 1.1
    EXPECT_EQ(p.version(), Version::kHttp11);
    EXPECT_EQ(err("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), ParseError::kVersionNotSupported);
    EXPECT_EQ(err("GET / http/1.1\r\nHost: h\r\n\r\n"), ParseError::kBadVersion);
    EXPECT_EQ(err("GET / HTTP/1.10\r\nHost: h\r\n\r\n"), ParseError::kBadVersion);
    EXPECT_EQ(err("GET / HTTP/1\r\nHost: h\r\n\r\n"), ParseError::kBadVersion);
}

TEST_F(ParserTest, LeadingEmptyLinesAreIgnored) {
    EXPECT_TRUE(ok("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"));
}

TEST_F(ParserTest, RequestLineErrors) {
    EXPECT_EQ(err("GET  / HTTP/1.1\r\n"), ParseError::kBadRequestLine);
    EXPECT_EQ(err(" GET / HTTP/1.1\r\n"), ParseError::kBadRequestLine);
    EXPECT_EQ(err("G(T / HTTP/1.1\r\n"), ParseError::kBadRequestLine);
    EXPECT_EQ(err("GETTTTTTTTTTTTTTTTTTT / HTTP/1.1\r\n"), ParseError::kMethodTooLong);
    EXPECT_EQ(err("GET /a b HTTP/1.1\r\n"), ParseError::kBadVersion);
    EXPECT_EQ(err("GET /a\"b HTTP/1.1\r\n"), ParseError::kBadTarget);
    EXPECT_EQ(err("GET /a#f HTTP/1.1\r\n"), ParseError::kBadTarget);
    EXPECT_EQ(err("GET /\x80 HTTP/1.1\r\n"), ParseError::kBadTarget);
    EXPECT_EQ(err("GET / HTTP/1.1\n"), ParseError::kBadVersion);
    EXPECT_EQ(err("GET / HTTP/1.1\r\nHost: h\n\r\n"), ParseError::kBadLineEnding);
    EXPECT_EQ(err("GET / HTTP/1.1\rX"), ParseError::kBadLineEnding);
    EXPECT_EQ(err("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), ParseError::kBadRequestLine);
}

TEST_F(ParserTest, HeaderErrors) {
    const std::string rl = "GET / HTTP/1.1\r\nHost: h\r\n";
    EXPECT_EQ(err(rl + "X-A : b\r\n\r\n"), ParseError::kBadHeaderName);  // RFC 9112 §5.1
    EXPECT_EQ(err(rl + ": b\r\n\r\n"), ParseError::kBadHeaderName);
    EXPECT_EQ(err(rl + "X(A: b\r\n\r\n"), ParseError::kBadHeaderName);
    EXPECT_EQ(err(rl + "X-A: b\r\n c\r\n\r\n"), ParseError::kObsFold);
    EXPECT_EQ(err(rl + std::string("X-A: b\0c\r\n\r\n", 13)), ParseError::kBadHeaderValue);
    EXPECT_EQ(err(rl + "X-A: b\x01\r\n\r\n"), ParseError::kBadHeaderValue);
    EXPECT_EQ(err(rl + "X-A: b\x7f\r\n\r\n"), ParseError::kBadHeaderValue);
    EXPECT_EQ(err(rl + "X-A: b\rc\r\n\r\n"), ParseError::kBadLineEnding);
    EXPECT_EQ(err(rl + "X-A: b\nc\r\n\r\n"), ParseError::kBadLineEnding);
    EXPECT_TRUE(ok(rl + "X-A: caf\xc3\xa9 \t\r\n\r\n"));  // obs-text is allowed
    EXPECT_TRUE(ok(rl + "X-Empty:\r\n\r\n"));
}

TEST_F(ParserTest, HostRules) {
    EXPECT_EQ(err("GET / HTTP/1.1\r\n\r\n"), ParseError::kMissingHost);
    EXPECT_EQ(err("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), ParseError::kDuplicateHost);
    EXPECT_EQ(err("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), ParseError::kBadHost);
    EXPECT_EQ(err("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), ParseError::kBadHost);
    EXPECT_TRUE(ok("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"));
    EXPECT_TRUE(ok("GET / HTTP/1.1\r\nhOsT: 10.77.0.2\r\n\r\n"));
}

TEST_F(ParserTest, SmugglingDefences) {
    const std::string rl = "GET / HTTP/1.1\r\nHost: h\r\n";
    EXPECT_EQ(err(rl + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
              ParseError::kContentLengthAndTransferEncoding);
    EXPECT_EQ(err(rl + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"),
              ParseError::kContentLengthAndTransferEncoding);
    EXPECT_EQ(err(rl + "Transfer-Encoding: chunked\r\n\r\n"), ParseError::kTransferEncoding);
    EXPECT_EQ(err(rl + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n"),
              ParseError::kDuplicateContentLength);
    EXPECT_EQ(err(rl + "Content-Length: 5\r\nContent-Length: 5\r\n\r\n"),
              ParseError::kDuplicateContentLength);
    EXPECT_EQ(err(rl + "Content-Length: 5, 5\r\n\r\n"), ParseError::kBadContentLength);
    EXPECT_EQ(err(rl + "Content-Length: +5\r\n\r\n"), ParseError::kBadContentLength);
    EXPECT_EQ(err(rl + "Content-Length: 5 5\r\n\r\n"), ParseError::kBadContentLength);
    EXPECT_EQ(err(rl + "Content-Length: 0x5\r\n\r\n"), ParseError::kBadContentLength);
    EXPECT_EQ(err(rl + "Content-Length:\r\n\r\n"), ParseError::kBadContentLength);
    EXPECT_EQ(err(rl + "Content-Length: 99999999999999999999999\r\n\r\n"),
              ParseError::kBadContentLength);
    EXPECT_EQ(err(rl + "Content-Length: 1000000\r\n\r\n"), ParseError::kBodyTooLarge);
    ASSERT_TRUE(ok(rl + "Content-Length:  12 \r\n\r\n"));
    EXPECT_EQ(p.content_length(), 12u);
}

TEST_F(ParserTest, BodyIsDiscardedThenNextRequestParsed) {
    const std::string s =
        "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 13\r\n\r\nGET /x HTTP/1GET /b "
        "HTTP/1.1\r\nHost: h\r\n\r\n";
    auto r = parse_all(p, s);
    ASSERT_EQ(r.state, RequestParser::State::kComplete);
    EXPECT_EQ(p.path(), "/a");
    p.next_request();
    EXPECT_EQ(p.state(), RequestParser::State::kBody);
    const std::string rest = s.substr(r.consumed);
    // parse() returns where the body ends (the session restarts its timer there).
    auto r2 = parse_all(p, rest);
    EXPECT_EQ(r2.state, RequestParser::State::kHead);
    EXPECT_EQ(r2.consumed, 13u);
    auto r3 = parse_all(p, rest.substr(r2.consumed));
    ASSERT_EQ(r3.state, RequestParser::State::kComplete);
    EXPECT_EQ(p.path(), "/b");
    EXPECT_EQ(r2.consumed + r3.consumed, rest.size());
}

TEST_F(ParserTest, Limits) {
    cfg.max_target_bytes = 100;
    EXPECT_EQ(err("GET /" + std::string(200, 'a') + " HTTP/1.1\r\n"), ParseError::kUriTooLong);
    // A 1 MiB header: refused as soon as the head passes max_head_bytes.
    const std::string huge =
        "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(1 << 20, 'x') + "\r\n\r\n";
    p.reset();
    auto r = parse_all(p, huge);
    EXPECT_EQ(r.error, ParseError::kHeadTooLarge);
    EXPECT_LE(r.consumed, cfg.max_head_bytes + 1u);
    std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (int i = 0; i < 100; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
    EXPECT_EQ(err(many + "\r\n"), ParseError::kTooManyHeaders);
    // Kept fields beyond their fixed storage: 431, not an overflow.
    std::string inm = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (int i = 0; i < 20; ++i) inm += "If-None-Match: \"" + std::to_string(i) + "\"\r\n";
    EXPECT_EQ(err(inm + "\r\n"), ParseError::kHeadTooLarge);
    EXPECT_EQ(err("GET / HTTP/1.1\r\nHost: h\r\nRange: " + std::string(3000, '1') + "\r\n\r\n"),
              ParseError::kHeadTooLarge);
}

TEST_F(ParserTest, TargetForms) {
    ASSERT_TRUE(ok("GET http://edge.example:80/v/a.m4s?q HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(p.target_form(), TargetForm::kAbsolute);
    EXPECT_EQ(p.path(), "/v/a.m4s");
    ASSERT_TRUE(ok("GET HTTPS://edge HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(p.path(), "/");
    ASSERT_TRUE(ok("GET http://edge?x HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(p.path(), "/");
    ASSERT_TRUE(ok("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(p.target_form(), TargetForm::kAsterisk);
    EXPECT_EQ(err("GET http://user@edge/x HTTP/1.1\r\nHost: x\r\n\r\n"), ParseError::kBadTarget);
    EXPECT_EQ(err("GET http:///x HTTP/1.1\r\nHost: x\r\n\r\n"), ParseError::kBadTarget);
    EXPECT_EQ(err("GET edge:443 HTTP/1.1\r\nHost: x\r\n\r\n"), ParseError::kBadTarget);
    EXPECT_EQ(err("GET ftp://edge/x HTTP/1.1\r\nHost: x\r\n\r\n"), ParseError::kBadTarget);
}

TEST_F(ParserTest, PercentDecodingAndNamespaceEscapes) {
    auto path = [&](const std::string &t) -> std::string {
        if (!ok("GET " + t + " HTTP/1.1\r\nHost: h\r\n\r\n"))
            return "ERR:" + std::string(parse_error_name(p.error()));
        return std::string(p.path());
    };
    EXPECT_EQ(path("/a%20b/c%2Em4s"), "/a b/c.m4s");
    EXPECT_EQ(path("/caf%C3%A9"), "/caf\xc3\xa9");
    EXPECT_EQ(path("/a/..b/c.."), "/a/..b/c..");  // not dot segments
    EXPECT_EQ(path("/a//b"), "/a//b");            // kept as is; simply not found
    EXPECT_EQ(path("/../etc/passwd"), "ERR:bad_path");
    EXPECT_EQ(path("/a/../b"), "ERR:bad_path");
    EXPECT_EQ(path("/a/.."), "ERR:bad_path");
    EXPECT_EQ(path("/a/./b"), "ERR:bad_path");
    EXPECT_EQ(path("/%2e%2E/x"), "ERR:bad_path");
    EXPECT_EQ(path("/.%2e/x"), "ERR:bad_path");
    EXPECT_EQ(path("/a%2Fb"), "ERR:bad_path");
    EXPECT_EQ(path("/a%2f..%2fb"), "ERR:bad_path");
    EXPECT_EQ(path("/a%5Cb"), "ERR:bad_path");
    EXPECT_EQ(path("/a%00.mpd"), "ERR:bad_path");
    EXPECT_EQ(path("/a%0d%0a"), "ERR:bad_path");
    EXPECT_EQ(path("/a%zz"), "ERR:bad_path");
    EXPECT_EQ(path("/a%2"), "ERR:bad_path");
    EXPECT_EQ(path("/a%"), "ERR:bad_path");
    EXPECT_EQ(path("http://h/../x"), "ERR:bad_path");
}

TEST_F(ParserTest, MethodsAreCaseSensitive) {
    ASSERT_TRUE(ok("get / HTTP/1.1\r\nHost: h\r\n\r\n"));
    EXPECT_EQ(p.method(), Method::kOther);
    ASSERT_TRUE(ok("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n"));
    EXPECT_EQ(p.method(), Method::kHead);
    ASSERT_TRUE(ok("DELETE / HTTP/1.1\r\nHost: h\r\n\r\n"));
    EXPECT_EQ(p.method(), Method::kOther);
}

TEST_F(ParserTest, ListFieldsKeepEveryLine) {
    ASSERT_TRUE(
        ok("GET / HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"a\"\r\nX: y\r\nIf-None-Match: "
           "\"b\"\r\n\r\n"));
    EXPECT_EQ(p.field_count(Field::kIfNoneMatch), 2u);
    EXPECT_EQ(p.field_line(Field::kIfNoneMatch, 0), "\"a\"");
    EXPECT_EQ(p.field_line(Field::kIfNoneMatch, 1), "\"b\"");
}

}  // namespace
}  // namespace ep::http

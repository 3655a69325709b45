// What the fill asks an origin for, and which answers may become chunks:
// 256 KiB-aligned ranges, metadata from the first answer, every later chunk
// checked against it (length, range, ETag).
#include <gtest/gtest.h>

#include <string>

#include "dataplane/origin/fill_plan.h"

using namespace ep::origin;
using ep::http::ResponseParser;

namespace {

constexpr uint64_t K = kFillChunk;

// Feeds a head (no body needed) and checks it parsed.
void head(ResponseParser &p, const std::string &h) {
    p.reset();
    const auto s = p.feed(reinterpret_cast<const uint8_t *>(h.data()), h.size());
    ASSERT_EQ(s.error, ep::http::RespError::none) << h;
    ASSERT_TRUE(s.head_done) << h;
}

std::string partial(uint64_t first, uint64_t last, uint64_t total, const char *etag = "\"v1\"",
                    const char *extra = "") {
    return "HTTP/1.1 206 Partial Content\r\nContent-Type: video/mp4\r\nContent-Length: " +
           std::to_string(last - first + 1) + "\r\nContent-Range: bytes " + std::to_string(first) +
           "-" + std::to_string(last) + "/" + std::to_string(total) + "\r\nETag: " + etag +
           "\r\nLast-Modified: Tue, 01 Dec 2026 10:00:00 GMT\r\n" + extra + "\r\n";
}

TEST(FillPlan, AlignedSpans) {
    EXPECT_EQ(chunk_count(0), 1u);
    EXPECT_EQ(chunk_count(K), 1u);
    EXPECT_EQ(chunk_count(K + 1), 2u);
    EXPECT_EQ(chunk_of(K - 1), 0u);
    EXPECT_EQ(chunk_of(3 * K + 5), 3u);
    const Span r = request_span(3);
    EXPECT_EQ(r.first, 3 * K);
    EXPECT_EQ(r.last, 4 * K - 1);
    const Span last = chunk_span(3, 3 * K + 100);
    EXPECT_EQ(last.first, 3 * K);
    EXPECT_EQ(last.length(), 100u);
    EXPECT_EQ(chunk_span(1, 3 * K).length(), K);
}

TEST(FillPlan, RequestNamesTheAlignedRange) {
    char buf[512];
    const size_t n = format_chunk_request(buf, sizeof buf, "/vod/a.mp4", "10.0.0.2:80", 2);
    ASSERT_GT(n, 0u);
    const std::string req(buf, n);
    EXPECT_EQ(req.substr(0, 27), "GET /vod/a.mp4 HTTP/1.1\r\nHo");
    EXPECT_NE(req.find("\r\nHost: 10.0.0.2:80\r\n"), std::string::npos);
    EXPECT_NE(req.find("\r\nRange: bytes=524288-786431\r\n"), std::string::npos);
    EXPECT_EQ(req.find("If-Match"), std::string::npos);
    EXPECT_EQ(req.substr(req.size() - 4), "\r\n\r\n");
    const size_t m = format_chunk_request(buf, sizeof buf, "/a", "h", 0, "\"v1\"");
    EXPECT_NE(std::string(buf, m).find("\r\nIf-Match: \"v1\"\r\n"), std::string::npos);
    EXPECT_EQ(format_chunk_request(buf, 20, "/vod/a.mp4", "10.0.0.2:80", 2), 0u);  // too small
}

TEST(FillPlan, ContentRange) {
    Span s;
    uint64_t c;
    ASSERT_TRUE(parse_content_range("bytes 0-99/1000", &s, &c));
    EXPECT_EQ(s.first, 0u);
    EXPECT_EQ(s.last, 99u);
    EXPECT_EQ(c, 1000u);
    EXPECT_FALSE(parse_content_range("bytes 0-99/*", &s, &c));
    EXPECT_FALSE(parse_content_range("bytes 99-0/1000", &s, &c));
    EXPECT_FALSE(parse_content_range("bytes 0-1000/1000", &s, &c));
    EXPECT_FALSE(parse_content_range("items 0-1/2", &s, &c));
    EXPECT_FALSE(parse_content_range("bytes -1/2", &s, &c));
    EXPECT_TRUE(parse_unsatisfied_range("bytes */1000", &c));
    EXPECT_EQ(c, 1000u);
    EXPECT_FALSE(parse_unsatisfied_range("bytes 0-1/1000", &c));
}

TEST(FillPlan, CacheControl) {
    ObjectHead h;
    parse_cache_control("public, max-age=60", &h);
    EXPECT_TRUE(h.has_max_age);
    EXPECT_EQ(h.max_age_s, 60u);
    EXPECT_FALSE(h.no_store);
    ObjectHead s;
    parse_cache_control("s-maxage=\"10\", max-age=60", &s);  // s-maxage wins for a shared cache
    EXPECT_EQ(s.max_age_s, 10u);
    ObjectHead n;
    parse_cache_control("no-store", &n);
    EXPECT_TRUE(n.no_store);
    ObjectHead p;
    parse_cache_control("private, max-age=5", &p);
    EXPECT_TRUE(p.no_store);
}

TEST(FillPlan, FirstAnswerGivesMetadata) {
    ResponseParser p;
    head(p, partial(0, K - 1, 3 * K + 7, "\"abc\"", "Cache-Control: max-age=30\r\n"));
    ObjectHead m;
    Span body;
    ASSERT_EQ(first_answer(p, 0, &m, &body), Verdict::ok);
    EXPECT_EQ(m.size, 3 * K + 7);
    EXPECT_EQ(m.etag_view(), "\"abc\"");
    EXPECT_EQ(m.content_type_view(), "video/mp4");
    EXPECT_EQ(m.last_modified_view(), "Tue, 01 Dec 2026 10:00:00 GMT");
    EXPECT_TRUE(m.has_max_age);
    EXPECT_EQ(m.max_age_s, 30u);
    EXPECT_EQ(body.first, 0u);
    EXPECT_EQ(body.length(), K);
}

TEST(FillPlan, FirstAnswerFarIntoTheObject) {
    // A Range near the end of a cold object starts with its own (short) chunk.
    ResponseParser p;
    const uint64_t size = 40 * K + 1000;
    head(p, partial(40 * K, size - 1, size));
    ObjectHead m;
    Span body;
    ASSERT_EQ(first_answer(p, 40, &m, &body), Verdict::ok);
    EXPECT_EQ(m.size, size);
    EXPECT_EQ(body.first, 40 * K);
    EXPECT_EQ(body.length(), 1000u);
}

TEST(FillPlan, FirstAnswerRefusals) {
    ResponseParser p;
    ObjectHead m;
    Span body;
    head(p, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(first_answer(p, 0, &m, &body), Verdict::not_found);
    head(p,
         "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */1000\r\n"
         "Content-Length: 0\r\n\r\n");
    EXPECT_EQ(first_answer(p, 5, &m, &body), Verdict::range_unsatisfiable);
    EXPECT_EQ(m.size, 1000u);  // the length is learnt even so
    head(p, "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(first_answer(p, 0, &m, &body), Verdict::bad_status);
    // A 200 (Range ignored) is one chunk only when it is the whole object.
    head(p, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nETag: \"x\"\r\n\r\n");
    ASSERT_EQ(first_answer(p, 0, &m, &body), Verdict::ok);
    EXPECT_EQ(m.size, 1000u);
    EXPECT_EQ(body.length(), 1000u);
    head(p, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
    EXPECT_EQ(first_answer(p, 0, &m, &body), Verdict::range_mismatch);
    // Other bytes than asked for.
    head(p, partial(1, K, 3 * K));
    EXPECT_EQ(first_answer(p, 0, &m, &body), Verdict::range_mismatch);
    head(p, partial(0, 99, 3 * K));  // short of the aligned chunk
    EXPECT_EQ(first_answer(p, 0, &m, &body), Verdict::range_mismatch);
    head(p, "HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\n\r\n");
    EXPECT_EQ(first_answer(p, 0, &m, &body), Verdict::no_length);
}

TEST(FillPlan, LaterChunksMustMatch) {
    ResponseParser p;
    ObjectHead m;
    Span body;
    const uint64_t size = 3 * K + 7;
    head(p, partial(0, K - 1, size));
    ASSERT_EQ(first_answer(p, 0, &m, &body), Verdict::ok);
    head(p, partial(K, 2 * K - 1, size));
    EXPECT_EQ(next_answer(p, 1, m.size, etag_hash(m.etag_view(), m.size)), Verdict::ok);
    head(p, partial(3 * K, size - 1, size));
    EXPECT_EQ(next_answer(p, 3, m.size, etag_hash(m.etag_view(), m.size)), Verdict::ok);
    head(p, partial(K, 2 * K - 1, size, "\"v2\""));
    EXPECT_EQ(next_answer(p, 1, m.size, etag_hash(m.etag_view(), m.size)), Verdict::etag_changed);
    head(p, partial(K, 2 * K - 1, size + 1));
    EXPECT_EQ(next_answer(p, 1, m.size, etag_hash(m.etag_view(), m.size)), Verdict::size_changed);
    head(p, partial(2 * K, 3 * K - 1, size));
    EXPECT_EQ(next_answer(p, 1, m.size, etag_hash(m.etag_view(), m.size)), Verdict::range_mismatch);
    head(p, "HTTP/1.1 412 Precondition Failed\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(next_answer(p, 1, m.size, etag_hash(m.etag_view(), m.size)), Verdict::etag_changed);
    head(p, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(next_answer(p, 1, m.size, etag_hash(m.etag_view(), m.size)), Verdict::bad_status);
}

TEST(FillPlan, VerdictNames) {
    EXPECT_STREQ(verdict_name(Verdict::ok), "ok");
    EXPECT_STREQ(verdict_name(Verdict::etag_changed), "etag_changed");
}

}  // namespace

namespace {
TEST(FillPlan, HostField) {
    char buf[24];
    const uint32_t ip = 10 | 79 << 8 | 3 << 16 | 2u << 24;  // 10.79.3.2 in network order
    const size_t n = format_host(buf, sizeof buf, ip, 8080);
    EXPECT_EQ(std::string(buf, n), "10.79.3.2:8080");
    EXPECT_EQ(format_host(buf, 8, ip, 8080), 0u);
}
}  // namespace

namespace {
TEST(FillPlan, RevalidationNamesTheStoredVersion) {
    char buf[512];
    const size_t n = format_chunk_request(buf, sizeof buf, "/a", "h", 0, {}, "\"v1\"");
    const std::string req(buf, n);
    EXPECT_NE(req.find("\r\nIf-None-Match: \"v1\"\r\n"), std::string::npos);
    EXPECT_EQ(req.find("If-Match"), std::string::npos);
}

TEST(FillPlan, FreshnessFromMaxAge) {
    ObjectHead h;
    EXPECT_EQ(expires_at(h, 1000), 0);  // no max-age: kept until evicted or purged
    parse_cache_control("max-age=0", &h);
    EXPECT_EQ(expires_at(h, 1000), 1000);  // stale at once: every request revalidates
    ObjectHead s;
    parse_cache_control("max-age=60, s-maxage=5", &s);
    EXPECT_EQ(expires_at(s, 1000), 1005);
}
}  // namespace

namespace {
// An origin without ETags: revalidated with If-Modified-Since, and its
// versions told apart by Last-Modified (a same-length change is new).
TEST(FillPlan, WithoutAnEtagLastModifiedIsTheValidator) {
    char buf[512];
    const size_t n = format_chunk_request(buf, sizeof buf, "/a", "h", 0, {}, {},
                                          "Tue, 01 Dec 2026 10:00:00 GMT");
    const std::string req(buf, n);
    EXPECT_NE(req.find("\r\nIf-Modified-Since: Tue, 01 Dec 2026 10:00:00 GMT\r\n"),
              std::string::npos);
    EXPECT_EQ(req.find("If-None-Match"), std::string::npos);

    const std::string lm1 = "Tue, 01 Dec 2026 10:00:00 GMT", lm2 = "Tue, 01 Dec 2026 10:00:01 GMT";
    EXPECT_NE(version_hash({}, lm1, 10), version_hash({}, lm2, 10));
    EXPECT_NE(version_hash({}, lm1, 10), version_hash({}, {}, 10));
    EXPECT_EQ(version_hash("\"v1\"", lm1, 10), etag_hash("\"v1\"", 10));  // an ETag wins
    EXPECT_EQ(version_hash("\"v1\"", lm2, 10), etag_hash("\"v1\"", 10));
    EXPECT_EQ(version_hash({}, {}, 10), etag_hash({}, 10));

    const auto no_etag = [](uint64_t first, uint64_t last, uint64_t total, const std::string &lm) {
        return "HTTP/1.1 206 Partial Content\r\nContent-Length: " + std::to_string(last - first + 1) +
               "\r\nContent-Range: bytes " + std::to_string(first) + "-" + std::to_string(last) +
               "/" + std::to_string(total) + "\r\nLast-Modified: " + lm + "\r\n\r\n";
    };
    ResponseParser p;
    ObjectHead m;
    Span body;
    const uint64_t size = 2 * K;
    head(p, no_etag(0, K - 1, size, lm1));
    ASSERT_EQ(first_answer(p, 0, &m, &body), Verdict::ok);
    const uint64_t v = version_hash(m.etag_view(), m.last_modified_view(), m.size);
    head(p, no_etag(K, 2 * K - 1, size, lm1));
    EXPECT_EQ(next_answer(p, 1, size, v), Verdict::ok);
    head(p, no_etag(K, 2 * K - 1, size, lm2));  // changed between chunks, same length
    EXPECT_EQ(next_answer(p, 1, size, v), Verdict::etag_changed);
}
}  // namespace

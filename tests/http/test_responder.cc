// Request semantics: methods, fields, content types, CORS, conditionals, ranges.
#include <gtest/gtest.h>

#include <string>

#include "dataplane/http/content_type.h"
#include "dataplane/http/etag.h"
#include "tests/http/harness.h"

namespace ep::http {
namespace {

using test::Captured;
using test::Harness;

const std::string kBody = "0123456789abcdefghijklmnopqrstuvwxyz";  // 36 bytes
constexpr int64_t kMtime = 1'700'000'000;                          // Tue, 14 Nov 2023 22:13:20 GMT
const std::string kLastModified = "Tue, 14 Nov 2023 22:13:20 GMT";

class ResponderTest : public ::testing::Test {
  protected:
    ResponderTest() {
        h.cat.add("v/seg.m4s", kBody, kMtime);
        h.cat.add("v/manifest.mpd", "<MPD/>", kMtime);
        h.cat.add("index.html", "<html>home</html>", kMtime);
        h.cat.add("t1/index.html", "<html>t1</html>", kMtime);
        h.cat.add("empty.bin", "", kMtime);
        h.cat.add("pending.m4s", "x", kMtime, /*available=*/false);
        etag = std::string(kEtagLen, ' ');
        format_etag(h.cat.lookup("v/seg.m4s")->etag64, etag.data());
    }
    Harness h;
    std::string etag;
};

TEST_F(ResponderTest, FullGet) {
    Captured c = h.get("/v/seg.m4s");
    EXPECT_EQ(c.status, 200);
    EXPECT_TRUE(c.head.starts_with("HTTP/1.1 200 OK\r\n"));
    EXPECT_EQ(c.body, kBody);
    ASSERT_EQ(c.pieces.size(), 1u);  // one reference into the store, no copy
    EXPECT_EQ(c.pieces[0].kind, BodyPiece::Kind::kObject);
    EXPECT_EQ(c.get("content-type"), "video/iso.segment");
    EXPECT_EQ(c.get("content-length"), "36");
    EXPECT_EQ(c.get("etag"), etag);
    EXPECT_EQ(etag.size(), 18u);
    EXPECT_EQ(c.get("last-modified"), kLastModified);
    EXPECT_EQ(c.get("accept-ranges"), "bytes");
    EXPECT_EQ(c.get("cache-control"), "public, max-age=31536000, immutable");
    EXPECT_EQ(c.get("access-control-allow-origin"), "*");
    EXPECT_EQ(c.get("access-control-expose-headers"),
              "Content-Range, Content-Length, ETag, Accept-Ranges");
    EXPECT_EQ(c.get("server"), "edgeplane");
    EXPECT_EQ(c.get("date"), "Tue, 14 Nov 2023 22:13:20 GMT");
    EXPECT_FALSE(c.has("connection"));
    EXPECT_FALSE(c.close);
}

TEST_F(ResponderTest, CatalogContentTypeOverridesExtension) {
    h.cat.set_content_type("v/seg.m4s", "video/mp4");
    Captured c = h.get("/v/seg.m4s");
    EXPECT_EQ(c.get("content-type"), "video/mp4");
    EXPECT_EQ(c.get("cache-control"), "public, max-age=31536000, immutable");
    h.cat.set_content_type("v/seg.m4s", std::string(100, 'x'));  // absurd: ignored
    EXPECT_EQ(h.get("/v/seg.m4s").get("content-type"), "video/iso.segment");
    h.cat.set_content_type("v/seg.m4s", "text/html\r\nSet-Cookie: x=1");  // injection: ignored
    c = h.get("/v/seg.m4s");
    EXPECT_EQ(c.get("content-type"), "video/iso.segment");
    EXPECT_FALSE(c.has("set-cookie"));
}

TEST_F(ResponderTest, ManifestCacheControlIsShortAndConfigurable) {
    EXPECT_EQ(h.get("/v/manifest.mpd").get("cache-control"), "public, max-age=2");
    EXPECT_EQ(h.get("/v/manifest.mpd").get("content-type"), "application/dash+xml");
    h.cfg.cache_control_manifest = "no-cache";
    h.reset();
    EXPECT_EQ(h.get("/v/manifest.mpd").get("cache-control"), "no-cache");
}

TEST_F(ResponderTest, Head) {
    Captured c = h.one("HEAD /v/seg.m4s HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(c.status, 200);
    EXPECT_EQ(c.get("content-length"), "36");
    EXPECT_TRUE(c.pieces.empty());
    EXPECT_TRUE(c.body.empty());
    // Range is defined for GET only (RFC 9110 §14.2).
    c = h.one("HEAD /v/seg.m4s HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1\r\n\r\n");
    EXPECT_EQ(c.status, 200);
    c = h.one("HEAD /nope HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(c.status, 404);
    EXPECT_TRUE(c.body.empty());
    EXPECT_NE(c.get("content-length"), "0");
}

TEST_F(ResponderTest, NotFoundIndexAndUnavailable) {
    EXPECT_EQ(h.get("/missing.m4s").status, 404);
    EXPECT_EQ(h.get("/missing.m4s").body, "404 Not Found\n");
    EXPECT_EQ(h.get("/").body, "<html>home</html>");
    EXPECT_EQ(h.get("/").get("content-type"), "text/html; charset=utf-8");
    EXPECT_EQ(h.get("/t1/").body, "<html>t1</html>");
    EXPECT_EQ(h.get("/t1").status, 404);  // no redirect: players ask for files
    EXPECT_EQ(h.get("/?a=b").body, "<html>home</html>");
    Captured c = h.get("/pending.m4s");
    EXPECT_EQ(c.status, 503);
    EXPECT_EQ(c.get("retry-after"), "1");
    EXPECT_FALSE(c.close);
    h.cfg.index_object = "main.html";
    h.reset();
    EXPECT_EQ(h.get("/").status, 404);
}

TEST_F(ResponderTest, EmptyObject) {
    Captured c = h.get("/empty.bin");
    EXPECT_EQ(c.status, 200);
    EXPECT_EQ(c.get("content-length"), "0");
    EXPECT_TRUE(c.pieces.empty());
    EXPECT_EQ(c.get("content-type"), "application/octet-stream");
    c = h.get("/empty.bin", "Range: bytes=0-\r\n");
    EXPECT_EQ(c.status, 416);
    EXPECT_EQ(c.get("content-range"), "bytes */0");
}

TEST_F(ResponderTest, OptionsPreflight) {
    Captured c = h.one(
        "OPTIONS /v/seg.m4s HTTP/1.1\r\nHost: h\r\nOrigin: http://x\r\n"
        "Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: range\r\n\r\n");
    EXPECT_EQ(c.status, 204);
    EXPECT_EQ(c.get("access-control-allow-origin"), "*");
    EXPECT_EQ(c.get("access-control-allow-methods"), "GET, HEAD, OPTIONS");
    EXPECT_EQ(c.get("access-control-allow-headers"), "range");  // echoed
    EXPECT_EQ(c.get("access-control-max-age"), "86400");
    EXPECT_FALSE(c.has("content-length"));  // RFC 9110 §8.6: never on 204
    EXPECT_TRUE(c.body.empty());
    c = h.one("OPTIONS /x HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(c.status, 204);
    EXPECT_EQ(c.get("access-control-allow-headers"),
              "Range, If-Range, If-None-Match, If-Modified-Since, If-Match");
    // Junk in the request list is not reflected.
    c = h.one("OPTIONS /x HTTP/1.1\r\nHost: h\r\nAccess-Control-Request-Headers: a\"b\r\n\r\n");
    EXPECT_EQ(c.get("access-control-allow-headers"),
              "Range, If-Range, If-None-Match, If-Modified-Since, If-Match");
    c = h.one("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(c.status, 204);
    EXPECT_EQ(c.get("allow"), "GET, HEAD, OPTIONS");
    EXPECT_EQ(h.one("GET * HTTP/1.1\r\nHost: h\r\n\r\n").status, 400);
}

TEST_F(ResponderTest, OtherMethods405) {
    for (const char *m : {"POST", "PUT", "DELETE", "PATCH", "TRACE", "CONNECT", "get"}) {
        Harness fresh;
        Captured c = fresh.one(std::string(m) + " /v/seg.m4s HTTP/1.1\r\nHost: h\r\n\r\n");
        EXPECT_EQ(c.status, 405) << m;
        EXPECT_EQ(c.get("allow"), "GET, HEAD, OPTIONS");
        EXPECT_FALSE(c.close);  // framing is fine, the connection stays
    }
    // A POST body (by Content-Length) is skipped and the next request served.
    auto v = h.feed(
        "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcdGET /v/manifest.mpd "
        "HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].status, 405);
    EXPECT_EQ(v[1].status, 200);
}

// PURGE: what the catalog says (the glue checks the client's network);
// refused like any other method by a catalog without a purge path.
TEST_F(ResponderTest, PurgeAsksTheCatalog) {
    Captured c = h.one("PURGE /v/seg.m4s HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(c.status, 405);
    EXPECT_EQ(c.get("allow"), "GET, HEAD, OPTIONS");
    h.cat.purge_status = 403;
    EXPECT_EQ(h.one("PURGE /v/seg.m4s HTTP/1.1\r\nHost: h\r\n\r\n").status, 403);
    h.cat.purge_status = 200;
    c = h.one("PURGE /v/ HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(c.status, 200);
    EXPECT_EQ(h.cat.last_purge, "v/");  // a prefix: no index name appended
    EXPECT_EQ(h.one("PURGE * HTTP/1.1\r\nHost: h\r\n\r\n").status, 405);
}

TEST(ContentTypeTest, ByExtension) {
    EXPECT_EQ(content_type_for("a/b.mpd").mime, "application/dash+xml");
    EXPECT_EQ(content_type_for("a/b.M4S").mime, "video/iso.segment");
    EXPECT_EQ(content_type_for("b.mp4").mime, "video/mp4");
    EXPECT_EQ(content_type_for("b.m4a").mime, "audio/mp4");
    EXPECT_EQ(content_type_for("b.torrent").mime, "application/x-bittorrent");
    EXPECT_EQ(content_type_for("b.html").mime, "text/html; charset=utf-8");
    EXPECT_EQ(content_type_for("b.js").mime, "text/javascript");
    EXPECT_EQ(content_type_for("b.css").mime, "text/css");
    EXPECT_EQ(content_type_for("b.json").mime, "application/json");
    EXPECT_EQ(content_type_for("b.bin").mime, "application/octet-stream");
    EXPECT_EQ(content_type_for("dir.mpd/file").mime, "application/octet-stream");
    EXPECT_EQ(content_type_for("noext").mime, "application/octet-stream");
    EXPECT_EQ(content_type_for("a.mpd").cls, ContentClass::kManifest);
    EXPECT_EQ(content_type_for("a.m4s").cls, ContentClass::kMedia);
}

// ---- conditional requests (RFC 9110 §13) ----

TEST_F(ResponderTest, IfNoneMatch) {
    Captured c = h.get("/v/seg.m4s", "If-None-Match: " + etag + "\r\n");
    EXPECT_EQ(c.status, 304);
    EXPECT_TRUE(c.body.empty());
    EXPECT_TRUE(c.pieces.empty());
    EXPECT_EQ(c.get("etag"), etag);
    EXPECT_EQ(c.get("cache-control"), "public, max-age=31536000, immutable");
    EXPECT_FALSE(c.has("content-length"));
    EXPECT_EQ(h.get("/v/seg.m4s", "If-None-Match: W/" + etag + "\r\n").status,
              304);  // weak compare
    EXPECT_EQ(h.get("/v/seg.m4s", "If-None-Match: \"a\", " + etag + "\r\n").status, 304);
    EXPECT_EQ(h.get("/v/seg.m4s", "If-None-Match: \"a\"\r\nIf-None-Match: " + etag + "\r\n").status,
              304);
    EXPECT_EQ(h.get("/v/seg.m4s", "If-None-Match: *\r\n").status, 304);
    EXPECT_EQ(h.get("/v/seg.m4s", "If-None-Match: \"a\", \"b\"\r\n").status, 200);
    EXPECT_EQ(h.get("/v/seg.m4s", "If-None-Match: garbage\r\n").status, 200);
    Captured hd =
        h.one("HEAD /v/seg.m4s HTTP/1.1\r\nHost: h\r\nIf-None-Match: " + etag + "\r\n\r\n");
    EXPECT_EQ(hd.status, 304);
}

TEST_F(ResponderTest, IfModifiedSince) {
    EXPECT_EQ(h.get("/v/seg.m4s", "If-Modified-Since: " + kLastModified + "\r\n").status, 304);
    EXPECT_EQ(h.get("/v/seg.m4s", "If-Modified-Since: Wed, 15 Nov 2023 00:00:00 GMT\r\n").status,
              304);
    EXPECT_EQ(h.get("/v/seg.m4s", "If-Modified-Since: Mon, 13 Nov 2023 00:00:00 GMT\r\n").status,
              200);
    EXPECT_EQ(
        h.get("/v/seg.m4s", "If-Modified-Since: Wednesday, 15-Nov-23 00:00:00 GMT\r\n").status,
        304);
    EXPECT_EQ(h.get("/v/seg.m4s", "If-Modified-Since: Wed Nov 15 00:00:00 2023\r\n").status, 304);
    EXPECT_EQ(h.get("/v/seg.m4s", "If-Modified-Since: yesterday\r\n").status, 200);
    // RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since.
    EXPECT_EQ(h.get("/v/seg.m4s",
                    "If-None-Match: \"other\"\r\nIf-Modified-Since: " + kLastModified + "\r\n")
                  .status,
              200);
}

TEST_F(ResponderTest, IfMatchAndIfUnmodifiedSince) {
    EXPECT_EQ(h.get("/v/seg.m4s", "If-Match: \"other\"\r\n").status, 412);
    EXPECT_EQ(h.get("/v/seg.m4s", "If-Match: W/" + etag + "\r\n").status, 412);  // strong compare
    EXPECT_EQ(h.get("/v/seg.m4s", "If-Match: " + etag + "\r\n").status, 200);
    EXPECT_EQ(h.get("/v/seg.m4s", "If-Match: *\r\n").status, 200);
    EXPECT_EQ(h.get("/v/seg.m4s", "If-Unmodified-Since: Mon, 13 Nov 2023 00:00:00 GMT\r\n").status,
              412);
    EXPECT_EQ(h.get("/v/seg.m4s", "If-Unmodified-Since: " + kLastModified + "\r\n").status, 200);
    // If-Match is evaluated first and beats a matching If-None-Match.
    EXPECT_EQ(h.get("/v/seg.m4s", "If-Match: \"x\"\r\nIf-None-Match: " + etag + "\r\n").status,
              412);
    EXPECT_EQ(h.get("/missing", "If-Match: *\r\n").status, 404);
}

// ---- ranges (RFC 9110 §14) ----

TEST_F(ResponderTest, SingleRanges) {
    struct Case {
        std::string range;
        std::string content_range;
        std::string body;
    } cases[] = {
        {"bytes=0-9", "bytes 0-9/36", "0123456789"},
        {"bytes=10-", "bytes 10-35/36", kBody.substr(10)},
        {"bytes=-6", "bytes 30-35/36", "uvwxyz"},
        {"bytes=-100", "bytes 0-35/36", kBody},
        {"bytes=30-1000", "bytes 30-35/36", "uvwxyz"},
        {"bytes=35-35", "bytes 35-35/36", "z"},
        {"BYTES=1-1", "bytes 1-1/36", "1"},
        {"bytes= 2-3 ,", "bytes 2-3/36", "23"},
        {"bytes=40-50, 2-3", "bytes 2-3/36", "23"},  // unsatisfiable specs are dropped
        {"bytes=0-99999999999999999999999", "bytes 0-35/36", kBody},
    };
    for (const Case &k : cases) {
        Captured c = h.get("/v/seg.m4s", "Range: " + k.range + "\r\n");
        EXPECT_EQ(c.status, 206) << k.range;
        EXPECT_EQ(c.get("content-range"), k.content_range) << k.range;
        EXPECT_EQ(c.body, k.body) << k.range;
        EXPECT_EQ(c.get("content-length"), std::to_string(k.body.size()));
        EXPECT_EQ(c.get("content-type"), "video/iso.segment");
        ASSERT_EQ(c.pieces.size(), 1u);
    }
}

TEST_F(ResponderTest, UnsatisfiableRanges) {
    for (const char *r :
         {"bytes=36-", "bytes=100-200", "bytes=-0", "bytes=99999999999999999999999-"}) {
        Captured c = h.get("/v/seg.m4s", std::string("Range: ") + r + "\r\n");
        EXPECT_EQ(c.status, 416) << r;
        EXPECT_EQ(c.get("content-range"), "bytes */36");
        EXPECT_EQ(c.get("content-length"), "0");
        EXPECT_TRUE(c.body.empty());
    }
}

TEST_F(ResponderTest, IgnoredRangesServeWhole) {
    std::string many = "bytes=";
    for (int i = 0; i < 17; ++i) many += std::to_string(i * 2) + "-" + std::to_string(i * 2) + ",";
    for (const std::string &r :
         {std::string("items=0-1"), std::string("bytes=5-1"), std::string("bytes=a-b"),
          std::string("bytes="), std::string("bytes 0-1"), std::string("bytes=0-1;x"),
          std::string("bytes=0-10,5-15"), std::string("bytes=0-0,-36"), many}) {
        Captured c = h.get("/v/seg.m4s", "Range: " + r + "\r\n");
        EXPECT_EQ(c.status, 200) << r;
        EXPECT_EQ(c.body, kBody) << r;
        EXPECT_FALSE(c.has("content-range"));
    }
    EXPECT_GE(h.ctx->counters.ranges_ignored, 9u);
    // Two Range lines make the field invalid: ignored.
    EXPECT_EQ(h.get("/v/seg.m4s", "Range: bytes=0-1\r\nRange: bytes=2-3\r\n").status, 200);
}

TEST_F(ResponderTest, SixteenRangesAreServedAsMultipart) {
    std::string r = "bytes=";
    for (int i = 0; i < 16; ++i) r += std::to_string(i * 2) + "-" + std::to_string(i * 2) + ",";
    Captured c = h.get("/v/seg.m4s", "Range: " + r + "\r\n");
    EXPECT_EQ(c.status, 206);
    EXPECT_EQ(c.pieces.size(), 33u);
    EXPECT_EQ(c.get("content-length"), std::to_string(c.body.size()));
}

TEST_F(ResponderTest, MultipartByteranges) {
    Captured c = h.get("/v/seg.m4s", "Range: bytes=0-1, 30-\r\n");
    EXPECT_EQ(c.status, 206);
    const std::string ct = c.get("content-type");
    ASSERT_TRUE(ct.starts_with("multipart/byteranges; boundary="));
    const std::string b = ct.substr(ct.find('=') + 1);
    EXPECT_FALSE(c.has("content-range"));
    const std::string expect =
        "\r\n--" + b +
        "\r\nContent-Type: video/iso.segment\r\nContent-Range: bytes 0-1/36\r\n\r\n01" + "\r\n--" +
        b + "\r\nContent-Type: video/iso.segment\r\nContent-Range: bytes 30-35/36\r\n\r\nuvwxyz" +
        "\r\n--" + b + "--\r\n";
    EXPECT_EQ(c.body, expect);
    EXPECT_EQ(c.get("content-length"), std::to_string(expect.size()));
    // Body is still references: 2 object pieces + 3 generated ones.
    ASSERT_EQ(c.pieces.size(), 5u);
    EXPECT_EQ(c.pieces[1].kind, BodyPiece::Kind::kObject);
    EXPECT_EQ(c.pieces[3].kind, BodyPiece::Kind::kObject);
    EXPECT_EQ(h.ctx->counters.multipart, 1u);
    // Documented alternative: multipart off → the whole object with 200.
    h.cfg.multipart_ranges = false;
    h.reset();
    c = h.get("/v/seg.m4s", "Range: bytes=0-1, 30-\r\n");
    EXPECT_EQ(c.status, 200);
    EXPECT_EQ(c.body, kBody);
}

TEST_F(ResponderTest, IfRange) {
    const std::string range = "Range: bytes=0-1\r\n";
    EXPECT_EQ(h.get("/v/seg.m4s", range + "If-Range: " + etag + "\r\n").status, 206);
    EXPECT_EQ(h.get("/v/seg.m4s", range + "If-Range: \"stale\"\r\n").status, 200);
    EXPECT_EQ(h.get("/v/seg.m4s", range + "If-Range: W/" + etag + "\r\n").status, 200);
    EXPECT_EQ(h.get("/v/seg.m4s", range + "If-Range: " + kLastModified + "\r\n").status, 206);
    EXPECT_EQ(h.get("/v/seg.m4s", range + "If-Range: Mon, 13 Nov 2023 00:00:00 GMT\r\n").status,
              200);
    EXPECT_EQ(h.get("/v/seg.m4s", range + "If-Range: nonsense\r\n").status, 200);
    // If-Range mismatch with an unsatisfiable range: full 200, not 416.
    EXPECT_EQ(h.get("/v/seg.m4s", "Range: bytes=99-\r\nIf-Range: \"stale\"\r\n").status, 200);
}

TEST_F(ResponderTest, HugeObjectIsOneReference) {
    const uint64_t gib = 1ull << 30;
    const uint64_t handle = h.cat.add_sized("big.mp4", gib, 0x1234, kMtime);
    Response const *r = nullptr;
    h.s->feed(std::string_view("GET /big.mp4 HTTP/1.1\r\nHost: h\r\n\r\n"), h.now);
    ASSERT_TRUE(h.s->has_response());
    r = &h.s->front();
    EXPECT_EQ(r->status(), Status::kOk);
    ASSERT_EQ(r->body().size(), 1u);
    EXPECT_EQ(r->body()[0].handle, handle);
    EXPECT_EQ(r->body()[0].offset, 0u);
    EXPECT_EQ(r->body()[0].length, gib);
    EXPECT_EQ(r->body_length(), gib);
    EXPECT_LT(r->head().size(), 600u);
    EXPECT_NE(r->head().find("Content-Length: 1073741824\r\n"), std::string_view::npos);
    EXPECT_NE(r->head().find("ETag: \"0000000000001234\"\r\n"), std::string_view::npos);
    h.s->pop();
    h.s->feed(std::string_view("GET /big.mp4 HTTP/1.1\r\nHost: h\r\nRange: bytes=-1\r\n\r\n"),
              h.now);
    ASSERT_TRUE(h.s->has_response());
    EXPECT_EQ(h.s->front().body()[0].offset, gib - 1);
    EXPECT_NE(h.s->front().head().find("Content-Range: bytes 1073741823-1073741823/1073741824\r\n"),
              std::string_view::npos);
}

}  // namespace
}  // namespace ep::http

// Pull on miss at the HTTP layer: a request for an object whose origin
// fill has not told its length yet is held (nothing queued, nothing after it
// parsed), answered by retry() once the catalog knows, with 502/504 when the
// fill failed; the catalog is told where the request's range starts.
#include <gtest/gtest.h>

#include <string>

#include "dataplane/http/session.h"
#include "harness.h"

namespace ep::http {
namespace {

class PendingCatalog : public ObjectCatalog {
  public:
    FakeCatalog inner;
    bool pending = true;
    uint16_t error = 0;
    mutable uint64_t last_hint = UINT64_MAX;
    mutable int asked = 0;

    std::optional<ObjectInfo> lookup(std::string_view key) const noexcept override {
        return lookup_from(key, 0);
    }
    std::optional<ObjectInfo> lookup_from(std::string_view key,
                                          uint64_t first_byte) const noexcept override {
        last_hint = first_byte;
        ++asked;
        if (key != "cold.mp4") return inner.lookup(key);
        ObjectInfo i;
        if (error) {
            i.error_status = error;
            return i;
        }
        if (pending) {
            i.pending = true;
            return i;
        }
        return inner.lookup(key);
    }
};

struct HoldHarness {
    HttpConfig cfg;
    PendingCatalog cat;
    HttpContext ctx{cfg, cat};
    HttpSession s{ctx};
    Now now{1'000, 1'700'000'000};
    HoldHarness() { s.start(now); }
};

const std::string kCold = "GET /cold.mp4 HTTP/1.1\r\nHost: h\r\n\r\n";
const std::string kWarm = "GET /warm.txt HTTP/1.1\r\nHost: h\r\n\r\n";

TEST(SessionHold, HeldUntilTheCatalogKnowsThenAnsweredInOrder) {
    HoldHarness h;
    h.cat.inner.add("cold.mp4", "origin bytes");
    h.cat.inner.add("warm.txt", "warm");
    const std::string both = kCold + kWarm;
    const std::size_t n = h.s.feed(std::string_view(both), h.now);
    EXPECT_EQ(n, kCold.size());  // nothing after the held request is parsed
    EXPECT_TRUE(h.s.held());
    EXPECT_FALSE(h.s.has_response());
    EXPECT_FALSE(h.s.retry(h.now));  // still pending
    EXPECT_TRUE(h.s.held());
    h.cat.pending = false;
    ASSERT_TRUE(h.s.retry(h.now));
    EXPECT_FALSE(h.s.held());
    ASSERT_TRUE(h.s.has_response());
    const auto r = test::capture(h.s.front(), h.cat.inner);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "origin bytes");
    h.s.pop();
    EXPECT_EQ(h.s.feed(std::string_view(both).substr(n), h.now), kWarm.size());
    ASSERT_TRUE(h.s.has_response());
    EXPECT_EQ(test::capture(h.s.front(), h.cat.inner).body, "warm");
    EXPECT_EQ(h.ctx.counters.requests, 2u);  // the held one counted once
}

TEST(SessionHold, FailedFillAnswers502Or504) {
    for (uint16_t code : {uint16_t{502}, uint16_t{504}}) {
        HoldHarness h;
        h.s.feed(std::string_view(kCold), h.now);
        ASSERT_TRUE(h.s.held());
        h.cat.error = code;
        ASSERT_TRUE(h.s.retry(h.now));
        ASSERT_TRUE(h.s.has_response());
        EXPECT_EQ(test::capture(h.s.front(), h.cat.inner).status, code);
    }
}

TEST(SessionHold, FinDoesNotFinishAHeldRequest) {
    HoldHarness h;
    h.cat.inner.add("cold.mp4", "x");
    h.s.feed(std::string_view(kCold), h.now);
    h.s.on_peer_closed();
    EXPECT_FALSE(h.s.finished());  // the held request is still owed its answer
    h.cat.pending = false;
    ASSERT_TRUE(h.s.retry(h.now));
    h.s.pop();
    EXPECT_TRUE(h.s.finished());
}

TEST(SessionHold, TheCatalogHearsWhereTheRangeStarts) {
    HoldHarness h;
    h.s.feed(
        std::string_view("GET /cold.mp4 HTTP/1.1\r\nHost: h\r\nRange: bytes=10485000-\r\n\r\n"),
        h.now);
    EXPECT_EQ(h.cat.last_hint, 10485000u);
    HoldHarness g;
    g.s.feed(std::string_view("GET /cold.mp4 HTTP/1.1\r\nHost: h\r\nRange: bytes=-500\r\n\r\n"),
             g.now);
    EXPECT_EQ(g.cat.last_hint, 0u);  // a suffix range: unknown until the length is
    HoldHarness k;
    k.s.feed(
        std::string_view("GET /cold.mp4 HTTP/1.1\r\nHost: h\r\nRange: bytes=5-9,20-30\r\n\r\n"),
        k.now);
    EXPECT_EQ(k.cat.last_hint, 0u);
}

}  // namespace
}  // namespace ep::http

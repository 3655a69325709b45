// Cluster steering in HTTP (dataplane/http/steer.h): the redirect decision,
// the Location, the DASH steering manifest's pathway order and JSON, and
// the responder answering both through a SteerSource.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/http/steer.h"
#include "tests/http/harness.h"

namespace ep::http {
namespace {

using test::Captured;
using test::Harness;

// paris (0, us), london (1), newyork (2).
const ClusterInfo kClusters[] = {
    {"paris", "10.77.0.2", true},
    {"london", "10.77.0.3:8081", true},
    {"newyork", "10.77.0.4", true},
};

SteerView view(std::vector<std::pair<uint16_t, float>> ranked, bool known = true) {
    SteerView v;
    v.clusters = kClusters;
    v.self = 0;
    v.client_known = known;
    for (auto [c, s] : ranked) {
        v.ranking.cluster[v.ranking.n] = c;
        v.ranking.score_ms[v.ranking.n++] = s;
    }
    return v;
}

HttpConfig steer_cfg() {
    HttpConfig c;
    c.redirect = true;
    c.dash_steering = true;
    c.redirect_margin_ms = 10;
    return c;
}

TEST(SteerRedirect, BetterByTheMarginRedirects) {
    const HttpConfig cfg = steer_cfg();
    const auto d = decide_redirect(cfg, view({{1, 9}, {0, 70}}), "/t/manifest.mpd");
    EXPECT_EQ(d.verdict, RedirectVerdict::kRedirect);
    EXPECT_EQ(d.target, 1);
}

TEST(SteerRedirect, WithinTheMarginStays) {
    const HttpConfig cfg = steer_cfg();
    EXPECT_EQ(decide_redirect(cfg, view({{1, 9}, {0, 18.5f}}), "/m.mpd").verdict,
              RedirectVerdict::kWithinMargin);
    // Exactly the margin is enough.
    EXPECT_EQ(decide_redirect(cfg, view({{1, 9}, {0, 19}}), "/m.mpd").verdict,
              RedirectVerdict::kRedirect);
}

TEST(SteerRedirect, NotRankedAtAllRedirects) {
    // We are not among the client's candidates (far away, or down).
    const HttpConfig cfg = steer_cfg();
    EXPECT_EQ(decide_redirect(cfg, view({{1, 9}, {2, 80}}), "/m.mpd").verdict,
              RedirectVerdict::kRedirect);
}

TEST(SteerRedirect, LocalBestUnknownClientAndLoopMarker) {
    const HttpConfig cfg = steer_cfg();
    EXPECT_EQ(decide_redirect(cfg, view({{0, 3}, {1, 40}}), "/m.mpd").verdict,
              RedirectVerdict::kLocalBest);
    EXPECT_EQ(decide_redirect(cfg, view({}, false), "/m.mpd").verdict,
              RedirectVerdict::kUnknownClient);
    for (const char *t : {"/m.mpd?ep_steered=1", "/m.mpd?a=b&ep_steered=1&c", "/m.mpd?ep_steered"})
        EXPECT_EQ(decide_redirect(cfg, view({{1, 9}, {0, 70}}), t).verdict,
                  RedirectVerdict::kLoopMarker)
            << t;
    // A parameter that only contains the name is no marker.
    EXPECT_EQ(decide_redirect(cfg, view({{1, 9}, {0, 70}}), "/m.mpd?xep_steered=1").verdict,
              RedirectVerdict::kRedirect);
}

TEST(SteerRedirect, NoHost) {
    const HttpConfig cfg = steer_cfg();
    const ClusterInfo cl[] = {{"paris", "10.77.0.2", true}, {"london", "", true}};
    SteerView v = view({{1, 9}, {0, 70}});
    v.clusters = cl;
    EXPECT_EQ(decide_redirect(cfg, v, "/m.mpd").verdict, RedirectVerdict::kNoHost);
}

TEST(SteerRedirect, LocationKeepsPathAndQueryAndAddsTheMarker) {
    const HttpConfig cfg = steer_cfg();
    char b[256];
    std::size_t n = redirect_location(cfg, "10.77.0.3:8081", "/t/m.mpd", b, sizeof b);
    EXPECT_EQ(std::string(b, n), "http://10.77.0.3:8081/t/m.mpd?ep_steered=1");
    n = redirect_location(cfg, "edge.london", "/t/m.mpd?x=1", b, sizeof b);
    EXPECT_EQ(std::string(b, n), "http://edge.london/t/m.mpd?x=1&ep_steered=1");
    n = redirect_location(cfg, "h", "http://other.example/t/m.mpd", b, sizeof b);
    EXPECT_EQ(std::string(b, n), "http://h/t/m.mpd?ep_steered=1");
    EXPECT_EQ(redirect_location(cfg, "h", "/t/m.mpd", b, 10), 0u);  // does not fit
}

std::vector<std::string> order_names(const HttpConfig &cfg, const SteerView &v,
                                     std::string_view pathway, uint64_t bps,
                                     PathwayNote *note = nullptr) {
    uint16_t o[8];
    PathwayNote n;
    const std::size_t k = pathway_order(cfg, v, pathway, bps, o, 8, &n);
    if (note) *note = n;
    std::vector<std::string> out;
    for (std::size_t i = 0; i < k; ++i) out.emplace_back(v.clusters[o[i]].name);
    return out;
}

using Names = std::vector<std::string>;

TEST(SteerManifest, RankedFirstThenTheRest) {
    const HttpConfig cfg = steer_cfg();
    EXPECT_EQ(order_names(cfg, view({{1, 9}, {0, 70}}), "", 0),
              (Names{"london", "paris", "newyork"}));
    // Unknown client: this cluster first.
    EXPECT_EQ(order_names(cfg, view({}, false), "", 0), (Names{"paris", "london", "newyork"}));
    // A cluster that is down is no pathway.
    const ClusterInfo cl[] = {{"paris", "a", true}, {"london", "b", false}, {"newyork", "c", true}};
    SteerView v = view({{1, 9}, {0, 70}});
    v.clusters = cl;
    EXPECT_EQ(order_names(cfg, v, "", 0), (Names{"paris", "newyork"}));
}

TEST(SteerManifest, PathwayWithinTheMarginIsKept) {
    const HttpConfig cfg = steer_cfg();
    PathwayNote note;
    EXPECT_EQ(order_names(cfg, view({{1, 9}, {0, 15}}), "paris", 0, &note),
              (Names{"paris", "london", "newyork"}));
    EXPECT_EQ(note, PathwayNote::kKept);
    EXPECT_EQ(order_names(cfg, view({{1, 9}, {0, 70}}), "paris", 0, &note),
              (Names{"london", "paris", "newyork"}));
    EXPECT_EQ(note, PathwayNote::kNone);
}

TEST(SteerManifest, LowThroughputDemotesThePathway) {
    HttpConfig cfg = steer_cfg();
    cfg.steer_min_kbps = 2000;
    PathwayNote note;
    EXPECT_EQ(order_names(cfg, view({{1, 9}, {0, 70}}), "london", 500'000, &note),
              (Names{"paris", "london", "newyork"}));
    EXPECT_EQ(note, PathwayNote::kDemoted);
    EXPECT_EQ(order_names(cfg, view({{1, 9}, {0, 70}}), "london", 5'000'000, &note),
              (Names{"london", "paris", "newyork"}));
    EXPECT_EQ(note, PathwayNote::kNone);
}

TEST(SteerManifest, QueryAsDashJsSendsIt) {
    // dash.js 4.7: URLSearchParams.set of "\"a,b\"" and "t1,t2".
    char b[128];
    std::string_view p;
    uint64_t t = 0;
    steer_query("/steer?_DASH_pathway=%22london%2Cparis%22&_DASH_throughput=4500000%2C900", b,
                sizeof b, &p, &t);
    EXPECT_EQ(p, "london");
    EXPECT_EQ(t, 4'500'000u);
    steer_query("/steer?_DASH_pathway=paris", b, sizeof b, &p, &t);
    EXPECT_EQ(p, "paris");
    EXPECT_EQ(t, 0u);
    steer_query("/steer", b, sizeof b, &p, &t);
    EXPECT_TRUE(p.empty());
}

TEST(SteerManifest, Json) {
    const HttpConfig cfg = steer_cfg();
    const SteerView v = view({{1, 9}, {0, 70}});
    const uint16_t order[] = {1, 0, 2};
    char b[512];
    const std::size_t n = steering_manifest(cfg, v, order, b, sizeof b);
    EXPECT_EQ(std::string(b, n),
              "{\"VERSION\":1,\"TTL\":10,\"RELOAD-URI\":\"http://10.77.0.2/steer\","
              "\"PATHWAY-PRIORITY\":[\"london\",\"paris\",\"newyork\"]}\n");
    EXPECT_EQ(steering_manifest(cfg, v, order, b, 20), 0u);
}

// The responder, with a source answering a fixed view.
struct FixedSource : SteerSource {
    SteerView v;
    bool on = true;
    bool steer_view(SteerView *out) const noexcept override {
        *out = v;
        return on;
    }
};

class SteerResponderTest : public ::testing::Test {
  protected:
    SteerResponderTest() {
        h.cfg = steer_cfg();
        h.cat.add("t/manifest.mpd", "<MPD/>", 1'700'000'000);
        h.cat.add("t/seg-1.m4s", "segment", 1'700'000'000);
        h.reset();
        h.ctx->steer = &src;
    }
    Harness h;
    FixedSource src;
};

TEST_F(SteerResponderTest, ManifestRedirectedOnceSegmentsNever) {
    src.v = view({{1, 9}, {0, 70}});
    Captured c = h.get("/t/manifest.mpd");
    EXPECT_EQ(c.status, 302);
    EXPECT_EQ(c.get("location"), "http://10.77.0.3:8081/t/manifest.mpd?ep_steered=1");
    EXPECT_EQ(c.get("content-length"), "0");
    EXPECT_EQ(h.ctx->counters.redirects, 1u);
    EXPECT_EQ(h.ctx->counters.status_count(Status::kFound), 1u);
    // Came back with the marker (the other side sent it here again): served.
    c = h.get("/t/manifest.mpd?ep_steered=1");
    EXPECT_EQ(c.status, 200);
    EXPECT_EQ(c.body, "<MPD/>");
    EXPECT_EQ(h.ctx->counters.redirect_skip_loop, 1u);
    // Segments are never bounced.
    c = h.get("/t/seg-1.m4s");
    EXPECT_EQ(c.status, 200);
    EXPECT_EQ(c.body, "segment");
    EXPECT_EQ(h.ctx->counters.redirects, 1u);
}

TEST_F(SteerResponderTest, OffWithoutConfigOrTable) {
    src.v = view({{1, 9}, {0, 70}});
    src.on = false;  // no table published
    EXPECT_EQ(h.get("/t/manifest.mpd").status, 200);
    src.on = true;
    h.cfg.redirect = false;
    h.reset();
    h.ctx->steer = &src;
    EXPECT_EQ(h.get("/t/manifest.mpd").status, 200);
    EXPECT_EQ(h.ctx->counters.redirects, 0u);
}

TEST_F(SteerResponderTest, SteeringManifestPerClient) {
    src.v = view({{1, 9}, {0, 70}});
    Captured c = h.get("/steer?_DASH_pathway=%22paris%22&_DASH_throughput=9000000");
    EXPECT_EQ(c.status, 200);
    EXPECT_EQ(c.get("content-type"), "application/json");
    EXPECT_EQ(c.get("cache-control"), "no-store");
    EXPECT_EQ(c.get("content-length"), std::to_string(c.body.size()));
    EXPECT_NE(c.body.find("\"PATHWAY-PRIORITY\":[\"london\",\"paris\",\"newyork\"]"),
              std::string::npos)
        << c.body;
    src.v = view({{0, 2}, {1, 12}});
    c = h.get("/steer");
    EXPECT_NE(c.body.find("[\"paris\",\"london\",\"newyork\"]"), std::string::npos) << c.body;
    EXPECT_EQ(h.ctx->counters.steer_manifests, 2u);
    c = h.one("HEAD /steer HTTP/1.1\r\nHost: e\r\n\r\n");
    EXPECT_EQ(c.status, 200);
    EXPECT_TRUE(c.body.empty());
}

}  // namespace
}  // namespace ep::http

// Origin routes: the --origin syntax, its refusals, longest-prefix matching
// on segment boundaries.
#include <gtest/gtest.h>

#include <string>

#include "dataplane/origin/origin_table.h"

using namespace ep::origin;

namespace {

uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return uint32_t{a} | uint32_t{b} << 8 | uint32_t{c} << 16 | uint32_t{d} << 24;
}

TEST(OriginRoute, ParsesPrimaryAndBackups) {
    Route r;
    const char *why = nullptr;
    ASSERT_TRUE(parse_route("/vod=10.0.0.2:8080,10.0.0.3", &r, &why)) << why;
    EXPECT_EQ(r.prefix_view(), "/vod");
    ASSERT_EQ(r.nservers, 2);
    EXPECT_EQ(r.servers[0].ip_be, ip(10, 0, 0, 2));
    EXPECT_EQ(r.servers[0].port, 8080);
    EXPECT_EQ(r.servers[1].ip_be, ip(10, 0, 0, 3));
    EXPECT_EQ(r.servers[1].port, 80);
    ASSERT_TRUE(parse_route("/live/=1.2.3.4:81", &r, &why));
    EXPECT_EQ(r.prefix_view(), "/live");  // a trailing '/' names the same segment
    ASSERT_TRUE(parse_route("/=1.2.3.4", &r, &why));
    EXPECT_EQ(r.prefix_view(), "/");
}

// Issue 14: servers by name. The name is kept for the resolver (control
// thread); the address stays 0 (unresolved) until it is filled in.
TEST(OriginRoute, NamesAreKeptUnresolved) {
    Route r;
    const char *why = nullptr;
    ASSERT_TRUE(parse_route("/vod/=origin.example:8080,10.0.0.5:80,Edge-2.local", &r, &why)) << why;
    ASSERT_EQ(r.nservers, 3);
    EXPECT_EQ(r.servers[0].name_view(), "origin.example");
    EXPECT_FALSE(r.servers[0].resolved());
    EXPECT_EQ(r.servers[0].port, 8080);
    EXPECT_EQ(r.servers[1].name_view(), "");
    EXPECT_TRUE(r.servers[1].resolved());
    EXPECT_EQ(r.servers[1].ip_be, ip(10, 0, 0, 5));
    EXPECT_EQ(r.servers[2].name_view(), "Edge-2.local");
    EXPECT_EQ(r.servers[2].port, 80);
    EXPECT_TRUE(valid_host_name("localhost"));
    EXPECT_TRUE(valid_host_name("origin.example."));
    EXPECT_FALSE(valid_host_name("1.2.3"));
    EXPECT_FALSE(valid_host_name(std::string(64, 'a')));
}

TEST(OriginRoute, RefusesMalformed) {
    Route r;
    const char *why = nullptr;
    for (const char *bad :
         {"", "/vod", "vod=1.2.3.4", "/vod=", "/vod=1.2.3", "/vod=1.2.3.4:0", "/vod=1.2.3.4:65536",
          "/vod=1.2.3.4:", "/vod=1.2.3.4,", "/vod=origin_x.example:80", "/vod=01.2.3.4",
          "/vod=-a.example", "/vod=a..example", "/vod=a-.example", "/vod=a.example:x",
          "/vod=256.1.1.1", "/v d=1.2.3.4", "/vod=1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5"}) {
        why = nullptr;
        EXPECT_FALSE(parse_route(bad, &r, &why)) << bad;
        EXPECT_NE(why, nullptr) << bad;
    }
}

TEST(OriginTable, LongestPrefixOnSegmentBoundary) {
    Table t;
    Route all, vod, vod_hd;
    ASSERT_TRUE(parse_route("/=10.0.0.1", &all, nullptr));
    ASSERT_TRUE(parse_route("/vod=10.0.0.2", &vod, nullptr));
    ASSERT_TRUE(parse_route("/vod/hd=10.0.0.3", &vod_hd, nullptr));
    ASSERT_TRUE(t.add(vod));
    ASSERT_TRUE(t.add(vod_hd));
    EXPECT_FALSE(t.add(vod));  // the same prefix twice
    EXPECT_EQ(t.match("/vod/a.mp4"), &t.at(0));
    EXPECT_EQ(t.match("/vod"), &t.at(0));
    EXPECT_EQ(t.match("/vod/hd/seg1.m4s"), &t.at(1));
    EXPECT_EQ(t.match("/vodka"), nullptr);
    EXPECT_EQ(t.match("/other"), nullptr);
    ASSERT_TRUE(t.add(all));
    EXPECT_EQ(t.match("/vodka"), &t.at(2));
    EXPECT_EQ(t.match("/vod/x"), &t.at(0));
}

TEST(OriginTable, Bounded) {
    Table t;
    char spec[32];
    for (size_t i = 0; i < Table::kMaxRoutes; ++i) {
        Route r;
        std::snprintf(spec, sizeof spec, "/p%zu=10.0.0.1", i);
        ASSERT_TRUE(parse_route(spec, &r, nullptr));
        ASSERT_TRUE(t.add(r));
    }
    Route r;
    ASSERT_TRUE(parse_route("/more=10.0.0.1", &r, nullptr));
    EXPECT_FALSE(t.add(r));
}

}  // namespace

namespace {
TEST(OriginTable, MatchKeyIsMatchWithoutTheSlash) {
    Table t;
    Route all, vod;
    ASSERT_TRUE(parse_route("/vod=10.0.0.2", &vod, nullptr));
    ASSERT_TRUE(t.add(vod));
    EXPECT_EQ(t.match_key("vod/a.mp4"), &t.at(0));
    EXPECT_EQ(t.match_key("vodka"), nullptr);
    ASSERT_TRUE(parse_route("/=10.0.0.1", &all, nullptr));
    ASSERT_TRUE(t.add(all));
    EXPECT_EQ(t.match_key("vodka"), &t.at(1));
    EXPECT_EQ(t.match_key("vod/x"), &t.at(0));
}
}  // namespace

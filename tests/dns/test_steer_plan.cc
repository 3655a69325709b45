// Unit tests of dataplane/dns/steer_plan.h: scope aggregation (disjoint
// prefixes, siblings with one answer merged) and the regions x owners plan.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "dataplane/dns/steer_plan.h"

using namespace ep::dns;

namespace {

std::string owner(const char *label) {  // one-label wire name
    std::string s(1, static_cast<char>(std::strlen(label)));
    return s + label + std::string(1, '\0');
}

SteerMap::Route route(const std::string &o, const char *cidr, uint32_t set) {
    SteerMap::Route r;
    r.owner = o;
    std::string s(cidr);
    const auto slash = s.find('/');
    const std::string net = s.substr(0, slash);
    r.prefix = static_cast<uint8_t>(std::stoi(s.substr(slash + 1)));
    if (inet_pton(AF_INET, net.c_str(), r.net) == 1) {
        r.family = 1;
    } else {
        EXPECT_EQ(inet_pton(AF_INET6, net.c_str(), r.net), 1) << cidr;
        r.family = 2;
    }
    r.set = set;
    return r;
}

SteerMap::AnswerSet v4set(std::vector<uint8_t> a, uint32_t ttl = 60) {
    SteerMap::AnswerSet s;
    s.ttl = ttl;
    s.v4 = std::move(a);
    return s;
}

std::string text(const SteerMap::Route &r) {
    char b[INET6_ADDRSTRLEN];
    inet_ntop(r.family == 1 ? AF_INET : AF_INET6, r.net, b, sizeof b);
    return std::string(b) + "/" + std::to_string(r.prefix) + "=" + std::to_string(r.set);
}

std::vector<std::string> texts(const SteerMap &m) {
    std::vector<std::string> out;
    for (const auto &r : m.routes) out.push_back(text(r));
    std::sort(out.begin(), out.end());
    return out;
}

const std::string kW = owner("www");

}  // namespace

TEST(SteerAggregate, SiblingsWithTheSameAnswerMerge) {
    SteerMap m;
    m.sets = {v4set({1, 1, 1, 1})};
    m.routes = {route(kW, "198.51.100.0/25", 0), route(kW, "198.51.100.128/25", 0)};
    EXPECT_EQ(texts(aggregate(m)), std::vector<std::string>{"198.51.100.0/24=0"});
    // Four /26s become one /24, merging level by level.
    m.routes = {route(kW, "10.0.0.0/26", 0), route(kW, "10.0.0.64/26", 0),
                route(kW, "10.0.0.128/26", 0), route(kW, "10.0.0.192/26", 0)};
    EXPECT_EQ(texts(aggregate(m)), std::vector<std::string>{"10.0.0.0/24=0"});
}

TEST(SteerAggregate, DifferentAnswersOrNonSiblingsStay) {
    SteerMap m;
    m.sets = {v4set({1, 1, 1, 1}), v4set({2, 2, 2, 2})};
    m.routes = {route(kW, "198.51.100.0/25", 0), route(kW, "198.51.100.128/25", 1)};
    EXPECT_EQ(texts(aggregate(m)),
              (std::vector<std::string>{"198.51.100.0/25=0", "198.51.100.128/25=1"}));
    // Adjacent but not siblings (their /23 parent holds 100.0/24 and 101.0/24).
    m.routes = {route(kW, "198.51.101.0/24", 0), route(kW, "198.51.102.0/24", 0)};
    EXPECT_EQ(texts(aggregate(m)),
              (std::vector<std::string>{"198.51.101.0/24=0", "198.51.102.0/24=0"}));
    // A sibling with no answer at all does not merge either.
    m.routes = {route(kW, "198.51.100.0/25", 0)};
    EXPECT_EQ(texts(aggregate(m)), std::vector<std::string>{"198.51.100.0/25=0"});
}

TEST(SteerAggregate, EqualSetsByContentAreOneAnswer) {
    SteerMap m;
    m.sets = {v4set({1, 1, 1, 1}), v4set({1, 1, 1, 1}), v4set({1, 1, 1, 1}, 30)};
    m.routes = {route(kW, "198.51.100.0/25", 0), route(kW, "198.51.100.128/25", 1)};
    const SteerMap a = aggregate(m);
    EXPECT_EQ(texts(a), std::vector<std::string>{"198.51.100.0/24=0"});
    EXPECT_EQ(a.sets.size(), 2u);  // the TTL makes the third one different
    m.routes[1].set = 2;
    EXPECT_EQ(texts(aggregate(m)).size(), 2u);
}

TEST(SteerAggregate, AMoreSpecificRoutePunchesItsHole) {
    // 10/8 -> A with 10.1.0.0/16 -> B: the rest of 10/8 is eight disjoint
    // prefixes /9.../16 of A, so no scope claims B's /16 for A.
    SteerMap m;
    m.sets = {v4set({1, 1, 1, 1}), v4set({2, 2, 2, 2})};
    m.routes = {route(kW, "10.0.0.0/8", 0), route(kW, "10.1.0.0/16", 1)};
    const std::vector<std::string> want = {"10.0.0.0/16=0",  "10.1.0.0/16=1",  "10.128.0.0/9=0",
                                           "10.16.0.0/12=0", "10.2.0.0/15=0",  "10.32.0.0/11=0",
                                           "10.4.0.0/14=0",  "10.64.0.0/10=0", "10.8.0.0/13=0"};
    EXPECT_EQ(texts(aggregate(m)), want);
    // The same answer inside: the hole closes again, back to one /8.
    m.routes[1].set = 0;
    EXPECT_EQ(texts(aggregate(m)), std::vector<std::string>{"10.0.0.0/8=0"});
    // Host bits past the prefix are ignored.
    m.routes = {route(kW, "10.1.2.3/16", 0)};
    EXPECT_EQ(texts(aggregate(m)), std::vector<std::string>{"10.1.0.0/16=0"});
}

TEST(SteerAggregate, IPv6AndOwnersAreSeparate) {
    SteerMap m;
    m.sets = {v4set({1, 1, 1, 1})};
    const std::string v = owner("video");
    m.routes = {route(kW, "2001:db8::/33", 0), route(kW, "2001:db8:8000::/33", 0),
                route(v, "2001:db8::/33", 0), route(kW, "198.51.100.0/24", 0)};
    const SteerMap a = aggregate(m);
    ASSERT_EQ(a.routes.size(), 3u);
    std::vector<std::string> www, video;
    for (const auto &r : a.routes) (r.owner == kW ? www : video).push_back(text(r));
    std::sort(www.begin(), www.end());
    EXPECT_EQ(www, (std::vector<std::string>{"198.51.100.0/24=0", "2001:db8::/32=0"}));
    EXPECT_EQ(video, std::vector<std::string>{"2001:db8::/33=0"});
}

TEST(SteerPlan, RegionsAreTheUnionAndCellsTheContainingPrefix) {
    // www: 10/8 -> set 0. video: 10.1.0.0/16 -> set 1. One FIB for both:
    // regions 10/8 and 10.1/16; in 10.1/16 www still answers from its /8.
    SteerMap m;
    m.sets = {v4set({1, 1, 1, 1}), v4set({2, 2, 2, 2})};
    const std::string v = owner("video");
    m.routes = {route(kW, "10.0.0.0/8", 0), route(v, "10.1.0.0/16", 1)};
    SteerPlan p;
    std::string err;
    ASSERT_TRUE(plan_steering(m, &p, &err)) << err;
    ASSERT_EQ(p.owners.size(), 2u);
    ASSERT_EQ(p.regions.size(), 2u);
    EXPECT_EQ(p.v4_regions, 2u);
    const size_t www = p.owners[0] == kW ? 0 : 1, video = 1 - www;
    for (size_t g = 0; g < 2; ++g) {
        const auto &cw = p.cells[g * 2 + www];
        const auto &cv = p.cells[g * 2 + video];
        EXPECT_EQ(cw.scope, 8);
        if (p.regions[g].prefix == 16) {
            EXPECT_EQ(cv.scope, 16);
            EXPECT_EQ(p.sets[cv.set].v4, (std::vector<uint8_t>{2, 2, 2, 2}));
        } else {
            EXPECT_EQ(cv.set, SteerPlan::kNone);
        }
    }
}

TEST(SteerPlan, MalformedRoutesAreRejected) {
    SteerMap m;
    m.sets = {v4set({1, 1, 1, 1})};
    SteerPlan p;
    std::string err;
    m.routes = {route(kW, "10.0.0.0/8", 1)};
    EXPECT_FALSE(plan_steering(m, &p, &err));
    EXPECT_NE(err.find("answer set"), std::string::npos) << err;
    m.routes = {route(kW, "10.0.0.0/8", 0)};
    m.routes[0].prefix = 33;
    EXPECT_FALSE(plan_steering(m, &p, &err));
    m.routes[0].prefix = 8;
    m.routes[0].family = 3;
    EXPECT_FALSE(plan_steering(m, &p, &err));
    m.routes[0].family = 1;
    EXPECT_TRUE(plan_steering(m, &p, &err));
}

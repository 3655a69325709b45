// The steering FIBs and the RCU publication of control/dns_tables.h, under
// a real EAL (no hugepages, no PCI): lookups with their scopes, a failed
// publication or zone reload that changes nothing, and retired tables
// freed only once every reader passed a quiescent state.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "control/dns_tables.h"
#include "control/dns_zones.h"
#include "dataplane/dns/steer_plan.h"
#include "dataplane/dns_steering.h"

using namespace ep;

namespace {

dns::Client v4(const char *a, uint8_t prefix = 32) {
    dns::Client c;
    c.family = 1;
    c.prefix = prefix;
    inet_pton(AF_INET, a, c.addr);
    return c;
}
dns::Client v6(const char *a, uint8_t prefix = 128) {
    dns::Client c;
    c.family = 2;
    c.prefix = prefix;
    inet_pton(AF_INET6, a, c.addr);
    return c;
}

dns::SteerMap::Route route(const std::string &owner, uint16_t fam, const char *net, uint8_t len,
                           uint32_t set) {
    dns::SteerMap::Route r;
    r.owner = owner;
    r.family = fam;
    inet_pton(fam == 1 ? AF_INET : AF_INET6, net, r.net);
    r.prefix = len;
    r.set = set;
    return r;
}

const std::string kWww("\3www\7example\4test\0", 18);
const std::string kCdn("\3cdn\7example\4test\0", 18);

dns::SteerMap sample() {
    dns::SteerMap m;
    m.sets.resize(3);
    m.sets[0].ttl = 30;
    m.sets[0].v4 = {203, 0, 113, 1, 203, 0, 113, 2};
    m.sets[1].ttl = 40;
    m.sets[1].v4 = {203, 0, 113, 9};
    m.sets[1].v6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
    m.sets[2] = m.sets[0];  // the same answer: merges with set 0
    m.routes = {route(kWww, 1, "198.51.100.0", 25, 0), route(kWww, 1, "198.51.100.128", 25, 2),
                route(kWww, 1, "198.51.0.0", 16, 1),   route(kWww, 2, "2001:db8:1::", 48, 1),
                route(kCdn, 1, "192.0.2.0", 24, 1),    route(kWww, 1, "192.0.2.77", 32, 0)};
    m.version = 7;
    return m;
}

const uint8_t *wire(const std::string &s) {
    return reinterpret_cast<const uint8_t *>(s.data());
}

}  // namespace

TEST(FibSteering, LooksUpWithAggregatedScopes) {
    dns::SteerPlan p;
    std::string err;
    ASSERT_TRUE(dns::plan_steering(sample(), &p, &err)) << err;
    auto f = FibSteering::build(p, 0, &err);
    ASSERT_TRUE(f) << err;
    dns::SteerResult r;
    // The two /25s with one answer: one /24, scope 24.
    ASSERT_TRUE(f->steer(wire(kWww), dns::kA, v4("198.51.100.200"), &r));
    EXPECT_EQ(r.scope, 24);
    EXPECT_EQ(r.count, 2);
    EXPECT_EQ(r.ttl, 30u);
    EXPECT_EQ(r.addrs[3], 1);
    // The rest of the /16 is set 1; 198.51.101.x is in 198.51.101.0/24,
    // the hole's sibling, not in a /16 that would also claim 100.0/24.
    ASSERT_TRUE(f->steer(wire(kWww), dns::kA, v4("198.51.101.3"), &r));
    EXPECT_EQ(r.scope, 24);
    EXPECT_EQ(r.count, 1);
    ASSERT_TRUE(f->steer(wire(kWww), dns::kA, v4("198.51.200.3"), &r));
    EXPECT_EQ(r.scope, 17);
    // ECS host bits past SOURCE are not looked at.
    ASSERT_TRUE(f->steer(wire(kWww), dns::kA, v4("198.51.100.255", 24), &r));
    EXPECT_EQ(r.scope, 24);
    // Another owner, its own routes over the same FIB.
    ASSERT_TRUE(f->steer(wire(kCdn), dns::kA, v4("192.0.2.77"), &r));
    EXPECT_EQ(r.scope, 24);
    EXPECT_EQ(r.addrs[3], 9);
    ASSERT_TRUE(f->steer(wire(kWww), dns::kA, v4("192.0.2.77"), &r));
    EXPECT_EQ(r.scope, 32);
    EXPECT_FALSE(f->steer(wire(kWww), dns::kA, v4("192.0.2.78"), &r));    // www has no route there
    EXPECT_FALSE(f->steer(wire(kCdn), dns::kA, v4("198.51.100.1"), &r));  // cdn has none here
    EXPECT_FALSE(f->steer(wire(kWww), dns::kA, v4("8.8.8.8"), &r));
    // AAAA: only set 1 has IPv6 addresses; set 0 falls back to the zone.
    EXPECT_FALSE(f->steer(wire(kWww), dns::kAAAA, v4("198.51.100.1"), &r));
    ASSERT_TRUE(f->steer(wire(kWww), dns::kAAAA, v4("198.51.101.1"), &r));
    EXPECT_EQ(r.count, 1);
    EXPECT_EQ(r.addrs[15], 9);
    // IPv6 clients.
    ASSERT_TRUE(f->steer(wire(kWww), dns::kA, v6("2001:db8:1:2::1", 56), &r));
    EXPECT_EQ(r.scope, 48);
    EXPECT_EQ(r.ttl, 40u);
    EXPECT_FALSE(f->steer(wire(kWww), dns::kA, v6("2001:db8:2::1", 56), &r));
    // Unknown owner.
    EXPECT_FALSE(f->steer(wire(std::string("\1x\0", 3)), dns::kA, v4("198.51.100.1"), &r));
}

TEST(FibSteering, ManyRegionsNeedWiderNextHops) {
    // 300 /24s with alternating answers: past a 1-byte next hop's range.
    dns::SteerMap m;
    m.sets.resize(2);
    m.sets[0].v4 = {1, 1, 1, 1};
    m.sets[1].v4 = {2, 2, 2, 2};
    for (uint32_t i = 0; i < 300; ++i) {
        char net[32];
        std::snprintf(net, sizeof net, "10.%u.%u.0", i / 256, i % 256);
        m.routes.push_back(route(kWww, 1, net, 24, i % 2));
        std::snprintf(net, sizeof net, "2001:db8:%x::", i);
        m.routes.push_back(route(kWww, 2, net, 60, i % 2));
    }
    dns::SteerPlan p;
    std::string err;
    ASSERT_TRUE(dns::plan_steering(m, &p, &err)) << err;
    EXPECT_EQ(p.v4_regions, 300u);
    auto f = FibSteering::build(p, 0, &err);
    ASSERT_TRUE(f) << err;
    dns::SteerResult r;
    ASSERT_TRUE(f->steer(wire(kWww), dns::kA, v4("10.1.43.9"), &r));  // i = 299
    EXPECT_EQ(r.addrs[0], 2);
    ASSERT_TRUE(f->steer(wire(kWww), dns::kA, v6("2001:db8:12a::1"), &r));  // i = 298
    EXPECT_EQ(r.addrs[0], 1);
    EXPECT_EQ(r.scope, 60);
}

TEST(DnsTables, RetiredTablesWaitForEveryReader) {
    DnsTables t;
    std::string err;
    ASSERT_TRUE(t.init(2, {0}, &err)) << err;
    uint32_t a, b;
    ASSERT_TRUE(t.add_reader(&a));
    ASSERT_TRUE(t.add_reader(&b));
    EXPECT_FALSE(t.add_reader(&b));  // only two
    ASSERT_TRUE(t.publish_steering(sample(), &err)) << err;
    const dns::Steering *first = t.steering(0)->load();
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(t.pending(), 0u);  // nothing replaced yet
    dns::SteerMap m = sample();
    m.version = 8;
    ASSERT_TRUE(t.publish_steering(m, &err)) << err;
    EXPECT_NE(t.steering(0)->load(), first);
    EXPECT_EQ(t.steering_version(), 8u);
    // Neither reader has passed a quiescent state: the old table stays.
    EXPECT_EQ(t.pending(), 1u);
    rte_rcu_qsbr_quiescent(t.rcu(), a);
    t.reclaim(0);
    EXPECT_EQ(t.pending(), 1u);  // b may still be reading it
    rte_rcu_qsbr_quiescent(t.rcu(), b);
    t.reclaim(0);
    EXPECT_EQ(t.pending(), 0u);
    // A map that does not compile changes nothing.
    m.routes[0].set = 99;
    const dns::Steering *cur = t.steering(0)->load();
    EXPECT_FALSE(t.publish_steering(m, &err));
    EXPECT_EQ(t.steering(0)->load(), cur);
    EXPECT_EQ(t.steering_version(), 8u);
}

TEST(DnsTables, ABrokenZoneFileKeepsThePreviousZones) {
    const std::string path = "/tmp/ep-dns-tables-" + std::to_string(getpid()) + ".zone";
    auto write = [&](const std::string &text) { std::ofstream(path) << text; };
    write("$ORIGIN example.test.\n@ 60 IN SOA a b 1 2 3 4 5\nwww IN A 192.0.2.1\n");
    DnsTables t;
    std::string err;
    ASSERT_TRUE(t.init(1, {0}, &err)) << err;
    uint32_t id;
    ASSERT_TRUE(t.add_reader(&id));
    ASSERT_TRUE(t.load_zones({path}, &err)) << err;
    const dns::ZoneTable *one = t.current_zones();
    EXPECT_EQ(one->zone(0)->serial, 1u);
    write("$ORIGIN example.test.\n@ 60 IN SOA a b 2 2 3 4 5\nwww IN A 192.0.2.300\n");
    EXPECT_FALSE(t.load_zones({path}, &err));
    EXPECT_EQ(err.rfind(path + ":3: ", 0), 0u) << err;
    EXPECT_EQ(t.current_zones(), one);
    EXPECT_EQ(t.pending(), 0u);
    write("$ORIGIN example.test.\n@ 60 IN SOA a b 3 2 3 4 5\nwww IN A 192.0.2.3\n");
    ASSERT_TRUE(t.load_zones({path}, &err)) << err;
    EXPECT_NE(t.current_zones(), one);
    EXPECT_EQ(t.current_zones()->zone(0)->serial, 3u);
    EXPECT_EQ(t.pending(), 1u);  // the reader has not moved on
    rte_rcu_qsbr_quiescent(t.rcu(), id);
    t.reclaim(0);
    EXPECT_EQ(t.pending(), 0u);
    std::remove(path.c_str());
}

// The control side of active probes (control/cluster/probe_targets.h): the
// targets the model yields, the round (ICMP, then the role's TCP ports),
// the fallback when nothing answers, the passive measurement that makes a
// probe unnecessary.
#include "control/cluster/probe_targets.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace ep::cluster;
using ep::probe::Method;
using ep::probe::Outcome;
using ep::probe::Request;
using ep::probe::Result;

namespace {

uint32_t addr(const char *s) {
    Prefix p;
    std::string err;
    EXPECT_TRUE(parse_prefix(s, &p, &err)) << err;
    uint32_t a;
    std::memcpy(&a, p.net, 4);
    return a;
}

ClientNet net(const char *prefix, const char *probe = nullptr, const char *ldns = nullptr) {
    ClientNet c;
    std::string err;
    EXPECT_TRUE(parse_prefix(prefix, &c.prefix, &err)) << err;
    if (probe) {
        EXPECT_TRUE(parse_prefix(probe, &c.probe, &err));
    }
    if (ldns) {
        EXPECT_TRUE(parse_prefix(ldns, &c.ldns, &err));
    }
    return c;
}

Model model() {
    Model m;
    m.clients.push_back(net("198.51.100.0/24", nullptr, "192.0.2.53"));
    m.clients.push_back(net("203.0.113.7/32"));
    m.clients.push_back(net("10.9.0.0/16", "10.9.4.4", "192.0.2.53"));  // the same LDNS
    m.clients.push_back(net("2001:db8:1::/48"));                        // IPv6: not probed
    ClientNet geo = net("100.64.0.0/24");
    geo.source = Source::kGeoDb;  // no host known there
    m.clients.push_back(geo);
    return m;
}

Result answer(const Request &q, Outcome o, uint32_t rtt_us = 1500) {
    Result r;
    r.target = q.target;
    r.cookie = q.cookie;
    r.port = q.port;
    r.method = q.method;
    r.outcome = o;
    r.rtt_us = rtt_us;
    return r;
}

const auto kNoPassive = [](uint32_t) { return false; };

}  // namespace

TEST(ProbeTargets, RepresentativesAndLdnsesOfTheCsvNetworks) {
    ProbeTargets t;
    t.set_model(model());
    ASSERT_EQ(t.targets().size(), 4u);
    EXPECT_EQ(ipv4_text(t.targets()[0].addr), "198.51.100.1");  // first host
    EXPECT_EQ(t.targets()[0].role, TargetRole::kClient);
    EXPECT_EQ(ipv4_text(t.targets()[1].addr), "192.0.2.53");
    EXPECT_EQ(t.targets()[1].role, TargetRole::kLdns);
    EXPECT_EQ(t.targets()[1].of, "198.51.100.0/24,10.9.0.0/16");  // one LDNS, two networks
    EXPECT_EQ(ipv4_text(t.targets()[2].addr), "203.0.113.7");     // a /32 is its own
    EXPECT_EQ(ipv4_text(t.targets()[3].addr), "10.9.4.4");        // the CSV's probe column
}

TEST(ProbeTargets, IcmpFirstThenTcpPortsThenDark) {
    ProbeTargetsConfig c;
    c.interval_s = 10;
    c.retry_s = 100;
    ProbeTargets t;
    t.configure(c);
    Model m;
    m.clients.push_back(net("203.0.113.7/32"));
    t.set_model(m);
    std::vector<Request> q;
    t.due(0, kNoPassive, &q);
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(q[0].method, Method::kIcmp);
    float rtt = -1;
    // Nothing more while it is in flight.
    std::vector<Request> none;
    t.due(0.5, kNoPassive, &none);
    EXPECT_TRUE(none.empty());
    EXPECT_FALSE(t.result(answer(q[0], Outcome::kUnanswered), 1, &rtt));
    // The next method at once: a SYN to 80, then to 443.
    q.clear();
    t.due(1, kNoPassive, &q);
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(q[0].method, Method::kTcp);
    EXPECT_EQ(q[0].port, 80);
    EXPECT_FALSE(t.result(answer(q[0], Outcome::kUnanswered), 2, &rtt));
    q.clear();
    t.due(2, kNoPassive, &q);
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(q[0].port, 443);
    EXPECT_FALSE(t.targets()[0].dark);
    EXPECT_FALSE(t.result(answer(q[0], Outcome::kUnanswered), 3, &rtt));
    // Every method went unanswered: dark, nothing fed, tried again after retry_s.
    EXPECT_TRUE(t.targets()[0].dark);
    EXPECT_EQ(t.dark(), 1u);
    EXPECT_EQ(t.stats().rounds_dark, 1u);
    EXPECT_NE(t.why(addr("203.0.113.9")).find("unanswered by icmp, tcp:80, tcp:443"),
              std::string::npos)
        << t.why(addr("203.0.113.9"));
    q.clear();
    t.due(102, kNoPassive, &q);
    EXPECT_TRUE(q.empty());
    t.due(103, kNoPassive, &q);
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(q[0].method, Method::kIcmp);  // a new round starts from ICMP
}

TEST(ProbeTargets, AnAnswerIsAMeasurementAndItsMethodIsTriedFirstNextTime) {
    ProbeTargetsConfig c;
    c.interval_s = 10;
    ProbeTargets t;
    t.configure(c);
    Model m;
    m.clients.push_back(net("198.51.100.0/24", "198.51.100.20", "192.0.2.53"));
    t.set_model(m);
    std::vector<Request> q;
    t.due(0, kNoPassive, &q);
    ASSERT_EQ(q.size(), 2u);
    float rtt = -1;
    // The LDNS answers ICMP.
    EXPECT_TRUE(t.result(answer(q[1], Outcome::kAnswered, 2250), 0.1, &rtt));
    EXPECT_FLOAT_EQ(rtt, 2.25f);
    // The client drops ICMP; its SYN to 80 is reset (port closed): an answer.
    EXPECT_FALSE(t.result(answer(q[0], Outcome::kUnanswered), 1, &rtt));
    q.clear();
    t.due(1, kNoPassive, &q);
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(q[0].port, 80);
    EXPECT_TRUE(t.result(answer(q[0], Outcome::kReset, 900), 1.1, &rtt));
    EXPECT_FLOAT_EQ(rtt, 0.9f);
    EXPECT_EQ(t.stats().measured, 2u);
    EXPECT_NE(t.table(2).find("tcp:80"), std::string::npos) << t.table(2);
    // Its next round, an interval later, starts with the method that answered.
    q.clear();
    t.due(5, kNoPassive, &q);
    EXPECT_TRUE(q.empty());
    t.due(11.2, kNoPassive, &q);
    ASSERT_EQ(q.size(), 2u);
    for (const Request &r : q) {
        if (r.target == addr("198.51.100.20")) {
            EXPECT_EQ(r.port, 80);
        }
    }
    // A stale result (another cookie) changes nothing.
    Result stale = answer(q[0], Outcome::kAnswered);
    stale.cookie += 1000;
    EXPECT_FALSE(t.result(stale, 12, &rtt));
    EXPECT_EQ(t.stats().stale_results, 1u);
}

TEST(ProbeTargets, AFreshPassiveMeasurementMakesTheProbeUnnecessary) {
    ProbeTargets t;
    Model m;
    m.clients.push_back(net("203.0.113.7/32"));
    t.set_model(m);
    std::vector<Request> q;
    t.due(
        0, [](uint32_t) { return true; }, &q);
    EXPECT_TRUE(q.empty());
    EXPECT_TRUE(t.targets()[0].passive);
    EXPECT_EQ(t.stats().skipped_passive, 1u);
    EXPECT_NE(t.table(0).find("fresh passive"), std::string::npos);
}

TEST(ProbeTargets, InFlightIsBoundedAndAReloadKeepsWhatWasLearnt) {
    ProbeTargetsConfig c;
    c.max_in_flight = 2;
    ProbeTargets t;
    t.configure(c);
    Model m;
    m.clients.push_back(net("203.0.113.7/32"));
    m.clients.push_back(net("203.0.113.8/32"));
    m.clients.push_back(net("203.0.113.9/32"));
    t.set_model(m);
    std::vector<Request> q;
    t.due(0, kNoPassive, &q);
    EXPECT_EQ(q.size(), 2u);
    float rtt;
    EXPECT_TRUE(t.result(answer(q[0], Outcome::kAnswered), 0.1, &rtt));
    t.set_model(m);  // a reload with the same networks
    EXPECT_EQ(t.in_flight(), 1u);
    const ProbeTarget *x = t.find(q[0].target);
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->answered, 1u);
    EXPECT_TRUE(t.result(answer(q[1], Outcome::kAnswered), 0.2, &rtt));  // its request still counts
}

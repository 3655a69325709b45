// Unit tests of the passive measurement feed's pure parts (issue 16): an
// RttRecord from a data lcore into Measurements (passive_feed.h), the
// measurements an appliance publishes in its member record and their JSON
// round trip, the replace semantics of what members publish
// (measurement_share.h), and the measured policy deciding on both.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "control/cluster/engine.h"
#include "control/cluster/measurement_share.h"
#include "control/cluster/members.h"
#include "control/cluster/passive_feed.h"

using namespace ep::cluster;

namespace {

Prefix P(const char *s) {
    Prefix p;
    std::string e;
    EXPECT_TRUE(parse_prefix(s, &p, &e)) << s << ": " << e;
    return p;
}

ep::RttRecord v4_record(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint32_t srtt_us, uint32_t out,
                        uint32_t retrans) {
    ep::RttRecord r;
    r.addr[10] = r.addr[11] = 0xff;  // IPv4-mapped, as tcp::IpAddr keeps it
    r.addr[12] = a, r.addr[13] = b, r.addr[14] = c, r.addr[15] = d;
    r.srtt_us = srtt_us;
    r.segs_out = out;
    r.segs_retrans = retrans;
    return r;
}

struct Entry {
    std::string block;
    uint16_t cluster, source;
    Measured m;
};
std::vector<Entry> entries(const Measurements &ms) {
    std::vector<Entry> v;
    ms.for_each([&](const Prefix &b, uint16_t c, const Measured &m) {
        v.push_back({to_string(b), c, m.source, m});
    });
    std::sort(v.begin(), v.end(), [](const Entry &x, const Entry &y) {
        return std::tie(x.block, x.cluster, x.source) < std::tie(y.block, y.cluster, y.source);
    });
    return v;
}

Member member(const std::string &name, const std::string &cluster,
              std::vector<MeasuredBlock> measured) {
    Member m;
    m.name = name;
    m.cluster = cluster;
    m.v4.push_back({10, 77, 1, static_cast<uint8_t>(name.size())});
    m.measured = std::move(measured);
    return m;
}

MeasuredBlock block(const char *p, float rtt, float loss, float weight, double age) {
    MeasuredBlock b;
    b.block = P(p);
    b.rtt_ms = rtt, b.loss_pct = loss, b.weight = weight, b.age_s = age;
    return b;
}

}  // namespace

TEST(PassiveFeed, RecordBecomesARttAndLossOfItsBlock) {
    Measurements ms;
    PassiveCounters ctr;
    // 40 ms SRTT, 5 of 100 data segments retransmitted, from 198.51.100.9.
    ingest_record(v4_record(198, 51, 100, 9, 40'000, 100, 5), 1, ms, 10, &ctr);
    auto v = entries(ms);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].block, "198.51.100.0/24");
    EXPECT_EQ(v[0].cluster, 1);
    EXPECT_EQ(v[0].source, Measurements::kLocal);
    EXPECT_FLOAT_EQ(v[0].m.rtt_ms, 40.0f);
    EXPECT_FLOAT_EQ(v[0].m.loss_pct, 5.0f);
    EXPECT_FLOAT_EQ(v[0].m.weight, 1.0f);
    // A second connection of the same /24: one aggregate, two samples.
    ingest_record(v4_record(198, 51, 100, 200, 20'000, 0, 0), 1, ms, 10, &ctr);
    v = entries(ms);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_FLOAT_EQ(v[0].m.rtt_ms, 30.0f);
    EXPECT_FLOAT_EQ(v[0].m.loss_pct, 2.5f);  // no data sent: 0 % loss
    EXPECT_FLOAT_EQ(v[0].m.weight, 2.0f);
    EXPECT_EQ(ctr.ingested, 2u);
    // No cluster of ours in the model: counted, not added.
    ingest_record(v4_record(203, 0, 113, 1, 1'000, 10, 0), -1, ms, 10, &ctr);
    EXPECT_EQ(ctr.no_cluster, 1u);
    EXPECT_EQ(ms.size(), 1u);
    // IPv6 peers aggregate per /48.
    ep::RttRecord r6;
    const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 7, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9};
    std::memcpy(r6.addr, a6, 16);
    r6.srtt_us = 5'000;
    ingest_record(r6, 0, ms, 10, &ctr);
    v = entries(ms);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].block, "198.51.100.0/24");
    EXPECT_EQ(v[1].block, "2001:db8:7::/48");
}

TEST(MeasurementShare, PublishedBlocksRoundTripThroughTheMemberRecord) {
    Measurements ms(300, 3600);
    for (int i = 0; i < 3; ++i) ms.add(0, P("198.51.100.9"), 9.254f, 0.5f, 1, 100);
    ms.add(0, P("203.0.113.7"), 70, 0, 1, 100);
    ms.add(1, P("192.0.2.1"), 5, 0, 1, 100);  // another cluster's: not ours to publish
    const uint16_t other = ms.source_id("london-1");
    ms.replace_source(other, {{0, P("198.18.0.0/24"), 1, 0, 9, 0}}, 100);  // a member's: not ours
    // At 400 s, one half-life later: the heaviest first, weights decayed,
    // ages in whole seconds, figures rounded to 0.01.
    const std::vector<MeasuredBlock> pub = blocks_to_publish(ms, 0, kShareBlocks, 400.5);
    ASSERT_EQ(pub.size(), 2u);
    EXPECT_EQ(to_string(pub[0].block), "198.51.100.0/24");
    EXPECT_FLOAT_EQ(pub[0].rtt_ms, 9.25f);
    EXPECT_FLOAT_EQ(pub[0].weight, 1.5f);
    EXPECT_EQ(pub[0].age_s, 300);
    EXPECT_EQ(to_string(pub[1].block), "203.0.113.0/24");
    EXPECT_EQ(blocks_to_publish(ms, 0, 1, 400.5).size(), 1u);  // bounded: the k heaviest

    Member m = member("paris-1", "paris", pub);
    const std::string json = encode_member(m);
    EXPECT_NE(json.find(R"("measured":[["198.51.100.0/24",9.25,0.5,1.5,300.0])"), std::string::npos)
        << json;
    Member back;
    std::string err;
    ASSERT_TRUE(decode_member(json, &back, &err)) << err;
    EXPECT_EQ(back.measured, pub);
    EXPECT_TRUE(back == m);
    // A record without measurements (an older appliance) decodes to none;
    // a malformed list is refused.
    Member plain = member("paris-2", "paris", {});
    ASSERT_TRUE(decode_member(encode_member(plain), &back, &err)) << err;
    EXPECT_TRUE(back.measured.empty());
    EXPECT_FALSE(
        decode_member(R"({"name":"a","cluster":"b","measured":[["x",1,2,3,4]]})", &back, &err));
    EXPECT_FALSE(decode_member(
        R"({"name":"a","cluster":"b","measured":[["192.0.2.0/24",-1,0,1,0]]})", &back, &err));
}

// fuzz_member_record's first finding (tests/fuzz/corpus/fuzz_member_record/
// rtt_beyond_float): an RTT of 5.6e55 ms decoded (into a float: infinity,
// and a conversion C++ leaves undefined), was written back as null and the
// record no longer decoded. Figures a float cannot hold are refused.
TEST(MeasurementShare, FiguresBeyondAFloatAreRefused) {
    Member back;
    std::string err;
    for (const char *f : {"5.6e55,0.5,4.2,4", "1,3.5e38,4.2,4", "1,0.5,1e39,4"}) {
        const std::string rec =
            std::string(R"({"name":"a","cluster":"b","measured":[["192.0.2.0/24",)") + f + "]]}";
        EXPECT_FALSE(decode_member(rec, &back, &err)) << rec;
    }
    // The largest a float holds still goes there and back.
    ASSERT_TRUE(decode_member(
        R"({"name":"a","cluster":"b","measured":[["192.0.2.0/24",3e38,0.5,1,1e300]]})", &back,
        &err))
        << err;
    Member again;
    ASSERT_TRUE(decode_member(encode_member(back), &again, &err)) << err;
    EXPECT_EQ(again.measured, back.measured);
}

TEST(MeasurementShare, EveryReadReplacesWhatAMemberSaidBefore) {
    Measurements ms(300, 3600);
    ms.add(0, P("198.51.100.9"), 40, 0, 1, 100);  // ours (paris)
    auto cluster_of = [](const std::string &n) -> int32_t {
        return n == "paris" ? 0 : n == "london" ? 1 : -1;
    };
    const std::vector<Member> read1 = {
        member("paris-1", "paris", {block("198.51.100.0/24", 99, 0, 5, 0)}),  // self: skipped
        member("london-1", "london", {block("198.51.100.0/24", 2, 0.5, 4, 3)}),
        member("tokyo-1", "tokyo", {block("198.51.100.0/24", 1, 0, 1, 0)}),  // not in the model
    };
    EXPECT_EQ(import_members(ms, read1, "paris-1", cluster_of, 110), 1u);
    // The same record read again (every poll) does not add up.
    EXPECT_EQ(import_members(ms, read1, "paris-1", cluster_of, 111), 1u);
    auto v = entries(ms);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].cluster, 0);
    EXPECT_EQ(v[0].source, Measurements::kLocal);
    EXPECT_FLOAT_EQ(v[0].m.rtt_ms, 40);
    EXPECT_EQ(v[1].cluster, 1);
    EXPECT_EQ(ms.source_name(v[1].source), "london-1");
    EXPECT_FLOAT_EQ(v[1].m.rtt_ms, 2);
    EXPECT_FLOAT_EQ(v[1].m.weight, 4);
    EXPECT_DOUBLE_EQ(v[1].m.updated_s, 108);  // published 3 s old
    // London's next record says something else: it replaces, not averages.
    const std::vector<Member> read2 = {
        member("london-1", "london", {block("198.51.100.0/24", 30, 0, 6, 0)})};
    import_members(ms, read2, "paris-1", cluster_of, 115);
    v = entries(ms);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_FLOAT_EQ(v[1].m.rtt_ms, 30);
    EXPECT_FLOAT_EQ(v[1].m.weight, 6);
    // London's lease went: so do its figures; ours stay.
    import_members(ms, {}, "paris-1", cluster_of, 120);
    v = entries(ms);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].source, Measurements::kLocal);
}

// The whole point: this appliance measured its own cluster slow for the
// client, a member of the other cluster published a fast figure, and the
// measured policy moves the client there; `why` says where each came from.
TEST(MeasurementShare, MeasuredPolicyDecidesOnOwnAndMembersFigures) {
    Model m;
    m.settings.policy = "measured";
    Cluster paris, london;
    paris.name = "paris", paris.lat = 48.86, paris.lon = 2.35, paris.capacity_gbps = 100;
    paris.v4.push_back({10, 77, 0, 2});
    london.name = "london", london.lat = 51.51, london.lon = -0.13, london.capacity_gbps = 100;
    london.v4.push_back({10, 77, 0, 3});
    m.clusters = {paris, london};
    ClientNet c;
    c.prefix = P("198.51.100.0/24");
    c.lat = 48.8f, c.lon = 2.3f, c.demand_gbps = 1;  // in Paris: geo says paris
    m.clients = {c};
    m.names = {{"video.kingcdn.test", 30, ""}};
    Engine e;
    std::string err;
    ASSERT_TRUE(e.set_model(m, "", &err)) << err;
    e.recompute(100);
    EXPECT_NE(e.why("198.51.100.7").find("decided paris"), std::string::npos);
    PassiveCounters ctr;
    ingest_record(v4_record(198, 51, 100, 7, 45'000, 10, 0), 0, e.measurements(), 101, &ctr);
    import_members(
        e.measurements(), {member("london-1", "london", {block("198.51.100.0/24", 1.5, 0, 3, 2)})},
        "paris-1", [&](const std::string &n) { return e.cluster_index(n); }, 101);
    e.recompute(102);
    const std::string why = e.why("198.51.100.7", 104);
    EXPECT_NE(why.find("decided london"), std::string::npos) << why;
    EXPECT_NE(
        why.find("    paris            198.51.100.0/24         45.00   0.00     0.99       3  "
                 "this appliance"),
        std::string::npos)
        << why;
    EXPECT_NE(
        why.find("    london           198.51.100.0/24          1.50   0.00     2.97       5  "
                 "member london-1"),
        std::string::npos)
        << why;
}

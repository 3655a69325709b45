// Unit tests of dataplane/dns: the query parser, the zone table and the
// answer builder, through respond() on byte-exact queries, with responses
// decoded by a small independent reader below.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "control/dns_zones.h"
#include "dataplane/dns/answer.h"
#include "dataplane/dns/steering.h"
#include "dataplane/dns/tcp_framer.h"
#include "dataplane/dns/zone_table.h"
#include "tests/dns/test_zone.h"

using namespace ep::dns;

namespace {

std::vector<uint8_t> wire_name(const std::string &text) {
    uint8_t b[kMaxName];
    uint32_t n = 0;
    EXPECT_TRUE(name_from_text(text.c_str(), b, &n)) << text;
    return {b, b + n};
}

struct QueryOpts {
    uint16_t id = 0x1234;
    uint16_t flags = kFlagRD;
    bool edns = false;
    uint16_t payload = 1232;
    uint8_t version = 0;
    std::vector<uint8_t> options;  // EDNS options, raw
};

std::vector<uint8_t> make_query(const std::string &name, uint16_t type, QueryOpts o = {}) {
    std::vector<uint8_t> m(12, 0);
    put16(m.data(), o.id);
    put16(m.data() + 2, o.flags);
    put16(m.data() + 4, 1);
    put16(m.data() + 10, o.edns ? 1 : 0);
    auto n = wire_name(name);
    m.insert(m.end(), n.begin(), n.end());
    uint8_t tail[4];
    put16(tail, type);
    put16(tail + 2, kClassIN);
    m.insert(m.end(), tail, tail + 4);
    if (o.edns) {
        uint8_t opt[11] = {0};
        put16(opt + 1, kOPT);
        put16(opt + 3, o.payload);
        opt[6] = o.version;
        put16(opt + 9, static_cast<uint16_t>(o.options.size()));
        m.insert(m.end(), opt, opt + 11);
        m.insert(m.end(), o.options.begin(), o.options.end());
    }
    return m;
}

std::vector<uint8_t> ecs_option(uint16_t family, uint8_t source, std::vector<uint8_t> addr,
                                uint8_t scope = 0) {
    std::vector<uint8_t> o(8);
    put16(o.data(), kOptEcs);
    put16(o.data() + 2, static_cast<uint16_t>(4 + addr.size()));
    put16(o.data() + 4, family);
    o[6] = source;
    o[7] = scope;
    o.insert(o.end(), addr.begin(), addr.end());
    return o;
}

// An independent reader of responses: follows pointers, decodes sections.
struct RR {
    std::string owner;
    uint16_t type = 0, cls = 0;
    uint32_t ttl = 0;
    std::vector<uint8_t> rdata;  // names inside decoded to text in `text`
    std::string text;
};
struct Msg {
    uint16_t id = 0, flags = 0;
    uint16_t qd = 0;
    std::string qname_raw;  // the question's bytes as text labels, case kept
    std::vector<RR> an, ns, ar;
    int rcode() const { return flags & 0xf; }
    bool aa() const { return flags & kFlagAA; }
    bool tc() const { return flags & kFlagTC; }
};

std::string read_name(const std::vector<uint8_t> &m, uint32_t *off) {
    std::string s;
    uint32_t o = *off;
    bool jumped = false;
    for (int guard = 0; guard < 128; ++guard) {
        EXPECT_LT(o, m.size());
        if (o >= m.size()) return s;
        const uint8_t c = m[o];
        if ((c & 0xc0) == 0xc0) {
            const uint32_t target = (c & 0x3fu) << 8 | m[o + 1];
            EXPECT_LT(target, o) << "pointers must point backwards";
            if (!jumped) *off = o + 2;
            jumped = true;
            o = target;
            continue;
        }
        if (c == 0) {
            if (!jumped) *off = o + 1;
            return s.empty() ? "." : s;
        }
        s.append(reinterpret_cast<const char *>(&m[o + 1]), c);
        s += '.';
        o += c + 1u;
    }
    ADD_FAILURE() << "pointer loop";
    return s;
}

Msg decode(const std::vector<uint8_t> &m) {
    Msg r;
    EXPECT_GE(m.size(), 12u);
    if (m.size() < 12) return r;
    r.id = get16(m.data());
    r.flags = get16(m.data() + 2);
    r.qd = get16(m.data() + 4);
    const uint16_t counts[3] = {get16(m.data() + 6), get16(m.data() + 8), get16(m.data() + 10)};
    uint32_t off = 12;
    for (uint16_t i = 0; i < r.qd; ++i) {
        r.qname_raw = read_name(m, &off);
        off += 4;
    }
    std::vector<RR> *sec[3] = {&r.an, &r.ns, &r.ar};
    for (int s = 0; s < 3; ++s)
        for (uint16_t i = 0; i < counts[s]; ++i) {
            RR rr;
            rr.owner = read_name(m, &off);
            rr.type = get16(&m[off]);
            rr.cls = get16(&m[off + 2]);
            rr.ttl = get32(&m[off + 4]);
            const uint16_t len = get16(&m[off + 8]);
            off += 10;
            EXPECT_LE(off + len, m.size());
            rr.rdata.assign(m.begin() + off, m.begin() + off + len);
            uint32_t p = off;
            if (rr.type == kCNAME || rr.type == kNS) rr.text = read_name(m, &p);
            if (rr.type == kSOA) {
                rr.text = read_name(m, &p);
                rr.text += " " + read_name(m, &p);
                EXPECT_EQ(p + 20, off + len);
            }
            if (rr.type == kCNAME || rr.type == kNS) {
                EXPECT_EQ(p, off + len);
            }
            off += len;
            sec[s]->push_back(rr);
        }
    EXPECT_EQ(off, m.size()) << "bytes after the last record";
    return r;
}

class Dns : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string err;
        table = ep::load_zone_texts({{"example.test.zone", kTestZone}, {"other.zone", kOtherZone}},
                                    &err);
        ASSERT_TRUE(table) << err;
        env.zones = table.get();
        env.client_ip = 0x0100000a;  // 10.0.0.1 in network order
    }
    // Answers q in a 2 KiB buffer, in place; also checks a separate output
    // buffer gives the same bytes.
    std::vector<uint8_t> ask(const std::vector<uint8_t> &q, int *len_out = nullptr) {
        std::vector<uint8_t> buf(q);
        buf.resize(2048);
        const int n =
            respond(buf.data(), static_cast<uint32_t>(q.size()), buf.data(), 2048, env, c);
        if (len_out) *len_out = n;
        std::vector<uint8_t> other(2048);
        Counters c2;
        const int n2 =
            respond(q.data(), static_cast<uint32_t>(q.size()), other.data(), 2048, env, c2);
        EXPECT_EQ(n, n2);
        if (n < 0) return {};
        EXPECT_EQ(0, std::memcmp(buf.data(), other.data(), static_cast<size_t>(n)));
        return {buf.begin(), buf.begin() + n};
    }
    Msg ask_msg(const std::string &name, uint16_t type, QueryOpts o = {}) {
        return decode(ask(make_query(name, type, o)));
    }

    std::unique_ptr<ZoneTable> table;
    AnswerEnv env;
    Counters c;
};

std::string a_text(const RR &rr) {
    return std::to_string(rr.rdata[0]) + "." + std::to_string(rr.rdata[1]) + "." +
           std::to_string(rr.rdata[2]) + "." + std::to_string(rr.rdata[3]);
}

}  // namespace

TEST_F(Dns, AnswersAWithAaAndCompressedOwner) {
    const auto q = make_query("www.example.test", kA);
    const auto r = ask(q);
    const Msg m = decode(r);
    EXPECT_EQ(m.id, 0x1234);
    EXPECT_TRUE(m.flags & kFlagQR);
    EXPECT_TRUE(m.aa());
    EXPECT_TRUE(m.flags & kFlagRD);  // copied
    EXPECT_EQ(m.rcode(), kNoError);
    ASSERT_EQ(m.an.size(), 2u);
    EXPECT_EQ(m.an[0].owner, "www.example.test.");
    EXPECT_EQ(a_text(m.an[0]), "192.0.2.10");
    EXPECT_EQ(a_text(m.an[1]), "192.0.2.11");
    EXPECT_EQ(m.an[0].ttl, 3600u);
    // Each owner is a pointer to the question (RFC 1035 4.1.4).
    const size_t first_rr = q.size();
    EXPECT_EQ(r[first_rr], 0xc0);
    EXPECT_EQ(r[first_rr + 1], 12);
    EXPECT_EQ(r.size(), q.size() + 2 * 16);
    EXPECT_EQ(c.answers, 1u);
}

TEST_F(Dns, EveryRecordType) {
    EXPECT_EQ(ask_msg("www.example.test", kAAAA).an.at(0).rdata.size(), 16u);
    const Msg txt = ask_msg("txt.example.test", kTXT);
    ASSERT_EQ(txt.an.size(), 1u);
    const std::vector<uint8_t> want = {11,  'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r',
                                       'l', 'd', 6,   's', 'e', 'c', 'o', 'n', 'd'};
    EXPECT_EQ(txt.an[0].rdata, want);
    EXPECT_EQ(txt.an[0].ttl, 60u);
    const Msg soa = ask_msg("example.test", kSOA);
    ASSERT_EQ(soa.an.size(), 1u);
    EXPECT_EQ(soa.an[0].text, "ns1.example.test. hostmaster.example.test.");
    EXPECT_EQ(soa.an[0].ttl, 3600u);  // the SOA as an answer keeps its own TTL
    const Msg ns = ask_msg("example.test", kNS);
    ASSERT_EQ(ns.an.size(), 2u);
    EXPECT_EQ(ns.an[0].text, "ns1.example.test.");
    EXPECT_EQ(ns.an[1].text, "ns2.example.test.");
    ASSERT_EQ(ns.ar.size(), 2u);  // their addresses
    EXPECT_EQ(ns.ar[0].type, kA);
    EXPECT_EQ(ns.ar[1].type, kAAAA);
    const Msg cn = ask_msg("alias.example.test", kCNAME);
    ASSERT_EQ(cn.an.size(), 1u);
    EXPECT_EQ(cn.an[0].text, "www.example.test.");
    const Msg any = ask_msg("www.example.test", kANY);
    EXPECT_EQ(any.an.size(), 3u);
}

TEST_F(Dns, CaseOfTheQuestionIsKept0x20) {
    const auto q = make_query("wWw.ExAmPlE.tEsT", kA);
    const auto r = ask(q);
    ASSERT_GE(r.size(), q.size());
    EXPECT_EQ(0, std::memcmp(r.data() + 12, q.data() + 12, q.size() - 12));
    const Msg m = decode(r);
    ASSERT_EQ(m.an.size(), 2u);
    EXPECT_EQ(m.an[0].owner, "wWw.ExAmPlE.tEsT.");
}

TEST_F(Dns, NxdomainAndNodataCarryTheSoaWithTheNegativeTtl) {
    const Msg nx = ask_msg("nope.example.test", kA);
    EXPECT_EQ(nx.rcode(), kNxDomain);
    EXPECT_TRUE(nx.aa());
    EXPECT_TRUE(nx.an.empty());
    ASSERT_EQ(nx.ns.size(), 1u);
    EXPECT_EQ(nx.ns[0].type, kSOA);
    EXPECT_EQ(nx.ns[0].owner, "example.test.");
    EXPECT_EQ(nx.ns[0].ttl, 300u);  // min(3600, MINIMUM 300), RFC 2308 5
    const Msg nd = ask_msg("www.example.test", kMX);
    EXPECT_EQ(nd.rcode(), kNoError);
    EXPECT_TRUE(nd.an.empty());
    ASSERT_EQ(nd.ns.size(), 1u);
    EXPECT_EQ(nd.ns[0].type, kSOA);
    // An empty non-terminal exists: NODATA, not NXDOMAIN (RFC 8020).
    const Msg ent = ask_msg("ent.sub.example.test", kA);
    EXPECT_EQ(ent.rcode(), kNoError);
    EXPECT_EQ(ent.ns.size(), 1u);
    EXPECT_EQ(ask_msg("deep.ent.sub.example.test", kA).an.size(), 1u);
    // Other zone: its own SOA and MINIMUM (600 vs 900).
    const Msg other = ask_msg("nope.other.test", kA);
    ASSERT_EQ(other.ns.size(), 1u);
    EXPECT_EQ(other.ns[0].owner, "other.test.");
    EXPECT_EQ(other.ns[0].ttl, 600u);
    EXPECT_EQ(c.nxdomain, 2u);
    EXPECT_EQ(c.nodata, 2u);
}

TEST_F(Dns, CnameChainsAreFollowedInsideOurZones) {
    const Msg m = ask_msg("chain.example.test", kA);
    ASSERT_EQ(m.an.size(), 4u);
    EXPECT_EQ(m.an[0].type, kCNAME);
    EXPECT_EQ(m.an[0].text, "alias.example.test.");
    EXPECT_EQ(m.an[1].owner, "alias.example.test.");
    EXPECT_EQ(m.an[2].owner, "www.example.test.");
    EXPECT_EQ(m.an[2].type, kA);
    EXPECT_TRUE(m.aa());
    // Into another of our zones.
    const Msg o = ask_msg("other.example.test", kA);
    ASSERT_EQ(o.an.size(), 2u);
    EXPECT_EQ(a_text(o.an[1]), "198.51.100.1");
    // Out of our zones: the CNAME alone; the resolver follows it.
    const Msg e = ask_msg("ext.example.test", kA);
    EXPECT_EQ(e.rcode(), kNoError);
    ASSERT_EQ(e.an.size(), 1u);
    // A loop ends at the chain bound.
    const Msg l = ask_msg("loop1.example.test", kA);
    EXPECT_EQ(l.rcode(), kNoError);
    EXPECT_EQ(l.an.size(), kMaxChain);
}

TEST_F(Dns, WildcardSynthesisUsesTheQueryName) {
    const Msg m = ask_msg("Anything.wild.example.test", kA);
    ASSERT_EQ(m.an.size(), 1u);
    EXPECT_EQ(m.an[0].owner, "Anything.wild.example.test.");
    EXPECT_EQ(a_text(m.an[0]), "192.0.2.50");
    EXPECT_EQ(ask_msg("a.b.wild.example.test", kA).an.size(), 1u);
    const Msg nd = ask_msg("x.wild.example.test", kAAAA);  // wildcard, no AAAA
    EXPECT_EQ(nd.rcode(), kNoError);
    EXPECT_EQ(nd.ns.size(), 1u);
    EXPECT_EQ(ask_msg("wild.example.test", kA).rcode(), kNoError);  // ENT
}

TEST_F(Dns, DelegationGivesAReferralWithGlue) {
    const Msg m = ask_msg("host.child.example.test", kA);
    EXPECT_EQ(m.rcode(), kNoError);
    EXPECT_FALSE(m.aa());
    EXPECT_TRUE(m.an.empty());
    ASSERT_EQ(m.ns.size(), 2u);
    EXPECT_EQ(m.ns[0].owner, "child.example.test.");
    EXPECT_EQ(m.ns[0].type, kNS);
    ASSERT_EQ(m.ar.size(), 1u);  // glue for the in-domain server only
    EXPECT_EQ(m.ar[0].owner, "ns.child.example.test.");
    EXPECT_EQ(a_text(m.ar[0]), "192.0.2.70");
    EXPECT_EQ(ask_msg("child.example.test", kNS).ns.size(), 2u);  // the cut itself
    EXPECT_EQ(c.referrals, 2u);
}

TEST_F(Dns, RefusedNotimpAndOutOfZone) {
    const Msg r = ask_msg("www.nowhere.invalid", kA);
    EXPECT_EQ(r.rcode(), kRefused);
    EXPECT_FALSE(r.aa());
    EXPECT_EQ(r.qd, 1);
    auto q = make_query("www.example.test", kA);
    put16(q.data() + 2, 2 << 11);  // STATUS
    const Msg n = decode(ask(q));
    EXPECT_EQ(n.rcode(), kNotImp);
    EXPECT_EQ((n.flags >> 11) & 0xf, 2);
    EXPECT_EQ(n.qd, 1);  // the question echoed, as Knot does
    EXPECT_EQ(n.qname_raw, "www.example.test.");
    q = make_query("www.example.test", kAXFR);
    EXPECT_EQ(decode(ask(q)).rcode(), kRefused);
    q = make_query("www.example.test", kA);
    put16(q.data() + q.size() - 2, 3);  // class CH
    EXPECT_EQ(decode(ask(q)).rcode(), kRefused);
    EXPECT_EQ(c.refused, 3u);
    EXPECT_EQ(c.notimp, 1u);
    env.zones = nullptr;  // nothing loaded
    EXPECT_EQ(ask_msg("www.example.test", kA).rcode(), kRefused);
}

struct Bad {
    const char *what;
    std::vector<uint8_t> msg;
    uint64_t Counters::*counter;
};

TEST_F(Dns, MalformedQueriesAreFormerrEachCountedByName) {
    const auto good = make_query("www.example.test", kA);
    auto with = [&](auto f) {
        auto m = good;
        f(m);
        return m;
    };
    std::vector<uint8_t> long_name(12, 0);
    put16(long_name.data(), 0x1234);
    put16(long_name.data() + 4, 1);
    for (int i = 0; i < 5; ++i) {
        long_name.push_back(63);
        long_name.insert(long_name.end(), 63, 'a');
    }
    long_name.insert(long_name.end(), {0, 0, 1, 0, 1});
    std::vector<Bad> cases = {
        {"qdcount 0", with([](auto &m) { put16(m.data() + 4, 0); }), &Counters::malformed_qdcount},
        {"qdcount 2", with([](auto &m) { put16(m.data() + 4, 2); }), &Counters::malformed_qdcount},
        {"ancount", with([](auto &m) { put16(m.data() + 6, 1); }), &Counters::malformed_counts},
        {"pointer", with([](auto &m) {
             m.resize(12);
             m.insert(m.end(), {3, 'w', 'w', 'w', 0xc0, 12, 0, 1, 0, 1});
         }),
         &Counters::malformed_pointer},
        {"label 0x40", with([](auto &m) { m[12] = 0x43; }), &Counters::malformed_label},
        {"name > 255", long_name, &Counters::malformed_name_too_long},
        {"no qclass", with([](auto &m) { m.resize(m.size() - 2); }),
         &Counters::malformed_truncated},
        {"trailing", with([](auto &m) { m.push_back(0); }), &Counters::malformed_trailing},
        {"arcount past end", with([](auto &m) { put16(m.data() + 10, 1); }),
         &Counters::malformed_truncated},
    };
    QueryOpts e;
    e.edns = true;
    auto two_opt = make_query("www.example.test", kA, e);
    const std::vector<uint8_t> opt(two_opt.end() - 11, two_opt.end());
    two_opt.insert(two_opt.end(), opt.begin(), opt.end());
    put16(two_opt.data() + 10, 2);
    cases.push_back({"two OPT", two_opt, &Counters::malformed_opt});
    auto opt_owner = make_query("www.example.test", kA, e);
    opt_owner[opt_owner.size() - 11] = 0xc0;  // not the root: a pointer is caught first
    cases.push_back({"OPT owner", opt_owner, &Counters::malformed_pointer});
    e.options = {0, 10, 0, 9};  // option longer than the RDATA
    cases.push_back(
        {"option past rdlen", make_query("www.example.test", kA, e), &Counters::malformed_opt});
    for (const Bad &b : cases) {
        Counters before = c;
        const Msg m = decode(ask(b.msg));
        EXPECT_EQ(m.rcode(), kFormErr) << b.what;
        EXPECT_EQ(m.id, 0x1234) << b.what;
        EXPECT_EQ(c.*b.counter, before.*b.counter + 1) << b.what;
        EXPECT_EQ(c.formerr, before.formerr + 1) << b.what;
    }
    // Dropped, not answered: no header to answer with, or a response.
    int n = 0;
    ask(std::vector<uint8_t>(good.begin(), good.begin() + 11), &n);
    EXPECT_EQ(n, -1);
    EXPECT_EQ(c.drop_short_header, 1u);
    ask(with([](auto &m) { m[2] |= 0x80; }), &n);
    EXPECT_EQ(n, -1);
    EXPECT_EQ(c.drop_response, 1u);
}

TEST_F(Dns, EdnsOptIsEchoedAndBadversAboveZero) {
    QueryOpts o;
    o.edns = true;
    o.payload = 4096;
    const Msg m = ask_msg("www.example.test", kA, o);
    ASSERT_EQ(m.ar.size(), 1u);
    EXPECT_EQ(m.ar[0].type, kOPT);
    EXPECT_EQ(m.ar[0].owner, ".");
    EXPECT_EQ(m.ar[0].cls, 1232);  // our payload size
    EXPECT_EQ(m.ar[0].ttl, 0u);
    o.version = 1;
    const Msg b = ask_msg("www.example.test", kA, o);
    EXPECT_EQ(b.rcode(), 0);  // low bits of 16
    ASSERT_EQ(b.ar.size(), 1u);
    EXPECT_EQ(b.ar[0].ttl >> 24, 1u);           // BADVERS = 16: extended rcode 1
    EXPECT_EQ((b.ar[0].ttl >> 16) & 0xff, 0u);  // our version
    EXPECT_TRUE(b.an.empty());
    EXPECT_EQ(c.badvers, 1u);
    EXPECT_EQ(c.edns, 2u);
}

TEST_F(Dns, TruncatedWhenTheAnswerDoesNotFitThePayload) {
    const Msg classic = ask_msg("big.example.test", kTXT);  // ~650 bytes > 512
    EXPECT_TRUE(classic.tc());
    EXPECT_TRUE(classic.an.empty());
    EXPECT_EQ(classic.qd, 1);
    EXPECT_EQ(c.truncated, 1u);
    QueryOpts o;
    o.edns = true;
    o.payload = 1232;
    const Msg fits = ask_msg("big.example.test", kTXT, o);
    EXPECT_FALSE(fits.tc());
    EXPECT_EQ(fits.an.size(), 6u);
    o.payload = 100;  // below 512 means 512 (RFC 6891 6.2.5)
    const Msg small = ask_msg("big.example.test", kTXT, o);
    EXPECT_TRUE(small.tc());
    ASSERT_EQ(small.ar.size(), 1u);  // OPT still there
    EXPECT_EQ(small.ar[0].type, kOPT);
    EXPECT_FALSE(ask_msg("www.example.test", kA, o).tc());
    // Over TCP only the buffer bounds it.
    env.tcp = true;
    EXPECT_FALSE(ask_msg("big.example.test", kTXT).tc());
}

TEST_F(Dns, ClientSubnetIsEchoedWithScopeZero) {
    QueryOpts o;
    o.edns = true;
    o.options = ecs_option(1, 24, {198, 51, 100});
    const Msg m = ask_msg("www.example.test", kA, o);
    ASSERT_EQ(m.ar.size(), 1u);
    const std::vector<uint8_t> want = {0, 8, 0, 7, 0, 1, 24, 0, 198, 51, 100};
    EXPECT_EQ(m.ar[0].rdata, want);
    o.options = ecs_option(2, 56, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0});
    const Msg v6 = ask_msg("www.example.test", kA, o);
    ASSERT_EQ(v6.ar.size(), 1u);
    EXPECT_EQ(v6.ar[0].rdata.size(), 4u + 4 + 7);
    // No ECS asked, none sent.
    o.options.clear();
    EXPECT_TRUE(ask_msg("www.example.test", kA, o).ar[0].rdata.empty());
    // Unknown family, wrong address length, prefix too long: FORMERR.
    for (auto bad : {ecs_option(3, 24, {1, 2, 3}), ecs_option(1, 24, {1, 2}),
                     ecs_option(1, 33, {1, 2, 3, 4, 5})}) {
        o.options = bad;
        const Msg f = ask_msg("www.example.test", kA, o);
        EXPECT_EQ(f.rcode(), kFormErr);
        EXPECT_EQ(f.qd, 1);
        ASSERT_EQ(f.ar.size(), 1u);
        EXPECT_TRUE(f.ar[0].rdata.empty());
    }
    EXPECT_EQ(c.malformed_ecs, 3u);
    EXPECT_EQ(c.ecs, 2u);  // the well-formed ones
}

TEST_F(Dns, SteeringAnswersWithItsScope) {
    StaticSteering st;
    StaticSteering::Row row;
    row.owner = std::string(reinterpret_cast<const char *>(wire_name("www.example.test").data()),
                            wire_name("www.example.test").size());
    row.prefix = 16;
    row.net[0] = 198;
    row.net[1] = 51;
    row.addrs = {203, 0, 113, 7};
    st.add(row);
    env.steering = &st;
    QueryOpts o;
    o.edns = true;
    o.options = ecs_option(1, 24, {198, 51, 100});
    const Msg m = ask_msg("www.example.test", kA, o);
    ASSERT_EQ(m.an.size(), 1u);
    EXPECT_EQ(a_text(m.an[0]), "203.0.113.7");
    EXPECT_EQ(m.ar[0].rdata[7], 16);  // SCOPE
    // ECS /0: the resolver's address decides (10.0.0.1: not in the
    // mapping), scope 0 (RFC 7871 7.1.2).
    o.options = ecs_option(1, 0, {});
    const Msg zero = ask_msg("www.example.test", kA, o);
    EXPECT_EQ(zero.an.size(), 2u);
    EXPECT_EQ(zero.ar[0].rdata[7], 0);
    env.client_ip = 0x010033c6;  // 198.51.0.1: in it, still scope 0 for a /0 query
    const Msg zero_hit = ask_msg("www.example.test", kA, o);
    ASSERT_EQ(zero_hit.an.size(), 1u);
    EXPECT_EQ(zero_hit.ar[0].rdata[7], 0);
    // A private ECS address locates nobody: the resolver's address decides.
    o.options = ecs_option(1, 24, {192, 168, 1});
    const Msg priv = ask_msg("www.example.test", kA, o);
    ASSERT_EQ(priv.an.size(), 1u);
    EXPECT_EQ(a_text(priv.an[0]), "203.0.113.7");  // from 198.51.0.1
    EXPECT_EQ(priv.ar[0].rdata[7], 0);
    const std::vector<uint8_t> sent = {0, 8, 0, 7, 0, 1, 24, 0, 192, 168, 1};
    EXPECT_EQ(priv.ar[0].rdata, sent);                     // still echoed as sent
    o.options = ecs_option(2, 48, {0xfd, 0, 0, 0, 0, 1});  // ULA: same
    EXPECT_EQ(ask_msg("www.example.test", kA, o).an.size(), 1u);
    env.client_ip = 0x0100000a;
    o.options = ecs_option(1, 24, {10, 1, 2});  // private, resolver 10.0.0.1: not steered
    EXPECT_EQ(ask_msg("www.example.test", kA, o).an.size(), 2u);
    o.options = ecs_option(1, 24, {192, 0, 2});  // not in the mapping: the zone, scope 0
    const Msg z = ask_msg("www.example.test", kA, o);
    EXPECT_EQ(z.an.size(), 2u);
    EXPECT_EQ(z.ar[0].rdata[7], 0);
}

TEST(DnsZones, ParseErrorsNameFileAndLine) {
    std::string err;
    EXPECT_FALSE(ep::load_zone_texts(
        {{"bad.zone", "$ORIGIN x.test.\n@ 60 IN SOA a b 1 2 3 4 5\nwww IN A 300.1.1.1\n"}}, &err));
    EXPECT_EQ(err.rfind("bad.zone:3: ", 0), 0u) << err;
    EXPECT_FALSE(ep::load_zone_texts(
        {{"out.zone", "$ORIGIN x.test.\n@ 60 IN SOA a b 1 2 3 4 5\nwww.y.test. IN A 1.1.1.1\n"}},
        &err));
    EXPECT_EQ(err.rfind("out.zone:3: ", 0), 0u) << err;
    EXPECT_NE(err.find("outside"), std::string::npos);
    EXPECT_FALSE(
        ep::load_zone_texts({{"nosoa.zone", "$ORIGIN x.test.\nwww IN A 1.1.1.1\n"}}, &err));
    EXPECT_EQ(err.rfind("nosoa.zone:2: ", 0), 0u) << err;
    EXPECT_FALSE(ep::load_zone_texts(
        {{"cname.zone",
          "$ORIGIN x.test.\n@ 60 IN SOA a b 1 2 3 4 5\nw IN CNAME a\nw IN A 1.1.1.1\n"}},
        &err));
    EXPECT_NE(err.find("CNAME and other data"), std::string::npos) << err;
    EXPECT_FALSE(ep::load_zones({"/nonexistent/zone"}, &err));
    EXPECT_EQ(err.rfind("/nonexistent/zone: ", 0), 0u) << err;
}

TEST(DnsZones, TableFindsNamesInAnyCase) {
    std::string err;
    auto t = ep::load_zone_texts({{"z", kTestZone}}, &err);
    ASSERT_TRUE(t) << err;
    EXPECT_EQ(t->zone_count(), 1u);
    EXPECT_EQ(t->zone(0)->serial, 2026120101u);
    EXPECT_EQ(t->zone(0)->neg_ttl, 300u);
    auto n = wire_name("WWW.Example.TEST");
    EXPECT_EQ(t->find_zone(n.data()), 0);
    const ZoneTable::Node *node = t->find(0, n.data(), static_cast<uint32_t>(n.size()));
    ASSERT_TRUE(node);
    EXPECT_EQ(name_to_text(t->node_name(*node)), "www.example.test.");  // stored lower-case
    ASSERT_TRUE(t->rrset(*node, kA));
    EXPECT_EQ(t->rrset(*node, kA)->count, 2);
    auto out = wire_name("example.invalid");
    EXPECT_EQ(t->find_zone(out.data()), -1);
}

TEST(DnsTcpFramer, SplitsPipelinedMessagesInOrderFromAnyPieces) {
    std::vector<uint8_t> stream;
    std::vector<std::vector<uint8_t>> sent;
    for (const char *n : {"a.test", "bb.test", "ccc.test"}) {
        auto q = make_query(n, kA);
        stream.push_back(static_cast<uint8_t>(q.size() >> 8));
        stream.push_back(static_cast<uint8_t>(q.size()));
        stream.insert(stream.end(), q.begin(), q.end());
        sent.push_back(q);
    }
    stream.insert(stream.end(), {0, 0});  // an empty message is delivered too
    sent.emplace_back();
    for (size_t piece : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, stream.size()}) {
        TcpFramer f;
        std::vector<std::vector<uint8_t>> got;
        for (size_t o = 0; o < stream.size(); o += piece)
            ASSERT_TRUE(f.feed(stream.data() + o, std::min(piece, stream.size() - o),
                               [&](const uint8_t *m, uint32_t n) { got.emplace_back(m, m + n); }));
        EXPECT_EQ(got, sent) << "pieces of " << piece;
        EXPECT_TRUE(f.idle());
    }
    TcpFramer f;
    const uint8_t too_long[] = {0x04, 0x01};  // 1025 > kMaxQuery
    EXPECT_FALSE(f.feed(too_long, 2, [](const uint8_t *, uint32_t) {}));
}

TEST(DnsTcpFramer, AMessageWithoutRoomIsHeldAndOfferedAgain) {
    // What DnsService does when the send queue cannot take an answer: the
    // query stays in the framer, the rest of the input stays unconsumed
    // (in the TCP receive buffer), and both come back once there is room.
    std::vector<uint8_t> stream;
    std::vector<std::vector<uint8_t>> sent;
    for (const char *n : {"a.test", "bb.test", "ccc.test", "dddd.test"}) {
        auto q = make_query(n, kA);
        stream.push_back(static_cast<uint8_t>(q.size() >> 8));
        stream.push_back(static_cast<uint8_t>(q.size()));
        stream.insert(stream.end(), q.begin(), q.end());
        sent.push_back(q);
    }
    for (size_t piece : {size_t{1}, size_t{5}, stream.size()}) {
        TcpFramer f;
        std::vector<std::vector<uint8_t>> got;
        int offers = 0;
        // Refuses every other offer: each message is refused once, then taken.
        auto take = [&](const uint8_t *m, uint32_t n) {
            if (++offers % 2) return false;
            got.emplace_back(m, m + n);
            return true;
        };
        size_t o = 0;
        while (o < stream.size()) {
            if (f.held()) {
                size_t u = 9;
                EXPECT_TRUE(f.feed(stream.data() + o, 1, take, &u));
                EXPECT_EQ(u, 0u);            // nothing is taken while a message is held
                ASSERT_TRUE(f.retry(take));  // the second offer is taken
                continue;
            }
            size_t used = 0;
            const size_t len = std::min(piece, stream.size() - o);
            ASSERT_TRUE(f.feed(stream.data() + o, len, take, &used));
            EXPECT_TRUE(used == len || f.held());
            o += used;
        }
        ASSERT_TRUE(f.retry(take));
        EXPECT_EQ(got, sent) << "pieces of " << piece;
        EXPECT_TRUE(f.idle());
        EXPECT_EQ(offers, 8);
    }
}

// wire.h compares and hashes names eight bytes at a time (lower8): the same
// verdicts as lower() byte by byte, for every byte value, at every length
// and position (the tail word overlaps the one before).
TEST(Wire, WordwiseNameEqualityAndHashIgnoreCaseOnly) {
    for (uint32_t c = 0; c < 256; ++c) {
        uint64_t w = 0x0101010101010101ull * c;
        const uint64_t want = 0x0101010101010101ull * lower(static_cast<uint8_t>(c));
        EXPECT_EQ(lower8(w), want) << c;
    }
    for (uint32_t label = 1; label <= 40; ++label) {
        uint8_t a[64], b[64];
        a[0] = b[0] = static_cast<uint8_t>(label);
        for (uint32_t i = 1; i <= label; ++i) a[i] = static_cast<uint8_t>('a' + i % 26);
        std::memcpy(a + 1 + label, "\4test", 6);
        const uint32_t len = label + 7;
        for (uint32_t i = 0; i < len; ++i) b[i] = a[i] >= 'a' && a[i] <= 'z' ? a[i] - 32 : a[i];
        EXPECT_TRUE(name_equal(a, b)) << label;
        EXPECT_EQ(name_hash(a, len, 3), name_hash(b, len, 3)) << label;
        for (uint32_t i = 1; i + 1 < len; ++i) {
            if (i == label + 1) continue;  // a length byte: another name shape
            uint8_t c[64];
            std::memcpy(c, b, len);
            c[i] ^= 0x01;  // 'a' <-> '`', 't' <-> 'u': a different letter
            EXPECT_FALSE(name_equal(a, c)) << label << " " << i;
            c[i] = static_cast<uint8_t>(b[i] | 0x80);  // bytes over 0x7f are not letters
            EXPECT_FALSE(name_equal(a, c)) << label << " " << i;
        }
        EXPECT_FALSE(name_equal(a, a + 1 + label)) << label;  // "test." itself
    }
}

// Unit tests of dataplane/dns/rrl.h: token buckets per source prefix with
// time passed in, slip, and rrl_apply() on answers respond() wrote.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "control/dns_zones.h"
#include "dataplane/dns/answer.h"
#include "dataplane/dns/counters.h"
#include "dataplane/dns/rrl.h"
#include "dataplane/dns/zone_table.h"
#include "tests/dns/test_zone.h"

using namespace ep::dns;

namespace {

constexpr uint64_t kMs = 1'000'000;

Rrl make(uint32_t rate, uint32_t slip) {
    RrlConfig c;
    c.rate = rate;
    c.slip = slip;
    c.buckets = 1024;
    Rrl r;
    EXPECT_TRUE(r.init(c));
    return r;
}

const uint8_t kA1[4] = {198, 51, 100, 1};
const uint8_t kA2[4] = {198, 51, 100, 200};  // same /24
const uint8_t kB[4] = {198, 51, 101, 1};     // another /24

// Verdicts of n answers at time t.
std::string run(Rrl &r, const uint8_t *addr, int n, uint64_t t, uint64_t name = 7) {
    std::string s;
    for (int i = 0; i < n; ++i) {
        const RrlVerdict v = r.check(1, addr, 1, name, t);
        s += v == RrlVerdict::pass ? 'p' : v == RrlVerdict::drop ? 'd' : 's';
    }
    return s;
}

}  // namespace

TEST(Rrl, RateThenDropWithEverySecondSlipped) {
    Rrl r = make(5, 2);
    EXPECT_EQ(run(r, kA1, 10, 0), "pppppdsdsd");
    // The same /24 shares the bucket; another /24 and another name do not.
    EXPECT_EQ(run(r, kA2, 2, 0), "sd");
    EXPECT_EQ(run(r, kB, 6, 0), "pppppd");
    EXPECT_EQ(run(r, kA1, 1, 0, 8), "p");
}

TEST(Rrl, TokensComeBackWithTime) {
    Rrl r = make(10, 0);  // slip 0: every limited answer dropped
    EXPECT_EQ(run(r, kA1, 12, 0), "ppppppppppdd");
    EXPECT_EQ(run(r, kA1, 2, 100 * kMs), "pd");  // 100 ms at 10/s: one token
    EXPECT_EQ(run(r, kA1, 1, 150 * kMs), "d");   // half a token
    EXPECT_EQ(run(r, kA1, 1, 200 * kMs), "p");   // the other half
    // A long pause refills one second's worth, no more (no burst savings).
    EXPECT_EQ(run(r, kA1, 11, 60'000 * kMs), "ppppppppppd");
}

TEST(Rrl, SlipOneTruncatesAllAndRateZeroIsOff) {
    Rrl r = make(1, 1);
    EXPECT_EQ(run(r, kA1, 4, 0), "psss");
    Rrl off = make(0, 2);
    EXPECT_FALSE(off.enabled());
    EXPECT_EQ(run(off, kA1, 100, 0), std::string(100, 'p'));
}

TEST(Rrl, IPv6SharesPer56) {
    RrlConfig c;
    c.rate = 1;
    c.slip = 0;
    c.buckets = 64;
    Rrl r;
    ASSERT_TRUE(r.init(c));
    uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0x02, 0x00};
    uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0x02, 0xff, 9, 9};  // same /56
    uint8_t other[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0x03};          // next /56
    EXPECT_EQ(r.check(2, a, 1, 0, 0), RrlVerdict::pass);
    EXPECT_EQ(r.check(2, b, 1, 0, 0), RrlVerdict::drop);
    EXPECT_EQ(r.check(2, other, 1, 0, 0), RrlVerdict::pass);
}

TEST(Rrl, BadConfigsAreRejected) {
    Rrl r;
    RrlConfig c;
    c.rate = 1;
    c.buckets = 1000;  // not a power of two
    EXPECT_FALSE(r.init(c));
    c.buckets = 1024;
    c.v4_prefix = 33;
    EXPECT_FALSE(r.init(c));
}

TEST(Rrl, ApplyDropsOrSlipsRealAnswers) {
    std::string err;
    auto table = ep::load_zone_texts({{"example.test.zone", kTestZone}}, &err);
    ASSERT_TRUE(table) << err;
    AnswerEnv env;
    env.zones = table.get();
    env.client_ip = 0x016433c6;  // 198.51.100.1
    Counters c;
    Rrl r = make(1, 2);
    // www.example.test A, upper case in the question (0x20): same bucket.
    auto query = [](const char *first) {
        std::vector<uint8_t> m = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3};
        m.insert(m.end(), first, first + 3);
        const uint8_t rest[] = {7,   'e', 'x', 'a', 'm', 'p', 'l', 'e', 4,
                                't', 'e', 's', 't', 0,   0,   1,   0,   1};
        m.insert(m.end(), rest, rest + sizeof rest);
        return m;
    };
    const uint8_t src[4] = {198, 51, 100, 1};
    std::vector<uint8_t> out(1232);
    std::vector<uint8_t> q = query("www");
    int n = respond(q.data(), static_cast<uint32_t>(q.size()), out.data(), 1232, env, c);
    ASSERT_GT(n, static_cast<int>(q.size()));
    EXPECT_EQ(rrl_apply(r, out.data(), n, 1, src, 0, c), n);  // within the rate
    q = query("WwW");
    n = respond(q.data(), static_cast<uint32_t>(q.size()), out.data(), 1232, env, c);
    EXPECT_EQ(rrl_apply(r, out.data(), n, 1, src, 0, c), -1);  // limited #1: dropped
    n = respond(q.data(), static_cast<uint32_t>(q.size()), out.data(), 1232, env, c);
    const int t = rrl_apply(r, out.data(), n, 1, src, 0, c);  // limited #2: slipped
    ASSERT_EQ(t, static_cast<int>(q.size()));                 // header and question
    EXPECT_EQ(std::memcmp(out.data() + 12, q.data() + 12, q.size() - 12), 0);
    EXPECT_EQ(out[2] & 0x82, 0x82);  // QR, TC
    EXPECT_EQ(get16(out.data() + 6) | get16(out.data() + 8) | get16(out.data() + 10), 0);
    EXPECT_EQ(c.rrl_limited, 2u);
    EXPECT_EQ(c.rrl_dropped, 1u);
    EXPECT_EQ(c.rrl_slipped, 1u);
    // NXDOMAIN for any name shares one bucket per source prefix: a random
    // subdomain flood is limited as one.
    q = query("aaa");
    n = respond(q.data(), static_cast<uint32_t>(q.size()), out.data(), 1232, env, c);
    EXPECT_EQ(rrl_apply(r, out.data(), n, 1, src, 0, c), n);
    q = query("bbb");
    n = respond(q.data(), static_cast<uint32_t>(q.size()), out.data(), 1232, env, c);
    EXPECT_EQ(rrl_apply(r, out.data(), n, 1, src, 0, c), -1);
    EXPECT_EQ(c.rrl_dropped, 2u);
}

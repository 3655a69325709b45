// The active prober's logic (dataplane/probe/prober.h) driven with bytes and
// time: what it sends, which replies it takes, the RST for a SYN-ACK, the
// timeouts and the rate bound.
#include "dataplane/probe/prober.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "dataplane/net/byte_order.h"
#include "dataplane/net/csum32.h"

using namespace ep::probe;

namespace {

constexpr uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    // network order as it sits in memory (little-endian host)
    return uint32_t{a} | uint32_t{b} << 8 | uint32_t{c} << 16 | uint32_t{d} << 24;
}
const uint32_t kLocal = ip4(10, 77, 0, 2), kTarget = ip4(198, 51, 100, 1);

using ep::net::get16;
using ep::net::get32;
using ep::net::put16;
using ep::net::put32;

bool sum_ok(const uint8_t *p, size_t n, uint64_t extra = 0) {
    return ep::net::fold_sum(ep::net::sum_bytes(p, n) + extra) == 0xffff;
}
void fix_ip(uint8_t *ip) {
    ip[10] = ip[11] = 0;
    const uint16_t c = static_cast<uint16_t>(~ep::net::fold_sum(ep::net::sum_bytes(ip, 20)));
    std::memcpy(ip + 10, &c, 2);
}
void fix_tcp(uint8_t *ip, uint16_t tcp_len) {
    uint8_t *t = ip + 20;
    t[16] = t[17] = 0;
    uint32_t s, d;
    std::memcpy(&s, ip + 12, 4);
    std::memcpy(&d, ip + 16, 4);
    const uint16_t c = static_cast<uint16_t>(~ep::net::fold_sum(
        ep::net::pseudo_sum_v4(s, d, 6, tcp_len) + ep::net::sum_bytes(t, tcp_len)));
    std::memcpy(t + 16, &c, 2);
}
uint64_t tcp_pseudo(const uint8_t *ip, uint16_t len) {
    uint32_t s, d;
    std::memcpy(&s, ip + 12, 4);
    std::memcpy(&d, ip + 16, 4);
    return ep::net::pseudo_sum_v4(s, d, 6, len);
}

// What the target's host answers to an echo request (RFC 792).
std::vector<uint8_t> echo_reply_to(const uint8_t *req, uint16_t len) {
    std::vector<uint8_t> r(req, req + len);
    std::memcpy(r.data() + 12, req + 16, 4);
    std::memcpy(r.data() + 16, req + 12, 4);
    r[20] = 0;  // echo reply
    r[22] = r[23] = 0;
    const uint16_t c =
        static_cast<uint16_t>(~ep::net::fold_sum(ep::net::sum_bytes(&r[20], len - 20u)));
    std::memcpy(&r[22], &c, 2);
    fix_ip(r.data());
    return r;
}

// A segment from the target back to our SYN's source port.
std::vector<uint8_t> tcp_answer(const uint8_t *syn, uint8_t flags, uint32_t ack) {
    std::vector<uint8_t> r(40, 0);
    r[0] = 0x45;
    put16(&r[2], 40);
    r[8] = 64;
    r[9] = 6;
    std::memcpy(&r[12], syn + 16, 4);
    std::memcpy(&r[16], syn + 12, 4);
    uint8_t *t = &r[20];
    put16(t, get16(syn + 22));      // from the port we probed
    put16(t + 2, get16(syn + 20));  // to our source port
    put32(t + 4, 777000);
    put32(t + 8, ack);
    t[12] = 5 << 4;
    t[13] = flags;
    put16(t + 14, 65535);
    fix_ip(r.data());
    fix_tcp(r.data(), 20);
    return r;
}

constexpr uint8_t kSyn = 0x02, kRst = 0x04, kAck = 0x10;

Config config() {
    Config c;
    c.local_ip = kLocal;
    c.rate_per_s = 1000;
    c.burst = 4;
    c.timeout_ns = 1'000'000'000;
    c.seed = 42;
    return c;
}

}  // namespace

TEST(Prober, IcmpEchoIsSentAndItsReplyMeasured) {
    Prober p(config());
    ASSERT_TRUE(p.post({kTarget, 7, 0, Method::kIcmp}));
    uint32_t dst = 0;
    ASSERT_TRUE(p.due(1'000'000, &dst));
    EXPECT_EQ(dst, kTarget);
    uint8_t buf[Prober::kMaxLen];
    const uint16_t len = p.send(1'000'000, buf, sizeof buf);
    ASSERT_EQ(len, Prober::kIcmpLen);
    EXPECT_EQ(buf[0], 0x45);
    EXPECT_EQ(buf[9], 1);
    EXPECT_EQ(get16(buf + 2), len);
    EXPECT_TRUE(sum_ok(buf, 20));
    EXPECT_EQ(buf[20], 8);  // echo request
    EXPECT_TRUE(sum_ok(buf + 20, len - 20u));
    uint32_t src, to;
    std::memcpy(&src, buf + 12, 4);
    std::memcpy(&to, buf + 16, 4);
    EXPECT_EQ(src, kLocal);
    EXPECT_EQ(to, kTarget);
    EXPECT_EQ(p.in_flight(), 1u);

    const auto reply = echo_reply_to(buf, len);
    uint8_t rst[Prober::kRstLen];
    uint16_t rst_len = 9;
    EXPECT_EQ(p.input(reply.data(), static_cast<uint32_t>(reply.size()), 3'500'000, rst, &rst_len),
              Match::kAnswer);
    EXPECT_EQ(rst_len, 0);
    Result r;
    ASSERT_TRUE(p.take(&r));
    EXPECT_EQ(r.outcome, Outcome::kAnswered);
    EXPECT_EQ(r.target, kTarget);
    EXPECT_EQ(r.cookie, 7u);
    EXPECT_EQ(r.rtt_us, 2500u);
    EXPECT_EQ(p.in_flight(), 0u);
    // The same reply again: nothing in flight any more.
    EXPECT_EQ(p.input(reply.data(), static_cast<uint32_t>(reply.size()), 4'000'000, rst, &rst_len),
              Match::kStray);
    EXPECT_FALSE(p.take(&r));
}

TEST(Prober, ReplyFromAnotherAddressOrIdentifierIsNotTaken) {
    Prober p(config());
    p.post({kTarget, 1, 0, Method::kIcmp});
    uint8_t buf[Prober::kMaxLen];
    const uint16_t len = p.send(0, buf, sizeof buf);
    auto reply = echo_reply_to(buf, len);
    uint8_t rst[Prober::kRstLen];
    uint16_t rst_len;
    // From another host: ours by identifier, but no probe of it in flight.
    auto other = reply;
    const uint32_t x = ip4(198, 51, 100, 99);
    std::memcpy(&other[12], &x, 4);
    fix_ip(other.data());
    EXPECT_EQ(p.input(other.data(), 36, 10, rst, &rst_len), Match::kStray);
    // Someone else's ping (another identifier): the echo path's, not ours.
    auto ping = reply;
    put16(&ping[24], 0x1234);
    ping[22] = ping[23] = 0;
    const uint16_t c = static_cast<uint16_t>(~ep::net::fold_sum(ep::net::sum_bytes(&ping[20], 16)));
    std::memcpy(&ping[22], &c, 2);
    EXPECT_EQ(p.input(ping.data(), 36, 10, rst, &rst_len), Match::kNotOurs);
    // An echo request to us: the echo server's.
    EXPECT_EQ(p.input(buf, len, 10, rst, &rst_len), Match::kNotOurs);  // dst is the target, not us
    // A corrupted answer.
    auto bad = reply;
    bad[30] ^= 0xff;
    EXPECT_EQ(p.input(bad.data(), 36, 10, rst, &rst_len), Match::kBadChecksum);
    EXPECT_EQ(p.in_flight(), 1u);
    EXPECT_EQ(p.input(reply.data(), 36, 10, rst, &rst_len), Match::kAnswer);
}

TEST(Prober, SynAckAnswersTheSynAndIsReset) {
    Prober p(config());
    p.post({kTarget, 3, 80, Method::kTcp});
    uint8_t buf[Prober::kMaxLen];
    const uint16_t len = p.send(0, buf, sizeof buf);
    ASSERT_EQ(len, Prober::kSynLen);
    EXPECT_EQ(buf[9], 6);
    EXPECT_TRUE(sum_ok(buf, 20));
    EXPECT_TRUE(sum_ok(buf + 20, 24, tcp_pseudo(buf, 24)));
    const uint16_t sport = get16(buf + 20);
    EXPECT_GE(sport, 61000);
    EXPECT_LT(sport, 61000 + Prober::kSlots);
    EXPECT_EQ(get16(buf + 22), 80);
    EXPECT_EQ(buf[33], kSyn);
    const uint32_t isn = get32(buf + 24);

    uint8_t rst[Prober::kRstLen];
    uint16_t rst_len = 0;
    // A SYN-ACK acknowledging something else is no answer (RFC 9293 3.10.7.3),
    // but it still gets a RST: nothing may stay half open.
    auto wrong = tcp_answer(buf, kSyn | kAck, isn + 2);
    EXPECT_EQ(p.input(wrong.data(), 40, 500'000, rst, &rst_len), Match::kStray);
    EXPECT_EQ(rst_len, Prober::kRstLen);
    EXPECT_EQ(p.in_flight(), 1u);

    auto synack = tcp_answer(buf, kSyn | kAck, isn + 1);
    EXPECT_EQ(p.input(synack.data(), 40, 1'000'000, rst, &rst_len), Match::kAnswer);
    ASSERT_EQ(rst_len, Prober::kRstLen);
    // The RST: from our probe port to the target's, sequence = its ACK, no ACK bit.
    uint32_t s, d;
    std::memcpy(&s, rst + 12, 4);
    std::memcpy(&d, rst + 16, 4);
    EXPECT_EQ(s, kLocal);
    EXPECT_EQ(d, kTarget);
    EXPECT_EQ(get16(rst + 20), sport);
    EXPECT_EQ(get16(rst + 22), 80);
    EXPECT_EQ(get32(rst + 24), isn + 1);
    EXPECT_EQ(rst[33], kRst);
    EXPECT_TRUE(sum_ok(rst, 20));
    EXPECT_TRUE(sum_ok(rst + 20, 20, tcp_pseudo(rst, 20)));
    Result r;
    ASSERT_TRUE(p.take(&r));
    EXPECT_EQ(r.outcome, Outcome::kAnswered);
    EXPECT_EQ(r.method, Method::kTcp);
    EXPECT_EQ(r.port, 80);
    EXPECT_EQ(r.rtt_us, 1000u);
    EXPECT_EQ(p.stats().rst_sent, 2u);
}

TEST(Prober, RstForTheSynAnswersIt) {
    Prober p(config());
    p.post({kTarget, 4, 443, Method::kTcp});
    uint8_t buf[Prober::kMaxLen];
    p.send(0, buf, sizeof buf);
    const uint32_t isn = get32(buf + 24);
    auto rstack = tcp_answer(buf, kRst | kAck, isn + 1);
    uint8_t rst[Prober::kRstLen];
    uint16_t rst_len = 0;
    EXPECT_EQ(p.input(rstack.data(), 40, 2'000'000, rst, &rst_len), Match::kAnswer);
    EXPECT_EQ(rst_len, 0);  // nothing to reset
    Result r;
    ASSERT_TRUE(p.take(&r));
    EXPECT_EQ(r.outcome, Outcome::kReset);
    EXPECT_EQ(r.rtt_us, 2000u);
}

TEST(Prober, TcpToOtherPortsIsNotOurs) {
    Prober p(config());
    p.post({kTarget, 4, 443, Method::kTcp});
    uint8_t buf[Prober::kMaxLen];
    p.send(0, buf, sizeof buf);
    auto seg = tcp_answer(buf, kSyn | kAck, get32(buf + 24) + 1);
    put16(&seg[22], 60999);  // the TCP stack's ephemeral range
    fix_tcp(seg.data(), 20);
    uint8_t rst[Prober::kRstLen];
    uint16_t rst_len = 0;
    EXPECT_EQ(p.input(seg.data(), 40, 10, rst, &rst_len), Match::kNotOurs);
    EXPECT_EQ(rst_len, 0);
}

TEST(Prober, UnansweredProbesTimeOutAndLateAnswersAreStray) {
    Prober p(config());
    p.post({kTarget, 5, 0, Method::kIcmp});
    uint8_t buf[Prober::kMaxLen];
    const uint16_t len = p.send(0, buf, sizeof buf);
    Result r;
    p.expire(999'999'999);
    EXPECT_FALSE(p.take(&r));
    p.expire(1'000'000'000);
    ASSERT_TRUE(p.take(&r));
    EXPECT_EQ(r.outcome, Outcome::kUnanswered);
    EXPECT_EQ(r.cookie, 5u);
    const auto late = echo_reply_to(buf, len);
    uint8_t rst[Prober::kRstLen];
    uint16_t rst_len;
    EXPECT_EQ(p.input(late.data(), len, 1'100'000'000, rst, &rst_len), Match::kStray);
    EXPECT_EQ(p.stats().unanswered, 1u);
}

TEST(Prober, ANextHopThatNeverResolvesIsNoRoute) {
    Prober p(config());
    p.post({kTarget, 6, 0, Method::kIcmp});
    uint32_t dst;
    ASSERT_TRUE(p.due(1000, &dst));
    p.blocked(1000);
    p.blocked(500'000'000);
    Result r;
    EXPECT_FALSE(p.take(&r));
    ASSERT_TRUE(p.due(1'000'001'000, &dst));
    p.blocked(1'000'001'000);
    ASSERT_TRUE(p.take(&r));
    EXPECT_EQ(r.outcome, Outcome::kNoRoute);
    EXPECT_FALSE(p.due(1'000'002'000, &dst));  // the queue is empty
}

// The bound: over any window, at most rate x window + burst probes leave,
// however many targets wait and however often the lcore asks.
TEST(Prober, TheRateIsBoundedWhateverTheTargets) {
    Config c = config();
    c.rate_per_s = 10;
    c.burst = 1;
    c.timeout_ns = 50'000'000;
    Prober p(c);
    uint64_t now = 0;
    unsigned sent = 0;
    uint8_t buf[Prober::kMaxLen];
    for (int i = 0; i < 3000; ++i) {  // 3 s, a turn every millisecond
        while (p.waiting() < Prober::kQueue)
            p.post({kTarget, static_cast<uint32_t>(i), 0, Method::kIcmp});
        while (p.send(now, buf, sizeof buf) > 0) ++sent;
        p.expire(now);
        Result r;
        while (p.take(&r)) {
        }
        now += 1'000'000;
    }
    EXPECT_LE(sent, 10u * 3 + 1);
    EXPECT_GE(sent, 10u * 3 - 1);
}

TEST(Prober, SlotsAreBoundedAndTheQueueRefusesWhenFull) {
    Config c = config();
    c.rate_per_s = 1e9;
    c.burst = 100000;
    Prober p(c);
    for (uint32_t i = 0; i < Prober::kQueue; ++i)
        EXPECT_TRUE(p.post({kTarget, i, 0, Method::kIcmp}));
    EXPECT_FALSE(p.post({kTarget, 999, 0, Method::kIcmp}));
    EXPECT_EQ(p.stats().queue_full, 1u);
    uint8_t buf[Prober::kMaxLen];
    unsigned sent = 0;
    while (p.send(1, buf, sizeof buf) > 0) ++sent;
    EXPECT_EQ(sent, Prober::kSlots);
    EXPECT_EQ(p.in_flight(), Prober::kSlots);
}

// Scripted tests: three-way handshake and option negotiation (RFC 9293 3.5,
// RFC 7323, RFC 2018, RFC 9293 3.7.1).
#include "tests/tcp/harness.h"

namespace ep::tcp::test {
namespace {

TEST(Handshake, PassiveAllOptions) {
    Harness h;
    h.in(0, "S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>");
    h.out("S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,TS val * ecr 100,wscale 1>");
    h.in(10, ". 1:1(0) ack 1 win 1024 <nop,nop,TS val 110 ecr *>");
    h.no_out();
    ASSERT_EQ(h.app.accepted, 1);
    ConnInfo i = h.stack.info(h.app.conn);
    EXPECT_EQ(i.state, State::kEstablished);
    EXPECT_TRUE(i.ts);
    EXPECT_TRUE(i.sack);
    EXPECT_TRUE(i.wscale);
    EXPECT_EQ(i.snd_wscale, 7);
    EXPECT_EQ(i.snd_wnd, 1024u << 7);
    EXPECT_EQ(i.mss, 1460 - 12);  // RFC 6691: room for the timestamp option
    EXPECT_EQ(h.stack.counters().conn_passive_opened, 1u);
}

TEST(Handshake, PassiveNoOptions) {
    Harness h;
    h.in(0, "S 0:0(0) win 8192");
    h.out("S. 0:0(0) ack 1 win 65535 <mss 1460>");
    h.in(10, ". 1:1(0) ack 1 win 8192");
    ConnInfo i = h.stack.info(h.app.conn);
    EXPECT_FALSE(i.ts);
    EXPECT_FALSE(i.sack);
    EXPECT_FALSE(i.wscale);
    EXPECT_EQ(i.mss, 536);  // RFC 9293 3.7.1 default when no MSS option
    EXPECT_EQ(i.snd_wnd, 8192u);
}

TEST(Handshake, ActiveOpen) {
    Harness h(Harness::default_config(), false);
    h.connect();
    h.out("S 0:0(0) win 65535 <mss 1460,sackOK,TS val * ecr 0,wscale 1>");
    h.in(5, "S. 0:0(0) ack 1 win 65535 <mss 1400,sackOK,TS val 7 ecr *,nop,wscale 2>");
    h.out(". 1:1(0) ack 1 <nop,nop,TS val * ecr 7>");
    EXPECT_EQ(h.app.connected, 1);
    ConnInfo i = h.stack.info(h.app.conn);
    EXPECT_EQ(i.state, State::kEstablished);
    EXPECT_EQ(i.mss, 1400 - 12);
    EXPECT_EQ(i.snd_wscale, 2);
    EXPECT_GT(i.srtt_ns, 0u);
}

}  // namespace
}  // namespace ep::tcp::test

namespace ep::tcp::test {
namespace {

TEST(Handshake, Ipv6Addresses) {
    Harness h;
    const uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    h.local = IpAddr::v6(a);
    h.peer = IpAddr::v6(b);
    EXPECT_FALSE(h.local.is_v4());
    h.in(0, "S 0:0(0) win 65535 <mss 1440>");
    auto c = h.pop();
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->seg.src == h.local);
    EXPECT_TRUE(c->seg.dst == h.peer);
    h.in(1, ". 1:1(0) ack 1");
    EXPECT_EQ(h.app.accepted, 1);
    EXPECT_EQ(h.stack.info(h.app.conn).mss, 1440);
}

}  // namespace
}  // namespace ep::tcp::test

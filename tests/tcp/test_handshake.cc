// Scripted tests: three-way handshake and option negotiation (RFC 9293 3.5,
// RFC 7323, RFC 2018, RFC 9293 3.7.1).
#include <tuple>

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

// accept_default() builds its two segments instead of parsing the script
// it stands for (the libFuzzer target calls it per input): every option set
// must leave the stack exactly where the script does, down to the segments
// sent next.
TEST(Handshake, AcceptDefaultIsTheScriptedHandshake) {
    for (int m = 0; m < 8; ++m) {
        const bool ts = m & 1, sack = m & 2, ws = m & 4;
        SCOPED_TRACE(m);
        Harness direct;
        const ConnId a = direct.accept_default(ts, sack, ws);
        Harness scripted;
        std::string o = "mss 1460";
        if (sack) o += ",sackOK";
        if (ts) o += ",TS val 100 ecr 0";
        if (ws) o += ",wscale 7";
        scripted.in(0, "S 0:0(0) win 65535 <" + o + ">");
        ASSERT_TRUE(scripted.pop().has_value());
        scripted.in(
            1, std::string(". 1:1(0) ack 1 win 1024") + (ts ? " <nop,nop,TS val 101 ecr *>" : ""));
        ASSERT_EQ(scripted.app.accepted, 1);
        const ConnId b = scripted.app.conn;
        auto fields = [](const ConnInfo &i) {
            return std::tuple(i.state, i.snd_wnd, i.mss, i.ts, i.sack, i.snd_wscale, i.rcv_wscale);
        };
        EXPECT_EQ(fields(direct.stack.info(a)), fields(scripted.stack.info(b)));
        static const uint8_t body[8000] = {};
        direct.stack.send_copy(a, body, sizeof body);
        scripted.stack.send_copy(b, body, sizeof body);
        int n = 0;
        while (auto d = direct.pop()) {
            auto s = scripted.pop();
            ASSERT_TRUE(s.has_value());
            EXPECT_EQ(direct.format(d->seg), scripted.format(s->seg));
            ++n;
        }
        EXPECT_FALSE(scripted.pop().has_value());
        EXPECT_GT(n, 0);  // one 1024-byte segment without window scaling, more with it
    }
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

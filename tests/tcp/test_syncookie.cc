// SYN cookies (RFC 4987 3.6): when the SYN queue is full the listener answers
// statelessly; a valid cookie ACK creates the connection, a forged one is
// rejected and counted.
#include "tests/tcp/harness.h"

namespace ep::tcp::test {
namespace {

struct CookieHarness : Harness {
    CookieHarness() {
        stack.unlisten(local_port);
        stack.listen(local_port, &app, 1);  // a SYN queue of one
        // Fill the queue with a half-open connection from port 5000.
        in(0, "S 0:0(0) win 65535 <mss 1460>");
        EXPECT_TRUE(pop());
        iss_known = false;
        peer_port = 5001;
    }
};

TEST(SynCookie, QueueFullSendsCookieAndValidAckCreatesConnection) {
    CookieHarness h;
    h.in(10, "S 0:0(0) win 65535 <mss 1460,sackOK,TS val 500 ecr 0,nop,wscale 7>");
    EXPECT_EQ(h.stack.counters().syn_queue_full, 1u);
    EXPECT_EQ(h.stack.counters().syncookies_sent, 1u);
    EXPECT_EQ(h.stack.connections(), 1u);  // no state for the cookie SYN
    h.out("S. 0:0(0) ack 1 <mss 1460,sackOK,TS val * ecr 500,wscale 1>");
    // wscale 7 and SACK ride in the low bits of our TSval.
    EXPECT_EQ(h.last_tsval & 0xf, 7u);
    EXPECT_EQ(h.last_tsval & 0x10, 0x10u);
    h.in(20, ". 1:1(0) ack 1 win 1024 <nop,nop,TS val 510 ecr *>");
    h.no_out();
    EXPECT_EQ(h.stack.counters().syncookies_valid, 1u);
    EXPECT_EQ(h.app.accepted, 1);
    ConnInfo i = h.stack.info(h.app.conn);
    EXPECT_EQ(i.state, State::kEstablished);
    EXPECT_TRUE(i.sack);
    EXPECT_TRUE(i.ts);
    EXPECT_EQ(i.snd_wscale, 7);
    EXPECT_EQ(i.snd_wnd, 1024u << 7);
    EXPECT_EQ(i.mss, 1460 - 12);
    // The connection carries data both ways.
    h.in(30, "P. 1:101(100) ack 1 win 1024 <nop,nop,TS val 520 ecr *>");
    EXPECT_EQ(h.app.data.size(), 100u);
    uint8_t d[10] = {};
    h.stack.send_copy(h.app.conn, d, 10);
    h.out("P. 1:11(10) ack 101");
}

TEST(SynCookie, CookieAckWithDataIsDelivered) {
    CookieHarness h;
    h.in(10, "S 0:0(0) win 65535 <mss 1460>");
    h.out("S. 0:0(0) ack 1 <mss 1460>");  // no TS: no wscale/SACK either
    h.in(20, "P. 1:51(50) ack 1 win 4096");
    EXPECT_EQ(h.stack.counters().syncookies_valid, 1u);
    EXPECT_EQ(h.app.data.size(), 50u);
    ConnInfo i = h.stack.info(h.app.conn);
    EXPECT_FALSE(i.sack);
    EXPECT_FALSE(i.wscale);
    EXPECT_EQ(i.mss, 1460);
}

TEST(SynCookie, ForgedAckIsRejectedAndCounted) {
    CookieHarness h;
    h.in(10, "S 0:0(0) win 65535 <mss 1460>");
    ASSERT_TRUE(h.pop());
    h.peer_port = 5002;  // never sent a SYN
    h.local_iss = 0x12345678;
    h.in(20, ". 1:1(0) ack 1 win 1024");
    h.out("R 1:1(0)");
    EXPECT_EQ(h.stack.counters().syncookies_invalid, 1u);
    EXPECT_EQ(h.stack.counters().syncookies_valid, 0u);
    EXPECT_EQ(h.app.accepted, 0);
}

TEST(SynCookie, ExpiredCookieIsRejected) {
    CookieHarness h;
    h.in(10, "S 0:0(0) win 65535 <mss 1460>");
    ASSERT_TRUE(h.pop());
    // Two 64-second periods later the cookie no longer validates.
    h.in(10 + 129000, ". 1:1(0) ack 1 win 1024");
    EXPECT_EQ(h.app.accepted, 0);
    EXPECT_EQ(h.stack.counters().syncookies_valid, 0u);
}

TEST(SynCookie, SynFloodDoesNotLockOutClients) {
    CookieHarness h;
    for (int i = 0; i < 100; ++i) {
        h.peer_port = static_cast<uint16_t>(10000 + i);
        h.in(10, "S 0:0(0) win 65535 <mss 1460>");
    }
    EXPECT_EQ(h.stack.counters().syncookies_sent, 100u);
    EXPECT_EQ(h.stack.connections(), 1u);
    h.cap.q.clear();
    // A real client completes the handshake.
    h.peer_port = 20000;
    h.iss_known = false;
    h.in(20, "S 0:0(0) win 65535 <mss 1460>");
    h.out("S. 0:0(0) ack 1");
    h.in(21, ". 1:1(0) ack 1 win 1024");
    EXPECT_EQ(h.app.accepted, 1);
}

TEST(SynCookie, DisabledDropsWhenQueueFull) {
    StackConfig cfg = Harness::default_config();
    cfg.syn_cookies = false;
    Harness h(cfg);
    h.stack.unlisten(h.local_port);
    h.stack.listen(h.local_port, &h.app, 1);
    h.in(0, "S 0:0(0) win 65535 <mss 1460>");
    ASSERT_TRUE(h.pop());
    h.peer_port = 5001;
    h.in(1, "S 0:0(0) win 65535 <mss 1460>");
    h.no_out();
    EXPECT_EQ(h.stack.counters().backlog_drop, 1u);
}

}  // namespace
}  // namespace ep::tcp::test

// Scripted tests of resets and blind-injection defenses (RFC 9293 3.10.7,
// RFC 5961 challenge ACKs), closed ports, handshake retransmissions and
// simultaneous open.
#include "tests/tcp/harness.h"

namespace ep::tcp::test {
namespace {

TEST(Rst, ExactSequenceResets) {
    Harness h;
    ConnId c = h.accept_default(false, false, false);
    h.in(10, "R 1:1(0)");
    h.no_out();
    EXPECT_FALSE(h.stack.alive(c));
    EXPECT_EQ(h.app.closed, 1);
    EXPECT_EQ(h.app.reason, CloseReason::kReset);
    EXPECT_EQ(h.stack.counters().rst_rx, 1u);
}

TEST(Rst, InWindowRstGetsChallengeAck) {
    Harness h;
    ConnId c = h.accept_default(false, false, false);
    h.in(10, "R 100:100(0)");
    h.out(". 1:1(0) ack 1");
    EXPECT_TRUE(h.stack.alive(c));
    EXPECT_EQ(h.stack.counters().challenge_acks, 1u);
}

TEST(Rst, OutOfWindowRstIsDropped) {
    Harness h;
    ConnId c = h.accept_default(false, false, false);
    h.in(10, "R 1000000:1000000(0)");
    h.no_out();
    EXPECT_TRUE(h.stack.alive(c));
}

TEST(Rst, SynInEstablishedGetsChallengeAck) {
    Harness h;
    ConnId c = h.accept_default(false, false, false);
    h.in(10, "S 500:500(0) win 65535");
    h.out(". 1:1(0) ack 1");
    EXPECT_TRUE(h.stack.alive(c));
    EXPECT_EQ(h.stack.info(c).state, State::kEstablished);
}

TEST(Rst, ChallengeAcksAreRateLimited) {
    StackConfig cfg = Harness::default_config();
    cfg.challenge_ack_limit = 2;
    Harness h(cfg);
    h.accept_default(false, false, false);
    h.in(10, "R 100:100(0)");
    h.in(11, "R 200:200(0)");
    h.in(12, "R 300:300(0)");
    h.out(". 1:1(0) ack 1");
    h.out(". 1:1(0) ack 1");
    h.no_out();
    EXPECT_EQ(h.stack.counters().challenge_ack_limited, 1u);
    h.in(1200, "R 400:400(0)");  // a new second
    h.out(". 1:1(0) ack 1");
}

TEST(Rst, AckOfUnsentDataIsAckedAndDropped) {
    Harness h;
    h.accept_default(false, false, false);
    h.in(10, ". 1:1(0) ack 5000");
    h.out(". 1:1(0) ack 1");
    EXPECT_EQ(h.stack.counters().ack_too_new, 1u);
}

TEST(Rst, SynToClosedPortGetsRstAck) {
    Harness h(Harness::default_config(), false);
    h.in(0, "S 0:0(0) win 65535 <mss 1460>");
    h.out("R. 0:0(0) ack 1");
    EXPECT_EQ(h.stack.counters().no_listener, 1u);
}

TEST(Rst, AckToClosedPortGetsRst) {
    Harness h(Harness::default_config(), false);
    h.in(0, ". 1:1(0) ack 5");
    h.out("R 5:5(0)");
    h.in(1, "R 1:1(0)");
    h.no_out();  // never answer a RST
}

TEST(Rst, AckToListenerGetsRst) {
    Harness h;
    h.in(0, ". 1:1(0) ack 77");
    h.out("R 77:77(0)");
    EXPECT_EQ(h.stack.connections(), 0u);
}

TEST(Rst, RstInSynReceivedReturnsToListen) {
    Harness h;
    h.in(0, "S 0:0(0) win 65535 <mss 1460>");
    h.out("S. 0:0(0) ack 1");
    h.in(1, "R 1:1(0)");
    h.no_out();
    EXPECT_EQ(h.stack.connections(), 0u);
    EXPECT_EQ(h.app.closed, 0);  // the application never saw it
}

TEST(Handshake, SynAckRetransmittedWithBackoff) {
    Harness h;
    h.in(0, "S 0:0(0) win 65535 <mss 1460>");
    h.out("S. 0:0(0) ack 1 <mss 1460>");
    h.at(999).no_out();
    h.at(1000).out("S. 0:0(0) ack 1 <mss 1460>");
    h.at(2999).no_out();
    h.at(3000).out("S. 0:0(0) ack 1 <mss 1460>");
    // A retransmitted SYN is answered with the SYN-ACK at once.
    h.in(3100, "S 0:0(0) win 65535 <mss 1460>");
    h.out("S. 0:0(0) ack 1 <mss 1460>");
    h.in(3200, ". 1:1(0) ack 1");
    EXPECT_EQ(h.app.accepted, 1);
}

TEST(Handshake, ActiveSynRetriesThenTimeout) {
    StackConfig cfg = Harness::default_config();
    cfg.syn_retries = 2;
    Harness h(cfg, false);
    h.connect();
    h.out("S 0:0(0)");
    h.at(1000).out("S 0:0(0)");
    h.at(3000).out("S 0:0(0)");
    h.at(6999).no_out();
    h.at(7000).no_out();
    EXPECT_EQ(h.app.closed, 1);
    EXPECT_EQ(h.app.reason, CloseReason::kTimeout);
    EXPECT_EQ(h.stack.counters().syn_timeouts, 1u);
}

TEST(Handshake, RstAckInSynSentRefuses) {
    Harness h(Harness::default_config(), false);
    h.connect();
    h.out("S 0:0(0)");
    h.in(5, "R. 0:0(0) ack 1");
    EXPECT_EQ(h.app.closed, 1);
    EXPECT_EQ(h.app.reason, CloseReason::kRefused);
}

TEST(Handshake, CloseInSynSentDeletesTheTcb) {
    Harness h(Harness::default_config(), false);
    ConnId c = h.connect();
    h.out("S 0:0(0)");
    h.stack.close(c);
    EXPECT_EQ(h.app.closed, 1);
    EXPECT_EQ(h.app.reason, CloseReason::kAborted);
    EXPECT_FALSE(h.stack.alive(c));
    h.in(5, "S. 0:0(0) ack 1 win 65535");
    h.out("R 1:1(0)");  // the SYN-ACK now meets a closed port
}

TEST(Handshake, BadAckInSynSentGetsRst) {
    Harness h(Harness::default_config(), false);
    ConnId c = h.connect();
    h.out("S 0:0(0)");
    h.in(5, "S. 0:0(0) ack 77 win 65535");
    h.out("R 77:77(0)");
    EXPECT_TRUE(h.stack.alive(c));
}

TEST(Handshake, SimultaneousOpen) {
    Harness h(Harness::default_config(), false);
    ConnId c = h.connect();
    h.out("S 0:0(0) <mss 1460,sackOK,TS val * ecr 0,wscale 1>");
    // The peer's SYN crosses ours.
    h.in(5, "S 0:0(0) win 65535 <mss 1460,sackOK,TS val 50 ecr 0,nop,wscale 3>");
    h.out("S. 0:0(0) ack 1 <mss 1460,sackOK,TS val * ecr 50,wscale 1>");
    EXPECT_EQ(h.stack.info(c).state, State::kSynRcvd);
    h.in(6, "S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,TS val 51 ecr *,nop,wscale 3>");
    EXPECT_EQ(h.stack.info(c).state, State::kEstablished);
    EXPECT_EQ(h.app.connected, 1);
    EXPECT_EQ(h.stack.counters().simultaneous_open, 1u);
}

TEST(Handshake, ConnectionLimitIsCounted) {
    StackConfig cfg = Harness::default_config();
    cfg.max_connections = 2;
    Harness h(cfg);
    for (int i = 0; i < 3; ++i) {
        h.peer_port = static_cast<uint16_t>(7000 + i);
        h.in(0, "S 0:0(0) win 65535 <mss 1460>");
    }
    EXPECT_EQ(h.stack.connections(), 2u);
    EXPECT_EQ(h.stack.counters().conn_limit, 1u);
}

}  // namespace
}  // namespace ep::tcp::test

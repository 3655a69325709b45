// Scripted connection-release tests: FIN in every state (RFC 9293 3.6 and
// 3.10.7.4), simultaneous close, TIME-WAIT and its bounded table.
#include "tests/tcp/harness.h"

namespace ep::tcp::test {
namespace {

TEST(Close, PassiveCloseEstablishedCloseWaitLastAck) {
    Harness h;
    ConnId c = h.accept_default(false, false, false);
    h.in(10, "F. 1:1(0) ack 1");
    h.out(". 1:1(0) ack 2");
    EXPECT_EQ(h.app.peer_closed, 1);
    EXPECT_EQ(h.stack.info(c).state, State::kCloseWait);
    h.stack.close(c);
    h.out("F. 1:1(0) ack 2");
    EXPECT_EQ(h.stack.info(c).state, State::kLastAck);
    // LAST-ACK: our FIN is retransmitted on RTO.
    h.at(1300).out("F. 1:1(0) ack 2");
    h.in(1310, ". 2:2(0) ack 2");
    h.no_out();
    EXPECT_EQ(h.app.closed, 1);
    EXPECT_EQ(h.app.reason, CloseReason::kNormal);
    EXPECT_EQ(h.stack.time_wait_entries(), 0u);
    EXPECT_EQ(h.stack.connections(), 0u);
}

TEST(Close, FinWithDataInEstablished) {
    Harness h;
    h.accept_default(false, false, false);
    h.in(10, "FP. 1:101(100) ack 1");
    h.out(". 1:1(0) ack 102");
    EXPECT_EQ(h.app.data.size(), 100u);
    EXPECT_EQ(h.app.peer_closed, 1);
}

TEST(Close, OutOfOrderFinWaitsForData) {
    Harness h;
    h.accept_default(false, false, false);
    h.in(10, "F. 101:101(0) ack 1");
    h.out(". 1:1(0) ack 1");
    EXPECT_EQ(h.app.peer_closed, 0);
    h.in(11, "P. 1:101(100) ack 1");
    h.out(". 1:1(0) ack 102");
    EXPECT_EQ(h.app.peer_closed, 1);
}

TEST(Close, ActiveCloseFinWait1FinWait2TimeWait) {
    Harness h;
    ConnId c = h.accept_default(false, false, false);
    h.at(10);
    h.stack.close(c);
    h.out("F. 1:1(0) ack 1");
    EXPECT_EQ(h.stack.info(c).state, State::kFinWait1);
    h.in(20, ". 1:1(0) ack 2");
    h.no_out();
    EXPECT_EQ(h.stack.info(c).state, State::kFinWait2);
    h.in(30, "F. 1:1(0) ack 2");
    h.out(". 2:2(0) ack 2");
    EXPECT_EQ(h.app.closed, 1);
    EXPECT_EQ(h.app.reason, CloseReason::kNormal);
    EXPECT_EQ(h.stack.time_wait_entries(), 1u);
    EXPECT_EQ(h.stack.connections(), 0u);
    // TIME-WAIT: a retransmitted FIN is acknowledged again; RST is ignored (RFC 1337).
    h.in(40, "F. 1:1(0) ack 2");
    h.out(". 2:2(0) ack 2");
    h.in(50, "R 2:2(0)");
    h.no_out();
    EXPECT_EQ(h.stack.counters().tw_rst_ignored, 1u);
    EXPECT_EQ(h.stack.time_wait_entries(), 1u);
    // 2*MSL later the entry is gone; the 4-tuple now meets the listener: RST.
    h.at(30 + 60000).no_out();
    EXPECT_EQ(h.stack.time_wait_entries(), 0u);
    EXPECT_EQ(h.stack.counters().tw_expired, 1u);
    h.in(60100, "F. 1:1(0) ack 2");
    h.out("R 2:2(0)");
}

TEST(Close, FinWait1FinWithAckOfOurFinGoesToTimeWait) {
    Harness h;
    ConnId c = h.accept_default(false, false, false);
    h.stack.close(c);
    h.out("F. 1:1(0) ack 1");
    h.in(20, "F. 1:1(0) ack 2");
    h.out(". 2:2(0) ack 2");
    EXPECT_EQ(h.stack.time_wait_entries(), 1u);
}

TEST(Close, SimultaneousCloseClosing) {
    Harness h;
    ConnId c = h.accept_default(false, false, false);
    h.stack.close(c);
    h.out("F. 1:1(0) ack 1");
    // The peer's FIN crosses ours: it does not acknowledge our FIN yet.
    h.in(20, "F. 1:1(0) ack 1");
    h.out(". 2:2(0) ack 2");
    EXPECT_EQ(h.stack.info(c).state, State::kClosing);
    h.in(30, ". 2:2(0) ack 2");
    h.no_out();
    EXPECT_EQ(h.app.closed, 1);
    EXPECT_EQ(h.stack.time_wait_entries(), 1u);
}

TEST(Close, ShutdownWriteKeepsReceiving) {
    Harness h;
    ConnId c = h.accept_default(false, false, false);
    h.stack.shutdown_write(c);
    h.out("F. 1:1(0) ack 1");
    h.in(10, ". 1:1(0) ack 2");
    EXPECT_EQ(h.stack.info(c).state, State::kFinWait2);
    h.in(20, "P. 1:101(100) ack 2");
    EXPECT_EQ(h.app.data.size(), 100u);  // FIN-WAIT-2 still delivers
}

TEST(Close, OrphanedFinWait2TimesOut) {
    StackConfig cfg = Harness::default_config();
    cfg.fin_wait2_timeout_ns = 1'000'000'000;
    Harness h(cfg);
    ConnId c = h.accept_default(false, false, false);
    h.stack.close(c);
    h.out("F. 1:1(0) ack 1");
    h.in(10, ". 1:1(0) ack 2");
    h.at(1009).no_out();
    EXPECT_EQ(h.app.closed, 0);
    h.at(1010).no_out();
    EXPECT_EQ(h.app.closed, 1);
    EXPECT_EQ(h.stack.counters().fin_wait2_timeouts, 1u);
}

TEST(Close, CloseWithQueuedDataSendsFinAfterData) {
    Harness h;
    ConnId c = h.accept_default(false, false, false);
    uint8_t d[100] = {};
    h.stack.send_copy(c, d, 100);
    h.out("P. 1:101(100) ack 1");
    h.stack.close(c);
    h.out("F. 101:101(0) ack 1");
    EXPECT_EQ(h.stack.send_copy(c, d, 10), 0u);  // no sends after close
    h.in(10, ". 1:1(0) ack 102");
    EXPECT_EQ(h.stack.info(c).state, State::kFinWait2);
}

// Active closes from many peer ports fill the bounded TIME-WAIT table.
TEST(Close, TimeWaitTableIsBoundedOldestReused) {
    Harness h;  // time_wait_capacity = 8
    for (int i = 0; i < 10; ++i) {
        h.peer_port = static_cast<uint16_t>(6000 + i);
        h.iss_known = false;
        h.app.accepted = 0;
        ConnId c = h.accept_default(false, false, false);
        h.stack.close(c);
        ASSERT_TRUE(h.pop());
        h.in(5, "F. 1:1(0) ack 2");
        ASSERT_TRUE(h.pop());
    }
    EXPECT_EQ(h.stack.time_wait_entries(), 8u);
    EXPECT_EQ(h.stack.counters().tw_entered, 10u);
    EXPECT_EQ(h.stack.counters().tw_evicted, 2u);
    EXPECT_EQ(h.stack.connections(), 0u);
}

TEST(Close, NewSynEndsTimeWait) {
    Harness h;
    ConnId c = h.accept_default(true, true, true);
    h.stack.close(c);
    h.out("F. 1:1(0) ack 1");
    h.in(10, "F. 1:1(0) ack 2 <nop,nop,TS val 200 ecr *>");
    h.out(". 2:2(0) ack 2");
    ASSERT_EQ(h.stack.time_wait_entries(), 1u);
    // Same 4-tuple, newer timestamp (RFC 6191): a new connection.
    h.iss_known = false;
    h.in(20, "S 1000:1000(0) win 65535 <mss 1460,TS val 300 ecr 0>");
    h.out("S. 0:0(0) ack 1001");
    EXPECT_EQ(h.stack.counters().tw_reused_by_syn, 1u);
    EXPECT_EQ(h.stack.time_wait_entries(), 0u);
}

}  // namespace
}  // namespace ep::tcp::test

// Scripted data-transfer tests: delayed ACKs, out-of-order data and SACK blocks
// (RFC 2018), PAWS (RFC 7323 5), fast retransmit and recovery (RFC 5681, 6582,
// 6675), RTO with exponential backoff (RFC 6298), zero window and persist
// probes (RFC 9293 3.8.6.1), keepalive (3.8.4).
#include <optional>
#include <string>
#include <vector>

#include "tests/tcp/harness.h"

namespace ep::tcp::test {
namespace {

std::vector<uint8_t> bytes(size_t n) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7);
    return v;
}

TEST(Data, DelayedAckSingleSegment) {
    Harness h;
    h.accept_default();
    h.in(10, "P. 1:1001(1000) ack 1 win 1024 <nop,nop,TS val 200 ecr *>");
    h.no_out();
    EXPECT_EQ(h.app.data.size(), 1000u);
    h.at(49).no_out();
    h.at(50).out(". 1:1(0) ack 1001 <nop,nop,TS val 1050 ecr 200>");
    EXPECT_EQ(h.stack.counters().delayed_acks, 1u);
}

TEST(Data, AckEverySecondFullSegment) {
    Harness h;
    h.accept_default();
    h.in(10, ". 1:1449(1448) ack 1 win 1024 <nop,nop,TS val 200 ecr *>");
    h.no_out();
    h.in(11, ". 1449:2897(1448) ack 1 win 1024 <nop,nop,TS val 201 ecr *>");
    // RFC 7323 4.3: TS.Recent only moves for SEG.SEQ <= Last.ACK.sent, so the
    // delayed ACK echoes the older of the two timestamps.
    h.out(". 1:1(0) ack 2897 <nop,nop,TS val * ecr 200>");
    h.no_out();
    EXPECT_EQ(h.app.data.size(), 2896u);
}

// A segment larger than the MSS is several coalesced on their way in (LRO,
// GRO, a vhost backend handing over a virtio guest's TSO packet): it is ACKed
// at once (more than two full-sized segments), and it does not raise the
// receive-side MSS estimate, or the "every second full segment" rule would
// then wait for twice its size and every round would end on the delayed-ACK
// timer (Linux caps icsk_ack.rcv_mss at the advertised MSS the same way).
TEST(Data, CoalescedSegmentIsAckedAtOnceAndLeavesTheAckRuleAlone) {
    Harness h;
    h.accept_default();
    h.in(10, ". 1:11585(11584) ack 1 win 1024 <nop,nop,TS val 200 ecr *>");
    h.out(". 1:1(0) ack 11585 <nop,nop,TS val * ecr 200>");
    h.in(11, ". 11585:13033(1448) ack 1 win 1024 <nop,nop,TS val 201 ecr *>");
    h.no_out();
    h.in(12, ". 13033:14481(1448) ack 1 win 1024 <nop,nop,TS val 202 ecr *>");
    h.out(". 1:1(0) ack 14481 <nop,nop,TS val * ecr 201>");
    EXPECT_EQ(h.app.data.size(), 14480u);
    EXPECT_EQ(h.stack.counters().delayed_acks, 0u);
}

TEST(Data, OutOfOrderSackBlocksAndHoleFill) {
    Harness h;
    h.accept_default();
    h.in(10, ". 1449:2897(1448) ack 1 win 1024 <nop,nop,TS val 200 ecr *>");
    // Immediate duplicate ACK carrying the SACK block (RFC 5681 4.2, RFC 2018 4).
    h.out(". 1:1(0) ack 1 <nop,nop,TS val * ecr 101,nop,nop,sack 1449:2897>");
    h.in(11, ". 4345:5793(1448) ack 1 win 1024 <nop,nop,TS val 201 ecr *>");
    // Most recent block first.
    h.out(". 1:1(0) ack 1 <nop,nop,TS val * ecr 101,nop,nop,sack 4345:5793 1449:2897>");
    h.in(12, ". 1:1449(1448) ack 1 win 1024 <nop,nop,TS val 202 ecr *>");
    h.out(". 1:1(0) ack 2897 <nop,nop,TS val * ecr 202,nop,nop,sack 4345:5793>");
    h.in(13, ". 2897:4345(1448) ack 1 win 1024 <nop,nop,TS val 203 ecr *>");
    h.out(". 1:1(0) ack 5793 <nop,nop,TS val * ecr 203>");
    h.no_out();
    ASSERT_EQ(h.app.data.size(), 5792u);
    // The harness fills payload byte k of the stream with (k + 1) & 0xff.
    for (size_t i = 0; i < 5792; ++i) ASSERT_EQ(h.app.data[i], static_cast<uint8_t>(i + 1)) << i;
    EXPECT_EQ(h.stack.counters().ooo_segments, 2u);
}

// Overlapping copies of bytes not yet delivered: the first copy received is
// kept (as Linux and the BSDs do), so a second out-of-order copy with other
// data, or an in-order segment covering queued bytes, cannot rewrite them.
TEST(Data, OverlappingSegmentsKeepTheFirstCopy) {
    Harness h;
    h.accept_default();
    const std::vector<uint8_t> a(1000, 0xaa), b(1000, 0xbb), c(1000, 0xcc), d(1500, 0xdd);
    h.in(10, ". 1001:2001(1000) ack 1 win 1024 <nop,nop,TS val 200 ecr *>", a.data());
    h.out(". 1:1(0) ack 1 <nop,nop,TS val * ecr 101,nop,nop,sack 1001:2001>");
    h.in(11, ". 1001:2001(1000) ack 1 win 1024 <nop,nop,TS val 201 ecr *>", b.data());
    h.out(". 1:1(0) ack 1 <nop,nop,TS val * ecr 101,nop,nop,sack 1001:2001>");
    h.in(12, ". 1501:2501(1000) ack 1 win 1024 <nop,nop,TS val 202 ecr *>", c.data());
    h.out(". 1:1(0) ack 1 <nop,nop,TS val * ecr 101,nop,nop,sack 1001:2501>");
    h.in(13, ". 1:1501(1500) ack 1 win 1024 <nop,nop,TS val 203 ecr *>", d.data());
    h.out(". 1:1(0) ack 2501 <nop,nop,TS val * ecr 203>");
    ASSERT_EQ(h.app.data.size(), 2500u);
    for (size_t i = 0; i < 1000; ++i) ASSERT_EQ(h.app.data[i], 0xdd) << i;
    for (size_t i = 1000; i < 2000; ++i) ASSERT_EQ(h.app.data[i], 0xaa) << i;
    for (size_t i = 2000; i < 2500; ++i) ASSERT_EQ(h.app.data[i], 0xcc) << i;
}

TEST(Data, NoSackBlocksWithoutSackPermitted) {
    Harness h;
    h.accept_default(true, false, true);
    h.in(10, ". 1449:2897(1448) ack 1 win 1024 <nop,nop,TS val 200 ecr *>");
    h.out(". 1:1(0) ack 1 <nop,nop,TS val * ecr 101>");
}

TEST(Data, PawsRejectsOldTimestamp) {
    Harness h;
    h.accept_default();
    h.in(10, "P. 1:101(100) ack 1 win 1024 <nop,nop,TS val 50 ecr *>");
    h.out(". 1:1(0) ack 1 <nop,nop,TS val * ecr 101>");
    EXPECT_EQ(h.app.data.size(), 0u);
    EXPECT_EQ(h.stack.counters().paws_reject, 1u);
    // A newer timestamp is accepted.
    h.in(20, "P. 1:101(100) ack 1 win 1024 <nop,nop,TS val 150 ecr *>");
    EXPECT_EQ(h.app.data.size(), 100u);
}

TEST(Data, OutOfWindowSegmentIsAckedAndDropped) {
    Harness h;
    h.accept_default();
    h.in(10, "P. 200000:200100(100) ack 1 win 1024 <nop,nop,TS val 200 ecr *>");
    h.out(". 1:1(0) ack 1");
    EXPECT_EQ(h.stack.counters().out_of_window, 1u);
    EXPECT_EQ(h.app.data.size(), 0u);
}

TEST(Data, SendSegmentsFromQueue) {
    Harness h;
    ConnId c = h.accept_default();
    auto d = bytes(3000);
    EXPECT_EQ(h.stack.send_copy(c, d.data(), 3000), 3000u);
    h.out(". 1:1449(1448) ack 1 <nop,nop,TS val * ecr 101>");
    h.out(". 1449:2897(1448) ack 1");
    h.out("P. 2897:3001(104) ack 1");
    h.no_out();
    h.in(20, ". 1:1(0) ack 3001 win 1024 <nop,nop,TS val 110 ecr *>");
    h.no_out();
    EXPECT_EQ(h.stack.info(c).flight, 0u);
    EXPECT_EQ(h.stack.info(c).send_queued, 0u);
}

// More small items than a segment can describe (kMaxPieces = 8): the segment is
// cut after 8 pieces, and the FIN waits for the real end of the data.
TEST(Data, SegmentLimitedByPiecesKeepsFinAtTheEnd) {
    Harness h;
    h.in(0, "S 0:0(0) win 65535 <mss 1460>");
    ASSERT_TRUE(h.pop());
    h.in(1, ". 1:1(0) ack 1 win 0");  // window closed: the items pile up
    ConnId c = h.app.conn;
    auto d = bytes(100);
    for (int i = 0; i < 12; ++i) ASSERT_EQ(h.stack.send_copy(c, d.data(), 100), 100u);
    h.stack.close(c);
    h.no_out();
    h.in(10, ". 1:1(0) ack 1 win 65535");
    h.out(". 1:801(800) ack 1");  // 8 pieces; no PSH, no FIN
    h.out("FP. 801:1201(400) ack 1");
    h.no_out();
    h.in(20, ". 1:1(0) ack 1202 win 65535");
    EXPECT_EQ(h.stack.info(c).state, State::kFinWait2);
}

TEST(Data, SackBlocksShortenSegmentAndFinStaysLast) {
    Harness h;
    h.in(0, "S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>");
    ASSERT_TRUE(h.pop());
    h.in(1, ". 1:1(0) ack 1 win 0 <nop,nop,TS val 101 ecr *>");
    ConnId c = h.app.conn;
    auto d = bytes(1448);
    h.stack.send_copy(c, d.data(), 1000);
    h.stack.send_copy(c, d.data(), 448);
    h.stack.close(c);
    h.no_out();
    // Out-of-order data from the peer opens the window: our segments now carry
    // a SACK block (12 bytes of options), so a full segment holds 1436 bytes.
    h.in(10, ". 1449:1549(100) ack 1 win 1024 <nop,nop,TS val 200 ecr *>");
    h.out(". 1:1437(1436) ack 1 <nop,nop,TS val * ecr 101,nop,nop,sack 1449:1549>");
    h.out("FP. 1437:1449(12) ack 1 <nop,nop,TS val * ecr 101,nop,nop,sack 1449:1549>");
    h.no_out();
}

TEST(Data, RtoExponentialBackoff) {
    Harness h;
    ConnId c = h.accept_default();
    auto d = bytes(100);
    h.at(10);
    h.stack.send_copy(c, d.data(), 100);
    h.out("P. 1:101(100) ack 1");
    // RTO = max(SRTT + 4*RTTVAR, 200 ms) = 200 ms; then 400, 800 (RFC 6298 5.5).
    h.at(209).no_out();
    h.at(210).out("P. 1:101(100) ack 1");
    h.at(609).no_out();
    h.at(610).out("P. 1:101(100) ack 1");
    h.at(1409).no_out();
    h.at(1410).out("P. 1:101(100) ack 1");
    EXPECT_EQ(h.stack.counters().rto_fires, 3u);
    EXPECT_EQ(h.stack.info(c).cwnd, h.stack.info(c).mss);  // loss window
    // The ACK ends it; Karn/TS: the timer is stopped.
    h.in(1420, ". 1:1(0) ack 101 win 1024 <nop,nop,TS val 300 ecr *>");
    h.at(5000).no_out();
}

// Passive measurement (issue 16, Stack::set_conn_sampler): a connection's
// data segments sent and retransmitted and its SRTT go to the sampler every
// `every` while it lives (checked on its ACKs) and once more when it is
// released, each sample counting only what came since the previous one.
TEST(Data, ConnectionSamplerGetsSegmentsRetransmissionsAndSrtt) {
    Harness h;
    std::vector<ConnSample> got;
    h.stack.set_conn_sampler(
        [](void *ctx, const ConnSample &s) {
            static_cast<std::vector<ConnSample> *>(ctx)->push_back(s);
        },
        &got, 1'000'000'000);
    ConnId c = h.accept_default();
    auto d = bytes(100);
    h.at(10);
    h.stack.send_copy(c, d.data(), 100);
    h.out("P. 1:101(100) ack 1");
    h.at(210).out("P. 1:101(100) ack 1");  // the RTO's retransmission
    h.in(220, ". 1:1(0) ack 101 win 1024 <nop,nop,TS val 300 ecr *>");
    EXPECT_TRUE(got.empty());  // not a second old yet
    h.at(1500);
    h.stack.send_copy(c, d.data(), 100);
    h.out("P. 101:201(100) ack 1");
    h.in(1510, ". 1:1(0) ack 201 win 1024 <nop,nop,TS val 400 ecr *>");
    ASSERT_EQ(got.size(), 1u);  // long-lived: sampled as it goes
    EXPECT_FALSE(got[0].final);
    EXPECT_EQ(got[0].segs_out, 3u);
    EXPECT_EQ(got[0].segs_retrans, 1u);
    EXPECT_GT(got[0].srtt_ns, 0u);
    EXPECT_EQ(got[0].remote, h.peer);
    h.stack.send_copy(c, d.data(), 100);
    h.out("P. 201:301(100) ack 1");
    h.stack.abort(c);
    ASSERT_EQ(got.size(), 2u);  // released: the last sample, what came since
    EXPECT_TRUE(got[1].final);
    EXPECT_EQ(got[1].segs_out, 1u);
    EXPECT_EQ(got[1].segs_retrans, 0u);
}

StackConfig tail_probe_config() {
    StackConfig cfg = Harness::default_config();
    cfg.tlp = true;
    cfg.tlp_min_ns = 10'000'000;
    return cfg;
}

// 3000 bytes in three segments at 10 ms; at 15 ms an ACK covers the first two,
// so the last one is a tail only a probe or the RTO can repair. SRTT =
// 7/8*1 ms + 1/8*5 ms; PTO = 2*SRTT + 40 ms (one segment in flight: the peer
// may delay its ACK) = 43 ms instead of the 200 ms RTO (RFC 8985 7.2).
ConnId send_tail(Harness &h) {
    ConnId c = h.accept_default();
    auto d = bytes(3000);
    h.at(10);
    h.stack.send_copy(c, d.data(), 3000);
    h.out(". 1:1449(1448) ack 1");
    h.out(". 1449:2897(1448) ack 1");
    h.out("P. 2897:3001(104) ack 1");
    h.in(15, ". 1:1(0) ack 2897 win 1024 <nop,nop,TS val 200 ecr *>");
    return c;
}

// Unanswered, the probes resend the tail after 1, 2 and 4 PTOs.
void expect_three_probes(Harness &h) {
    h.at(57).no_out();
    h.at(58).out(". 2897:3001(104) ack 1");
    h.at(143).no_out();
    h.at(144).out(". 2897:3001(104) ack 1");
    h.at(315).no_out();
    h.at(316).out(". 2897:3001(104) ack 1");
    EXPECT_EQ(h.stack.counters().tlp_probes, 3u);
}

// The probe or its ACK may be lost as well (at 5 % loss each way, one probe
// in ten): further probes follow, each after twice the last PTO, while they
// end before the RTO would (config.h, tlp_max_probes). The third one is
// answered here: no RTO.
TEST(Data, TailLossProbesBackOffUntilAnswered) {
    Harness h(tail_probe_config());
    send_tail(h);
    expect_three_probes(h);
    h.in(317, ". 1:1(0) ack 3001 win 1024 <nop,nop,TS val 210 ecr *>");
    h.at(3000).no_out();
    EXPECT_EQ(h.stack.counters().rto_fires, 0u);
}

// No answer at all: the probe that would end after the RTO is not sent, and
// the RTO (re-armed by each probe, RFC 8985 7.3) takes over.
TEST(Data, TailLossProbesGiveWayToTheRto) {
    Harness h(tail_probe_config());
    send_tail(h);
    expect_three_probes(h);
    // A fourth probe would go at 316 + 344 ms, after the RTO at 316 + 200 ms.
    h.at(515).no_out();
    h.at(516).out("P. 2897:3001(104) ack 1");
    EXPECT_EQ(h.stack.counters().rto_fires, 1u);
}

// RFC 8985 7.4: a probe that repaired a real loss (no D-SACK for it) cuts
// cwnd once; a redundant one (the receiver had the segment and says so with a
// D-SACK) does not. The ACK of the probe alone does not decide (its D-SACK
// could still follow): the first ACK beyond it does.
TEST(Data, TailLossProbeCongestionResponse) {
    for (bool redundant : {false, true}) {
        SCOPED_TRACE(redundant ? "redundant probe" : "probe repaired a loss");
        Harness h(tail_probe_config());
        ConnId c = send_tail(h);
        auto d = bytes(100);
        h.at(58).out(". 2897:3001(104) ack 1");
        const uint32_t cwnd = h.stack.info(c).cwnd;
        h.in(60, std::string(". 1:1(0) ack 3001 win 1024 <nop,nop,TS val 210 ecr *") +
                     (redundant ? ",nop,nop,sack 2897:3001>" : ">"));
        EXPECT_EQ(h.stack.counters().tlp_loss_repairs, 0u);
        h.stack.send_copy(c, d.data(), 100);  // new data, ACKed beyond the probe
        h.out("P. 3001:3101(100) ack 1");
        h.in(62, ". 1:1(0) ack 3101 win 1024 <nop,nop,TS val 212 ecr *>");
        EXPECT_EQ(h.stack.counters().tlp_loss_repairs, redundant ? 0u : 1u);
        if (redundant)
            EXPECT_GE(h.stack.info(c).cwnd, cwnd);
        else
            EXPECT_LT(h.stack.info(c).cwnd, cwnd);
    }
}

// RFC 2883 4: a D-SACK is a first SACK block at or below the cumulative ACK,
// or a first block inside the second one. Each is counted in dsack_rx (the
// spurious-retransmission figure beside Linux's dsack_dups); an ordinary SACK
// block is not.
TEST(Data, DsacksAreCountedInBothForms) {
    Harness h(Harness::default_config());
    send_tail(h);
    EXPECT_EQ(h.stack.counters().dsack_rx, 0u);
    h.in(16, ". 1:1(0) ack 2897 win 1024 <nop,nop,TS val 201 ecr *,nop,nop,sack 1:1449>");
    EXPECT_EQ(h.stack.counters().dsack_rx, 1u);
    h.in(17, ". 1:1(0) ack 2897 win 1024 <nop,nop,TS val 202 ecr *,nop,nop,sack 2950:3001>");
    EXPECT_EQ(h.stack.counters().dsack_rx, 1u);
    h.in(18,
         ". 1:1(0) ack 2897 win 1024 <nop,nop,TS val 203 ecr *,nop,nop,sack 2950:3001 2897:3001>");
    EXPECT_EQ(h.stack.counters().dsack_rx, 2u);
}

TEST(Data, ConnectionTimesOutAfterMaxRetries) {
    StackConfig cfg = Harness::default_config();
    cfg.max_retries = 2;
    Harness h(cfg);
    ConnId c = h.accept_default();
    auto d = bytes(100);
    h.at(10);
    h.stack.send_copy(c, d.data(), 100);
    h.out("P. 1:101(100) ack 1");
    h.at(210).out("P. 1:101(100) ack 1");
    h.at(610).out("P. 1:101(100) ack 1");
    h.at(1410).no_out();
    EXPECT_EQ(h.app.closed, 1);
    EXPECT_EQ(h.app.reason, CloseReason::kTimeout);
    EXPECT_EQ(h.stack.counters().user_timeouts, 1u);
}

TEST(Data, UserTimeout) {
    StackConfig cfg = Harness::default_config();
    cfg.user_timeout_ns = 500'000'000;  // RFC 9293 3.8.3 R2 as a time bound
    Harness h(cfg);
    ConnId c = h.accept_default();
    auto d = bytes(100);
    h.at(10);
    h.stack.send_copy(c, d.data(), 100);
    h.out("P. 1:101(100) ack 1");
    h.at(210).out("P. 1:101(100) ack 1");  // first retransmission starts the clock
    h.at(610).out("P. 1:101(100) ack 1");  // 400 ms < 500 ms
    h.at(1410).no_out();                   // 1200 ms: give up
    EXPECT_EQ(h.app.reason, CloseReason::kTimeout);
    EXPECT_EQ(h.stack.counters().user_timeouts, 1u);
}

// The last backed-off RTO is cut to end at the user timeout (like Linux's
// tcp_clamp_rto_to_user_timeout): 500 ms after the first retransmission at
// 210 ms, not at the next expiry (1410 ms).
TEST(Data, UserTimeoutCutsTheLastBackoffShort) {
    StackConfig cfg = Harness::default_config();
    cfg.user_timeout_ns = 500'000'000;
    Harness h(cfg);
    ConnId c = h.accept_default();
    auto d = bytes(100);
    h.at(10);
    h.stack.send_copy(c, d.data(), 100);
    h.out("P. 1:101(100) ack 1");
    h.at(210).out("P. 1:101(100) ack 1");
    h.at(610).out("P. 1:101(100) ack 1");
    h.at(709).no_out();
    EXPECT_TRUE(h.stack.alive(c));
    h.at(710).no_out();
    EXPECT_FALSE(h.stack.alive(c));
    EXPECT_EQ(h.stack.counters().user_timeouts, 1u);
}

// Ten full segments (the initial window) sent at 10 ms and taken off the wire.
ConnId send_initial_window(Harness &h) {
    ConnId c = h.accept_default();
    auto d = bytes(14480);
    h.at(10);
    h.stack.send_copy(c, d.data(), 14480);
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(h.pop());
    return c;
}

// Ten segments in flight; the peer reports the first lost with SACKs.
TEST(Data, FastRetransmitWithSack) {
    Harness h;
    ConnId c = send_initial_window(h);
    h.no_out();
    h.in(20, ". 1:1(0) ack 1 win 1024 <nop,nop,TS val 200 ecr *,nop,nop,sack 1449:2897>");
    h.in(21, ". 1:1(0) ack 1 win 1024 <nop,nop,TS val 201 ecr *,nop,nop,sack 1449:4345>");
    h.no_out();
    h.in(22, ". 1:1(0) ack 1 win 1024 <nop,nop,TS val 202 ecr *,nop,nop,sack 1449:5793>");
    h.out(". 1:1449(1448) ack 1");
    h.no_out();
    EXPECT_EQ(h.stack.counters().fast_retransmits, 1u);
    EXPECT_TRUE(h.stack.info(c).in_recovery);
    // More SACKs free the pipe (RFC 6675 SetPipe); nothing else is lost yet.
    h.in(23, ". 1:1(0) ack 1 win 1024 <nop,nop,TS val 203 ecr *,nop,nop,sack 1449:7241>");
    h.no_out();
    // Full ACK up to recover: recovery ends.
    h.in(30, ". 1:1(0) ack 14481 win 1024 <nop,nop,TS val 210 ecr *>");
    EXPECT_FALSE(h.stack.info(c).in_recovery);
    EXPECT_EQ(h.stack.info(c).flight, 0u);
}

TEST(Data, SackRetransmitsEveryLostHole) {
    Harness h;
    ConnId c = send_initial_window(h);
    // Segments 1 and 3 lost (holes 1:1449 and 2897:4345).
    h.in(20, ". 1:1(0) ack 1 win 1024 <nop,nop,TS val 200 ecr *,nop,nop,sack 1449:2897>");
    h.in(21, ". 1:1(0) ack 1 win 1024 <nop,nop,TS val 201 ecr *,nop,nop,sack 4345:5793 1449:2897>");
    h.in(22, ". 1:1(0) ack 1 win 1024 <nop,nop,TS val 202 ecr *,nop,nop,sack 4345:8689 1449:2897>");
    h.out(". 1:1449(1448) ack 1");  // first hole, regardless of cwnd
    // Second hole: IsLost() (more than 2*SMSS SACKed above it) and the pipe allows.
    h.out(". 2897:4345(1448) ack 1");
    h.no_out();
    h.in(30, ". 1:1(0) ack 14481 win 1024 <nop,nop,TS val 210 ecr *>");
    EXPECT_FALSE(h.stack.info(c).in_recovery);
}

// Limited Transmit (RFC 3042) on the first two duplicates, then RFC 6937:
// during recovery new data goes out as the peer reports delivery.
TEST(Data, LimitedTransmitThenProportionalRateReduction) {
    StackConfig cfg = Harness::default_config();
    cfg.cc = CcAlgo::kNewReno;
    Harness h(cfg);
    ConnId c = h.accept_default();
    auto d = bytes(14480 * 2);
    h.at(10);
    h.stack.send_copy(c, d.data(), 14480 * 2);  // 10 segments fit the initial window
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(h.pop());
    h.no_out();
    auto sack = [&](int t, int segs_sacked) {
        h.in(t, ". 1:1(0) ack 1 win 1024 <nop,nop,TS val " + std::to_string(200 + t) +
                    " ecr *,nop,nop,sack 1449:" + std::to_string(1 + 1448 * (1 + segs_sacked)) +
                    ">");
    };
    sack(20, 1);
    h.out(". 14481:15929(1448) ack 1");  // Limited Transmit
    sack(21, 2);
    h.out(". 15929:17377(1448) ack 1");
    sack(22, 3);                    // recovery: ssthresh 8688, RecoverFS 17376
    h.out(". 1:1449(1448) ack 1");  // the fast retransmit only
    h.no_out();
    sack(23, 4);  // CEIL(2896 * 8688 / 17376) - 1448 = 0
    h.no_out();
    // 724 bytes allowed: cwnd counts segments, so while pipe < cwnd a whole
    // segment goes (as with Linux's packet-counted PRR).
    sack(24, 5);
    h.out(". 17377:18825(1448) ack 1");
    h.no_out();
    sack(25, 6);  // CEIL(5792 * 8688 / 17376) - 2896 = 0
    h.no_out();
    sack(26, 7);  // proportional part: nothing more yet
    h.no_out();
    sack(27, 8);  // pipe < ssthresh: PRR-SSRB, one segment per segment delivered
    h.out(". 18825:20273(1448) ack 1");
    h.no_out();
    EXPECT_TRUE(h.stack.info(c).in_recovery);
    EXPECT_EQ(h.stack.info(c).ssthresh, 8688u);
}

TEST(Data, NewRenoThreeDupAcksAndPartialAck) {
    StackConfig cfg = Harness::default_config();
    cfg.cc = CcAlgo::kNewReno;
    Harness h(cfg);
    ConnId c = h.accept_default(true, false, true);  // no SACK
    auto d = bytes(14480);
    h.at(10);
    h.stack.send_copy(c, d.data(), 14480);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(h.pop());
    h.in(20, ". 1:1(0) ack 1 win 1024 <nop,nop,TS val 200 ecr *>");
    h.in(21, ". 1:1(0) ack 1 win 1024 <nop,nop,TS val 201 ecr *>");
    h.no_out();
    h.in(22, ". 1:1(0) ack 1 win 1024 <nop,nop,TS val 202 ecr *>");
    h.out(". 1:1449(1448) ack 1");  // fast retransmit on the third duplicate
    EXPECT_EQ(h.stack.counters().dup_acks, 3u);
    EXPECT_EQ(h.stack.info(c).ssthresh, 14480u / 2);  // RFC 5681 eq. 4
    // Partial ACK: the next hole is retransmitted at once (RFC 6582 3.2 step 5).
    h.in(30, ". 1:1(0) ack 2897 win 1024 <nop,nop,TS val 210 ecr *>");
    h.out(". 2897:4345(1448) ack 1");
    EXPECT_TRUE(h.stack.info(c).in_recovery);
    h.in(40, ". 1:1(0) ack 14481 win 1024 <nop,nop,TS val 220 ecr *>");
    EXPECT_FALSE(h.stack.info(c).in_recovery);
    EXPECT_EQ(h.stack.info(c).cwnd, 14480u / 2);  // deflated to ssthresh
}

TEST(Data, ZeroWindowPersistProbes) {
    Harness h;
    h.in(0, "S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>");
    ASSERT_TRUE(h.pop());
    h.in(1, ". 1:1(0) ack 1 win 0 <nop,nop,TS val 101 ecr *>");
    ConnId c = h.app.conn;
    auto d = bytes(1000);
    h.at(10);
    h.stack.send_copy(c, d.data(), 1000);
    h.no_out();  // window closed
    // Probes at 200, 400, 800 ms intervals (backoff), old sequence number.
    h.at(209).no_out();
    h.at(210).out(". 0:0(0) ack 1");
    h.at(609).no_out();
    h.at(610).out(". 0:0(0) ack 1");
    h.at(1410).out(". 0:0(0) ack 1");
    EXPECT_EQ(h.stack.counters().persist_probes, 3u);
    // The window opens: the data goes.
    h.in(1500, ". 1:1(0) ack 1 win 1024 <nop,nop,TS val 300 ecr *>");
    h.out("P. 1:1001(1000) ack 1");
}

// A peer that closed its window and vanished: the persist probes go
// unanswered, and each one counts like an unanswered retransmission (RFC 9293
// 3.8.3 R2; RFC 1122 4.2.2.17 keeps the connection open only while probes are
// acknowledged). After max_retries unanswered probes it is dropped.
ConnId zero_window_with_data(Harness &h) {
    h.in(0, "S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>");
    EXPECT_TRUE(h.pop());
    h.in(1, ". 1:1(0) ack 1 win 0 <nop,nop,TS val 101 ecr *>");
    ConnId c = h.app.conn;
    auto d = bytes(1000);
    h.at(10);
    EXPECT_EQ(h.stack.send_copy(c, d.data(), 1000), 1000u);
    h.no_out();
    return c;
}

TEST(Data, UnansweredPersistProbesTimeOut) {
    StackConfig cfg = Harness::default_config();
    cfg.max_retries = 3;
    cfg.user_timeout_ns = 0;  // the count alone
    Harness h(cfg);
    ConnId c = zero_window_with_data(h);
    h.at(210).out(". 0:0(0) ack 1");
    h.at(610).out(". 0:0(0) ack 1");
    h.at(1410).out(". 0:0(0) ack 1");
    h.at(3009).no_out();
    EXPECT_TRUE(h.stack.alive(c));
    h.at(3010).no_out();  // the third probe unanswered too: give up
    EXPECT_FALSE(h.stack.alive(c));
    EXPECT_EQ(h.app.closed, 1);
    EXPECT_EQ(h.app.reason, CloseReason::kTimeout);
    EXPECT_EQ(h.stack.counters().user_timeouts, 1u);
    EXPECT_EQ(h.stack.counters().persist_probes, 3u);
    EXPECT_EQ(h.stack.connections(), 0u);
}

// The user timeout counts from the first unanswered probe, and the probe
// timer is cut short so that the connection goes at the bound, not one
// backed-off interval after it.
TEST(Data, UnansweredPersistProbesHitTheUserTimeout) {
    StackConfig cfg = Harness::default_config();
    cfg.user_timeout_ns = 1'000'000'000;
    Harness h(cfg);
    ConnId c = zero_window_with_data(h);
    h.at(210).out(". 0:0(0) ack 1");  // first probe: the clock starts
    h.at(610).out(". 0:0(0) ack 1");
    h.at(1209).no_out();
    EXPECT_TRUE(h.stack.alive(c));
    h.at(1210).no_out();
    EXPECT_FALSE(h.stack.alive(c));
    EXPECT_EQ(h.app.reason, CloseReason::kTimeout);
    EXPECT_EQ(h.stack.counters().user_timeouts, 1u);
}

// A peer that answers every probe with a zero window is alive and only slow:
// the connection stays open however long it takes (RFC 1122 4.2.2.17), past
// both max_retries and the user timeout.
TEST(Data, AnsweredPersistProbesKeepTheConnection) {
    StackConfig cfg = Harness::default_config();
    cfg.max_retries = 3;
    cfg.user_timeout_ns = 5'000'000'000;
    Harness h(cfg);
    ConnId c = zero_window_with_data(h);
    double t = 10;
    uint32_t tsval = 200, probes = 0;
    while (t < 120'000) {  // 24 user timeouts
        std::optional<Captured> seg;
        while (!(seg = h.pop()) && t < 1'000'000) h.at(t += 10);
        ASSERT_TRUE(seg) << probes;
        ASSERT_EQ(seg->seg.payload_len, 0u);
        ASSERT_EQ(seg->seg.seq, h.local_iss);  // SND.UNA - 1
        ++probes;
        h.in(t + 1, ". 1:1(0) ack 1 win 0 <nop,nop,TS val " + std::to_string(tsval++) + " ecr *>");
    }
    EXPECT_GT(probes, 3u);
    EXPECT_TRUE(h.stack.alive(c));
    EXPECT_EQ(h.stack.counters().user_timeouts, 0u);
    EXPECT_EQ(h.stack.counters().persist_probes, probes);
    // Then the window opens: the data goes.
    h.in(t + 2, ". 1:1(0) ack 1 win 1024 <nop,nop,TS val " + std::to_string(tsval) + " ecr *>");
    h.out("P. 1:1001(1000) ack 1");
}

// With the default StackConfig an abandoned connection with data queued and
// a closed window is released one user timeout (documented in docs/tcp.md)
// after its first unanswered probe.
TEST(Data, DefaultUserTimeoutBoundsAnAbandonedZeroWindowConnection) {
    StackConfig cfg = Harness::default_config();
    ASSERT_EQ(cfg.user_timeout_ns, StackConfig{}.user_timeout_ns);
    ASSERT_EQ(cfg.user_timeout_ns, 100'000'000'000u);
    Harness h(cfg);
    ConnId c = zero_window_with_data(h);
    h.at(210).out(". 0:0(0) ack 1");  // first probe
    h.at(100'209);
    EXPECT_TRUE(h.stack.alive(c));
    h.at(100'210);
    EXPECT_FALSE(h.stack.alive(c));
    EXPECT_EQ(h.stack.counters().user_timeouts, 1u);
}

TEST(Data, ZeroWindowAdvertisedWhenBufferFull) {
    StackConfig cfg = Harness::default_config();
    cfg.rcv_buf_bytes = 4096;
    Harness h(cfg);
    h.app.consume_limit = 0;  // the application reads nothing
    h.in(0, "S 0:0(0) win 65535 <mss 1460,TS val 100 ecr 0>");
    h.out("S. 0:0(0) ack 1 win 4096 <mss 1460,TS val * ecr 100>");
    h.in(1, ". 1:1(0) ack 1 win 1024 <nop,nop,TS val 101 ecr *>");
    h.in(2, ". 1:1449(1448) ack 1 win 1024 <nop,nop,TS val 102 ecr *>");
    h.in(3, ". 1449:2897(1448) ack 1 win 1024 <nop,nop,TS val 103 ecr *>");
    h.out(". 1:1(0) ack 2897 win 1200");
    h.in(4, "P. 2897:4097(1200) ack 1 win 1024 <nop,nop,TS val 104 ecr *>");
    h.at(44).out(". 1:1(0) ack 4097 win 0");
    // Beyond the window: dropped, ACKed.
    h.in(50, "P. 4097:4197(100) ack 1 win 1024 <nop,nop,TS val 105 ecr *>");
    h.out(". 1:1(0) ack 4097 win 0");
    // The application reads: a window update once the edge can move by an MSS.
    h.app.consume_limit = SIZE_MAX;
    h.stack.resume_read(h.app.conn);
    h.out(". 1:1(0) ack 4097 win 4096");
    EXPECT_EQ(h.app.data.size(), 4096u);
}

TEST(Data, KeepaliveProbesThenDrop) {
    StackConfig cfg = Harness::default_config();
    cfg.keepalive = true;
    cfg.keepalive_idle_ns = 1'000'000'000;
    cfg.keepalive_interval_ns = 100'000'000;
    cfg.keepalive_probes = 2;
    Harness h(cfg);
    h.accept_default();
    h.at(1000).no_out();
    h.at(1001).out(". 0:0(0) ack 1");
    h.in(1050, ". 1:1(0) ack 1 win 1024 <nop,nop,TS val 300 ecr *>");  // peer alive
    h.at(2049).no_out();
    h.at(2050).out(". 0:0(0) ack 1");
    h.at(2150).out(". 0:0(0) ack 1");
    h.at(2250).no_out();
    EXPECT_EQ(h.app.closed, 1);
    EXPECT_EQ(h.app.reason, CloseReason::kKeepalive);
}

}  // namespace
}  // namespace ep::tcp::test

namespace ep::tcp::test {
namespace {

// Drains the output: the relative sequence numbers of the data segments sent.
std::vector<uint32_t> sent_seqs(Harness &h, Seq iss) {
    std::vector<uint32_t> v;
    while (auto c = h.pop())
        if (c->seg.payload_len) v.push_back(c->seg.seq - iss);
    return v;
}

std::string sack_in(int t, const std::string &blocks, uint32_t ack = 1) {
    return ". 1:1(0) ack " + std::to_string(ack) + " win 1024 <nop,nop,TS val " +
           std::to_string(200 + t) + " ecr *" + (blocks.empty() ? "" : ",nop,nop,sack " + blocks) +
           ">";
}

// A duplicate ACK overtaken by a later one (TSval below TS.Recent) still
// counts for its SACK blocks; a data segment with that TSval does not.
TEST(Data, PawsLetsReorderedDuplicateAckThrough) {
    Harness h;
    send_initial_window(h);
    h.in(20, sack_in(20, "2897:4345"));  // TS.Recent = 220
    // Sent before the one above (TSval 219), arrives after it, names more.
    h.in(20.5, ". 1:1(0) ack 1 win 1024 <nop,nop,TS val 219 ecr *,nop,nop,sack 1449:2897>");
    EXPECT_EQ(h.stack.counters().paws_disordered_acks, 1u);
    EXPECT_EQ(h.stack.counters().paws_reject, 0u);
    EXPECT_EQ(h.stack.counters().dup_acks, 2u);
    // Data with that TSval is still refused.
    h.in(21, "P. 1:101(100) ack 1 win 1024 <nop,nop,TS val 219 ecr *>");
    EXPECT_EQ(h.stack.counters().paws_reject, 1u);
    EXPECT_EQ(h.app.data.size(), 0u);
}

// RFC 8985 6.2 / RFC 6675: the fast retransmission is lost too. Once more than
// 2*SMSS of data sent after it is SACKed, it is sent again, without an RTO.
TEST(Data, LostRetransmissionRepairedWithoutRto) {
    Harness h;  // tlp off: detection by SACKs only, no timer involved
    ConnId c = h.accept_default();
    auto d = bytes(14480 * 3);
    h.at(10);
    h.stack.send_copy(c, d.data(), 14480 * 3);
    Seq iss = 0;
    for (int i = 0; i < 10; ++i) {
        auto seg = h.pop();
        ASSERT_TRUE(seg);
        if (i == 0) iss = seg->seg.seq - 1;
    }
    h.in(20, sack_in(20, "1449:2897"));
    h.out(". 14481:15929(1448) ack 1");  // Limited Transmit
    h.in(21, sack_in(21, "1449:4345"));
    h.out(". 15929:17377(1448) ack 1");
    h.in(22, sack_in(22, "1449:5793"));
    h.out(". 1:1449(1448) ack 1");  // fast retransmit (sent when SND.MAX was 17377)
    // Everything else arrives, the retransmission does not; new data goes out
    // as the SACKs free the pipe.
    std::vector<uint32_t> sent;
    for (int n = 5; n <= 11; ++n) {
        h.in(23 + n, sack_in(23 + n, "1449:" + std::to_string(1 + 1448 * (n + 1))));
        for (uint32_t s : sent_seqs(h, iss)) sent.push_back(s);
    }
    for (uint32_t s : sent) EXPECT_GE(s, 17377u) << "only new data while the rtx is in flight";
    ASSERT_GE(sent.size(), 3u);
    EXPECT_EQ(h.stack.counters().lost_retransmits, 0u);
    // SACKs for two segments sent after the retransmission: not yet (reordering).
    h.in(40, sack_in(40, "17377:20273 1449:17377"));
    for (uint32_t s : sent_seqs(h, iss)) EXPECT_NE(s, 1u);
    // A third: the retransmission is lost; it goes again at once.
    h.in(41, sack_in(41, "17377:21721 1449:17377"));
    auto again = sent_seqs(h, iss);
    ASSERT_FALSE(again.empty());
    EXPECT_EQ(again[0], 1u);
    EXPECT_EQ(h.stack.counters().lost_retransmits, 1u);
    h.in(45, sack_in(45, "", 21721));
    EXPECT_EQ(h.stack.counters().rto_fires, 0u);
    EXPECT_EQ(h.stack.counters().lost_retransmits, 1u);
}

// RTO with SACKed data outstanding: back to SND.UNA in slow start, but what
// the peer SACKed is not sent again (RFC 6675 5.1); the RTO is restarted by
// each ACK of new data (RFC 6298 5.3).
TEST(Data, RtoGoBackNSkipsSackedData) {
    Harness h;  // tlp off: the RTO itself
    send_initial_window(h);
    // Only segments 3-4 arrive; then all ACKs are lost (no fast retransmit).
    h.in(11, sack_in(11, "2897:5793"));
    h.at(209).no_out();
    h.at(210).out(". 1:1449(1448) ack 1");  // loss window: one segment
    EXPECT_EQ(h.stack.counters().rto_fires, 1u);
    h.in(211, sack_in(211, "2897:5793", 1449));
    h.out("P. 1449:2897(1448) ack 1");  // slow start: two segments,
    h.out(". 5793:7241(1448) ack 1");   // skipping the SACKed 2897:5793
    h.no_out();
    h.in(212, sack_in(212, "", 7241));
    // cwnd 4*MSS (byte counting, L = 2*SMSS).
    h.out(". 7241:8689(1448) ack 1");
    h.out(". 8689:10137(1448) ack 1");
    h.out(". 10137:11585(1448) ack 1");
    h.out(". 11585:13033(1448) ack 1");
    h.no_out();
    // The ACK at 212 restarted the RTO (RFC 6298 5.3): nothing before 412.
    h.at(411).no_out();
    h.in(411.5, sack_in(411, "", 13033));
    h.out("P. 13033:14481(1448) ack 1");
    h.in(412, sack_in(412, "", 14481));
    h.at(2000).no_out();
    EXPECT_EQ(h.stack.counters().rto_fires, 1u);
    EXPECT_EQ(h.stack.counters().retransmits, 8u);  // 1:2897 and 5793:14481
}

// Tail loss: the last two segments of a flight are lost. The probe (RFC 8985
// 7) brings a SACK for the last one; the reordering timer (6.3) then declares
// the one below it lost: repaired in a few ms instead of the 200 ms RTO.
TEST(Data, TailLossRepairedByProbeAndReorderTimer) {
    StackConfig cfg = Harness::default_config();
    cfg.tlp = true;
    Harness h(cfg);
    ConnId c = send_initial_window(h);
    h.in(11, sack_in(11, "", 11585));  // segments 9 and 10 lost
    h.no_out();
    // PTO = max(2*SRTT, 2 ms): the probe resends the last segment.
    h.at(20).out(". 13033:14481(1448) ack 1");
    EXPECT_EQ(h.stack.counters().tlp_probes, 1u);
    h.in(21, sack_in(21, "13033:14481", 11585));
    h.no_out();  // one segment SACKed above the hole: not lost by DupThresh
    // RACK.rtt + reo_wnd (+ 2 ticks) later the hole is lost: recovery.
    h.at(30).out(". 11585:13033(1448) ack 1");
    EXPECT_EQ(h.stack.counters().rack_timeouts, 1u);
    h.in(31, sack_in(31, "", 14481));
    EXPECT_EQ(h.stack.info(c).flight, 0u);
    h.at(1000).no_out();
    EXPECT_EQ(h.stack.counters().rto_fires, 0u);
}

// Reordering within the reordering window: a SACK names a hole, but the
// missing segment arrives before RACK.rtt + reo_wnd: nothing is retransmitted.
TEST(Data, ReorderingWithinReoWndNoSpuriousRetransmit) {
    StackConfig cfg = Harness::default_config();
    cfg.tlp = true;
    Harness h(cfg);
    send_initial_window(h);
    h.in(11, sack_in(11, "1449:2897"));
    h.in(11.2, sack_in(11.2, "1449:4345"));
    h.no_out();
    // The first segment was only late: 2 ms after the SACK (longer than the
    // 1 ms RTT, within RACK.rtt + reo_wnd + the timer granularity).
    h.at(12.9).no_out();
    h.in(13, sack_in(13, "", 4345));
    h.in(14, sack_in(14, "", 14481));
    h.at(1000).no_out();
    EXPECT_EQ(h.stack.counters().retransmits, 0u);
    EXPECT_EQ(h.stack.counters().rack_timeouts, 0u);
    EXPECT_EQ(h.stack.counters().fast_retransmits, 0u);
}

}  // namespace
}  // namespace ep::tcp::test

// Path MTU: ICMP "fragmentation needed" (RFC 1191, validated against the
// connection's sequence space as RFC 5927 4.1 asks) and black-hole detection
// when no ICMP comes (RFC 4821 / RFC 8899 style, like Linux's
// tcp_mtu_probing = 1).
#include <vector>

#include "tests/tcp/harness.h"

namespace ep::tcp::test {
namespace {

std::vector<uint8_t> bytes(size_t n) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7);
    return v;
}

FlowKey key_of(const Harness &h) {
    FlowKey k;
    k.local = h.local;
    k.remote = h.peer;
    k.lport = h.local_port;
    k.rport = h.peer_port;
    return k;
}

// 4000 bytes at 10 ms in segments of 1448 (MSS 1460 less the timestamps).
ConnId send_4000(Harness &h) {
    ConnId c = h.accept_default();
    auto d = bytes(4000);
    h.at(10);
    EXPECT_EQ(h.stack.send_copy(c, d.data(), 4000), 4000u);
    h.out(". 1:1449(1448) ack 1");
    h.out(". 1449:2897(1448) ack 1");
    h.out("P. 2897:4001(1104) ack 1");
    h.no_out();
    return c;
}

TEST(Pmtu, FragNeededLowersMssAndRetransmitsAtOnce) {
    Harness h;
    ConnId c = send_4000(h);
    h.at(12);
    // A router with a 1400-byte next hop quotes our first segment.
    EXPECT_EQ(h.stack.icmp_frag_needed(key_of(h), h.local_iss + 1, 1400, h.now_ns()),
              IcmpVerdict::kAccepted);
    // 1400 - 20 (IPv4) - 20 (TCP) - 12 (timestamps) = 1348 bytes a segment;
    // everything outstanding goes again, now, without waiting for the RTO.
    h.out(". 1:1349(1348) ack 1");
    h.out(". 1349:2697(1348) ack 1");
    h.out("P. 2697:4001(1304) ack 1");
    h.no_out();
    EXPECT_EQ(h.stack.info(c).mss, 1348);
    EXPECT_EQ(h.stack.counters().icmp_frag_needed, 1u);
    EXPECT_EQ(h.stack.counters().rto_fires, 0u);
    h.in(20, ". 1:1(0) ack 4001 win 1024 <nop,nop,TS val 200 ecr *>");
    auto d = bytes(3000);
    h.stack.send_copy(c, d.data(), 3000);
    h.out(". 4001:5349(1348) ack 1");
    h.out(". 5349:6697(1348) ack 1");
    h.out("P. 6697:7001(304) ack 1");
}

// RFC 5927 4.1: the quoted sequence number must be in SND.UNA..SND.NXT, or
// the ICMP is forged (or stale) and is ignored, counted by name.
TEST(Pmtu, ForgedFragNeededIsIgnored) {
    Harness h;
    ConnId c = send_4000(h);
    h.at(12);
    FlowKey k = key_of(h);
    EXPECT_EQ(h.stack.icmp_frag_needed(k, h.local_iss + 4001, 1400, h.now_ns()),
              IcmpVerdict::kOutOfWindow);  // SND.NXT itself: not sent yet
    EXPECT_EQ(h.stack.icmp_frag_needed(k, h.local_iss, 1400, h.now_ns()),
              IcmpVerdict::kOutOfWindow);  // below SND.UNA
    EXPECT_EQ(h.stack.icmp_frag_needed(k, h.local_iss + 0x40000000, 576, h.now_ns()),
              IcmpVerdict::kOutOfWindow);
    FlowKey other = k;
    other.rport = 5001;
    EXPECT_EQ(h.stack.icmp_frag_needed(other, h.local_iss + 1, 1400, h.now_ns()),
              IcmpVerdict::kNoConnection);
    h.no_out();
    EXPECT_EQ(h.stack.info(c).mss, 1448);
    EXPECT_EQ(h.stack.counters().icmp_frag_out_of_window, 3u);
    EXPECT_EQ(h.stack.counters().icmp_frag_no_conn, 1u);
    EXPECT_EQ(h.stack.counters().icmp_frag_needed, 0u);
}

// An MTU that is not smaller changes nothing; one below the floor (576, the
// datagram every IPv4 host takes, RFC 791) is raised to it, so a forged
// in-window ICMP cannot shrink segments to nothing.
TEST(Pmtu, FragNeededMtuNotSmallerIgnoredAndFloorApplies) {
    Harness h;
    ConnId c = send_4000(h);
    h.at(12);
    FlowKey k = key_of(h);
    EXPECT_EQ(h.stack.icmp_frag_needed(k, h.local_iss + 1, 1500, h.now_ns()),
              IcmpVerdict::kIgnored);
    h.no_out();
    EXPECT_EQ(h.stack.counters().icmp_frag_ignored, 1u);
    EXPECT_EQ(h.stack.icmp_frag_needed(k, h.local_iss + 1449, 68, h.now_ns()),
              IcmpVerdict::kAccepted);
    EXPECT_EQ(h.stack.info(c).mss, 576 - 40 - 12);
    h.out(". 1:525(524) ack 1");
}

// No ICMP at all (filtered on the way): after pmtu_blackhole_rtos (3)
// consecutive RTOs of a segment larger than the next step, the MSS drops to
// 1024, then to 536 (header MSS; less 12 bytes of timestamps here), and the
// retransmission goes at that size.
TEST(Pmtu, BlackHoleDetectionLowersMssAfterRepeatedRtos) {
    Harness h;
    ConnId c = send_4000(h);
    h.at(210).out(". 1:1449(1448) ack 1");
    h.at(610).out(". 1:1449(1448) ack 1");
    h.at(1410).out(". 1:1013(1012) ack 1");
    EXPECT_EQ(h.stack.info(c).mss, 1012);
    EXPECT_EQ(h.stack.counters().pmtu_blackhole, 1u);
    h.at(3010).out(". 1:525(524) ack 1");
    EXPECT_EQ(h.stack.info(c).mss, 524);
    EXPECT_EQ(h.stack.counters().pmtu_blackhole, 2u);
    // Through at last: the rest follows at the small size.
    h.in(3020, ". 1:1(0) ack 525 win 1024 <nop,nop,TS val 200 ecr *>");
    h.out(". 525:1049(524) ack 1");
    h.out(". 1049:1573(524) ack 1");
    // The floor: no further step.
    EXPECT_EQ(h.stack.counters().pmtu_blackhole, 2u);
}

// Small segments cannot be the victims of an MTU black hole: an RTO series
// over a 100-byte segment leaves the MSS alone; so does a disabled config.
TEST(Pmtu, BlackHoleDetectionNeedsFullSizeSegments) {
    Harness h;
    ConnId c = h.accept_default();
    auto d = bytes(100);
    h.at(10);
    h.stack.send_copy(c, d.data(), 100);
    h.out("P. 1:101(100) ack 1");
    for (double t : {210.0, 610.0, 1410.0, 3010.0}) h.at(t).out("P. 1:101(100) ack 1");
    EXPECT_EQ(h.stack.info(c).mss, 1448);
    EXPECT_EQ(h.stack.counters().pmtu_blackhole, 0u);

    StackConfig cfg = Harness::default_config();
    cfg.pmtu_blackhole_rtos = 0;  // off
    Harness h2(cfg);
    ConnId c2 = send_4000(h2);
    for (double t : {210.0, 610.0, 1410.0, 3010.0}) h2.at(t).out(". 1:1449(1448) ack 1");
    EXPECT_EQ(h2.stack.info(c2).mss, 1448);
}

}  // namespace
}  // namespace ep::tcp::test

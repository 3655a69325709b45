// Unit tests of the engine's building blocks.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "dataplane/net/tcp/checksum.h"
#include "dataplane/net/tcp/flow_table.h"
#include "dataplane/net/tcp/options.h"

namespace ep::tcp {
namespace {

TEST(Options, RoundTrip) {
    TcpOptions o;
    o.has_mss = true;
    o.mss = 1460;
    o.sack_permitted = true;
    o.has_ts = true;
    o.ts_val = 123;
    o.ts_ecr = 456;
    o.has_wscale = true;
    o.wscale = 7;
    uint8_t buf[kMaxOptionBytes];
    size_t n = write_options(o, buf);
    EXPECT_EQ(n, 20u);
    EXPECT_EQ(n, options_length(o));
    TcpOptions p;
    ASSERT_TRUE(parse_options(buf, n, p));
    EXPECT_EQ(p.mss, 1460);
    EXPECT_TRUE(p.sack_permitted);
    EXPECT_EQ(p.ts_val, 123u);
    EXPECT_EQ(p.ts_ecr, 456u);
    EXPECT_EQ(p.wscale, 7);
}

// The NOP, NOP, TS fast path reads what the general loop reads from the
// same option in another layout, and a 12-byte block that only looks like
// it (a timestamp of the wrong length) still goes through the checks.
TEST(Options, TimestampFastPathEqualsTheLoop) {
    const uint8_t fast[12] = {1, 1, 8, 10, 0x01, 0x02, 0x03, 0x04, 0xa0, 0xb0, 0xc0, 0xd0};
    const uint8_t slow[12] = {8, 10, 0x01, 0x02, 0x03, 0x04, 0xa0, 0xb0, 0xc0, 0xd0, 1, 1};
    TcpOptions a, b;
    ASSERT_TRUE(parse_options(fast, sizeof fast, a));
    ASSERT_TRUE(parse_options(slow, sizeof slow, b));
    EXPECT_TRUE(a.has_ts);
    EXPECT_EQ(a.ts_val, 0x01020304u);
    EXPECT_EQ(a.ts_ecr, 0xa0b0c0d0u);
    EXPECT_EQ(a.ts_val, b.ts_val);
    EXPECT_EQ(a.ts_ecr, b.ts_ecr);
    EXPECT_FALSE(a.has_mss || a.has_wscale || a.sack_permitted || a.num_sack);
    const uint8_t bad[12] = {1, 1, 8, 9, 0, 0, 0, 0, 0, 0, 0, 0};
    TcpOptions c;
    EXPECT_FALSE(parse_options(bad, sizeof bad, c));
}

}  // namespace
}  // namespace ep::tcp

#include <algorithm>
#include <random>
#include <unordered_map>

#include "dataplane/net/tcp/recv_buffer.h"
#include "dataplane/net/tcp/rtt.h"
#include "dataplane/net/tcp/sack_scoreboard.h"
#include "dataplane/net/tcp/syn_cookie.h"
#include "dataplane/net/tcp/timer_wheel.h"

namespace ep::tcp {
namespace {

TEST(SeqMath, Wraparound) {
    EXPECT_TRUE(seq_lt(0xfffffff0u, 0x10u));
    EXPECT_TRUE(seq_gt(0x10u, 0xfffffff0u));
    EXPECT_TRUE(seq_in(0x2u, 0xfffffffeu, 0x5u));
}

TEST(FlowTableTest, RandomInsertEraseMatchesMap) {
    std::vector<FlowTable::Slot> slots(1024);
    FlowTable ft;
    ft.init(slots.data(), 1024, 42);
    std::mt19937 rng(1);
    std::unordered_map<uint32_t, uint32_t> ref;  // port pair -> value
    auto key = [](uint32_t id) {
        FlowKey k;
        k.local = IpAddr::v4(10, 0, 0, 1);
        k.remote = IpAddr::v4(10, 0, static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id));
        k.lport = 80;
        k.rport = static_cast<uint16_t>(id * 7);
        return k;
    };
    for (int step = 0; step < 20000; ++step) {
        uint32_t id = rng() % 600;
        if (rng() % 2) {
            bool ok = ft.insert(key(id), id);
            EXPECT_EQ(ok, ref.count(id) == 0 && ref.size() < 1023);
            if (ok) ref[id] = id;
        } else {
            EXPECT_EQ(ft.erase(key(id)), ref.erase(id) == 1);
        }
        if (step % 1000 == 0) {
            for (uint32_t i = 0; i < 600; ++i) {
                uint32_t v = ft.find(key(i));
                EXPECT_EQ(v, ref.count(i) ? i : FlowTable::kNone);
            }
        }
    }
    EXPECT_EQ(ft.size(), ref.size());
}

TEST(TimerWheelTest, FiresInOrderAcrossWraps) {
    std::vector<TimerNode> slots(16);
    TimerWheel w;
    w.init(slots.data(), 16, 1000, 0);
    TimerNode a, b, c;
    w.schedule(&a, 5000);
    w.schedule(&b, 40'000);  // beyond one wheel turn
    w.schedule(&c, 7000);
    w.cancel(&c);
    std::vector<TimerNode *> fired;
    auto fire = [&](TimerNode *n) { fired.push_back(n); };
    w.advance(4000, fire);
    EXPECT_TRUE(fired.empty());
    w.advance(5000, fire);
    ASSERT_EQ(fired.size(), 1u);
    EXPECT_EQ(fired[0], &a);
    w.advance(39'000, fire);
    EXPECT_EQ(fired.size(), 1u);
    w.advance(100'000, fire);  // a jump larger than the wheel
    ASSERT_EQ(fired.size(), 2u);
    EXPECT_EQ(fired[1], &b);
}

TEST(SackScoreboardTest, MergeLossAndPipe) {
    SackScoreboard sb;
    const Seq una = 1000, max = 1000 + 10 * 100;
    EXPECT_TRUE(sb.add(1100, 1200, una, max));
    EXPECT_TRUE(sb.add(1300, 1400, una, max));
    EXPECT_TRUE(sb.add(1200, 1300, una, max));  // bridges the two
    EXPECT_EQ(sb.size(), 1);
    EXPECT_EQ(sb.sacked_bytes(), 300u);
    EXPECT_FALSE(sb.add(1100, 1200, una, max));  // nothing new
    EXPECT_FALSE(sb.add(500, 900, una, max));    // below SND.UNA
    EXPECT_TRUE(sb.is_lost(1000, 100));          // 300 > 2*100 SACKed above
    EXPECT_FALSE(sb.is_lost(1000, 200));
    Seq hs, he;
    ASSERT_TRUE(sb.next_hole(1000, &hs, &he));
    EXPECT_EQ(hs, 1000u);
    EXPECT_EQ(he, 1100u);
    // Outstanding 1000, SACKed 300, lost hole 100 not retransmitted: pipe 600.
    EXPECT_EQ(sb.pipe(una, max, una, 100), 600u);
    EXPECT_EQ(sb.pipe(una, max, 1100, 100), 700u);  // after retransmitting it
    sb.ack_to(1350);
    EXPECT_EQ(sb.sacked_bytes(), 50u);
}

// Overlapping copies keep the first (docs/tcp.md, receive path): a copy
// spanning two queued ranges and the gap between them only fills the gap,
// also across the ring's end and the sequence wrap.
TEST(RecvBufferTest, OverlapKeepsFirstCopyAcrossWrap) {
    std::vector<uint8_t> mem(64);
    RecvBuffer rb;
    const Seq base = 0xffffffe0u;
    rb.init(mem.data(), 64, base);
    uint8_t old1[64], old2[64], fresh[64];
    std::memset(old1, 'a', sizeof old1);
    std::memset(old2, 'b', sizeof old2);
    std::memset(fresh, 'z', sizeof fresh);
    uint32_t adv;
    // Consume 40 bytes first so that the ranges below straddle the ring's end.
    ASSERT_TRUE(rb.insert(base, fresh, 40, &adv));
    rb.consume(40);
    ASSERT_TRUE(rb.insert(base + 50, old1, 10, &adv));   // [50,60)
    ASSERT_TRUE(rb.insert(base + 70, old2, 10, &adv));   // [70,80)
    ASSERT_TRUE(rb.insert(base + 45, fresh, 40, &adv));  // [45,85): new only in the gaps
    ASSERT_TRUE(rb.insert(base + 40, fresh, 5, &adv));
    EXPECT_EQ(adv, 45u);
    std::string out;
    while (rb.buffered()) {
        uint32_t n;
        const uint8_t *p = rb.peek(&n);
        out.append(reinterpret_cast<const char *>(p), n);
        rb.consume(n);
    }
    EXPECT_EQ(out, std::string(10, 'z') + std::string(10, 'a') + std::string(10, 'z') +
                       std::string(10, 'b') + std::string(5, 'z'));
}

TEST(RecvBufferTest, ReassemblyAcrossWrapWithSackOrder) {
    std::vector<uint8_t> mem(64);
    RecvBuffer rb;
    const Seq base = 0xfffffff0u;  // sequence numbers wrap too
    rb.init(mem.data(), 64, base);
    uint8_t src[64];
    for (int i = 0; i < 64; ++i) src[i] = static_cast<uint8_t>(i);
    uint32_t adv;
    ASSERT_TRUE(rb.insert(base + 20, src + 20, 10, &adv));
    ASSERT_TRUE(rb.insert(base + 40, src + 40, 10, &adv));
    SackBlock blocks[4];
    ASSERT_EQ(rb.sack_blocks(blocks, 4), 2);
    EXPECT_EQ(blocks[0].start, base + 40);  // most recent first
    ASSERT_TRUE(rb.insert(base, src, 20, &adv));
    EXPECT_EQ(adv, 30u);
    ASSERT_TRUE(rb.insert(base + 30, src + 30, 10, &adv));
    EXPECT_EQ(adv, 20u);
    EXPECT_FALSE(rb.has_ooo());
    std::vector<uint8_t> out;
    while (rb.buffered()) {
        uint32_t n;
        const uint8_t *p = rb.peek(&n);
        out.insert(out.end(), p, p + n);
        rb.consume(n);
    }
    ASSERT_EQ(out.size(), 50u);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(out[i], i);
    // Wrap in the ring: the next 50 bytes cross the end of the 64-byte buffer.
    ASSERT_TRUE(rb.insert(base + 50, src, 50, &adv));
    uint32_t n;
    rb.peek(&n);
    EXPECT_EQ(n, 30u);  // ring offset (base + 50) & 63 = 34: 30 bytes to the end
}

TEST(RttTest, Rfc6298Computation) {
    RttEstimator r;
    r.init(1'000'000'000);
    r.sample(100'000'000, 1'000'000, 200'000'000, 60'000'000'000);
    EXPECT_EQ(r.srtt_ns, 100'000'000u);
    EXPECT_EQ(r.rttvar_ns, 50'000'000u);
    EXPECT_EQ(r.rto_ns, 300'000'000u);  // SRTT + 4*RTTVAR
    r.sample(200'000'000, 1'000'000, 200'000'000, 60'000'000'000);
    EXPECT_EQ(r.rttvar_ns, 62'500'000u);  // 3/4*50 + 1/4*100
    EXPECT_EQ(r.srtt_ns, 112'500'000u);   // 7/8*100 + 1/8*200
    r.backoff = 3;
    EXPECT_EQ(r.current_rto(60'000'000'000), r.rto_ns << 3);
    EXPECT_EQ(r.current_rto(1'000'000'000), 1'000'000'000u);  // ceiling
}

TEST(SynCookieTest, ValidatesOnlyMatchingTupleAndRecentPeriod) {
    SynCookies sc;
    sc.init(0x1234);
    FlowKey k;
    k.local = IpAddr::v4(1, 2, 3, 4);
    k.remote = IpAddr::v4(5, 6, 7, 8);
    k.lport = 80;
    k.rport = 4000;
    uint64_t now = 1000 * SynCookies::kPeriodNs + 5;
    uint32_t c = sc.make(k, 777, SynCookies::mss_index(1460), now);
    uint8_t idx = 0;
    EXPECT_TRUE(sc.check(k, 777, c, now, &idx));
    EXPECT_EQ(SynCookies::kMssTable[idx], 1460);
    EXPECT_TRUE(sc.check(k, 777, c, now + SynCookies::kPeriodNs, &idx));
    EXPECT_FALSE(sc.check(k, 777, c, now + 2 * SynCookies::kPeriodNs, &idx));
    EXPECT_FALSE(sc.check(k, 778, c, now, &idx));  // other peer ISN
    FlowKey k2 = k;
    k2.rport = 4001;
    EXPECT_FALSE(sc.check(k2, 777, c, now, &idx));
    EXPECT_FALSE(sc.check(k, 777, c ^ 1, now, &idx));
}

// Checksum from per-piece partial sums (odd-length pieces included) equals
// the checksum over the contiguous bytes.
uint32_t piece_sum(void *, const uint8_t *d, uint32_t n) {
    return csum_partial(d, n);
}
const ExtBufOps kSumOps = {nullptr, nullptr, piece_sum};

TEST(Checksum, PartialSumsFoldLikeContiguous) {
    std::mt19937 rng(3);
    std::vector<uint8_t> payload(1001);
    for (auto &b : payload) b = static_cast<uint8_t>(rng());
    uint8_t hdr[20];
    for (auto &b : hdr) b = static_cast<uint8_t>(rng());
    hdr[16] = hdr[17] = 0;
    SendItem items[3];
    uint32_t cuts[4] = {0, 333, 700, 1001};
    SegmentOut seg;
    seg.npieces = 3;
    for (int i = 0; i < 3; ++i) {
        items[i].data = payload.data() + cuts[i];
        items[i].len = cuts[i + 1] - cuts[i];
        items[i].ops = &kSumOps;
        seg.pieces[i] = {&items[i], items[i].data, 0, items[i].len};
    }
    IpAddr s = IpAddr::v4(192, 168, 1, 1), d = IpAddr::v4(192, 168, 1, 2);
    uint32_t ph = pseudo_header_sum(s, d, 20 + 1001);
    uint16_t got = tcp_checksum(ph, csum_partial(hdr, 20), 20, seg);
    std::vector<uint8_t> all(hdr, hdr + 20);
    all.insert(all.end(), payload.begin(), payload.end());
    uint16_t want =
        static_cast<uint16_t>(~csum_fold(uint64_t{ph} + csum_partial(all.data(), all.size())));
    EXPECT_EQ(got, want);
    // Verifying: the sum over everything including the checksum folds to 0xffff.
    all[16] = static_cast<uint8_t>(got >> 8);
    all[17] = static_cast<uint8_t>(got);
    EXPECT_EQ(csum_fold(uint64_t{ph} + csum_partial(all.data(), all.size())), 0xffff);
}

}  // namespace
}  // namespace ep::tcp

#include "dataplane/net/tcp/wire.h"

namespace ep::tcp {
namespace {

TEST(Wire, HeaderRoundTripAndChecksum) {
    SegmentOut o;
    o.src = IpAddr::v4(10, 0, 0, 1);
    o.dst = IpAddr::v4(10, 0, 0, 2);
    o.sport = 80;
    o.dport = 40000;
    o.seq = 0x11223344;
    o.ack = 0x55667788;
    o.flags = kAck | kPsh;
    o.window = 501;
    o.opts.has_ts = true;
    o.opts.ts_val = 7;
    o.opts.ts_ecr = 9;
    o.opts.num_sack = 1;
    o.opts.sack[0] = {100, 200};
    static const uint8_t body[5] = {'h', 'e', 'l', 'l', 'o'};
    SendItem it;
    it.data = body;
    it.len = 5;
    o.npieces = 1;
    o.pieces[0] = {&it, body, 0, 5};
    o.payload_len = 5;
    uint8_t pkt[kTcpHeaderMax + 5];
    size_t hl = write_header(o, pkt);
    EXPECT_EQ(hl, header_length(o));
    EXPECT_EQ(hl % 4, 0u);
    uint16_t ck = tcp_checksum(pseudo_header_sum(o.src, o.dst, static_cast<uint32_t>(hl + 5)),
                               csum_partial(pkt, hl), hl, o);
    pkt[16] = static_cast<uint8_t>(ck >> 8);
    pkt[17] = static_cast<uint8_t>(ck);
    std::memcpy(pkt + hl, body, 5);
    // A receiver's verification: everything sums to 0xffff.
    uint64_t sum = pseudo_header_sum(o.src, o.dst, static_cast<uint32_t>(hl + 5));
    EXPECT_EQ(csum_fold(sum + csum_partial(pkt, hl + 5)), 0xffff);
    SegmentIn in;
    ASSERT_EQ(parse_header(pkt, hl + 5, in), ParseError::kOk);
    EXPECT_EQ(in.sport, 80);
    EXPECT_EQ(in.dport, 40000);
    EXPECT_EQ(in.seq, 0x11223344u);
    EXPECT_EQ(in.ack, 0x55667788u);
    EXPECT_EQ(in.flags, kAck | kPsh);
    EXPECT_EQ(in.window, 501);
    EXPECT_TRUE(in.opts.has_ts);
    EXPECT_EQ(in.opts.ts_ecr, 9u);
    ASSERT_EQ(in.opts.num_sack, 1);
    EXPECT_EQ(in.opts.sack[0].end, 200u);
    ASSERT_EQ(in.payload_len, 5u);
    EXPECT_EQ(std::memcmp(in.payload, body, 5), 0);
    // Malformed: data offset beyond the packet, truncated option.
    pkt[12] = 0xf0;
    EXPECT_EQ(parse_header(pkt, 30, in), ParseError::kBadDataOffset);
    uint8_t bad[24] = {};
    bad[12] = 6 << 4;
    bad[20] = kOptMss;
    bad[21] = 8;  // runs past the header
    EXPECT_EQ(parse_header(bad, 24, in), ParseError::kBadOptions);
}

}  // namespace
}  // namespace ep::tcp

#include "dataplane/net/tcp/cc.h"

namespace ep::tcp {
namespace {

// Drives a congestion controller with one ACK per segment, one window per RTT.
uint32_t run_rtts(const CcOps &cc, CcState &s, int rtts, uint64_t *now, uint64_t rtt_ns) {
    for (int r = 0; r < rtts; ++r) {
        uint32_t segs = s.cwnd / s.mss;
        for (uint32_t i = 0; i < segs; ++i) {
            *now += rtt_ns / segs;
            cc.on_ack(s, s.mss, s.cwnd, *now, rtt_ns);
        }
    }
    return s.cwnd / s.mss;
}

TEST(CongestionControl, NewRenoSlowStartAndAvoidance) {
    CcState s;
    kNewReno.init(s, 1000, 10 * 1000);
    uint64_t now = 1;
    EXPECT_EQ(run_rtts(kNewReno, s, 1, &now, 100'000'000), 20u);  // doubles per RTT
    kNewReno.on_loss(s, s.cwnd, now);
    EXPECT_EQ(s.ssthresh, 10'000u);  // FlightSize / 2
    EXPECT_EQ(s.cwnd, 10'000u);
    EXPECT_EQ(run_rtts(kNewReno, s, 1, &now, 100'000'000), 11u);  // +1 MSS per RTT
    EXPECT_EQ(run_rtts(kNewReno, s, 1, &now, 100'000'000), 12u);
    kNewReno.on_rto(s, s.cwnd);
    EXPECT_EQ(s.cwnd, 1000u);  // loss window
    EXPECT_EQ(s.ssthresh, 6000u);
}

TEST(CongestionControl, CubicReturnsToWmaxAfterK) {
    CcState s;
    kCubic.init(s, 1000, 10 * 1000);
    s.cwnd = 100 * 1000;
    s.ssthresh = 100 * 1000;  // in congestion avoidance
    uint64_t now = 1'000'000'000;
    kCubic.on_loss(s, s.cwnd, now);
    EXPECT_EQ(s.cwnd, 70'000u);  // beta = 0.7 (RFC 9438 4.6)
    // K = cbrt(W_max (1 - beta) / C) = cbrt(75) = 4.22 s (RFC 9438 eq. 2).
    // 200 ms RTT: the cubic function dominates the Reno-friendly estimate (which
    // grows 0.53 segments per RTT and would win at short RTTs, RFC 9438 4.3).
    const uint64_t rtt = 200'000'000;
    uint32_t w_half = run_rtts(kCubic, s, 10, &now, rtt);  // ~2 s: concave region
    EXPECT_GT(w_half, 85u);
    EXPECT_LT(w_half, 100u);
    uint32_t w_k = run_rtts(kCubic, s, 11, &now, rtt);  // ~4.2 s: plateau near W_max
    EXPECT_GE(w_k, 97u);
    EXPECT_LE(w_k, 103u);
    uint32_t w_late = run_rtts(kCubic, s, 20, &now, rtt);  // convex: probing beyond
    EXPECT_GT(w_late, 115u);
    // Fast convergence (4.7): a loss below the previous W_max lowers W_max further.
    s.cwnd = 90 * 1000;
    kCubic.on_loss(s, s.cwnd, now);
    EXPECT_NEAR(s.w_max, 90 * (1 + 0.7) / 2, 0.5);
}

}  // namespace
}  // namespace ep::tcp

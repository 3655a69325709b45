// Randomized robustness: seeded random segments (flags, sequence and ack
// numbers near and far from the connection's, options, payloads) thrown at a
// stack with live connections in every state. The engine must not crash,
// must keep its invariants and must release every send-queue reference.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "tests/tcp/harness.h"

namespace ep::tcp::test {
namespace {

int g_refs = 0;
void fz_ref(void *) {
    ++g_refs;
}
void fz_unref(void *) {
    --g_refs;
}
const ExtBufOps kFzOps = {fz_ref, fz_unref, nullptr};

class FuzzApp : public RecordingApp {
  public:
    void on_connected(Stack &st, ConnId c) override {
        RecordingApp::on_connected(st, c);
        all.push_back(c);
    }
    void on_accept(Stack &st, ConnId c) override {
        RecordingApp::on_accept(st, c);
        all.push_back(c);
        static uint8_t body[20000];
        st.send(c, body, sizeof body, nullptr, &kFzOps);
    }
    size_t on_data(Stack &st, ConnId c, const uint8_t *, size_t n) override {
        if (n % 7 == 0) st.close(c);
        if (n % 11 == 0) st.abort(c);
        return n % 3 == 0 ? n / 2 : n;
    }
    std::vector<ConnId> all;
};

TEST(Fuzz, RandomSegmentsKeepTheEngineSane) {
    // EP_TCP_FUZZ_SEEDS=N runs more seeds (default 20, about 0.2 s).
    const char *env = std::getenv("EP_TCP_FUZZ_SEEDS");
    const uint32_t seeds = env ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10)) : 20;
    for (uint32_t seed = 1; seed <= seeds; ++seed) {
        std::mt19937 rng(seed);
        StackConfig cfg = Harness::default_config();
        cfg.tlp = (seed & 1) != 0;
        cfg.keepalive = (seed & 2) != 0;
        cfg.keepalive_idle_ns = 50'000'000;
        cfg.keepalive_interval_ns = 10'000'000;
        cfg.max_connections = 16;
        cfg.time_wait_capacity = 4;
        cfg.rcv_buf_bytes = 8192;
        Harness h(cfg, false);
        FuzzApp app;
        h.stack.listen(h.local_port, &app, 4);
        static uint8_t payload[3000];
        for (auto &b : payload) b = static_cast<uint8_t>(rng());
        uint32_t isn_base = rng();
        // What the stack told each peer port: the sequence it expects from us
        // (its ACK field) and its own next sequence number. Most segments aim
        // near these, so handshakes complete and data flows.
        struct Peer {
            uint32_t expect = 0, next = 0;
            bool known = false;
        };
        Peer peers[6];
        for (int i = 0; i < 20000; ++i) {
            SegmentIn s;
            s.src = h.peer;
            s.dst = h.local;
            int pi = static_cast<int>(rng() % 6);
            s.sport = static_cast<uint16_t>(5000 + pi);
            s.dport = rng() % 10 ? h.local_port : static_cast<uint16_t>(rng());
            const Peer &p = peers[pi];
            if (p.known && rng() % 4) {
                s.seq = p.expect + static_cast<uint32_t>(rng() % 6000) - 3000 * (rng() % 2);
                s.ack = p.next - static_cast<uint32_t>(rng() % 3000) * (rng() % 2);
            } else {
                s.seq = isn_base + static_cast<uint32_t>(rng() % 40000) - 100;
                s.ack = rng();
            }
            static const uint8_t kFlags[] = {kSyn, kSyn | kAck, kAck, kAck | kPsh, kAck | kFin,
                                             kRst, kRst | kAck, kFin, kSyn | kFin, 0};
            s.flags = kFlags[rng() % sizeof kFlags];
            s.window = static_cast<uint16_t>(rng() % 4 ? rng() : 0);
            if (rng() % 2) {
                s.opts.has_mss = true;
                s.opts.mss = static_cast<uint16_t>(rng() % 3000);
            }
            if (rng() % 2) {
                s.opts.has_ts = true;
                s.opts.ts_val = rng() % 1000;
                s.opts.ts_ecr = rng();
            }
            s.opts.sack_permitted = rng() % 2;
            if (rng() % 3 == 0) {
                s.opts.has_wscale = true;
                s.opts.wscale = static_cast<uint8_t>(rng() % 15);
            }
            if (rng() % 4 == 0) {
                s.opts.num_sack = static_cast<uint8_t>(1 + rng() % 4);
                for (int k = 0; k < s.opts.num_sack; ++k) {
                    s.opts.sack[k].start = rng();
                    s.opts.sack[k].end = s.opts.sack[k].start + rng() % 5000;
                }
            }
            if (rng() % 3 == 0) {
                s.payload = payload;
                s.payload_len = rng() % sizeof payload;
            }
            h.stack.input(s, h.now_ns() + static_cast<uint64_t>(i) * 100'000);
            if (i % 50 == 0) h.at(i * 0.1);
            if (rng() % 64 == 0) {
                // ICMP fragmentation-needed, sometimes for what was just sent
                // (RFC 1191/5927): the MSS may drop mid-recovery.
                FlowKey k;
                k.local = h.local;
                k.remote = h.peer;
                k.lport = h.local_port;
                k.rport = static_cast<uint16_t>(5000 + rng() % 6);
                const Peer &q = peers[k.rport - 5000];
                Seq seq = q.known && rng() % 2 ? q.next - 1 - rng() % 3000 : rng();
                h.stack.icmp_frag_needed(k, seq, rng() % 1600, h.now_ns());
            }
            if (i % 1000 == 0 && rng() % 2) {
                ConnId c = h.stack.connect(h.local, h.peer, 80, &app);
                if (c.valid() && rng() % 2) h.stack.send_copy(c, payload, 500);
            }
            for (auto &c : h.cap.q) {
                if (c.seg.dport < 5000 || c.seg.dport > 5005) continue;
                Peer &q = peers[c.seg.dport - 5000];
                q.known = true;
                if (c.seg.flags & kAck) q.expect = c.seg.ack;
                uint32_t end = c.seg.seq + c.seg.payload_len + ((c.seg.flags & kSyn) ? 1 : 0) +
                               ((c.seg.flags & kFin) ? 1 : 0);
                if (!(c.seg.flags & kRst)) q.next = end;
            }
            h.cap.q.clear();
            ASSERT_LE(h.stack.connections(), cfg.max_connections);
            ASSERT_LE(h.stack.time_wait_entries(), cfg.time_wait_capacity);
        }
        // Let every timer run out (the 100 s user timeout, then TIME-WAIT). What is
        // left must be legitimately idle: nothing in flight, or a zero window
        // being probed. Then abort the rest: all references must come back.
        for (int t = 0; t < 1000; ++t) h.at(2000 + t * 1000.0);
        h.cap.q.clear();
        for (ConnId c : app.all) {
            if (!h.stack.alive(c)) continue;
            ConnInfo in = h.stack.info(c);
            EXPECT_NE(in.state, State::kSynSent) << "seed " << seed;
            EXPECT_NE(in.state, State::kSynRcvd) << "seed " << seed;
            EXPECT_TRUE(in.flight == 0 || in.snd_wnd == 0)
                << "seed " << seed << " " << state_name(in.state) << " flight " << in.flight;
            h.stack.abort(c);
        }
        EXPECT_EQ(h.stack.connections(), 0u) << "seed " << seed;
        const Counters &k = h.stack.counters();
        if (seed == 1)
            std::printf(
                "  seed 1: passive %lu active %lu rx bytes %lu rst rx %lu challenge %lu "
                "oow %lu paws %lu cookies %lu tw %lu\n",
                (unsigned long)k.conn_passive_opened, (unsigned long)k.conn_active_opened,
                (unsigned long)k.rx_data_bytes, (unsigned long)k.rst_rx,
                (unsigned long)k.challenge_acks, (unsigned long)k.out_of_window,
                (unsigned long)k.paws_reject, (unsigned long)k.syncookies_sent,
                (unsigned long)k.tw_entered);
    }
    EXPECT_EQ(g_refs, 0);
}

}  // namespace
}  // namespace ep::tcp::test

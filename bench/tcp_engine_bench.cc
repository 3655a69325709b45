// CPU cost of the TCP engine per transmitted full-size segment, including the
// receiver's processing and the sender's ACK processing: two stacks back to back
// in one thread, payload sent as external references (never copied or read).
//
//   build-*/bench/tcp/tcp_engine_bench --benchmark_min_time=1
// Reports rdtsc cycles per data segment: cyc/seg_min, cyc/seg_med, cyc/seg_mean.
#include <benchmark/benchmark.h>
#include <x86intrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/net/tcp/stack.h"

namespace {

using namespace ep::tcp;

// In-memory wire: a ring of segments; payload stays a pointer into the sender's
// buffer (single-piece segments), so nothing is copied.
class DirectWire {
  public:
    struct Port : Output {
        DirectWire *w;
        int side;
        void emit(const SegmentOut &s) override { w->push(side, s); }
    };
    DirectWire() {
        port[0].w = port[1].w = this;
        port[0].side = 0;
        port[1].side = 1;
    }
    void push(int from, const SegmentOut &s) {
        Slot &q = ring_[tail_ & kMask];
        q.dst = 1 - from;
        SegmentIn &i = q.seg;
        i.src = s.src;
        i.dst = s.dst;
        i.sport = s.sport;
        i.dport = s.dport;
        i.seq = s.seq;
        i.ack = s.ack;
        i.flags = s.flags;
        i.window = s.window;
        i.opts = s.opts;
        i.payload_len = s.payload_len;
        if (s.npieces == 1) {
            i.payload = s.pieces[0].data;
        } else if (s.npieces > 1) {
            // A segment straddling two send items (one in ~180 here): gather it.
            uint32_t off = 0;
            for (int k = 0; k < s.npieces; ++k) {
                std::memcpy(scratch_[tail_ & 7] + off, s.pieces[k].data, s.pieces[k].len);
                off += s.pieces[k].len;
            }
            i.payload = scratch_[tail_ & 7];
        }
        if (s.payload_len) ++data_segments;
        ++tail_;
    }
    void pump(Stack *st[2], uint64_t now) {
        while (head_ != tail_) {
            Slot &q = ring_[head_++ & kMask];
            st[q.dst]->input(q.seg, now);
        }
    }
    Port port[2];
    uint64_t data_segments = 0;

  private:
    struct Slot {
        int dst;
        SegmentIn seg;
    };
    // Gathered multi-piece payloads; a pump delivers each long before 8 more.
    uint8_t scratch_[8][2048];
    static constexpr uint32_t kMask = 4095;
    Slot ring_[kMask + 1];
    uint32_t head_ = 0, tail_ = 0;
};

struct Chunk {
    uint64_t refs = 0;
};
void ref(void *r) {
    ++static_cast<Chunk *>(r)->refs;
}
void unref(void *r) {
    --static_cast<Chunk *>(r)->refs;
}
const ExtBufOps kOps = {ref, unref, nullptr};

class Source : public Handler {
  public:
    void on_connected(Stack &st, ConnId c) override {
        conn = c;
        fill(st);
    }
    // Refilled by the benchmark loop: refilling here would make one pump() an
    // endless transfer (no time passes on the in-memory wire).
    void on_writable(Stack &, ConnId) override {}
    void fill(Stack &st) {
        while (st.send(conn, data, kChunk, &chunk, &kOps) == kChunk) {
        }
    }
    static constexpr uint32_t kChunk = 256 * 1024;
    ConnId conn;
    Chunk chunk;
    const uint8_t *data = nullptr;
};

class Sink : public Handler {
  public:
    size_t on_data(Stack &, ConnId, const uint8_t *, size_t n) override {
        bytes += n;
        return n;
    }
    uint64_t bytes = 0;
};

void BM_TcpSegment(benchmark::State &state) {
    static std::vector<uint8_t> buf(Source::kChunk, 0xab);
    auto wire = std::make_unique<DirectWire>();
    StackConfig cfg;
    cfg.max_connections = 4;
    cfg.rcv_buf_bytes = 1 << 20;
    cfg.snd_buf_bytes = 4 << 20;
    cfg.inline_blocks = 16;
    cfg.time_wait_capacity = 4;
    cfg.cc = state.range(0) ? CcAlgo::kCubic : CcAlgo::kNewReno;
    auto a = std::make_unique<Stack>(), b = std::make_unique<Stack>();
    uint64_t now = 1'000'000'000;
    a->init(cfg, &wire->port[0], now);
    b->init(cfg, &wire->port[1], now);
    Source src;
    src.data = buf.data();
    Sink sink;
    b->listen(80, &sink);
    src.conn = a->connect(IpAddr::v4(10, 0, 0, 1), IpAddr::v4(10, 0, 0, 2), 80, &src);
    Stack *st[2] = {a.get(), b.get()};
    // Warm up: handshake and slow start.
    for (int i = 0; i < 2000; ++i) {
        now += 10'000;
        wire->pump(st, now);
        a->poll(now);
        b->poll(now);
        src.fill(*a);
    }
    // rdtsc per round (~2700 segments, ~0.2 ms): the minimum and the median over
    // rounds; on a shared machine the mean includes time the thread was preempted.
    uint64_t cycles = 0, segs = 0;
    std::vector<double> per_round;
    per_round.reserve(1 << 16);
    for (auto _ : state) {
        for (int i = 0; i < 64; ++i) {
            now += 10'000;  // 10 us per round
            src.fill(*a);
            uint64_t s0 = wire->data_segments;
            uint64_t t0 = __rdtsc();
            wire->pump(st, now);
            if ((i & 15) == 0) {
                a->poll(now);
                b->poll(now);
            }
            uint64_t dt = __rdtsc() - t0;
            uint64_t ds = wire->data_segments - s0;
            cycles += dt;
            segs += ds;
            if (ds > 100 && per_round.size() < per_round.capacity())
                per_round.push_back(static_cast<double>(dt) / ds);
        }
    }
    std::sort(per_round.begin(), per_round.end());
    if (!per_round.empty()) {
        state.counters["cyc/seg_min"] = per_round.front();
        state.counters["cyc/seg_med"] = per_round[per_round.size() / 2];
    }
    state.counters["cyc/seg_mean"] = segs ? static_cast<double>(cycles) / segs : 0;
    state.counters["segs"] = static_cast<double>(segs);
    state.counters["retransmits"] = static_cast<double>(a->counters().retransmits);
    state.SetBytesProcessed(static_cast<int64_t>(sink.bytes));
}
BENCHMARK(BM_TcpSegment)->Arg(1)->Arg(0)->ArgName("cubic");

}  // namespace

BENCHMARK_MAIN();

// Two stacks back-to-back through a simulated wire with latency and seeded
// faults (drop / duplicate / reorder), driven by a fake clock.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <queue>
#include <vector>

#include "dataplane/net/fault/fault_injector.h"
#include "dataplane/net/tcp/stack.h"

namespace ep::tcp::test {

class Wire {
  public:
    struct Pkt {
        uint64_t t;
        uint64_t order;
        int dst;  // 0 or 1
        SegmentIn seg;
        std::vector<uint8_t> data;
        bool operator>(const Pkt &o) const { return t != o.t ? t > o.t : order > o.order; }
    };

    class Port : public Output {
      public:
        Wire *w = nullptr;
        int side = 0;
        void emit(const SegmentOut &s) override { w->send(side, s); }
    };

    // bytes_per_sec: optional per-direction link rate (0: unlimited); a packet
    // is serialized after the previous one in its direction, then propagates.
    Wire(uint64_t one_way_ns, const fault::FaultConfig &f, uint64_t bytes_per_sec = 0)
        : delay_(one_way_ns), rate_(bytes_per_sec), faults_(f) {
        port[0].w = port[1].w = this;
        port[0].side = 0;
        port[1].side = 1;
    }

    // A TSO super-segment is cut into tso_segsz pieces here, as a port
    // would, each piece its own packet (faults apply to each): FIN and PSH
    // only on the last.
    void send(int from, const SegmentOut &s) {
        if (!s.tso_segsz) return send_one(from, s, s.seq, s.flags, 0, s.payload_len);
        ++tso_sends;
        const uint32_t n = (s.payload_len + s.tso_segsz - 1) / s.tso_segsz;
        for (uint32_t i = 0; i < n; ++i) {
            const uint32_t off = i * s.tso_segsz;
            const uint32_t len = std::min<uint32_t>(s.tso_segsz, s.payload_len - off);
            const bool last = i + 1 == n;
            uint8_t flags = last ? s.flags : static_cast<uint8_t>(s.flags & ~(kFin | kPsh));
            // The test's chosen loss: the middle MSS of the n-th super-segment.
            if (tso_sends == drop_tso_middle_of && n >= 3 && i == n / 2) {
                dropped_seq = s.seq + off;
                ++dropped;
                continue;
            }
            send_one(from, s, s.seq + off, flags, off, len);
        }
    }

    void send_one(int from, const SegmentOut &s, Seq seq, uint8_t flags, uint32_t off,
                  uint32_t len) {
        Pkt p;
        p.order = order_++;
        p.dst = 1 - from;
        p.seg.src = s.src;
        p.seg.dst = s.dst;
        p.seg.sport = s.sport;
        p.seg.dport = s.dport;
        p.seg.seq = seq;
        p.seg.ack = s.ack;
        p.seg.flags = flags;
        p.seg.window = s.window;
        p.seg.opts = s.opts;
        for (int i = 0; i < s.npieces; ++i)
            p.data.insert(p.data.end(), s.pieces[i].data, s.pieces[i].data + s.pieces[i].len);
        if (off || len != p.data.size())
            p.data = std::vector<uint8_t>(p.data.begin() + off, p.data.begin() + off + len);
        ++sent;
        uint64_t depart = now;
        if (rate_) {
            // 40 bytes of IP + TCP header and the options, on top of the payload.
            uint64_t bytes = p.data.size() + 40 + 12;
            uint64_t &busy = link_busy_[from];
            if (busy > depart) depart = busy;
            depart += bytes * 1'000'000'000ull / rate_;
            busy = depart;
        }
        fault::Verdict v = faults_.next();
        if (v.drop) return;
        p.t = depart + delay_ + v.extra_delay_ns;
        if (v.duplicate) {
            Pkt d = p;
            d.order = order_++;
            q_.push(std::move(d));
        }
        q_.push(std::move(p));
    }

    // Advances the clock to the next event (packet or tick), delivers and polls.
    void step(Stack *st[2], uint64_t tick_ns) {
        uint64_t next = now + tick_ns;
        if (!q_.empty() && q_.top().t < next) next = q_.top().t;
        if (q_.empty()) idle_ns += next - now;  // nothing on the wire: waiting for a timer
        now = next;
        // What arrives at one instant is one receive burst; a stack with
        // TSO batches its output over it, as process_burst() does.
        bool burst[2] = {false, false};
        while (!q_.empty() && q_.top().t <= now) {
            Pkt p = q_.top();
            q_.pop();
            p.seg.payload = p.data.data();
            p.seg.payload_len = static_cast<uint32_t>(p.data.size());
            if (!burst[p.dst] && st[p.dst]->config().tso_max_bytes) {
                burst[p.dst] = true;
                st[p.dst]->begin_burst();
            }
            st[p.dst]->input(p.seg, now);
        }
        for (int d = 0; d < 2; ++d)
            if (burst[d]) st[d]->end_burst();
        st[0]->poll(now);
        st[1]->poll(now);
    }

    bool idle() const { return q_.empty(); }

    Port port[2];
    uint64_t now = 1'000'000'000;
    uint64_t sent = 0;
    uint64_t idle_ns = 0;
    uint64_t tso_sends = 0;           // super-segments seen
    uint64_t drop_tso_middle_of = 0;  // 1-based; 0: none
    uint64_t dropped = 0;
    Seq dropped_seq = 0;
    const fault::FaultInjector &faults() const { return faults_; }

  private:
    uint64_t delay_;
    uint64_t rate_ = 0;
    uint64_t link_busy_[2] = {0, 0};
    fault::FaultInjector faults_;
    uint64_t order_ = 0;
    std::priority_queue<Pkt, std::vector<Pkt>, std::greater<Pkt>> q_;
};

}  // namespace ep::tcp::test

// libFuzzer target: the TCP engine's input (dataplane/net/tcp). The input is
// a sequence of segments thrown at one connection (established by a normal
// handshake first) from its peer, with time passing between them. Sequence
// and ack numbers are offsets from what the stack last told the peer, so most
// segments land near the window and reach deep into the engine; options go
// through parse_options like the glue's. The stack sends data of its own, so
// ACKs, SACKs and retransmissions have something to work on.
//
// Header byte: bit0 timestamps, bit1 SACK, bit2 window scaling, bits 3-5 how
// much the application reads per callback (0 = all), bit 6 tail loss probes,
// bit 7 the stack queues 64 KiB up front instead of 16 KiB (16 KiB is more
// than the initial window of 10 segments, so cwnd still limits the sending;
// 64 KiB takes every inline block). Then records of 11 bytes:
//   flags, seq offset (i16), ack offset (i16), window (u16), payload length/8,
//   option bytes (n <= 40, that many bytes follow), ms to advance (251..255:
//   1..5 s), app action (1 close, 2 abort, 3 send 3000 bytes more).
#include "tests/fuzz/fuzz_tcp_input.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "dataplane/net/tcp/options.h"
#include "tests/tcp/harness.h"

namespace ep::tcp::test {

namespace {

uint16_t rd16(const uint8_t *p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

// Sees every segment the stack emits once the connection is up, as it is
// emitted (nothing queued, no payload copied), and keeps what the stack
// last told the peer: the next sequence it expects and its own next.
class Tracker : public Output {
  public:
    Tracker(const Harness &h, std::string *trace) : h_(h), trace_(trace) {}
    void emit(const SegmentOut &s) override {
        if (s.flags & kAck) expect = s.ack;
        const uint32_t end =
            s.seq + s.payload_len + ((s.flags & kSyn) ? 1 : 0) + ((s.flags & kFin) ? 1 : 0);
        if (!know_next || static_cast<int32_t>(end - next) > 0) next = end;
        know_next = true;
        if (trace_) *trace_ += h_.format(s) + (s.retransmit ? " rtx\n" : "\n");
    }
    uint32_t expect = 0, next = 0;
    bool know_next = false;

  private:
    const Harness &h_;
    std::string *trace_;
};

void append_end_state(const Harness &h, std::string *trace) {
    const RecordingApp &a = h.app;
    *trace += "app " + std::to_string(a.accepted) + " " + std::to_string(a.peer_closed) + " " +
              std::to_string(a.writable) + " " + std::to_string(a.closed) + " " +
              std::to_string(static_cast<int>(a.reason)) + "\n";
    const Counters &c = h.stack.counters();
#define EP_TRACE_COUNTER(name, doc) *trace += #name "=" + std::to_string(c.name) + " ";
    EP_TCP_COUNTERS(EP_TRACE_COUNTER)
#undef EP_TRACE_COUNTER
    *trace += "\n";
}

}  // namespace

void fuzz_tcp_input(const uint8_t *data, std::size_t size, const TcpInputRun &run) {
    if (size < 1) return;
    static uint8_t payload[2048];
    static uint8_t body[64 * 1024];
    StackConfig cfg = Harness::default_config();
    cfg.max_connections = 4;
    cfg.time_wait_capacity = 2;
    cfg.rcv_buf_bytes = 8192;
    cfg.max_listeners = 1;  // small tables: a stack is built per input
    // The wheel is swept slot by slot up to its size on every poll: 64 slots
    // instead of 1024 make a 1 s step 64 visits, not 1000, and change no
    // segment (test_fuzz_tcp_input: the corpus against 1024 slots).
    cfg.wheel_slots = run.wheel_slots;
    cfg.inline_blocks = 64;
    cfg.tlp = (data[0] & 0x40) != 0;
    Harness h(cfg, true);
    h.app.keep_data = false;
    const uint8_t mode = data[0];
    ++data;
    --size;
    const ConnId c = h.accept_default(mode & 1, mode & 2, mode & 4);
    if (!c.valid()) std::abort();
    Tracker tr(h, run.trace);
    tr.expect = h.peer_isn + 1;
    while (auto s = h.pop()) tr.emit(s->seg);  // left by the handshake, if anything
    h.cap.sink = &tr;
    const uint32_t limit = (mode >> 3) & 7;
    h.app.consume_limit = limit ? limit * 700 : SIZE_MAX;
    h.stack.send_copy(c, body, (mode & 0x80) ? sizeof body : 16 * 1024);
    double t = 2;
    size_t pos = 0;
    for (int rec = 0; rec < 4096 && pos + 11 <= size; ++rec) {
        const uint8_t *r = data + pos;
        pos += 11;
        SegmentIn s;
        s.src = h.peer;
        s.dst = h.local;
        s.sport = h.peer_port;
        s.dport = h.local_port;
        s.flags = r[0];
        s.seq = tr.expect + static_cast<uint32_t>(static_cast<int16_t>(rd16(r + 1)));
        s.ack = tr.next + static_cast<uint32_t>(static_cast<int16_t>(rd16(r + 3)));
        s.window = rd16(r + 5);
        s.payload_len = r[7] * 8u;
        if (s.payload_len > sizeof payload) s.payload_len = sizeof payload;
        if (s.payload_len) s.payload = payload;
        size_t nopt = r[8] % (kMaxOptionBytes + 1);
        if (nopt > size - pos) nopt = size - pos;
        if (!parse_options(data + pos, nopt, s.opts)) s.opts = TcpOptions{};
        pos += nopt;
        t += r[9] > 250 ? 1000.0 * (r[9] - 250) : r[9];  // ms; 251..255: 1..5 s (RTOs)
        h.at(t);
        h.stack.input(s, h.now_ns());
        const uint8_t act = r[10];
        if (h.stack.alive(c)) {
            if (act == 1) h.stack.close(c);
            if (act == 2) h.stack.abort(c);
            if (act == 3) h.stack.send_copy(c, body, 3000);
        }
        if (h.stack.connections() > cfg.max_connections) std::abort();
        if (h.stack.time_wait_entries() > cfg.time_wait_capacity) std::abort();
    }
    // A few more seconds for the timers (a full retry cycle would take minutes
    // of 1 ms ticks per input), then the application aborts what is left.
    for (int k = 0; k < 4; ++k) {
        t += 1000;
        h.at(t);
    }
    if (h.stack.alive(c)) h.stack.abort(c);
    if (h.app.conn.valid() && h.stack.alive(h.app.conn)) h.stack.abort(h.app.conn);
    if (run.trace) append_end_state(h, run.trace);
}

}  // namespace ep::tcp::test

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    ep::tcp::test::fuzz_tcp_input(data, size, {});
    return 0;
}

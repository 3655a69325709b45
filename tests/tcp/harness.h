// Packetdrill-style scripted harness for the TCP engine: inject segments written
// as text at given times on a fake clock, and assert the segments the stack emits.
//
//   Harness h;                                    // stack listening on :8080
//   h.in(0, "S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>");
//   h.out("S. 0:0(0) ack 1 <mss 1460,sackOK,TS val * ecr 100,nop,wscale 1>");
//
// Segment text: FLAGS START:END(LEN) [ack N] [win W] [<options>]
//   FLAGS: S F R P and '.' for ACK (e.g. "S.", "P.", "F.", "R", ".").
//   Sequence numbers are relative to the sender's ISN (ours when the stack sends,
//   the scripted peer's when it receives); ack numbers relative to the other side.
//   Options: mss N, wscale N, sackOK, nop, TS val V ecr E (V/E may be '*'),
//            sack A:B A:B (relative to the peer's ISN when the stack sends).
// In out(): omitted fields are not checked; '*' matches anything.
// In in(): "ecr *" echoes the stack's last TSval.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/net/tcp/stack.h"

namespace ep::tcp::test {

struct Captured {
    SegmentOut seg;  // pieces point into stack memory; use payload instead
    std::vector<uint8_t> payload;
};

class CaptureOutput : public Output {
  public:
    void emit(const SegmentOut &s) override {
        if (sink) return sink->emit(s);
        Captured c;
        c.seg = s;
        for (int i = 0; i < s.npieces; ++i)
            c.payload.insert(c.payload.end(), s.pieces[i].data, s.pieces[i].data + s.pieces[i].len);
        for (auto &p : c.seg.pieces) p = PayloadPiece{};
        q.push_back(std::move(c));
    }
    std::deque<Captured> q;
    // When set, segments go straight to `sink` and nothing is queued or
    // copied: the libFuzzer target looks at each segment once, and a queue
    // entry and a payload copy per segment were a fifth of its instructions.
    Output *sink = nullptr;
};

// Records application events; on_data consumes up to `consume_limit` bytes.
class RecordingApp : public Handler {
  public:
    void on_connected(Stack &, ConnId c) override {
        conn = c;
        ++connected;
    }
    void on_accept(Stack &, ConnId c) override {
        conn = c;
        ++accepted;
    }
    size_t on_data(Stack &, ConnId, const uint8_t *d, size_t n) override {
        size_t take = n < consume_limit ? n : consume_limit;
        if (keep_data) data.insert(data.end(), d, d + take);
        return take;
    }
    void on_peer_closed(Stack &, ConnId) override { ++peer_closed; }
    void on_writable(Stack &, ConnId) override { ++writable; }
    void on_closed(Stack &, ConnId, CloseReason r) override {
        ++closed;
        reason = r;
    }
    ConnId conn;
    int connected = 0, accepted = 0, peer_closed = 0, writable = 0, closed = 0;
    CloseReason reason = CloseReason::kNormal;
    std::vector<uint8_t> data;
    size_t consume_limit = SIZE_MAX;
    bool keep_data = true;  // false: consume without copying into `data`
};

struct ParsedSeg {
    uint8_t flags = 0;
    uint32_t start = 0, end = 0, len = 0;
    std::optional<uint32_t> ack;
    std::optional<uint32_t> win;
    bool has_opts = false;
    TcpOptions opts;
    bool ts_val_any = false, ts_ecr_any = false;
};

ParsedSeg parse_seg(const std::string &text);

class Harness {
  public:
    static StackConfig default_config();
    explicit Harness(const StackConfig &cfg = default_config(), bool listen = true);

    // Runs timers up to t_ms (fake clock, ms since start).
    Harness &at(double t_ms);
    // Injects a segment from the peer at t_ms.
    Harness &in(double t_ms, const std::string &text, const uint8_t *payload = nullptr);
    // The same for a segment already built (addresses and ports filled in here).
    Harness &in(double t_ms, SegmentIn s);
    // Pops the next emitted segment and checks it against `text`.
    Harness &out(const std::string &text);
    // Expects nothing (more) was emitted.
    Harness &no_out();
    // Pops and returns the next emitted segment (or nullopt).
    std::optional<Captured> pop();
    // Active open from the stack to the peer.
    ConnId connect();
    // Completes a passive handshake with default options; returns the connection.
    // Builds the segments directly (no text to parse: the libFuzzer target
    // calls it once per input); test_handshake checks it against the script.
    ConnId accept_default(bool ts = true, bool sack = true, bool ws = true);

    std::string format(const SegmentOut &s) const;
    uint64_t now_ns() const { return now_; }

    Stack stack;
    CaptureOutput cap;
    RecordingApp app;
    IpAddr local = IpAddr::v4(10, 0, 0, 1);
    IpAddr peer = IpAddr::v4(10, 0, 0, 2);
    uint16_t local_port = 8080;
    uint16_t peer_port = 5000;
    uint32_t peer_isn = 1000000;
    uint32_t local_iss = 0;
    bool iss_known = false;
    uint32_t last_tsval = 0;
    uint64_t start_ns = 1'000'000'000;

  private:
    uint64_t now_ = 0;
};

}  // namespace ep::tcp::test

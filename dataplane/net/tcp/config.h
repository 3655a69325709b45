// Per-stack configuration. Everything is allocated from these sizes in
// Stack::init(); nothing is allocated afterwards.
#pragma once

#include <cstdint>

namespace ep::tcp {

enum class CcAlgo : uint8_t { kCubic, kNewReno };

struct StackConfig {
    // Capacity.
    uint32_t max_connections = 65536;  // per-lcore connection pool
    uint32_t max_listeners = 64;
    uint32_t time_wait_capacity = 16384;   // bounded TIME-WAIT table, oldest reused
    uint32_t rcv_buf_bytes = 64 * 1024;    // per connection, power of two
    uint32_t snd_queue_items = 64;         // per connection send-queue references
    uint32_t snd_buf_bytes = 1024 * 1024;  // per connection bytes queued (bound)
    uint32_t inline_block_bytes = 1024;    // small inline buffers (headers)
    uint32_t inline_blocks = 65536;        // total, per stack
    uint32_t syn_backlog = 1024;           // default half-open connections per listener
    bool syn_cookies = true;               // RFC 4987 when the SYN queue is full

    // Segment sizes and options.
    uint16_t mss = 1460;  // our MSS (advertised, RFC 9293 3.7.1)
    bool timestamps = true;
    bool sack = true;
    bool window_scale = true;
    uint32_t initial_window_segments = 10;  // RFC 6928
    // TCP segmentation offload: new data may leave as one super-segment of
    // up to this many payload bytes (whole MSS segments, a short tail only
    // at the end of the queue), which the port cuts into MSS segments.
    // Congestion control, SACK and retransmission stay per MSS: a
    // retransmission is always a single MSS segment. 0: off (the glue sets
    // it only where the port offers TSO, docs/tcp.md "TSO").
    uint32_t tso_max_bytes = 0;

    // Timers (nanoseconds).
    uint64_t tick_ns = 1'000'000;       // timer wheel tick
    uint32_t wheel_slots = 4096;        // power of two
    uint64_t rto_min_ns = 200'000'000;  // RFC 6298 2.4 says 1 s; 200 ms default
    uint64_t rto_max_ns = 60'000'000'000;
    uint64_t rto_initial_ns = 1'000'000'000;         // RFC 6298 2.1
    uint64_t delayed_ack_ns = 40'000'000;            // <= 500 ms (RFC 9293 3.8.6.3)
    uint64_t msl_ns = 30'000'000'000;                // TIME-WAIT lasts 2*MSL
    uint64_t fin_wait2_timeout_ns = 60'000'000'000;  // orphaned FIN-WAIT-2
    // RFC 9293 3.8.3 R2, by time and by count, for retransmissions and
    // zero-window probes alike: a connection whose retransmissions or probes
    // go unanswered is dropped user_timeout_ns after the first unanswered one
    // (0: the count alone), or after max_retries of them, whichever is first.
    // 100 s is R2's floor (RFC 1122 4.2.3.5, RFC 9293 3.8.3: "at least 100
    // seconds"); 15 retries alone took 7-8 minutes (200 ms floor, 60 s cap).
    // See docs/tcp.md "Dead peers".
    uint64_t user_timeout_ns = 100'000'000'000;
    uint32_t max_retries = 15;
    uint32_t syn_retries = 6;
    // PMTU black-hole detection (RFC 4821 / RFC 8899 style, like Linux's
    // tcp_mtu_probing = 1): from this many consecutive RTOs of a segment
    // larger than the next step, each further RTO lowers the MSS one step
    // (1024, then 536). 0: off.
    uint32_t pmtu_blackhole_rtos = 3;
    uint64_t persist_min_ns = 200'000'000;
    // RACK-TLP (RFC 8985), needs SACK. Tail loss probe (7): PTO = 2*SRTT
    // (+ delayed-ACK allowance when a single segment is in flight), at least
    // tlp_min_ns (2 ms: two 1 ms ticks, like Linux's 2 jiffies; the former
    // 10 ms floor is 100 RTTs on a 0.1 ms path). `tlp` also enables the RACK
    // reordering timer (6.3).
    bool tlp = true;
    bool prr = true;  // RFC 6937 cwnd reduction during fast recovery
    uint64_t tlp_min_ns = 2'000'000;
    // Probes before the RTO takes over, each PTO twice the one before. RFC
    // 8985 sends one; with loss of p each way a probe fails with about 2p,
    // so one probe leaves (2p) of the tail losses to a 200 ms RTO, which on a
    // 0.1 ms path is two thousand RTTs. Four probes (PTO x 1, 2, 4, 8: 15 PTOs
    // in all) leave (2p)^4, and a dead path costs four extra segments.
    uint8_t tlp_max_probes = 4;
    // Reordering timeouts (RFC 8985 6.3) without progress before the RTO;
    // each doubles the last, for the same reason.
    uint8_t rack_max_fires = 4;
    bool keepalive = false;
    uint64_t keepalive_idle_ns = 7200'000'000'000;  // RFC 9293 3.8.4: >= 2 h default
    uint64_t keepalive_interval_ns = 75'000'000'000;
    uint32_t keepalive_probes = 9;

    // RFC 5961 section 7: challenge ACKs per second, per stack.
    uint32_t challenge_ack_limit = 1000;

    CcAlgo cc = CcAlgo::kCubic;

    // Local ports for connect().
    uint16_t ephemeral_lo = 32768;
    uint16_t ephemeral_hi = 60999;

    // Secret material (ISN generation RFC 6528, SYN cookies) and PRNG seed.
    uint64_t secret = 0x9e3779b97f4a7c15ull;
    uint64_t seed = 1;
    bool random_ts_offset = true;  // RFC 7323 5.4 per-connection TS offset
};

}  // namespace ep::tcp

// Transmission control block (RFC 9293 section 3.3.1), one per connection,
// preallocated in the stack's pool.
#pragma once

#include <cstdint>

#include "dataplane/net/tcp/addr.h"
#include "dataplane/net/tcp/cc.h"
#include "dataplane/net/tcp/recv_buffer.h"
#include "dataplane/net/tcp/rtt.h"
#include "dataplane/net/tcp/sack_scoreboard.h"
#include "dataplane/net/tcp/send_queue.h"
#include "dataplane/net/tcp/seq.h"
#include "dataplane/net/tcp/timer_wheel.h"

namespace ep::tcp {

class Handler;

// RFC 9293 3.3.2. LISTEN is a Listener, TIME-WAIT a TimeWaitEntry.
enum class State : uint8_t {
    kClosed,
    kSynSent,
    kSynRcvd,
    kEstablished,
    kFinWait1,
    kFinWait2,
    kCloseWait,
    kClosing,
    kLastAck,
    kTimeWait,
};
const char *state_name(State s);

enum class CloseReason : uint8_t {
    kNormal,     // orderly release (TIME-WAIT entered or LAST-ACK done)
    kReset,      // RST received
    kRefused,    // RST in SYN-SENT
    kTimeout,    // retransmissions/user timeout/SYN retries exhausted
    kKeepalive,  // keepalive probes unanswered
    kAborted,    // abort() by the application (no callback) or resource drop
};
const char *close_reason_name(CloseReason r);

struct ConnId {
    uint32_t idx = UINT32_MAX;
    uint32_t gen = 0;
    bool valid() const { return idx != UINT32_MAX; }
    bool operator==(const ConnId &) const = default;
};

enum class RtxKind : uint8_t { kNone, kRto, kTlp, kPersist, kRack };

struct Tcb {
    TimerNode timer;  // one wheel node; fires at the earliest deadline below
    FlowKey key;
    uint32_t idx = 0;
    uint32_t gen = 0;
    State state = State::kClosed;
    bool passive = false;
    bool in_use = false;
    uint16_t listener = 0;  // index, for SYN-queue accounting (passive)
    Handler *handler = nullptr;
    void *user = nullptr;

    // Send sequence variables (3.3.1).
    Seq iss = 0, snd_una = 0, snd_nxt = 0, snd_max = 0, snd_wl1 = 0, snd_wl2 = 0;
    uint32_t snd_wnd = 0;      // scaled
    uint32_t max_snd_wnd = 0;  // RFC 5961 5.2
    uint8_t snd_wscale = 0;    // peer's shift
    uint8_t rcv_wscale = 0;    // ours
    uint16_t peer_mss = 536;
    uint16_t mss = 536;  // payload bytes per segment (options excluded)
    uint16_t rcv_mss = 536;

    // Receive sequence variables.
    Seq irs = 0;
    Seq rcv_adv = 0;  // right edge of the advertised window
    Seq last_ack_sent = 0;
    RecvBuffer rcv;

    // Options (RFC 7323, RFC 2018).
    bool ts_ok = false;
    bool sack_ok = false;
    bool ws_ok = false;
    uint32_t ts_recent = 0;
    uint32_t ts_offset = 0;
    uint64_t ts_recent_ns = 0;

    // Close handling.
    bool fin_queued = false;  // application shut down writes (FIN after the queue)
    bool app_closed = false;  // close(): orphaned, no more callbacks
    bool peer_fin = false;    // FIN received and processed
    bool ooo_fin = false;     // FIN seen out of order at ooo_fin_seq
    Seq ooo_fin_seq = 0;

    // Sending: references, loss recovery (RFC 6675 / RFC 6582), congestion control.
    SendQueue sq;
    SackScoreboard sb;
    bool in_recovery = false;
    bool retx_una = false;  // retransmit the segment at SND.UNA next (fast rtx / partial ack)
    uint8_t dupacks = 0;
    Seq recover = 0;
    Seq high_rxt = 0;
    // Holes below lost_below are lost whatever IsLost() says: everything
    // outstanding after an RTO, everything below the highest SACK after a RACK
    // reordering timeout (RFC 8985 6.3). Retransmissions in flight are in sb.
    Seq lost_below = 0;
    uint8_t rack_fires = 0;  // reordering timeouts since the last progress (SACK or ACK)
    // Proportional Rate Reduction (RFC 6937) state for the current recovery.
    uint64_t prr_delivered = 0;
    uint64_t prr_out = 0;
    uint32_t recover_fs = 0;
    CcState cc;
    const CcOps *ccops = nullptr;
    RttEstimator rtt;
    bool rtt_timing = false;  // Karn: one timed segment when no timestamps
    Seq rtt_seq = 0;
    uint64_t rtt_start_ns = 0;
    // Passive measurement (Stack::set_conn_sampler): data segments sent and
    // retransmitted since the last sample, and when that was.
    uint32_t segs_out = 0, segs_retrans = 0;
    uint64_t sampled_ns = 0;

    // Timers (absolute ns, 0 = off).
    RtxKind rtx_kind = RtxKind::kNone;
    uint64_t rtx_deadline = 0;
    uint64_t dack_deadline = 0;
    uint64_t ka_deadline = 0;
    uint64_t fw2_deadline = 0;
    uint64_t first_rtx_ns = 0;
    uint64_t last_rx_ns = 0;
    uint32_t retries = 0;
    uint8_t persist_backoff = 0;
    bool tlp_delack = false;  // the pending PTO carries the delayed-ACK allowance
    uint8_t tlp_out = 0;      // tail loss probes sent since the last ACK of new data (RFC 8985 7)
    // RFC 8985 7.4: a probe episode is open from the first probe until an ACK
    // shows whether a probe repaired a loss (cwnd is then reduced once) or
    // was redundant (a D-SACK for it). tlp_high is SND.MAX at the first probe.
    bool tlp_episode = false;
    Seq tlp_high = 0;
    uint8_t ka_sent = 0;

    // ACK generation (RFC 9293 3.8.6.3, RFC 5681 4.2).
    bool ack_now = false;

    // Application notifications and deferred work.
    bool want_writable = false;
    bool dirty = false;
    Tcb *next_dirty = nullptr;
    Tcb *next_free = nullptr;

    ConnId id() const { return {idx, gen}; }
    // RCV.NXT including the peer's FIN once processed.
    Seq rcv_nxt() const { return rcv.rcv_nxt() + (peer_fin ? 1 : 0); }
    bool synchronized() const { return state >= State::kEstablished; }
};

}  // namespace ep::tcp

// The per-lcore TCP engine. Pure: segments and time in, segments (through
// Output) and application callbacks out. No DPDK, no allocation after init(),
// no exceptions, no locks, no syscalls.
//
//   Stack st;  st.init(cfg, &output, now_ns);
//   st.listen(80, &handler);
//   loop: st.input(seg, now_ns) for each received segment; st.poll(now_ns) for timers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "dataplane/net/tcp/config.h"
#include "dataplane/net/tcp/counters.h"
#include "dataplane/net/tcp/flow_table.h"
#include "dataplane/net/tcp/handler.h"
#include "dataplane/net/tcp/segment.h"
#include "dataplane/net/tcp/syn_cookie.h"
#include "dataplane/net/tcp/tcb.h"
#include "dataplane/net/tcp/time_wait.h"
#include "dataplane/net/tcp/timer_wheel.h"

namespace ep::tcp {

// Connect-time local port filter: return true if `k` (local/remote as seen by
// this stack) would be steered by RSS back to this lcore.
using PortFilter = bool (*)(void *ctx, const FlowKey &k);

struct ConnInfo {
    State state = State::kClosed;
    uint32_t cwnd = 0, ssthresh = 0, snd_wnd = 0, rcv_wnd = 0, flight = 0;
    uint64_t srtt_ns = 0, rto_ns = 0;
    uint16_t mss = 0;
    bool ts = false, sack = false, wscale = false;
    uint8_t snd_wscale = 0, rcv_wscale = 0;
    uint32_t send_queued = 0;
    uint32_t rcv_buffered = 0;  // in-order bytes the application has not consumed
    bool in_recovery = false;
};

// Passive RTT measurement for cluster selection (issue 16): what one
// connection measured of its peer's path. segs_out/segs_retrans are MSS-sized
// data segments sent and retransmitted since the connection's previous
// sample (a TSO super-segment counts as its MSS segments).
struct ConnSample {
    IpAddr remote;
    uint64_t srtt_ns = 0;
    uint32_t segs_out = 0, segs_retrans = 0;
    bool final = false;  // the connection was released (else: a long-lived one's periodic sample)
};
using ConnSampler = void (*)(void *ctx, const ConnSample &s);

// What became of an ICMP "fragmentation needed" (RFC 1191) for one of our flows.
enum class IcmpVerdict : uint8_t {
    kAccepted,      // in window: the connection's MSS was lowered
    kIgnored,       // in window, but the MTU is not below what we send
    kNoConnection,  // no such connection
    kOutOfWindow,   // quoted sequence outside SND.UNA..SND.NXT (RFC 5927 4.1): forged or stale
};

class Stack {
  public:
    static constexpr uint16_t kMinPeerMss = 88;
    // Smallest path MTU an ICMP can teach us (RFC 791's 576-byte datagram,
    // MSS 536); also the last black-hole step (header MSS values).
    static constexpr uint32_t kMinPmtu = 576;
    static constexpr uint32_t kBlackholeMss1 = 1024;  // Linux's tcp_base_mss
    static constexpr uint32_t kBlackholeMss2 = kMinPmtu - 40;

    Stack() = default;
    Stack(const Stack &) = delete;
    Stack &operator=(const Stack &) = delete;

    // Allocates everything. Returns false if sizes are invalid or memory is short.
    bool init(const StackConfig &cfg, Output *out, uint64_t now_ns);

    // --- packets and time -------------------------------------------------
    void input(const SegmentIn &seg, uint64_t now_ns);
    void poll(uint64_t now_ns);  // runs timers (call every tick or so)
    // A burst of input() calls whose output waits for end_burst(): each
    // connection then sends once for all the burst's ACKs, which with TSO
    // is one super-segment instead of one per ACK (two MSS each, as the
    // peer ACKs every second segment). Only input() may be called between.
    void begin_burst() {
        in_burst_ = true;
        busy_ = true;
    }
    void end_burst();
    // ICMP destination unreachable / fragmentation needed (type 3 code 4)
    // quoting one of our segments: `k` is the quoted flow as this stack sees
    // it (local = the quoted source), `seq` the quoted sequence number,
    // `next_hop_mtu` the MTU the router reported (RFC 1191 4; 0 if none).
    IcmpVerdict icmp_frag_needed(const FlowKey &k, Seq seq, uint32_t next_hop_mtu, uint64_t now_ns);
    uint64_t now() const { return now_; }
    // Moves the clock forward without running timers. API calls (connect, send,
    // ...) use the time of the last input()/poll()/set_time().
    void set_time(uint64_t now_ns) {
        if (now_ns > now_) now_ = now_ns;
    }

    // --- application ------------------------------------------------------
    bool listen(uint16_t port, Handler *h, uint32_t backlog = 0);  // 0: cfg.syn_backlog
    void unlisten(uint16_t port);
    ConnId connect(const IpAddr &local, const IpAddr &remote, uint16_t rport, Handler *h,
                   PortFilter filter = nullptr, void *filter_ctx = nullptr);

    // Queues an external reference [data, data+len) owned by `ref`: takes one
    // reference per queued item (ops->ref) and drops it when acknowledged.
    // Returns bytes queued (may be less than len; 0 if the queue is full, then
    // on_writable() follows when space frees).
    uint32_t send(ConnId c, const uint8_t *data, uint32_t len, void *ref, const ExtBufOps *ops);
    // Copies small data (e.g. an HTTP response header) into inline buffers.
    uint32_t send_copy(ConnId c, const uint8_t *data, uint32_t len);
    uint32_t send_space(ConnId c) const;
    // Whether send_copy(c, _, len) would queue all len bytes now (queue
    // bytes, items and the shared inline blocks). When not, on_writable()
    // is asked for, as after a short send: a message that must go whole
    // (a DNS answer, RFC 7766 8) waits instead of going out in part.
    bool reserve_copy(ConnId c, uint32_t len);

    void shutdown_write(ConnId c);  // FIN after queued data (RFC 9293 3.10.4 CLOSE)
    void close(ConnId c);           // shutdown_write; no more data callbacks, on_closed still comes
    void abort(ConnId c);           // RST now, release (3.10.5 ABORT); no on_closed
    // RST every connection (3.10.5 ABORT each), telling the handlers
    // (on_closed, kAborted): a drain's deadline. Returns how many.
    uint32_t reset_all();
    // Re-delivers buffered in-order data after on_data() consumed less than offered.
    void resume_read(ConnId c);

    void set_handler(ConnId c, Handler *h);
    void set_user(ConnId c, void *u);
    void *user(ConnId c) const;
    bool alive(ConnId c) const { return get(c) != nullptr; }
    ConnInfo info(ConnId c) const;
    FlowKey flow(ConnId c) const;

    // Passive measurement: fn(ctx, sample) for every accepted (passive)
    // connection that has an RTT sample, when it is released, and every
    // `every_ns` (checked on its ACKs) while it lives. Our own active opens
    // (origin fills, swarm fetches) are left out: their peers are not the
    // clients cluster selection steers. Called on this lcore; fn must not
    // block.
    void set_conn_sampler(ConnSampler fn, void *ctx, uint64_t every_ns) {
        sampler_ = fn;
        sampler_ctx_ = ctx;
        sample_every_ns_ = every_ns;
    }

    const Counters &counters() const { return ctr_; }
    const StackConfig &config() const { return cfg_; }
    uint32_t connections() const { return nconn_; }
    uint32_t time_wait_entries() const { return tw_.size(); }
    // Connections in state s now (RFC 9293 3.3.2), for operators' gauges
    // (/metrics); TIME-WAIT lives in its own table: time_wait_entries().
    // Read by the control thread while the lcore writes: relaxed.
    uint32_t in_state(State s) const {
        return __atomic_load_n(&per_state_[static_cast<unsigned>(s)], __ATOMIC_RELAXED);
    }

  private:
    // Every state change goes through here, so per_state_ stays exact.
    void set_state(Tcb *t, State s) {
        if (t->state != State::kClosed) --per_state_[static_cast<unsigned>(t->state)];
        if (s != State::kClosed) ++per_state_[static_cast<unsigned>(s)];
        t->state = s;
    }
    struct Listener {
        uint16_t port = 0;
        bool active = false;
        Handler *handler = nullptr;
        uint32_t backlog = 0;
        uint32_t syn_rcvd = 0;
        uint64_t last_cookie_ns = 0;
        bool cookies_used = false;
    };

    ConnSampler sampler_ = nullptr;
    void *sampler_ctx_ = nullptr;
    uint64_t sample_every_ns_ = 0;
    void sample_conn(Tcb *t, bool final);

    // stack.cc
    Tcb *get(ConnId c) const;
    Tcb *alloc_tcb(const FlowKey &k);
    void release(Tcb *t, CloseReason r, bool notify);
    void reap();
    void mark_dirty(Tcb *t);
    void flush();
    void kick(Tcb *t);
    Seq make_iss(const FlowKey &k);
    uint32_t rand32();
    Listener *find_listener(uint16_t port);
    void setup_rcv(Tcb *t, Seq irs);
    void setup_snd(Tcb *t, Seq iss);
    void negotiate(Tcb *t, const TcpOptions &syn_opts, bool we_offer_all);
    void release_item(const SendItem &it);

    // tcp_input.cc (RFC 9293 3.10.7)
    // What the 3.10.7.4 steps trim and strip of an arriving segment as they go.
    struct InSeg {
        uint8_t flags;
        Seq seq;
        const uint8_t *p;
        uint32_t len;
    };
    void closed_input(const SegmentIn &s);
    void listen_input(Listener *l, const FlowKey &k, const SegmentIn &s);
    bool cookie_ack(Listener *l, const FlowKey &k, const SegmentIn &s);
    void syn_sent_input(Tcb *t, const SegmentIn &s);
    void conn_input(Tcb *t, const SegmentIn &s);
    // The steps of 3.10.7.4 and of its fifth (ACK) step, in order. Each is
    // defined and called once in tcp_input.cc only, and always inlined: the
    // compiler folds them back into conn_input() and the fast path pays no
    // calls (at -O2, GCC left send_segment() and new_ack() out of line, ~7 %
    // more cycles per segment in tcp_engine_bench).
    [[gnu::always_inline]] inline bool syn_rcvd_repeat(Tcb *t, InSeg &g);
    [[gnu::always_inline]] inline bool check_paws(Tcb *t, const SegmentIn &s, const InSeg &g,
                                                  bool *stale_ts);
    [[gnu::always_inline]] inline bool check_sequence(Tcb *t, InSeg &g);   // first
    [[gnu::always_inline]] inline bool check_rst(Tcb *t, const InSeg &g);  // second
    [[gnu::always_inline]] inline bool check_syn(Tcb *t, const InSeg &g);  // fourth
    [[gnu::always_inline]] inline bool check_ack(Tcb *t, const SegmentIn &s, const InSeg &g,
                                                 bool stale_ts);  // fifth
    [[gnu::always_inline]] inline bool process_text(Tcb *t, const SegmentIn &s,
                                                    const InSeg &g);       // seventh
    [[gnu::always_inline]] inline void check_fin(Tcb *t, const InSeg &g);  // eighth
    bool ack_input(Tcb *t, const SegmentIn &s);
    [[gnu::always_inline]] inline bool syn_rcvd_ack(Tcb *t, const SegmentIn &s);
    [[gnu::always_inline]] inline bool ack_acceptable(Tcb *t, const SegmentIn &s);
    [[gnu::always_inline]] inline bool sack_input(Tcb *t, const SegmentIn &s, bool *dsack);
    [[gnu::always_inline]] inline bool new_ack(Tcb *t, const SegmentIn &s);
    [[gnu::always_inline]] inline void rtt_on_ack(Tcb *t, const SegmentIn &s);
    [[gnu::always_inline]] inline void restart_rto_on_ack(Tcb *t);
    [[gnu::always_inline]] inline bool fin_acked(Tcb *t);
    [[gnu::always_inline]] inline void window_update(Tcb *t, const SegmentIn &s, uint32_t wnd);
    bool disordered_ack(const Tcb *t, const SegmentIn &s) const;
    void data_input(Tcb *t, const SegmentIn &s, Seq seq, const uint8_t *p, uint32_t len);
    void fin_input(Tcb *t);
    void deliver(Tcb *t);
    void enter_time_wait(Tcb *t);
    bool time_wait_input(TimeWaitEntry *tw, const SegmentIn &s);
    void challenge_ack(Tcb *t);
    void conn_established(Tcb *t);
    bool lower_mss(Tcb *t, uint32_t hdr_mss);

    // tcp_output.cc
    void output(Tcb *t);
    // Steps of output(), defined and used in tcp_output.cc only (see above).
    [[gnu::always_inline]] inline void send_data(Tcb *t);
    [[gnu::always_inline]] inline void send_window(Tcb *t, Seq data_end);
    [[gnu::always_inline]] inline bool go_back_n_skip(Tcb *t, Seq data_end);
    [[gnu::always_inline]] inline bool send_segment(Tcb *t, Seq data_end, uint32_t cwnd_room);
    [[gnu::always_inline]] inline void send_fin_alone(Tcb *t, Seq data_end);
    [[gnu::always_inline]] inline void arm_after_send(Tcb *t, Seq max_before);
    // Sends [seq, seq+len) with flags; returns the payload length actually sent,
    // which is shorter when SACK blocks or kMaxPieces limit it — FIN and PSH are
    // then dropped, so callers must advance by the returned length only.
    uint32_t emit(Tcb *t, Seq seq, uint8_t flags, uint32_t len, bool retransmit);
    void send_ack(Tcb *t) { emit(t, t->snd_nxt, kAck, 0, false); }
    void send_syn(Tcb *t);
    void send_rst_for(const SegmentIn &s);
    void send_rst(Tcb *t);
    void send_cookie_synack(const FlowKey &k, const SegmentIn &s, uint32_t cookie, uint16_t mss);
    uint16_t window_field(Tcb *t, bool syn);
    uint32_t ts_clock(uint32_t offset) const {
        return static_cast<uint32_t>(now_ / 1'000'000) + offset;
    }
    uint32_t pipe(const Tcb *t) const;  // RFC 6675 4 SetPipe()

    // tcp_recovery.cc (RFC 6675, RFC 6582, RFC 6937 PRR, RFC 8985 RACK-TLP)
    void enter_recovery(Tcb *t, bool new_episode);
    void dup_ack(Tcb *t, const SegmentIn &s, uint32_t wnd, bool new_sack);
    void recovery_ack(Tcb *t, Seq ack);
    void rack_detect_lost(Tcb *t);
    void prr_ack(Tcb *t, Seq una_before, uint32_t sacked_before);
    void prr_update(Tcb *t, uint32_t delivered);
    void retransmit_una(Tcb *t, Seq data_end);
    bool next_seg(Tcb *t, bool lost_only, Seq data_end);
    void rack_expired(Tcb *t);
    void tlp_expired(Tcb *t);
    void tlp_ack(Tcb *t, const SegmentIn &s, bool dsack, bool progress);

    // tcp_timers.cc
    void arm(Tcb *t);
    void arm_rto(Tcb *t);
    void arm_persist(Tcb *t);
    void arm_rack(Tcb *t);  // RFC 8985 6.3 reordering timer
    uint64_t rack_timeout(const Tcb *t) const;
    void clamp_to_user_timeout(Tcb *t);
    void on_timer(Tcb *t);
    void rto_expired(Tcb *t);
    void persist_expired(Tcb *t);
    void keepalive_expired(Tcb *t);

    StackConfig cfg_;
    Output *out_ = nullptr;
    uint64_t now_ = 0;
    Counters ctr_;

    std::unique_ptr<Tcb[]> tcbs_;
    Tcb *free_ = nullptr;
    uint32_t nconn_ = 0;
    uint32_t per_state_[static_cast<unsigned>(State::kTimeWait) + 1] = {};
    std::unique_ptr<uint8_t[]> rcv_mem_;
    std::unique_ptr<SendItem[]> sq_mem_;
    std::unique_ptr<uint8_t[]> inline_mem_;
    std::unique_ptr<uint32_t[]> inline_free_;
    uint32_t inline_nfree_ = 0;
    std::unique_ptr<FlowTable::Slot[]> flow_mem_;
    FlowTable flows_;
    std::unique_ptr<TimeWaitEntry[]> tw_mem_;
    std::unique_ptr<FlowTable::Slot[]> tw_index_mem_;
    TimeWaitTable tw_;
    std::unique_ptr<TimerNode[]> wheel_mem_;
    TimerWheel wheel_;
    std::unique_ptr<Listener[]> listeners_;
    SynCookies cookies_;
    const CcOps *ccops_ = nullptr;

    bool busy_ = false;
    bool in_burst_ = false;
    Tcb *dirty_ = nullptr;
    Tcb *reap_ = nullptr;
    Tcb *last_ = nullptr;  // flow cache
    uint64_t rng_ = 0;
    uint64_t challenge_window_ns_ = 0;
    uint32_t challenge_count_ = 0;
};

}  // namespace ep::tcp

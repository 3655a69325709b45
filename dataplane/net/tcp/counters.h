// Per-stack (per-lcore) counters: one named counter per drop reason and per
// protocol event. Plain uint64_t, written by one core, summed on read.
#pragma once

#include <cstdint>

namespace ep::tcp {

#define EP_TCP_COUNTERS(X)                                                           \
    X(rx_segments, "segments handed to input()")                                     \
    X(tx_segments, "segments emitted")                                               \
    X(tx_data_bytes, "payload bytes emitted (incl. retransmits)")                    \
    X(rx_data_bytes, "in-order payload bytes accepted")                              \
    X(no_listener, "segment to a closed port, RST sent (RFC 9293 3.10.7.1)")         \
    X(bad_flags, "dropped: flag combination not valid in the state")                 \
    X(bad_options, "dropped: malformed options (glue reports)")                      \
    X(out_of_window, "dropped: sequence not acceptable, ACK sent (3.10.7.4)")        \
    X(paws_reject, "dropped: PAWS, TSval older than TS.Recent (RFC 7323 5.3)")       \
    X(paws_disordered_acks, "reordered dup ACKs let past PAWS for their SACKs")      \
    X(ack_too_new, "dropped: ACK of unsent data, ACK sent")                          \
    X(ack_too_old, "dropped: ACK below SND.UNA-MAX.SND.WND (RFC 5961 5.2)")          \
    X(syn_queue_full, "SYN while the listener's SYN queue is full")                  \
    X(syncookies_sent, "SYN-ACKs carrying a SYN cookie (RFC 4987)")                  \
    X(syncookies_valid, "cookie ACKs that validated, connection created")            \
    X(syncookies_invalid, "ACKs to a listener whose cookie failed, RST sent")        \
    X(conn_limit, "connection refused: per-lcore connection pool exhausted")         \
    X(backlog_drop, "SYN dropped: SYN queue full and cookies disabled")              \
    X(ports_exhausted, "connect(): no free local port")                              \
    X(retransmits, "segments retransmitted (any reason)")                            \
    X(retransmit_bytes, "payload bytes retransmitted (any reason)")                  \
    X(tso_sends, "TSO super-segments emitted (one header, up to 64 KiB of payload)") \
    X(tso_segments, "MSS segments carried by TSO super-segments")                    \
    X(rto_fires, "retransmission timeouts (RFC 6298)")                               \
    X(syn_retransmits, "SYN or SYN-ACK retransmitted")                               \
    X(tlp_probes, "tail loss probes sent (RFC 8985 7)")                              \
    X(tlp_loss_repairs, "probes that repaired a loss, cwnd cut (RFC 8985 7.4)")      \
    X(rack_timeouts, "RACK reordering timeouts (RFC 8985 6.3)")                      \
    X(fast_retransmits, "fast retransmits entering recovery (RFC 5681/6675)")        \
    X(recovery_retransmits, "retransmits inside fast recovery")                      \
    X(lost_retransmits, "retransmissions detected lost by SACKs (sent again)")       \
    X(dup_acks, "duplicate ACKs received")                                           \
    X(sack_blocks_rx, "SACK blocks received")                                        \
    X(sack_blocks_tx, "SACK blocks sent")                                            \
    X(dsack_ignored, "SACK blocks below SND.UNA ignored")                            \
    X(dsack_rx, "D-SACKs received (RFC 2883): spurious retransmits (RFC 3708)")      \
    X(challenge_acks, "challenge ACKs sent (RFC 5961)")                              \
    X(challenge_ack_limited, "challenge ACKs suppressed by the rate limit")          \
    X(rst_rx, "RSTs that reset a connection")                                        \
    X(rst_tx, "RSTs sent")                                                           \
    X(ooo_segments, "out-of-order segments queued")                                  \
    X(ooo_dropped, "out-of-order segments dropped: no reassembly slot")              \
    X(rcv_trimmed, "segments trimmed to the receive window")                         \
    X(zero_window_drop, "data dropped: receive buffer full")                         \
    X(zero_window_tx, "segments advertising a zero receive window")                  \
    X(delayed_acks, "ACKs sent by the delayed-ACK timer")                            \
    X(persist_probes, "zero-window probes sent (RFC 9293 3.8.6.1)")                  \
    X(keepalive_probes, "keepalive probes sent (RFC 9293 3.8.4)")                    \
    X(keepalive_timeouts, "connections dropped: keepalive unanswered")               \
    X(user_timeouts, "dropped: retransmissions/zero-window probes unanswered (R2)")  \
    X(syn_timeouts, "handshakes abandoned after SYN retries")                        \
    X(fin_wait2_timeouts, "orphaned FIN-WAIT-2 connections reaped")                  \
    X(tw_entered, "connections that entered TIME-WAIT")                              \
    X(tw_evicted, "TIME-WAIT entries reused because the table was full")             \
    X(tw_reused_by_syn, "TIME-WAIT ended by a new SYN (RFC 9293 3.6.1, RFC 6191)")   \
    X(tw_expired, "TIME-WAIT entries expired after 2*MSL")                           \
    X(tw_rst_ignored, "RST in TIME-WAIT ignored (RFC 1337)")                         \
    X(conn_active_opened, "connections established by connect()")                    \
    X(conn_passive_opened, "connections established by a listener")                  \
    X(conn_closed, "connections released")                                           \
    X(simultaneous_open, "simultaneous opens (SYN-SENT -> SYN-RECEIVED)")            \
    X(icmp_frag_needed, "ICMP frag-needed accepted: MSS lowered, resent (RFC 1191)") \
    X(icmp_frag_ignored, "ICMP frag-needed in window, MTU not below ours")           \
    X(icmp_frag_out_of_window, "dropped: ICMP quoting seq outside SND.UNA..SND.NXT") \
    X(icmp_frag_no_conn, "dropped: ICMP frag-needed for no connection")              \
    X(pmtu_blackhole, "MSS lowered after repeated RTOs, no ICMP (RFC 4821)")         \
    X(send_queue_full, "send() calls that queued less than asked")

struct Counters {
#define EP_TCP_COUNTER_FIELD(name, help) uint64_t name = 0;
    EP_TCP_COUNTERS(EP_TCP_COUNTER_FIELD)
#undef EP_TCP_COUNTER_FIELD

    // Visits (name, help, value) for every counter: Prometheus/telemetry export.
    template <typename F>
    void for_each(F &&f) const {
#define EP_TCP_COUNTER_VISIT(name, help) f(#name, help, name);
        EP_TCP_COUNTERS(EP_TCP_COUNTER_VISIT)
#undef EP_TCP_COUNTER_VISIT
    }
};

}  // namespace ep::tcp

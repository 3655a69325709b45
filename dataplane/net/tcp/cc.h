// Congestion control behind one interface: a table of functions over per-
// connection state. NewReno (RFC 5681 + RFC 6582) and CUBIC (RFC 9438, default).
// Recovery itself (which segment to retransmit, the pipe) lives in the engine
// (RFC 6675); algorithms only set cwnd/ssthresh.
#pragma once

#include <cstdint>

#include "dataplane/net/tcp/config.h"

namespace ep::tcp {

struct CcState {
    uint32_t cwnd = 0;      // bytes
    uint32_t ssthresh = 0;  // bytes
    uint32_t mss = 0;
    uint32_t bytes_acked = 0;  // congestion-avoidance byte counter (RFC 5681 3.1)
    // CUBIC (RFC 9438 4), windows in segments, time in ns.
    double w_max = 0;
    double w_last_max = 0;
    double k = 0;  // seconds
    double w_est = 0;
    double cwnd_epoch = 0;  // cwnd at epoch start, segments
    uint64_t epoch_start_ns = 0;
};

struct CcOps {
    const char *name;
    void (*init)(CcState &s, uint32_t mss, uint32_t initial_window);
    // New data cumulatively ACKed outside recovery.
    void (*on_ack)(CcState &s, uint32_t acked, uint32_t flight, uint64_t now_ns, uint64_t srtt_ns);
    // Loss detected by duplicate ACKs/SACK: entering fast recovery.
    void (*on_loss)(CcState &s, uint32_t flight, uint64_t now_ns);
    // Retransmission timeout.
    void (*on_rto)(CcState &s, uint32_t flight);
    // Full ACK ends recovery.
    void (*on_recovery_exit)(CcState &s);
};

extern const CcOps kNewReno;
extern const CcOps kCubic;

inline const CcOps *cc_ops(CcAlgo a) {
    return a == CcAlgo::kNewReno ? &kNewReno : &kCubic;
}

}  // namespace ep::tcp

// NewReno: RFC 5681 section 3.1 (slow start, congestion avoidance, byte
// counting per RFC 3465 with L = 2*SMSS) and RFC 6582 (window on recovery).
#include "dataplane/net/tcp/cc.h"

namespace ep::tcp {

namespace {

void nr_init(CcState &s, uint32_t mss, uint32_t iw) {
    s = CcState{};
    s.mss = mss;
    s.cwnd = iw;
    s.ssthresh = UINT32_MAX;  // RFC 5681 3.1: arbitrarily high
}

void nr_on_ack(CcState &s, uint32_t acked, uint32_t, uint64_t, uint64_t) {
    if (s.cwnd < s.ssthresh) {
        // Slow start: cwnd += min(N, L*SMSS) (RFC 5681 eq. 2, RFC 3465 2.2)
        uint32_t inc = acked < 2 * s.mss ? acked : 2 * s.mss;
        s.cwnd += inc;
        return;
    }
    // Congestion avoidance: +1 SMSS per cwnd of bytes acked (RFC 5681 3.1, eq. 3 note)
    s.bytes_acked += acked;
    if (s.bytes_acked >= s.cwnd) {
        s.bytes_acked -= s.cwnd;
        s.cwnd += s.mss;
    }
}

void nr_on_loss(CcState &s, uint32_t flight, uint64_t) {
    // RFC 5681 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS); RFC 6675 sets cwnd = ssthresh.
    uint32_t half = flight / 2;
    s.ssthresh = half > 2 * s.mss ? half : 2 * s.mss;
    s.cwnd = s.ssthresh;
    s.bytes_acked = 0;
}

void nr_on_rto(CcState &s, uint32_t flight) {
    uint32_t half = flight / 2;
    s.ssthresh = half > 2 * s.mss ? half : 2 * s.mss;
    s.cwnd = s.mss;  // loss window (RFC 5681 3.1)
    s.bytes_acked = 0;
}

void nr_on_exit(CcState &s) {
    s.cwnd = s.ssthresh;
}  // RFC 6582 3.2 step 3 "deflate"

}  // namespace

const CcOps kNewReno = {"newreno", nr_init, nr_on_ack, nr_on_loss, nr_on_rto, nr_on_exit};

}  // namespace ep::tcp

// CUBIC, RFC 9438: window growth function (4.2), Reno-friendly region (4.3),
// concave/convex regions (4.4, 4.5), multiplicative decrease beta = 0.7 (4.6),
// fast convergence (4.7), timeout (4.8). Slow start as in RFC 5681.
#include <cmath>

#include "dataplane/net/tcp/cc.h"

namespace ep::tcp {

namespace {

constexpr double kBeta = 0.7;
constexpr double kC = 0.4;
constexpr double kAlpha = 3.0 * (1.0 - kBeta) / (1.0 + kBeta);  // 4.3

void cu_init(CcState &s, uint32_t mss, uint32_t iw) {
    s = CcState{};
    s.mss = mss;
    s.cwnd = iw;
    s.ssthresh = UINT32_MAX;
}

void cu_on_ack(CcState &s, uint32_t acked, uint32_t, uint64_t now_ns, uint64_t srtt_ns) {
    if (s.cwnd < s.ssthresh) {
        uint32_t inc = acked < 2 * s.mss ? acked : 2 * s.mss;
        s.cwnd += inc;
        return;
    }
    double mss = s.mss;
    double cwnd = s.cwnd / mss;
    if (s.epoch_start_ns == 0) {
        // 4.2: a new congestion-avoidance epoch starts.
        s.epoch_start_ns = now_ns ? now_ns : 1;
        s.cwnd_epoch = cwnd;
        s.w_est = cwnd;
        if (s.w_max <= cwnd) {
            s.w_max = cwnd;
            s.k = 0;
        } else {
            s.k = std::cbrt((s.w_max - cwnd) / kC);  // eq. 2 with cwnd_epoch
        }
    }
    double t = static_cast<double>(now_ns - s.epoch_start_ns) / 1e9;
    double rtt = static_cast<double>(srtt_ns) / 1e9;
    // 4.3: W_est += alpha * segments_acked / cwnd
    s.w_est += kAlpha * (acked / mss) / cwnd;
    double dt = t + rtt - s.k;
    double target = kC * dt * dt * dt + s.w_max;  // eq. 1 at t + RTT
    if (target < cwnd) target = cwnd;
    if (target > 1.5 * cwnd) target = 1.5 * cwnd;  // 4.4/4.5 clamp
    double inc_seg;
    if (s.w_est > target) {
        inc_seg = (s.w_est - cwnd) / cwnd;  // Reno-friendly region
        if (inc_seg < 0) inc_seg = 0;
    } else {
        inc_seg = (target - cwnd) / cwnd;  // concave / convex: (target - cwnd)/cwnd per ACK
    }
    // Scale the per-segment increment to the bytes acked by this ACK.
    s.cwnd += static_cast<uint32_t>(inc_seg * acked);
}

void cu_on_loss(CcState &s, uint32_t flight, uint64_t) {
    double cwnd = s.cwnd / static_cast<double>(s.mss);
    // 4.7 fast convergence
    if (cwnd < s.w_last_max)
        s.w_max = cwnd * (1.0 + kBeta) / 2.0;
    else
        s.w_max = cwnd;
    s.w_last_max = cwnd;
    (void)flight;
    // 4.6: ssthresh = cwnd * beta (flight size based variant not used)
    uint32_t th = static_cast<uint32_t>(s.cwnd * kBeta);
    s.ssthresh = th > 2 * s.mss ? th : 2 * s.mss;
    s.cwnd = s.ssthresh;
    s.epoch_start_ns = 0;
    s.bytes_acked = 0;
}

void cu_on_rto(CcState &s, uint32_t flight) {
    // 4.8: like loss, then cwnd = 1 segment; epoch restarts after slow start.
    cu_on_loss(s, flight, 0);
    s.cwnd = s.mss;
}

void cu_on_exit(CcState &s) {
    s.cwnd = s.ssthresh;
}

}  // namespace

const CcOps kCubic = {"cubic", cu_init, cu_on_ack, cu_on_loss, cu_on_rto, cu_on_exit};

}  // namespace ep::tcp

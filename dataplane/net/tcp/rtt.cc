#include "dataplane/net/tcp/rtt.h"

namespace ep::tcp {

void RttEstimator::sample(uint64_t r, uint64_t g, uint64_t rto_min, uint64_t rto_max) {
    if (!has_sample) {
        // 2.2: SRTT <- R, RTTVAR <- R/2
        srtt_ns = r;
        rttvar_ns = r / 2;
        has_sample = true;
    } else {
        // 2.3: RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R'|; SRTT <- 7/8 SRTT + 1/8 R'
        uint64_t diff = srtt_ns > r ? srtt_ns - r : r - srtt_ns;
        rttvar_ns = (3 * rttvar_ns + diff) / 4;
        srtt_ns = (7 * srtt_ns + r) / 8;
    }
    // RTO <- SRTT + max(G, K*RTTVAR), K = 4; then 2.4 floor and 2.5 ceiling.
    uint64_t k = 4 * rttvar_ns;
    uint64_t rto = srtt_ns + (k > g ? k : g);
    if (rto < rto_min) rto = rto_min;
    if (rto > rto_max) rto = rto_max;
    rto_ns = rto;
    backoff = 0;  // 5.7: a new sample after backoff collapses it
}

}  // namespace ep::tcp

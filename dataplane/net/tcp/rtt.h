// Retransmission timer computation, RFC 6298 section 2 (SRTT, RTTVAR, RTO),
// with exponential backoff (5.5) and a configurable floor (2.4) and ceiling (2.5).
#pragma once

#include <cstdint>

namespace ep::tcp {

struct RttEstimator {
    uint64_t srtt_ns = 0;
    uint64_t rttvar_ns = 0;
    uint64_t rto_ns = 0;  // base RTO, without backoff
    uint8_t backoff = 0;  // RTO doubles per consecutive expiry (RFC 6298 5.5)
    bool has_sample = false;

    void init(uint64_t initial_rto_ns) {
        *this = RttEstimator{};
        rto_ns = initial_rto_ns;
    }
    // RFC 6298 2.2 (first sample) and 2.3 (subsequent), clock granularity G = tick.
    void sample(uint64_t r, uint64_t g, uint64_t rto_min, uint64_t rto_max);
    uint64_t current_rto(uint64_t rto_max) const {
        uint64_t r = rto_ns << backoff;
        return (r > rto_max || (backoff && r >> backoff != rto_ns)) ? rto_max : r;
    }
};

}  // namespace ep::tcp

#include "bench/edgebench/rate_schedule.h"

#include <cmath>

namespace ep::bench {

void RateSchedule::reset(double rate_per_s, uint64_t t0_ns) {
    rate_ = rate_per_s > 0 ? rate_per_s : 0;
    t0_ = t0_ns;
    taken_ = 0;
    max_backlog_ = 0;
}

uint64_t RateSchedule::slot_ns(uint64_t k) const {
    if (!limited()) return t0_;
    return t0_ + static_cast<uint64_t>(std::llround(static_cast<long double>(k) * 1e9L / rate_));
}

uint64_t RateSchedule::due(uint64_t now) const {
    if (!limited() || now < t0_) return 0;
    // Slots 0..n-1 are due when slot_ns(n-1) <= now: n = floor((now - t0) * R) + 1,
    // corrected for the rounding slot_ns() does.
    uint64_t n = static_cast<uint64_t>(static_cast<long double>(now - t0_) * rate_ / 1e9L) + 1;
    while (n > 0 && slot_ns(n - 1) > now) --n;
    while (slot_ns(n) <= now) ++n;
    return n > taken_ ? n - taken_ : 0;
}

std::optional<uint64_t> RateSchedule::take(uint64_t now) {
    if (!limited()) {
        ++taken_;
        return now;
    }
    const uint64_t backlog = due(now);
    if (backlog == 0) return std::nullopt;
    if (backlog > max_backlog_) max_backlog_ = backlog;
    return slot_ns(taken_++);
}

}  // namespace ep::bench

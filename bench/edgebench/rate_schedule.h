// Open-loop send schedule for `edgebench http --rate R` (the model of wrk2):
// request k of the run is due at t0 + k / R, whatever happened to the
// requests before it. A connection with room in its pipeline takes the next
// due slot; a slot taken late keeps its scheduled time, and latency is
// measured from that time, so a server that stalls is charged with the
// queueing its stall caused (no coordinated omission: a closed-loop client
// would simply send less and never see the wait).
//
// Pure: time in, slots out. One global schedule for all connections, so the
// offered rate is R whatever the connection count.
#pragma once

#include <cstdint>
#include <optional>

namespace ep::bench {

class RateSchedule {
  public:
    // rate_per_s <= 0: unlimited (take() always gives `now`).
    RateSchedule(double rate_per_s = 0, uint64_t t0_ns = 0) { reset(rate_per_s, t0_ns); }
    void reset(double rate_per_s, uint64_t t0_ns);

    bool limited() const { return rate_ > 0; }
    // When slot k is due (k = 0 is due at t0). Computed from k, not summed,
    // so the schedule does not drift over millions of slots.
    uint64_t slot_ns(uint64_t k) const;
    // Slots due by `now` and not taken yet: the backlog the client owes.
    uint64_t due(uint64_t now) const;
    // The next slot if it is due by `now`: its scheduled time (for unlimited
    // schedules, `now`). nullopt: nothing is due yet.
    std::optional<uint64_t> take(uint64_t now);
    uint64_t taken() const { return taken_; }
    // The largest backlog seen at a take(): how far behind the client fell.
    uint64_t max_backlog() const { return max_backlog_; }

  private:
    double rate_ = 0;
    uint64_t t0_ = 0;
    uint64_t taken_ = 0;
    uint64_t max_backlog_ = 0;
};

}  // namespace ep::bench

// Pacing of `edgebench synflood --rate R`: a token bucket refilled at R per
// second holding at most `depth` tokens, so after a stall (the sender
// preempted, the socket blocked) it sends at most one burst at once instead
// of the whole backlog: the rate achieved then falls short and says so,
// rather than the flood turning into bursts. It starts empty (no burst at
// t0). Pure: the caller passes the monotonic clock.
#pragma once

#include <algorithm>
#include <cstdint>

namespace ep::bench {

class TokenBucket {
  public:
    // rate_per_s > 0, depth >= 1.
    TokenBucket(double rate_per_s, uint32_t depth, uint64_t t0_ns)
        : rate_(rate_per_s), depth_(depth), last_ns_(t0_ns) {}

    // Takes up to `want` whole tokens available at now_ns; returns how many.
    uint32_t take(uint64_t now_ns, uint32_t want) {
        refill(now_ns);
        const auto n = static_cast<uint32_t>(std::min<double>(want, tokens_));
        tokens_ -= n;
        return n;
    }

    // Nanoseconds from now_ns until min(want, depth) tokens are there (0:
    // already). Call after take() at the same now_ns.
    uint64_t wait_ns(uint32_t want) const {
        const double need = std::min<uint32_t>(want, depth_) - tokens_;
        return need <= 0 ? 0 : static_cast<uint64_t>(need / rate_ * 1e9) + 1;
    }

  private:
    void refill(uint64_t now_ns) {
        if (now_ns <= last_ns_) return;
        tokens_ = std::min<double>(depth_, tokens_ + (now_ns - last_ns_) * rate_ / 1e9);
        last_ns_ = now_ns;
    }

    double rate_;
    uint32_t depth_;
    double tokens_ = 0;
    uint64_t last_ns_;
};

}  // namespace ep::bench

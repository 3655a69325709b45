// Per-lcore limit on the ICMP errors we generate (RFC 1812 §4.3.2.8, RFC 1122
// §3.2.2 "SHOULD limit"): a token bucket refilled at `per_second`, holding at
// most one second's worth. Pure: the caller passes the monotonic clock.
#pragma once

#include <cstdint>

namespace ep::net {

class IcmpRateLimit {
  public:
    // per_second 0: never send.
    void configure(uint32_t per_second) {
        rate_ = per_second;
        tokens_ = per_second;
        last_ns_ = 0;
    }
    // True when one more error may go now; takes its token.
    bool allow(uint64_t now_ns) {
        if (rate_ == 0) return false;
        if (now_ns > last_ns_) {
            // Whole tokens earned since last_ns_; keep the remainder's time.
            const uint64_t earned = (now_ns - last_ns_) * rate_ / 1'000'000'000;
            if (earned > 0) {
                tokens_ =
                    tokens_ + earned > rate_ ? rate_ : static_cast<uint32_t>(tokens_ + earned);
                last_ns_ += earned * 1'000'000'000 / rate_;
                if (tokens_ == rate_) last_ns_ = now_ns;
            }
        }
        if (tokens_ == 0) return false;
        --tokens_;
        return true;
    }

  private:
    uint32_t rate_ = 0;
    uint32_t tokens_ = 0;
    uint64_t last_ns_ = 0;
};

}  // namespace ep::net

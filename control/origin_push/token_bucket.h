// The push's bandwidth cap (issue 14): a token bucket in bytes, refilled at
// the cap's rate, on the chunk fetches the control thread starts. A fetch of
// N bytes may start only when N tokens are there, and takes them; so the
// bytes started by time t never exceed burst + rate * t, whatever the
// origin's speed (a fetch is one 256 KiB chunk at most, so burst is one
// chunk). Pure: the caller gives the time.
#pragma once

#include <algorithm>
#include <cstdint>

namespace ep::push {

class TokenBucket {
  public:
    // rate_bytes_s 0: no cap (every take succeeds).
    TokenBucket(uint64_t rate_bytes_s = 0, uint64_t burst = 0) { reset(rate_bytes_s, burst, 0); }

    void reset(uint64_t rate_bytes_s, uint64_t burst, uint64_t now_ns) {
        rate_ = rate_bytes_s;
        burst_ = burst;
        tokens_nb_ = static_cast<unsigned __int128>(burst) * kNs;  // starts full
        last_ns_ = now_ns;
    }

    // Takes n bytes' worth if they are there (n > burst never is: clamp it).
    bool take(uint64_t n, uint64_t now_ns) {
        if (rate_ == 0) return true;
        refill(now_ns);
        const unsigned __int128 need = static_cast<unsigned __int128>(n) * kNs;
        if (tokens_nb_ < need) return false;
        tokens_nb_ -= need;
        return true;
    }

    // Tokens now, in bytes (for edgectl fill).
    uint64_t tokens(uint64_t now_ns) {
        refill(now_ns);
        return static_cast<uint64_t>(tokens_nb_ / kNs);
    }
    uint64_t rate() const { return rate_; }
    uint64_t burst() const { return burst_; }

  private:
    // Tokens are kept in byte-nanoseconds so a 2 ms tick at a low rate
    // still adds its fraction (no rounding loss).
    static constexpr uint64_t kNs = 1'000'000'000;
    void refill(uint64_t now_ns) {
        if (now_ns <= last_ns_) return;
        const unsigned __int128 add = static_cast<unsigned __int128>(now_ns - last_ns_) * rate_;
        const unsigned __int128 cap = static_cast<unsigned __int128>(burst_) * kNs;
        tokens_nb_ = std::min(cap, tokens_nb_ + add);
        last_ns_ = now_ns;
    }
    uint64_t rate_ = 0, burst_ = 0, last_ns_ = 0;
    unsigned __int128 tokens_nb_ = 0;
};

}  // namespace ep::push

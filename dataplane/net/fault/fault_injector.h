// Seeded, DPDK-free fault injector for links: decides per packet whether to
// drop, duplicate, reorder, delay or corrupt it. Used by the TCP loopback tests and meant
// as the core of the product's fault-injection stage (the glue applies the
// verdicts to mbufs). Deterministic for a given seed.
#pragma once

#include <cstdint>

namespace ep::fault {

struct FaultConfig {
    double drop = 0;       // probability a packet is dropped
    double duplicate = 0;  // probability a packet is sent twice
    double reorder = 0;    // probability a packet is held back by reorder_delay_ns
    uint64_t reorder_delay_ns = 0;
    double delay = 0;    // probability a packet is held back by delay_ns (adds latency)
    uint64_t delay_ns = 0;
    double corrupt = 0;  // probability one byte of the packet is flipped
    uint64_t seed = 1;
};

struct Verdict {
    bool drop = false;
    bool duplicate = false;
    bool corrupt = false;
    uint32_t corrupt_at = 0;  // a random number; the glue picks the byte from it
    uint64_t extra_delay_ns = 0;
};

class FaultInjector {
  public:
    FaultInjector() = default;
    explicit FaultInjector(const FaultConfig &c) { configure(c); }
    void configure(const FaultConfig &c) {
        cfg_ = c;
        state_ = c.seed ? c.seed : 0x853c49e6748fea9bull;
    }
    const FaultConfig &config() const { return cfg_; }

    Verdict next() {
        Verdict v;
        if (cfg_.drop > 0 && uniform() < cfg_.drop) {
            v.drop = true;
            ++dropped_;
            return v;
        }
        if (cfg_.duplicate > 0 && uniform() < cfg_.duplicate) {
            v.duplicate = true;
            ++duplicated_;
        }
        if (cfg_.reorder > 0 && uniform() < cfg_.reorder) {
            v.extra_delay_ns = cfg_.reorder_delay_ns;
            ++reordered_;
        }
        if (cfg_.delay > 0 && uniform() < cfg_.delay) {
            v.extra_delay_ns += cfg_.delay_ns;
            ++delayed_;
        }
        if (cfg_.corrupt > 0 && uniform() < cfg_.corrupt) {
            v.corrupt = true;
            v.corrupt_at = static_cast<uint32_t>(uniform() * 4294967296.0);
            ++corrupted_;
        }
        return v;
    }

    uint64_t dropped() const { return dropped_; }
    uint64_t duplicated() const { return duplicated_; }
    uint64_t reordered() const { return reordered_; }
    uint64_t corrupted() const { return corrupted_; }
    uint64_t delayed() const { return delayed_; }

  private:
    double uniform() {
        // splitmix64 -> [0, 1)
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        return static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0);
    }
    FaultConfig cfg_;
    uint64_t state_ = 1;
    uint64_t dropped_ = 0, duplicated_ = 0, reordered_ = 0, corrupted_ = 0, delayed_ = 0;
};

}  // namespace ep::fault

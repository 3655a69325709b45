// Synthetic request streams: Zipf popularity, CDN-like sizes, and a
// shifting-popularity ("new releases") mode. Deterministic from a seed.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "cache/trace.h"

namespace ep::cache {

// Samples ranks 0..n-1 with P(i) ~ 1/(i+1)^alpha by inverse CDF lookup.
class ZipfSampler {
  public:
    ZipfSampler(uint64_t n, double alpha);
    template <class Rng>
    uint64_t operator()(Rng &rng) {
        double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
        return rank_of(u);
    }
    double probability(uint64_t rank) const { return pdf_[rank]; }
    uint64_t n() const { return pdf_.size(); }

  private:
    uint64_t rank_of(double u) const;
    std::vector<double> cdf_;
    std::vector<double> pdf_;
};

struct SyntheticSpec {
    uint64_t requests = 1000000;
    uint64_t objects = 100000;
    double alpha = 0.8;
    // unit | lognormal | dash
    std::string sizes = "unit";
    double lognormal_mu = 10.0;  // median e^10 ~ 22 KB
    double lognormal_sigma = 1.5;
    // DASH: each object is one segment; bitrate picked per object from a
    // ladder (kbit/s), segment duration in seconds.
    std::vector<uint32_t> ladder_kbps = {300, 750, 1500, 3000, 6000};
    double segment_seconds = 4.0;
    // New releases: every `shift_every` requests, `shift_new` brand-new
    // objects take the top popularity ranks (0: stationary).
    uint64_t shift_every = 0;
    uint64_t shift_new = 0;
    uint64_t seed = 1;
};

Trace generate_trace(const SyntheticSpec &spec);

}  // namespace ep::cache

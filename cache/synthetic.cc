#include "cache/synthetic.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "cache/hash.h"

namespace ep::cache {

ZipfSampler::ZipfSampler(uint64_t n, double alpha) : cdf_(n), pdf_(n) {
    if (n == 0) throw std::invalid_argument("zipf needs at least one object");
    double sum = 0;
    for (uint64_t i = 0; i < n; ++i) sum += pdf_[i] = std::pow(static_cast<double>(i + 1), -alpha);
    double acc = 0;
    for (uint64_t i = 0; i < n; ++i) {
        pdf_[i] /= sum;
        acc += pdf_[i];
        cdf_[i] = acc;
    }
    cdf_.back() = 1.0;
}

uint64_t ZipfSampler::rank_of(double u) const {
    return static_cast<uint64_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
}

namespace {

// Object sizes are a function of the object id so every request of an
// object carries the same size.
uint32_t size_of(const SyntheticSpec &s, uint64_t id) {
    if (s.sizes == "unit") return 1;
    std::mt19937_64 r(mix64(id ^ s.seed * 0x9e3779b97f4a7c15ULL));
    if (s.sizes == "lognormal") {
        double v = std::lognormal_distribution<double>(s.lognormal_mu, s.lognormal_sigma)(r);
        return static_cast<uint32_t>(std::clamp(v, 1.0, 4.0e9));
    }
    if (s.sizes == "dash") {
        uint32_t kbps = s.ladder_kbps[r() % s.ladder_kbps.size()];
        // +-10% VBR jitter around the nominal segment size.
        double jitter = std::uniform_real_distribution<double>(0.9, 1.1)(r);
        return static_cast<uint32_t>(kbps * 1000.0 / 8.0 * s.segment_seconds * jitter);
    }
    throw std::invalid_argument("unknown size model '" + s.sizes + "' (unit|lognormal|dash)");
}

}  // namespace

Trace generate_trace(const SyntheticSpec &spec) {
    ZipfSampler zipf(spec.objects, spec.alpha);
    std::mt19937_64 rng(spec.seed);
    Trace t;
    t.reserve(spec.requests);
    // rank -> object id. Shifting moves the newest ids onto the top ranks.
    uint64_t base = 0;
    for (uint64_t i = 0; i < spec.requests; ++i) {
        if (spec.shift_every && i > 0 && i % spec.shift_every == 0) base += spec.shift_new;
        uint64_t rank = zipf(rng);
        // Ranks [0, base) were taken by later releases; the id of rank r is
        // counted down from the newest release so old ids keep sinking.
        uint64_t id = base + spec.objects - 1 - rank;
        t.push_back(Request{id, size_of(spec, id), kNeverAgain});
    }
    return t;
}

}  // namespace ep::cache

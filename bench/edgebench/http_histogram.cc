#include "bench/edgebench/http_histogram.h"

#include <cmath>

namespace ep::bench {

uint64_t LatencyHistogram::lowest_of(size_t i) {
    if (i < kSub) return i;
    const uint64_t k = i - kSub;
    const uint64_t shift = k / (kSub / 2) + 1;
    const uint64_t sub = k % (kSub / 2) + kSub / 2;
    return sub << shift;
}

uint64_t LatencyHistogram::highest_of(size_t i) {
    if (i < kSub) return i;
    const uint64_t k = i - kSub;
    const uint64_t shift = k / (kSub / 2) + 1;
    const uint64_t lo = lowest_of(i);
    const uint64_t width = uint64_t{1} << shift;
    return lo + (width - 1) < lo ? UINT64_MAX : lo + (width - 1);
}

void LatencyHistogram::merge(const LatencyHistogram &o) {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    total_ += o.total_;
    sum_ += o.sum_;
    if (o.total_) {
        if (o.min_ < min_) min_ = o.min_;
        if (o.max_ > max_) max_ = o.max_;
    }
}

void LatencyHistogram::clear() {
    *this = LatencyHistogram{};
}

uint64_t LatencyHistogram::percentile(double q) const {
    if (total_ == 0) return 0;
    if (q <= 0) return min_;
    if (q >= 1) return max_;
    uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_)));
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            uint64_t v = highest_of(i);
            if (v > max_) v = max_;
            if (v < min_) v = min_;
            return v;
        }
    }
    return max_;
}

}  // namespace ep::bench

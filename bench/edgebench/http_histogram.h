// Latency recorder in the spirit of HdrHistogram: log-linear buckets (every
// power of two split into kSub/2 linear sub-buckets), so any recorded value is
// reported within 1/kSub·2 = 0.8% of its true value, over the whole uint64
// range, in a fixed 30 KiB array. Recording is two shifts and an increment.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ep::bench {

class LatencyHistogram {
  public:
    static constexpr int kSubBits = 7;
    static constexpr uint64_t kSub = uint64_t{1} << kSubBits;  // values below are exact
    static constexpr size_t kBuckets = kSub + (64 - kSubBits) * (kSub / 2);

    void record(uint64_t v, uint64_t count = 1) {
        counts_[index_of(v)] += count;
        total_ += count;
        sum_ += v * count;
        if (v < min_) min_ = v;
        if (v > max_) max_ = v;
    }
    void merge(const LatencyHistogram &o);
    void clear();

    uint64_t count() const { return total_; }
    uint64_t min() const { return total_ ? min_ : 0; }
    uint64_t max() const { return max_; }
    double mean() const {
        return total_ ? static_cast<double>(sum_) / static_cast<double>(total_) : 0;
    }
    // The value at quantile q in [0,1]: the highest value equivalent to the
    // bucket holding the ceil(q·count)-th smallest recording (HdrHistogram's
    // convention), clamped to [min, max]. 0 when empty.
    uint64_t percentile(double q) const;

    static size_t index_of(uint64_t v) {
        if (v < kSub) return static_cast<size_t>(v);
        const int msb = 63 - __builtin_clzll(v);
        const int shift = msb - (kSubBits - 1);  // >= 1: v >> shift lies in [kSub/2, kSub)
        return static_cast<size_t>(kSub + static_cast<uint64_t>(shift - 1) * (kSub / 2) +
                                   ((v >> shift) - kSub / 2));
    }
    static uint64_t lowest_of(size_t i);   // smallest value in bucket i
    static uint64_t highest_of(size_t i);  // largest value in bucket i

  private:
    uint64_t counts_[kBuckets] = {};
    uint64_t total_ = 0;
    uint64_t sum_ = 0;
    uint64_t min_ = UINT64_MAX;
    uint64_t max_ = 0;
};

}  // namespace ep::bench

// TinyLFU's frequency sketch: a count-min sketch of 4-bit-range counters with
// periodic halving ("aging") so old popularity fades.
#pragma once

#include <cstdint>
#include <vector>

namespace ep::cache {

class CountMinSketch {
  public:
    // `width` counters per row (rounded up to a power of two). The sample
    // window, after which every counter is halved, is 10x the width as in
    // the TinyLFU paper and Caffeine.
    explicit CountMinSketch(uint64_t width);

    // Records one access; returns the new estimate.
    uint32_t increment(uint64_t key);
    uint32_t estimate(uint64_t key) const;
    uint64_t width() const { return mask_ + 1; }
    uint64_t resets() const { return resets_; }

  private:
    static constexpr int kDepth = 4;
    static constexpr uint8_t kMax = 15;

    void age();
    uint64_t index(uint64_t h, int row) const;

    std::vector<uint8_t> rows_;  // kDepth rows, each mask_+1 counters
    uint64_t mask_;
    uint64_t additions_ = 0;
    uint64_t sample_size_;
    uint64_t resets_ = 0;
};

}  // namespace ep::cache

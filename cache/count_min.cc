#include "cache/count_min.h"

#include <algorithm>

#include "cache/hash.h"

namespace ep::cache {

CountMinSketch::CountMinSketch(uint64_t width) {
    uint64_t w = 64;
    while (w < width) w *= 2;
    mask_ = w - 1;
    rows_.assign(kDepth * w, 0);
    sample_size_ = 10 * w;
}

uint64_t CountMinSketch::index(uint64_t h, int row) const {
    // Double hashing: row r probes h1 + r*h2, h2 odd so rows differ.
    uint64_t h1 = h;
    uint64_t h2 = (h >> 32 | h << 32) | 1;
    return static_cast<uint64_t>(row) * (mask_ + 1) + ((h1 + row * h2) & mask_);
}

uint32_t CountMinSketch::estimate(uint64_t key) const {
    uint64_t h = mix64(key ^ 0x9e3779b97f4a7c15ULL);
    uint8_t m = kMax;
    for (int r = 0; r < kDepth; ++r) m = std::min(m, rows_[index(h, r)]);
    return m;
}

uint32_t CountMinSketch::increment(uint64_t key) {
    uint64_t h = mix64(key ^ 0x9e3779b97f4a7c15ULL);
    uint8_t m = kMax;
    for (int r = 0; r < kDepth; ++r) m = std::min(m, rows_[index(h, r)]);
    // Conservative update: only the counters at the minimum grow, which
    // keeps collisions from inflating popular-looking one-hit wonders.
    if (m < kMax) {
        for (int r = 0; r < kDepth; ++r) {
            uint8_t &c = rows_[index(h, r)];
            if (c == m) ++c;
        }
        ++m;
    }
    if (++additions_ >= sample_size_) age();
    return m;
}

void CountMinSketch::age() {
    for (auto &c : rows_) c >>= 1;
    additions_ /= 2;
    ++resets_;
}

}  // namespace ep::cache

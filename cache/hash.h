// Integer hashing shared by the flat map and the count-min sketch.
#pragma once

#include <cstdint>

namespace ep::cache {

// murmur3's 64-bit finalizer: trace keys are often sequential (block numbers,
// segment indices), so the low bits must be mixed before masking.
inline constexpr uint64_t mix64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

}  // namespace ep::cache

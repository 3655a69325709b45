// Both per-chunk sums in one pass over the bytes: the XXH3-64 integrity
// checksum and the Internet-checksum prefix array. Fresh chunk data (just
// DMA'd from disk or read from a source file) is not in cache, so walking it
// once in 4 KiB pieces that stay in L1 halves the memory traffic.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ep::chunkstore {

// XXH3_64bits(data, len) with the widest SIMD the CPU has (payloads).
uint64_t payload_hash(const void *data, size_t len);

// Returns XXH3_64bits(data, len) and fills prefix like csum_build_prefix.
uint64_t hash_and_csum(const uint8_t *data, uint32_t len, uint16_t *prefix);

}  // namespace ep::chunkstore

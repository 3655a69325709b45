// Shared vocabulary of the chunk store: sizes, keys, counters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <xxhash.h>

namespace ep::chunkstore {

// Objects are cut into 256 KiB chunks; the last one is shorter.
inline constexpr uint32_t kChunkSize = 256 * 1024;
// Internet-checksum block granularity: one 16-bit prefix sum per 64 bytes
// (8 KiB of sums per full chunk, ~3% overhead).
inline constexpr uint32_t kCsumBlock = 64;
inline constexpr uint32_t kCsumBlocks = kChunkSize / kCsumBlock;
// An mbuf's buf_len is 16 bits, so one slice of a chunk is at most this long.
inline constexpr uint32_t kMaxSlice = UINT16_MAX;

using ChunkKey = uint64_t;
using ObjectId = uint64_t;

// Object id: XXH3-64 of the object name. Data cores compute it once per
// request and then derive every chunk key from it without rehashing the name.
inline ObjectId object_id(std::string_view name) {
    return XXH3_64bits(name.data(), name.size());
}

// Chunk key: XXH3-64 of the chunk index, seeded with the object id (so it is
// derived from the name and the index).
inline ChunkKey chunk_key(ObjectId oid, uint32_t index) {
    uint32_t le = index;  // x86: already little endian, the on-disk order
    return XXH3_64bits_withSeed(&le, sizeof(le), oid);
}
inline ChunkKey chunk_key(std::string_view name, uint32_t index) {
    return chunk_key(object_id(name), index);
}

inline uint32_t chunk_count_for(uint64_t size) {
    return size == 0 ? 1 : static_cast<uint32_t>((size + kChunkSize - 1) / kChunkSize);
}

// One plain struct the daemon prints. Data-core counters live per reader
// thread and are summed on read (Store::counters()).
struct Counters {
    uint64_t lookups = 0;
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t pins = 0;
    uint64_t object_lookups = 0;
    uint64_t promotion_requests = 0;
    uint64_t promotion_ring_full = 0;
    uint64_t checksum_failures = 0;
    uint64_t disk_reads = 0;
    uint64_t disk_writes = 0;
    uint64_t disk_read_bytes = 0;
    uint64_t disk_write_bytes = 0;
    uint64_t promotions = 0;
    uint64_t insert_failures_full = 0;
    uint64_t removals = 0;
    uint64_t evictions = 0;
    uint64_t promotion_waits = 0;  // promotions that found RAM full and waited for room

    Counters &operator+=(const Counters &o);
};

}  // namespace ep::chunkstore

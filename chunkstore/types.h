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
// X(field, help).
#define EP_CHUNKSTORE_COUNTERS(X)                                                         \
    X(lookups, "chunk index lookups")                                                     \
    X(hits, "lookups that found the chunk in RAM")                                        \
    X(misses, "lookups that did not")                                                     \
    X(pins, "chunk references taken for sending")                                         \
    X(object_lookups, "object index lookups")                                             \
    X(promotion_requests, "disk chunks asked to be brought into RAM")                     \
    X(promotion_ring_full, "promotion requests refused: ring full")                       \
    X(checksum_failures, "records whose checksum did not verify")                         \
    X(disk_reads, "disk tier reads")                                                      \
    X(disk_writes, "disk tier writes")                                                    \
    X(disk_read_bytes, "bytes read from the disk tier")                                   \
    X(disk_write_bytes, "bytes written to the disk tier")                                 \
    X(promotions, "chunks brought from disk into RAM")                                    \
    X(insert_failures_full, "chunks not stored: tier full")                               \
    X(removals, "objects removed")                                                        \
    X(evictions, "RAM chunks evicted")                                                    \
    X(promotion_waits, "promotions that found RAM full and waited for room")              \
    X(fill_disk_writes, "chunks pulled from an origin written to a disk record")          \
    X(fill_disk_skipped,                                                                  \
      "origin chunks kept in RAM only: disk tier full, no-store, or gone before written") \
    X(fill_not_admitted, "origin chunks the policy declined: served once, not kept")      \
    X(fill_disk_evicted, "origin chunks' disk records dropped for newer fills")           \
    X(fill_disk_evicted_bytes, "payload bytes of those records")                          \
    X(fill_disk_evicted_objects, "origin objects left with no disk record by eviction")   \
    X(fill_disk_no_room, "origin chunks not written: disk full of what cannot go")

struct Counters {
#define EP_X(field, help) uint64_t field = 0;
    EP_CHUNKSTORE_COUNTERS(EP_X)
#undef EP_X

    Counters &operator+=(const Counters &o) {
#define EP_X(field, help) field += o.field;
        EP_CHUNKSTORE_COUNTERS(EP_X)
#undef EP_X
        return *this;
    }
    // fn(name, help, value) for every counter, in declaration order.
    template <class Fn>
    void for_each(Fn &&fn) const {
#define EP_X(field, help) fn(#field, help, field);
        EP_CHUNKSTORE_COUNTERS(EP_X)
#undef EP_X
    }
};

}  // namespace ep::chunkstore

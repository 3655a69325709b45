// On-disk chunk record: a self-describing 4 KiB header, the chunk's 8 KiB
// Internet-checksum prefix array (so a promotion need not recompute it), and
// the payload padded to 4 KiB. Records sit in fixed slots of kRecordSize bytes so
// a scan (and O_DIRECT) only ever looks at slot-aligned headers, and a record
// can never be confused with payload bytes that happen to look like a header.
#pragma once

#include <cstdint>
#include <string_view>

#include "chunkstore/types.h"

namespace ep::chunkstore {

inline constexpr uint64_t kRecordMagic = 0x31304b4e48435045ull;  // "EPCHNK01"
inline constexpr uint32_t kRecordVersion = 2;
inline constexpr uint32_t kHeaderSize = 4096;
// Prefix entries 1..kCsumBlocks (entry 0 is always 0), zero past the end.
inline constexpr uint32_t kCsumAreaSize = kCsumBlocks * sizeof(uint16_t);
inline constexpr uint32_t kPayloadOffset = kHeaderSize + kCsumAreaSize;
inline constexpr uint32_t kRecordSize = kPayloadOffset + kChunkSize;
inline constexpr uint32_t kMaxName = 2048;
inline constexpr uint32_t kMaxContentType = 64;
inline constexpr uint32_t kIoAlign = 4096;

inline constexpr uint32_t pad_io(uint32_t n) {
    return (n + kIoAlign - 1) & ~(kIoAlign - 1);
}

// Little-endian on disk (x86 host order). All fields are covered by
// header_xxh3, which is the XXH3-64 of the bytes before it.
struct RecordHeader {
    uint64_t magic;
    uint32_t version;
    uint32_t header_bytes;
    uint64_t key;
    uint64_t object_id;
    uint64_t generation;  // one per put_object; the highest complete one wins
    uint64_t object_size;
    int64_t mtime_ns;
    uint64_t payload_xxh3;
    uint64_t csum_area_xxh3;  // of the kCsumAreaSize bytes after the header
    uint32_t chunk_index;
    uint32_t chunk_len;
    uint32_t chunk_count;
    uint16_t name_len;
    uint16_t ctype_len;
    char ctype[kMaxContentType];
    char name[kMaxName];
    uint64_t header_xxh3;
};
static_assert(sizeof(RecordHeader) <= kHeaderSize);

struct RecordFields {
    std::string_view name;
    std::string_view ctype;
    uint64_t generation;
    uint64_t object_size;
    int64_t mtime_ns;
    uint32_t chunk_index;
    uint32_t chunk_len;
    uint64_t payload_xxh3;
    uint64_t csum_area_xxh3;
};

// Fills a kHeaderSize buffer (zeroing the unused tail).
void encode_header(void *buf, const RecordFields &f);

enum class HeaderCheck { ok, empty, bad_magic, bad_checksum, inconsistent };
// Validates magic, header checksum and internal consistency (key derived
// from name and index, length matches size and index).
HeaderCheck check_header(const RecordHeader &h);
const char *to_string(HeaderCheck c);

}  // namespace ep::chunkstore

// On-disk chunk record: a self-describing 4 KiB header, the chunk's 8 KiB
// Internet-checksum prefix array (so a promotion need not recompute it), and
// the payload padded to 4 KiB. Records sit in fixed slots of kRecordSize bytes so
// a scan (and O_DIRECT) only ever looks at slot-aligned headers, and a record
// can never be confused with payload bytes that happen to look like a header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "chunkstore/types.h"

namespace ep::chunkstore {

inline constexpr uint64_t kRecordMagic = 0x31304b4e48435045ull;  // "EPCHNK01"
// v3 (issue 14): a record may belong to an object pulled from an origin,
// which can have holes; it carries what revalidation needs. v2 records
// (ingested objects only) still load: decode_header() widens them.
inline constexpr uint32_t kRecordVersion = 3;
inline constexpr uint32_t kRecordVersionV2 = 2;
inline constexpr uint32_t kMaxOriginEtag = 96;
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
//
// v2 layout: the fields up to `name`, then header_xxh3 (RecordHeaderV2).
// v3 appends the fill fields after `name` and moves header_xxh3 behind them;
// the offsets of magic and version are the same in both, so a reader tells
// them apart before it knows where the checksum is.
struct RecordHeaderV2 {
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

// Flags of a v3 record.
inline constexpr uint32_t kRecordFilled = 1;  // pulled from an origin: holes allowed

struct RecordHeader {
    uint64_t magic;
    uint32_t version;
    uint32_t header_bytes;
    uint64_t key;
    uint64_t object_id;
    uint64_t generation;  // one per put_object / begin_fill; the highest good one wins
    uint64_t object_size;
    int64_t mtime_ns;  // ingest: the file's; filled: the origin's Last-Modified (0: none)
    uint64_t payload_xxh3;
    uint64_t csum_area_xxh3;  // of the kCsumAreaSize bytes after the header
    uint32_t chunk_index;
    uint32_t chunk_len;
    uint32_t chunk_count;
    uint16_t name_len;
    uint16_t ctype_len;
    char ctype[kMaxContentType];
    char name[kMaxName];
    // ---- v3 ----
    uint32_t flags;            // kRecordFilled
    uint32_t origin_etag_len;  // filled: the origin's entity-tag as sent (If-None-Match)
    uint64_t version_etag;     // filled: ObjectMeta::etag (origin::version_hash)
    int64_t expires_unix_s;    // filled: fresh until (max-age from the answer; 0: none)
    char origin_etag[kMaxOriginEtag];
    uint64_t header_xxh3;
};
static_assert(sizeof(RecordHeader) <= kHeaderSize);
static_assert(offsetof(RecordHeader, name) == offsetof(RecordHeaderV2, name));

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
    // v3: a chunk of an object pulled from an origin (ObjectMeta::filled).
    bool filled = false;
    uint64_t version_etag = 0;
    int64_t expires_unix_s = 0;
    std::string_view origin_etag;
};

// Fills a kHeaderSize buffer (zeroing the unused tail), always v3.
void encode_header(void *buf, const RecordFields &f);

enum class HeaderCheck { ok, empty, bad_magic, bad_checksum, inconsistent };
// Validates magic, header checksum and internal consistency (key derived
// from name and index, length matches size and index).
// `h` must be a whole kHeaderSize buffer read from disk (v2 or v3).
HeaderCheck check_header(const RecordHeader &h);
// check_header, then a v3 view of it in *out (a v2 record becomes a v3 one
// with flags 0: an ingested object's chunk). *out is only set when ok.
HeaderCheck decode_header(const void *buf, RecordHeader *out);
const char *to_string(HeaderCheck c);

}  // namespace ep::chunkstore

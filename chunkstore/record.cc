#include "chunkstore/record.h"

#include <cstddef>
#include <cstring>

namespace ep::chunkstore {

static uint64_t header_sum(const RecordHeader &h) {
    return XXH3_64bits(&h, offsetof(RecordHeader, header_xxh3));
}

void encode_header(void *buf, const RecordFields &f) {
    std::memset(buf, 0, kHeaderSize);
    auto &h = *static_cast<RecordHeader *>(buf);
    h.magic = kRecordMagic;
    h.version = kRecordVersion;
    h.header_bytes = kHeaderSize;
    h.object_id = object_id(f.name);
    h.key = chunk_key(h.object_id, f.chunk_index);
    h.generation = f.generation;
    h.object_size = f.object_size;
    h.mtime_ns = f.mtime_ns;
    h.payload_xxh3 = f.payload_xxh3;
    h.csum_area_xxh3 = f.csum_area_xxh3;
    h.chunk_index = f.chunk_index;
    h.chunk_len = f.chunk_len;
    h.chunk_count = chunk_count_for(f.object_size);
    h.name_len = static_cast<uint16_t>(f.name.size());
    h.ctype_len = static_cast<uint16_t>(f.ctype.size());
    // Empty views may have data() == nullptr: no memcpy for them (C 7.1.4).
    if (!f.name.empty()) std::memcpy(h.name, f.name.data(), f.name.size());
    if (!f.ctype.empty()) std::memcpy(h.ctype, f.ctype.data(), f.ctype.size());
    h.header_xxh3 = header_sum(h);
}

HeaderCheck check_header(const RecordHeader &h) {
    if (h.magic == 0 && h.header_xxh3 == 0) return HeaderCheck::empty;
    if (h.magic != kRecordMagic) return HeaderCheck::bad_magic;
    if (h.header_xxh3 != header_sum(h)) return HeaderCheck::bad_checksum;
    if (h.version != kRecordVersion || h.header_bytes != kHeaderSize || h.name_len > kMaxName ||
        h.ctype_len > kMaxContentType || h.chunk_count != chunk_count_for(h.object_size) ||
        h.chunk_index >= h.chunk_count)
        return HeaderCheck::inconsistent;
    uint64_t start = uint64_t{h.chunk_index} * kChunkSize;
    uint64_t want = h.object_size - start < kChunkSize ? h.object_size - start : kChunkSize;
    if (h.chunk_len != want) return HeaderCheck::inconsistent;
    if (h.object_id != object_id({h.name, h.name_len}) ||
        h.key != chunk_key(h.object_id, h.chunk_index))
        return HeaderCheck::inconsistent;
    return HeaderCheck::ok;
}

const char *to_string(HeaderCheck c) {
    switch (c) {
        case HeaderCheck::ok:
            return "ok";
        case HeaderCheck::empty:
            return "empty";
        case HeaderCheck::bad_magic:
            return "bad magic";
        case HeaderCheck::bad_checksum:
            return "header checksum mismatch";
        case HeaderCheck::inconsistent:
            return "inconsistent header";
    }
    return "?";
}

}  // namespace ep::chunkstore

#include "chunkstore/record.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace ep::chunkstore {

static uint64_t header_sum(const RecordHeader &h) {
    return XXH3_64bits(&h, offsetof(RecordHeader, header_xxh3));
}
static uint64_t header_sum_v2(const RecordHeaderV2 &h) {
    return XXH3_64bits(&h, offsetof(RecordHeaderV2, header_xxh3));
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
    if (f.filled) {
        h.flags = kRecordFilled;
        h.version_etag = f.version_etag;
        h.expires_unix_s = f.expires_unix_s;
        h.origin_etag_len =
            static_cast<uint32_t>(std::min<size_t>(f.origin_etag.size(), kMaxOriginEtag));
        if (h.origin_etag_len) std::memcpy(h.origin_etag, f.origin_etag.data(), h.origin_etag_len);
    }
    h.header_xxh3 = header_sum(h);
}

// The checks every version shares, on the common prefix of the layouts.
static HeaderCheck check_shape(const RecordHeader &h) {
    if (h.header_bytes != kHeaderSize || h.name_len > kMaxName || h.ctype_len > kMaxContentType ||
        h.chunk_count != chunk_count_for(h.object_size) || h.chunk_index >= h.chunk_count)
        return HeaderCheck::inconsistent;
    uint64_t start = uint64_t{h.chunk_index} * kChunkSize;
    uint64_t want = h.object_size - start < kChunkSize ? h.object_size - start : kChunkSize;
    if (h.chunk_len != want) return HeaderCheck::inconsistent;
    if (h.object_id != object_id({h.name, h.name_len}) ||
        h.key != chunk_key(h.object_id, h.chunk_index))
        return HeaderCheck::inconsistent;
    return HeaderCheck::ok;
}

HeaderCheck check_header(const RecordHeader &h) {
    if (h.magic == 0 && h.header_xxh3 == 0 && h.version == 0) return HeaderCheck::empty;
    if (h.magic != kRecordMagic) return HeaderCheck::bad_magic;
    if (h.version == kRecordVersionV2) {
        // An old record: its checksum sits right after `name`.
        const auto &o = reinterpret_cast<const RecordHeaderV2 &>(h);
        if (o.header_xxh3 != header_sum_v2(o)) return HeaderCheck::bad_checksum;
        return check_shape(h);
    }
    if (h.header_xxh3 != header_sum(h)) return HeaderCheck::bad_checksum;
    if (h.version != kRecordVersion || (h.flags & ~kRecordFilled) ||
        h.origin_etag_len > kMaxOriginEtag)
        return HeaderCheck::inconsistent;
    return check_shape(h);
}

HeaderCheck decode_header(const void *buf, RecordHeader *out) {
    const auto &h = *static_cast<const RecordHeader *>(buf);
    const HeaderCheck hc = check_header(h);
    if (hc != HeaderCheck::ok) return hc;
    std::memcpy(out, &h, sizeof h);
    if (h.version == kRecordVersionV2) {
        // Same prefix; the v3 fields of an ingested object are all zero.
        std::memset(reinterpret_cast<uint8_t *>(out) + offsetof(RecordHeader, flags), 0,
                    sizeof(RecordHeader) - offsetof(RecordHeader, flags));
        out->header_xxh3 = 0;  // not this layout's: never re-checked
    }
    return hc;
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

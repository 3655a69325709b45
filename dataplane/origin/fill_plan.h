// Pull on miss, chunk-granular (issue 14): what to ask an origin for and
// whether its answer may become a chunk of the store. Pure: a response head
// (parsed by http::ResponseParser) in, a verdict out.
//
// An object is fetched as 256 KiB-aligned Range requests, one per store
// chunk: chunk i is "Range: bytes=i*256Ki-(i+1)*256Ki-1" (RFC 9110 14.1.2).
// The first answer also gives the object's metadata: its length (from
// Content-Range's complete-length, RFC 9110 14.4), Content-Type, ETag,
// Last-Modified and the Cache-Control directives a shared cache obeys
// (RFC 9111 5.2.2: s-maxage over max-age, no-store and private forbid
// storing). Every later chunk must agree: same complete length and same
// ETag, exactly the bytes asked for, or it is refused (never stored), so
// one object's chunks never come from two versions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/http/response_parser.h"

namespace ep::origin {

inline constexpr uint32_t kFillChunk = 256 * 1024;  // = chunkstore::kChunkSize

// Inclusive byte range, as in a Range header.
struct Span {
    uint64_t first = 0, last = 0;
    uint64_t length() const { return last - first + 1; }
};

inline uint32_t chunk_of(uint64_t offset) {
    return static_cast<uint32_t>(offset / kFillChunk);
}
inline uint32_t chunk_count(uint64_t size) {
    return size == 0 ? 1 : static_cast<uint32_t>((size + kFillChunk - 1) / kFillChunk);
}
// What to ask for chunk `index` before the size is known (the whole aligned block).
inline Span request_span(uint32_t index) {
    const uint64_t first = uint64_t{index} * kFillChunk;
    return {first, first + kFillChunk - 1};
}
// The bytes chunk `index` holds of an object of `size` (index < chunk_count(size)).
inline Span chunk_span(uint32_t index, uint64_t size) {
    const uint64_t first = uint64_t{index} * kFillChunk;
    const uint64_t end = first + kFillChunk < size ? first + kFillChunk : size;
    return {first, end == 0 ? 0 : end - 1};
}

// The request line and fields for chunk `index` of `path` (the request's
// path, '/' included) into buf: "GET path HTTP/1.1", Host, Range,
// keep-alive. With a validator from the first answer (`if_match`, the
// origin's ETag), a changed object fails with 412 instead of mixing
// (RFC 9110 13.1.1). Returns the length, 0 if it does not fit.
// With `if_none_match` (the stored version's ETag) it is a revalidation:
// 304 keeps the stored version (RFC 9110 13.1.2, RFC 9111 4.3). An origin
// that sent no ETag is revalidated with `if_modified_since` (the stored
// version's Last-Modified, RFC 9110 13.1.3; RFC 9111 4.3.1 lets a cache
// send it when that is the only validator).
size_t format_chunk_request(char *buf, size_t cap, std::string_view path, std::string_view host,
                            uint32_t index, std::string_view if_match = {},
                            std::string_view if_none_match = {},
                            std::string_view if_modified_since = {});

// "A.B.C.D:PORT" of a server (the Host field of our requests); 0 if it does not fit.
size_t format_host(char *buf, size_t cap, uint32_t ip_be, uint16_t port);

// An object's metadata, from the origin's first answer.
struct ObjectHead {
    static constexpr size_t kMaxEtag = 96;
    static constexpr size_t kMaxType = 64;
    static constexpr size_t kMaxDate = 40;
    uint64_t size = 0;
    char etag[kMaxEtag] = {};  // the origin's entity-tag, quotes and W/ kept
    uint8_t etag_len = 0;
    char content_type[kMaxType] = {};
    uint8_t content_type_len = 0;
    char last_modified[kMaxDate] = {};  // the field as sent (an IMF-fixdate)
    uint8_t last_modified_len = 0;
    bool no_store = false;     // no-store or private: serve it, keep nothing
    bool has_max_age = false;  // s-maxage, else max-age
    uint32_t max_age_s = 0;
    std::string_view etag_view() const { return {etag, etag_len}; }
    std::string_view content_type_view() const { return {content_type, content_type_len}; }
    std::string_view last_modified_view() const { return {last_modified, last_modified_len}; }
};

// Until when an answer is fresh (RFC 9111 4.2.1: s-maxage, else max-age,
// from the response time); 0 without either (kept until evicted or purged).
inline int64_t expires_at(const ObjectHead &h, int64_t now_unix_s) {
    return h.has_max_age ? now_unix_s + h.max_age_s : 0;
}

// X(name, help): why an origin answer was not taken. Counted per lcore by
// the fill glue (origin section of `edgectl stats`), one counter each.
#define EP_ORIGIN_VERDICTS(X)                                                               \
    X(ok, "origin answers taken as a chunk")                                                \
    X(not_found, "origin said 404 or 410: the object does not exist there")                 \
    X(range_unsatisfiable, "origin said 416: the chunk asked for is past the object's end") \
    X(bad_status, "origin answered with a status other than 200/206/404/410/416")           \
    X(range_mismatch, "origin sent other bytes than the range asked for")                   \
    X(size_changed, "the object's length changed between chunks")                           \
    X(etag_changed, "the object's ETag changed between chunks (412 or a new ETag)")         \
    X(no_length, "origin answer without a usable length")                                   \
    X(too_large, "a field we keep (ETag, Content-Type) is longer than we store")

enum class Verdict : uint8_t {
#define EP_X(name, help) name,
    EP_ORIGIN_VERDICTS(EP_X)
#undef EP_X
        count_
};
const char *verdict_name(Verdict v);

// "bytes FIRST-LAST/COMPLETE" (RFC 9110 14.4); false on anything else,
// including an unknown complete length ("/*") and "bytes */COMPLETE".
bool parse_content_range(std::string_view v, Span *span, uint64_t *complete);
// The complete length of "bytes */COMPLETE" (a 416 answer); false otherwise.
bool parse_unsatisfied_range(std::string_view v, uint64_t *complete);
// Cache-Control directives a shared cache uses (RFC 9111 5.2.2).
void parse_cache_control(std::string_view v, ObjectHead *out);

// The origin's answer to the first request of a fill (chunk `index`,
// request_span(index)): fills *meta and, on ok, *body = the span of the
// object this answer's body holds (what to store as chunk `index`).
// A 200 (the origin ignored Range) is taken only when the whole object is
// the one chunk asked for (index 0, length <= 256 KiB); a larger 200 is a
// range_mismatch (we would have to read bytes we do not store).
Verdict first_answer(const http::ResponseParser &p, uint32_t index, ObjectHead *meta, Span *body);
// The 64-bit form of an origin's entity-tag that the store keeps with a
// filled object (ObjectMeta::etag): XXH3 of the field, seeded with the size.
uint64_t etag_hash(std::string_view etag, uint64_t size);
// What tells two versions apart: the ETag, or for an origin that sends none
// its Last-Modified (so a same-length change is still a new version, never
// mixed); with neither, only the length.
uint64_t version_hash(std::string_view etag, std::string_view last_modified, uint64_t size);
// Any later chunk of the same object (the store knows its size and
// etag_hash): the same length and ETag, exactly chunk_span(index, size).
Verdict next_answer(const http::ResponseParser &p, uint32_t index, uint64_t size, uint64_t etag64);

}  // namespace ep::origin

// Entity tags (RFC 9110 §8.8.3) and the list matching of If-Match /
// If-None-Match / If-Range.
#pragma once

#include <cstdint>
#include <string_view>

namespace ep::http {

// `"` + 16 lower-case hex digits of the object's XXH3-64 + `"`: a strong
// validator, since the checksum changes whenever any byte does.
inline constexpr std::size_t kEtagLen = 18;
void format_etag(uint64_t etag64, char *out);

enum class EtagCompare : uint8_t {
    kStrong,  // RFC 9110 §8.8.3.2: both strong and identical (If-Match, If-Range)
    kWeak,    // identical opaque-tags, W/ ignored (If-None-Match)
};

enum class ListMatch : uint8_t { kMatch, kNoMatch, kInvalid };

// Matches one field line of `"*" / #entity-tag` against our strong `etag`
// (with quotes). "*" matches any existing representation.
ListMatch match_etag_list(std::string_view field, std::string_view etag, EtagCompare how);

}  // namespace ep::http

// HTTP-date (RFC 9110 §5.6.7): formatting IMF-fixdate and parsing all three
// historical forms, without libc time functions (no locale, no TZ lookups).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ep::http {

// "Sun, 06 Nov 1994 08:49:37 GMT" is always 29 bytes.
inline constexpr std::size_t kImfFixdateLen = 29;

// Writes the IMF-fixdate of `unix_seconds` into out[0..29). Dates before 1970
// are clamped to the epoch: an object store never hands out such mtimes.
void format_imf_fixdate(int64_t unix_seconds, char *out);

// Parses IMF-fixdate, and (RFC 9110 §5.6.7: "A recipient that parses a
// timestamp value in an HTTP field MUST accept all three HTTP-date formats")
// the obsolete RFC 850 and asctime forms. Returns nullopt on any deviation;
// callers then ignore the field, as §13.1.3/§13.1.4 require.
std::optional<int64_t> parse_http_date(std::string_view s);

// Date header cache: formatting a date costs ~100 ns, a busy core answers
// thousands of requests per second, so format once per second and reuse.
class DateCache {
  public:
    // The formatted IMF-fixdate of `unix_seconds`; stable until the next call
    // with a different second.
    std::string_view get(int64_t unix_seconds) {
        if (unix_seconds != cached_second_) {
            format_imf_fixdate(unix_seconds, buf_);
            cached_second_ = unix_seconds;
        }
        return {buf_, kImfFixdateLen};
    }

  private:
    int64_t cached_second_ = INT64_MIN;
    char buf_[kImfFixdateLen] = {};
};

}  // namespace ep::http

// Percent-decoding of URI components (RFC 3986 section 2.1), one copy for
// every parser that reads a query: the HTTP tracker's announce and scrape
// (BEP 3), magnet links (BEP 9) and the DASH steering request (its query is
// written by URLSearchParams, which also turns ' ' into '+').
// Header-only: the swarm and HTTP libraries and the fuzz targets that compile
// those parsers from source all include it without another library to link.
#pragma once

#include <cstddef>
#include <string_view>

namespace ep::uri {

// The value of one hex digit, -1 for anything else.
constexpr int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

struct PercentOptions {
    bool plus_is_space = false;  // application/x-www-form-urlencoded
    // strict: a '%' without two hex digits after it is an error (trackers,
    // magnet links). Lenient: it is kept as a literal '%', as browsers do.
    bool strict = true;
};

struct PercentResult {
    std::size_t len = 0;      // bytes written to out
    bool bad_escape = false;  // strict only: decoding stopped at a broken escape
    bool truncated = false;   // input was left when out was full
};

// Decodes `in` into out[0..cap). Stops at the first broken escape (strict)
// or when out is full, and says which.
constexpr PercentResult percent_decode(std::string_view in, char *out, std::size_t cap,
                                       PercentOptions opt = {}) {
    PercentResult r;
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%') {
            const bool two_hex =
                i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0;
            if (two_hex) {
                c = static_cast<char>(hex_value(in[i + 1]) << 4 | hex_value(in[i + 2]));
                i += 2;
            } else if (opt.strict) {
                r.bad_escape = true;
                return r;
            }
        } else if (c == '+' && opt.plus_is_space) {
            c = ' ';
        }
        if (r.len == cap) {
            r.truncated = true;
            return r;
        }
        out[r.len++] = c;
    }
    return r;
}

}  // namespace ep::uri

#include "dataplane/http/range.h"

#include "dataplane/http/chars.h"

namespace ep::http {
namespace {

bool read_number(std::string_view s, std::size_t &i, uint64_t &out) {
    const std::size_t start = i;
    uint64_t v = 0;
    while (i < s.size() && is_digit(static_cast<uint8_t>(s[i]))) {
        const uint64_t d = static_cast<uint64_t>(s[i] - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;  // saturate
        ++i;
    }
    out = v;
    return i > start;
}

}  // namespace

RangeSet evaluate_range(std::string_view s, uint64_t size, unsigned max_ranges) {
    RangeSet out;
    if (max_ranges > kMaxRanges) max_ranges = kMaxRanges;
    // RFC 9110 §14.1: range-unit is case-insensitive; "bytes" is the only one we serve.
    if (s.size() < 6) return out;
    for (std::size_t k = 0; k < 5; ++k)
        if (to_lower(static_cast<uint8_t>(s[k])) != "bytes"[k]) return out;
    if (s[5] != '=') return out;
    std::size_t i = 6;
    unsigned specs = 0;
    RangeSet sat;
    auto skip_ows = [&] {
        while (i < s.size() && is_ows(static_cast<uint8_t>(s[i]))) ++i;
    };
    while (i < s.size()) {
        skip_ows();
        if (i < s.size() && s[i] == ',') {  // empty list element (RFC 9110 §5.6.1)
            ++i;
            continue;
        }
        if (i == s.size()) break;
        if (++specs > max_ranges) return out;
        uint64_t first = 0, last = 0;
        ByteRange r{};
        bool ok = true;
        if (s[i] == '-') {
            // suffix-range = "-" suffix-length: the last N bytes.
            ++i;
            if (!read_number(s, i, last)) return out;
            if (last == 0 || size == 0)
                ok = false;  // §14.1.1: zero suffix is unsatisfiable
            else
                r = {last >= size ? 0 : size - last, last >= size ? size : last};
        } else {
            // int-range = first-pos "-" [ last-pos ]
            if (!read_number(s, i, first) || i >= s.size() || s[i] != '-') return out;
            ++i;
            const bool has_last = read_number(s, i, last);
            if (has_last && last < first) return out;  // §14.1.1: invalid, whole field ignored
            if (first >= size)
                ok = false;  // §14.1.1: unsatisfiable
            else {
                const uint64_t end = (!has_last || last >= size) ? size - 1 : last;
                r = {first, end - first + 1};
            }
        }
        skip_ows();
        if (i < s.size() && s[i] != ',') return out;
        if (ok) sat.ranges[sat.count++] = r;
    }
    if (specs == 0) return out;
    if (sat.count == 0) {
        out.outcome = RangeSet::Outcome::kUnsatisfiable;
        return out;
    }
    // Overlapping ranges are a known amplification trick (§17.15): serve whole.
    for (unsigned a = 0; a < sat.count; ++a)
        for (unsigned b = a + 1; b < sat.count; ++b)
            if (sat.ranges[a].first <= sat.ranges[b].last() &&
                sat.ranges[b].first <= sat.ranges[a].last())
                return out;
    sat.outcome = RangeSet::Outcome::kSatisfiable;
    return sat;
}

}  // namespace ep::http

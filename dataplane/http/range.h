// Range requests (RFC 9110 §14): parsing a Range field against a
// representation length into at most kMaxRanges byte ranges.
#pragma once

#include <cstdint>
#include <string_view>

#include "dataplane/http/config.h"

namespace ep::http {

struct ByteRange {
    uint64_t first;
    uint64_t length;  // > 0
    uint64_t last() const { return first + length - 1; }
};

struct RangeSet {
    enum class Outcome : uint8_t {
        kIgnore,         // no usable Range: answer 200 with the whole object
        kSatisfiable,    // 206 with ranges[0..count)
        kUnsatisfiable,  // 416 with Content-Range: bytes */size
    };
    Outcome outcome = Outcome::kIgnore;
    uint8_t count = 0;
    ByteRange ranges[kMaxRanges];
};

// Policy, per RFC 9110 §14.2:
// - A unit other than "bytes" or a syntax error: the field is ignored (200).
// - More than `max_ranges` range-specs, or overlapping satisfiable ranges:
//   ignored (200), following the DoS advice of §14.2 / §17.15.
// - Unsatisfiable specs are dropped; if none is left: 416.
// - Numbers too large for 64 bits saturate, which keeps their meaning
//   (a huge first-pos is unsatisfiable, a huge last-pos means "to the end").
RangeSet evaluate_range(std::string_view field, uint64_t size, unsigned max_ranges);

}  // namespace ep::http

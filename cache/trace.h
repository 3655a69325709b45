// Request traces in memory, and the offline annotations policies need.
#pragma once

#include <cstdint>
#include <vector>

#include "cache/policy.h"

namespace ep::cache {

using Trace = std::vector<Request>;

struct TraceStats {
    uint64_t requests = 0;
    uint64_t objects = 0;         // distinct keys
    uint64_t distinct_bytes = 0;  // sum of each distinct key's first-seen size
    uint64_t total_bytes = 0;
};

TraceStats trace_stats(const Trace &t);

// Fills next_access with the index of each key's next request (kNeverAgain
// for the last one), in one backward pass.
void annotate_next_access(Trace &t);

}  // namespace ep::cache

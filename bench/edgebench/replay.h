// The measured replay loop of `edgebench cachesim`.
#pragma once

#include <cstdint>
#include <string>

#include "cache/policy.h"
#include "cache/trace.h"

namespace ep::bench {

struct ReplayCounts {
    uint64_t misses = 0;
    uint64_t bytes = 0;
    uint64_t miss_bytes = 0;
};

// Replays the whole trace through p. Known final policy classes get a
// devirtualised, inlined loop; the rest go through the Policy interface.
ReplayCounts replay_trace(cache::Policy &p, const cache::Trace &t);

}  // namespace ep::bench

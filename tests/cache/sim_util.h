// A minimal replay for tests (the simulator's loop, without timing).
#pragma once

#include <string>

#include "cache/factory.h"
#include "cache/trace.h"

namespace ep::cache::testing {

struct Replay {
    uint64_t requests = 0, misses = 0, bytes = 0, miss_bytes = 0;
    double miss_ratio() const { return double(misses) / double(requests); }
    double byte_miss_ratio() const { return double(miss_bytes) / double(bytes); }
};

inline Replay replay(const Trace &t, const std::string &policy, uint64_t capacity) {
    PolicyConfig cfg;
    cfg.capacity_bytes = capacity;
    auto p = make_policy(policy, cfg);
    Replay r;
    for (const Request &q : t) {
        bool hit = p->access(q);
        ++r.requests;
        r.bytes += q.size;
        if (!hit) {
            ++r.misses;
            r.miss_bytes += q.size;
        }
    }
    return r;
}

}  // namespace ep::cache::testing

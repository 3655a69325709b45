#include "bench/edgebench/replay.h"

#include "cache/list_policy.h"
#include "cache/s3fifo.h"
#include "cache/sieve.h"

namespace ep::bench {

namespace {

// The hash slot of a request a few positions ahead is prefetched so its DRAM
// latency overlaps the current request's work.
template <class P>
ReplayCounts loop(P &p, const cache::Trace &t) {
    constexpr size_t kAhead = 8;
    const size_t n = t.size();
    ReplayCounts c;
    for (size_t i = 0; i < n; ++i) {
        if (i + kAhead < n) p.prefetch(t[i + kAhead].key);
        const cache::Request &q = t[i];
        bool hit = p.access(q);
        c.misses += !hit;
        c.miss_bytes += hit ? 0 : q.size;
        c.bytes += q.size;
    }
    return c;
}

}  // namespace

ReplayCounts replay_trace(cache::Policy &p, const cache::Trace &t) {
    if (auto *s = dynamic_cast<cache::S3Fifo *>(&p)) return loop(*s, t);
    if (auto *l = dynamic_cast<cache::ListPolicy *>(&p)) return loop(*l, t);
    if (auto *v = dynamic_cast<cache::Sieve *>(&p)) return loop(*v, t);
    return loop(p, t);
}

}  // namespace ep::bench

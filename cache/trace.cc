#include "cache/trace.h"

#include "cache/flat_map.h"

namespace ep::cache {

TraceStats trace_stats(const Trace &t) {
    TraceStats s;
    FlatMap seen(1024);
    for (const Request &r : t) {
        ++s.requests;
        s.total_bytes += r.size;
        if (seen.find(r.key) == FlatMap::kNone) {
            seen.put(r.key, 0);
            ++s.objects;
            s.distinct_bytes += r.size;
        }
    }
    return s;
}

void annotate_next_access(Trace &t) {
    FlatMap last(1024);  // key -> index of its most recent (later) request
    for (size_t i = t.size(); i-- > 0;) {
        uint32_t j = last.find(t[i].key);
        t[i].next_access = j == FlatMap::kNone ? kNeverAgain : static_cast<int64_t>(j);
        last.put(t[i].key, static_cast<uint32_t>(i));
    }
}

}  // namespace ep::cache

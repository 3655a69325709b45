// Per-access cost of each policy on a Zipf(0.9) stream over 1M objects,
// cache at 10% of the objects. The stream is generated once, outside the
// timed loop; each iteration is one access.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "cache/factory.h"
#include "cache/synthetic.h"

namespace {

const ep::cache::Trace &stream() {
    static const ep::cache::Trace t = [] {
        ep::cache::SyntheticSpec s;
        s.requests = 1 << 22;
        s.objects = 1000000;
        s.alpha = 0.9;
        s.seed = 7;
        return ep::cache::generate_trace(s);
    }();
    return t;
}

void BM_Access(benchmark::State &state, const std::string &policy) {
    const auto &t = stream();
    ep::cache::PolicyConfig cfg;
    cfg.capacity_bytes = 100000;
    auto p = ep::cache::make_policy(policy, cfg);
    const size_t mask = t.size() - 1;  // size is a power of two
    size_t i = 0;
    uint64_t hits = 0;
    for (auto _ : state) {
        p->prefetch(t[(i + 8) & mask].key);
        hits += p->access(t[i & mask]);
        ++i;
    }
    state.counters["hit_ratio"] = benchmark::Counter(double(hits) / double(i ? i : 1));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

}  // namespace

BENCHMARK_CAPTURE(BM_Access, lru, std::string("lru"));
BENCHMARK_CAPTURE(BM_Access, fifo, std::string("fifo"));
BENCHMARK_CAPTURE(BM_Access, sieve, std::string("sieve"));
BENCHMARK_CAPTURE(BM_Access, s3fifo, std::string("s3fifo"));
BENCHMARK_CAPTURE(BM_Access, tinylfu_lru, std::string("tinylfu+lru"));
BENCHMARK_CAPTURE(BM_Access, s3fifo_sketch, std::string("s3fifo+sketch"));
BENCHMARK_CAPTURE(BM_Access, default_policy, std::string("default"));
BENCHMARK_MAIN();

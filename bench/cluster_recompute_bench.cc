// A full recompute of cluster selection (control/cluster/engine.h): every
// client network decided and the result compiled into the DNS server's
// SteerMap, for 10^6 client prefixes x 10^3 clusters on one thread. Goal
// (issue 16): under 1 s. docs/benchmarks.md has the figures and the command.
//
// The world: 1000 clusters placed uniformly on the sphere; 10^6 client /24s
// in runs of 256 (one /16 per place, as address blocks are allocated), each
// run around a random point, so neighbouring prefixes mostly share a
// cluster and aggregation has something to merge.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>

#include "control/cluster/engine.h"

using namespace ep::cluster;

namespace {

Model world(unsigned clusters, unsigned clients, const std::string &policy) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<double> u(-1, 1), lon(-180, 180), jit(-0.5, 0.5);
    Model m;
    m.settings.policy = policy;
    for (unsigned c = 0; c < clusters; ++c) {
        Cluster cl;
        cl.name = "c" + std::to_string(c);
        cl.lat = std::asin(u(rng)) / kDeg;
        cl.lon = lon(rng);
        // Total demand is clients x 0.01 Gbit/s = 10 Tbit/s; capacity 10-20
        // Gbit/s a cluster (15 Tbit/s in all, 12 under the 0.8 headroom):
        // room overall, but many clusters overflow and load-aware works.
        cl.capacity_gbps = 10.0 + 10.0 * (u(rng) + 1) / 2;
        cl.v4.push_back({10, static_cast<uint8_t>(c >> 8), static_cast<uint8_t>(c), 1});
        m.clusters.push_back(std::move(cl));
    }
    double lat0 = 0, lon0 = 0;
    for (unsigned i = 0; i < clients; ++i) {
        if (i % 256 == 0) lat0 = std::asin(u(rng)) / kDeg, lon0 = lon(rng);
        ClientNet c;
        c.prefix.family = 1;
        c.prefix.len = 24;
        c.prefix.net[0] = static_cast<uint8_t>(1 + (i >> 16));
        c.prefix.net[1] = static_cast<uint8_t>(i >> 8);
        c.prefix.net[2] = static_cast<uint8_t>(i);
        c.lat = static_cast<float>(std::clamp(lat0 + jit(rng), -90.0, 90.0));
        c.lon = static_cast<float>(std::clamp(lon0 + jit(rng), -180.0, 180.0));
        c.demand_gbps = 0.01f;
        m.clients.push_back(c);
    }
    m.names = {{"video.kingcdn.test", 30, ""}};
    return m;
}

void BM_Recompute(benchmark::State &state, const std::string &policy) {
    const unsigned clients = static_cast<unsigned>(state.range(0));
    const unsigned clusters = static_cast<unsigned>(state.range(1));
    Engine e;
    std::string err;
    if (!e.set_model(world(clusters, clients, policy), "", &err)) {
        state.SkipWithError(err.c_str());
        return;
    }
    if (policy != "geo") {
        // One measured block in ten, by two clusters each.
        std::mt19937 rng(1);
        for (unsigned i = 0; i < clients; i += 10) {
            const ClientNet &c = e.model().clients[i];
            for (int k = 0; k < 2; ++k)
                e.measurements().add(static_cast<uint16_t>(rng() % clusters), c.prefix,
                                     static_cast<float>(5 + rng() % 100), 0, 4, 0);
        }
    }
    double t = 0;
    e.recompute(t);  // the first one has no previous decisions to keep
    for (auto _ : state) {
        t += 10;
        const auto &map = e.recompute(t);
        benchmark::DoNotOptimize(map.routes.data());
    }
    const RecomputeStats &st = e.stats();
    state.counters["routes"] = static_cast<double>(st.routes);
    state.counters["grid_entries"] = static_cast<double>(st.candidate_entries);
    state.counters["moved_for_load"] = static_cast<double>(st.moved_for_load);
    state.counters["over_capacity"] = static_cast<double>(st.over_capacity);
    state.counters["kept"] = static_cast<double>(st.kept);
    state.counters["decide_ms"] = st.decide_seconds * 1e3;
    state.counters["compile_ms"] = st.compile_seconds * 1e3;
}

}  // namespace

BENCHMARK_CAPTURE(BM_Recompute, geo, std::string("geo"))
    ->Args({1'000'000, 1000})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_Recompute, measured, std::string("measured"))
    ->Args({1'000'000, 1000})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_Recompute, load_aware, std::string("load-aware"))
    ->Args({1'000'000, 1000})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_Recompute, small_geo, std::string("geo"))
    ->Args({10'000, 100})
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();

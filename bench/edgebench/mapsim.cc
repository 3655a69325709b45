#include "bench/edgebench/mapsim.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "control/cluster/compile.h"
#include "control/cluster/engine.h"
#include "control/cluster/geo.h"

namespace ep::bench::mapsim {

namespace cl = ep::cluster;

namespace {

// The model the Engine decides over: the world's clusters, its client
// prefixes (first, in world order) and the public resolver sites (after:
// what a resolver that sends no ECS is mapped as).
cl::Model base_model(const World &w, const std::string &policy) {
    cl::Model m;
    m.settings.policy = policy;
    for (uint32_t c = 0; c < w.clusters.size(); ++c) {
        cl::Cluster k;
        k.name = w.clusters[c].name;
        k.lat = w.clusters[c].lat;
        k.lon = w.clusters[c].lon;
        k.capacity_gbps = w.clusters[c].capacity_gbps;
        k.v4.push_back({10, static_cast<uint8_t>(c >> 8), static_cast<uint8_t>(c), 1});
        m.clusters.push_back(std::move(k));
    }
    for (const ClientPrefix &p : w.prefixes) {
        cl::ClientNet n;
        n.prefix = p.prefix;
        n.lat = static_cast<float>(p.lat);
        n.lon = static_cast<float>(p.lon);
        n.asn = 64512 + p.network;
        m.clients.push_back(n);
    }
    for (const Site &s : w.sites) {
        cl::ClientNet n;
        n.prefix = s.prefix;
        n.lat = static_cast<float>(s.lat);
        n.lon = static_cast<float>(s.lon);
        // What the model thinks the resolver's address sends: the default
        // (a resolver's own traffic is queries, not video).
        m.clients.push_back(n);
    }
    m.names = {{"video.kingcdn.test", 30, ""}};
    return m;
}

// Queueing noise on a passive RTT sample: exponential, mean `mean_ms`,
// deterministic per (prefix, cluster, step).
float noise(uint32_t p, uint32_t c, uint64_t step, double mean_ms) {
    uint64_t z = (uint64_t{p} << 32 ^ uint64_t{c} << 20 ^ step) + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const double u = (static_cast<double>(z >> 11) + 0.5) * 0x1.0p-53;
    return static_cast<float>(-std::log(u) * mean_ms);
}

uint64_t key(uint8_t len, const uint8_t *net) {
    const uint32_t a =
        uint32_t{net[0]} << 24 | uint32_t{net[1]} << 16 | uint32_t{net[2]} << 8 | net[3];
    const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
    return uint64_t{len} << 32 | (a & mask);
}

// DNS answers resolvers cache under `answers` (cluster per model client):
// each resolver caches one answer per distinct route (ECS scope) its
// clients fall in; one that sends no ECS, one in all. Returns the ratio to
// one /0 answer per resolver and sets *routes.
double dns_answers(const World &w, const cl::Model &m, const std::vector<int32_t> &answers,
                   double *routes) {
    std::vector<cl::Route> in(m.clients.size());
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = {m.clients[i].prefix, answers[i]};
    const std::vector<cl::Route> agg = cl::aggregate(in);
    *routes = static_cast<double>(agg.size());
    std::unordered_map<uint64_t, uint32_t> at;
    for (uint32_t r = 0; r < agg.size(); ++r) at[key(agg[r].prefix.len, agg[r].prefix.net)] = r;
    auto route_of = [&](const cl::Prefix &p) -> int64_t {
        for (int len = p.len; len >= 0; --len) {
            auto it = at.find(key(static_cast<uint8_t>(len), p.net));
            if (it != at.end()) return it->second;
        }
        return -1;
    };
    // Resolver ids: ISP resolvers first, then the public sites.
    std::unordered_set<uint64_t> pairs;  // (resolver, route)
    std::unordered_set<uint32_t> resolvers;
    for (uint32_t p = 0; p < w.prefixes.size(); ++p) {
        const ClientPrefix &cp = w.prefixes[p];
        const uint32_t res = cp.resolver < 0 ? cp.isp_resolver
                                             : w.isp_resolvers + static_cast<uint32_t>(cp.resolver);
        resolvers.insert(res);
        const int64_t r = cp.ecs ? route_of(cp.prefix)
                                 : route_of(w.sites[static_cast<uint32_t>(cp.resolver)].prefix);
        pairs.insert(uint64_t{res} << 32 | static_cast<uint32_t>(r));
    }
    return resolvers.empty() ? 0 : static_cast<double>(pairs.size()) / resolvers.size();
}

double percentile(const std::vector<double> &hist, double total, double q) {
    double s = 0;
    for (uint32_t b = 0; b < hist.size(); ++b) {
        s += hist[b];
        if (s >= q * total) return (b + 1) * kBinMs;  // the bin's upper edge
    }
    return hist.size() * kBinMs;
}

}  // namespace

Result replay(const World &w, const SimOpts &o) {
    const auto t0 = std::chrono::steady_clock::now();
    const bool oracle = o.policy == "oracle";
    const uint32_t P = static_cast<uint32_t>(w.prefixes.size());
    const uint32_t C = static_cast<uint32_t>(w.clusters.size());
    Result res;
    res.policy = o.policy;
    res.hist.assign(kBins + 1, 0);
    res.peak_util.assign(C, 0);

    // The static part of every true RTT (the oracle's full matrix) and each
    // prefix's clusters by distance (for probes).
    std::vector<double> base(static_cast<std::size_t>(P) * C);
    for (uint32_t p = 0; p < P; ++p)
        for (uint32_t c = 0; c < C; ++c) base[std::size_t{p} * C + c] = w.base_rtt(p, c);
    std::vector<std::vector<uint16_t>> nearest(o.probes ? P : 0);
    for (uint32_t p = 0; p < nearest.size(); ++p) {
        std::vector<std::pair<double, uint16_t>> by;
        for (uint32_t c = 0; c < C; ++c)
            by.push_back({cl::haversine_km(w.prefixes[p].lat, w.prefixes[p].lon, w.clusters[c].lat,
                                           w.clusters[c].lon),
                          static_cast<uint16_t>(c)});
        std::sort(by.begin(), by.end());
        for (uint32_t k = 0; k < by.size(); ++k) nearest[p].push_back(by[k].second);
    }

    cl::Model model = base_model(w, oracle ? "geo" : o.policy);
    cl::Engine e;
    std::string err;
    std::vector<double> carried(C, 0);  // the last step's real load per cluster
    std::vector<int32_t> serve(P, -1), prev(P, -1), best(P, -1);
    std::vector<double> cong(C), demand(P);
    std::vector<uint8_t> up(C);
    double scored_self = 0, pen_self = 0, within_self = 0;
    double scored = 0, pen_sum = 0, within = 0, over = 0, flaps = 0, forced = 0, prefix_h = 0;
    double routes_sum = 0, answers_sum = 0, dns_samples = 0, decide_s = 0;
    const uint64_t steps = static_cast<uint64_t>(std::floor(w.duration_s / o.step_s));
    for (uint64_t step = 0; step < steps; ++step) {
        const double t = step * o.step_s;
        for (uint32_t c = 0; c < C; ++c) {
            up[c] = w.up(c, t);
            cong[c] = w.congestion_ms(c, t);
        }
        for (uint32_t p = 0; p < P; ++p) demand[p] = w.demand(p, t);
        // The oracle: the lowest true RTT among the clusters up now.
        for (uint32_t p = 0; p < P; ++p) {
            int32_t b = -1;
            double bv = 0;
            for (uint32_t c = 0; c < C; ++c) {
                if (!up[c]) continue;
                const double v = base[std::size_t{p} * C + c] + cong[c];
                if (b < 0 || v < bv) b = static_cast<int32_t>(c), bv = v;
            }
            best[p] = b;
        }
        std::vector<int32_t> decided(model.clients.size(), -1);
        if (oracle) {
            serve = best;
            std::copy(best.begin(), best.end(), decided.begin());
        } else {
            for (uint32_t p = 0; p < P; ++p)
                model.clients[p].demand_gbps = static_cast<float>(demand[p]);
            for (uint32_t c = 0; c < C; ++c)
                model.clusters[c].health = up[c] ? cl::Health::kUp : cl::Health::kDown;
            if (!e.set_model(model, "", &err)) {
                res.policy += " (model refused: " + err + ")";
                return res;
            }
            if (o.members_load) {
                // One appliance per cluster, reporting what it carried.
                std::vector<cl::Member> ms;
                for (uint32_t c = 0; c < C; ++c) {
                    if (!up[c]) continue;  // down: its lease lapsed
                    cl::Member mb;
                    mb.name = w.clusters[c].name + "-1";
                    mb.cluster = w.clusters[c].name;
                    mb.v4 = model.clusters[c].v4;
                    mb.tx_gbps = carried[c];
                    ms.push_back(std::move(mb));
                }
                e.set_members(std::move(ms));
            }
            const auto d0 = std::chrono::steady_clock::now();
            e.recompute(t);
            decide_s +=
                std::chrono::duration<double>(std::chrono::steady_clock::now() - d0).count();
            const std::vector<cl::Assignment> &a = e.assignments();
            for (std::size_t i = 0; i < decided.size(); ++i) decided[i] = a[i].cluster;
            for (uint32_t p = 0; p < P; ++p) {
                const ClientPrefix &cp = w.prefixes[p];
                serve[p] =
                    cp.ecs ? a[p].cluster : a[P + static_cast<uint32_t>(cp.resolver)].cluster;
            }
        }
        // What each cluster really carries, and what its clients measure.
        std::fill(carried.begin(), carried.end(), 0.0);
        for (uint32_t p = 0; p < P; ++p)
            if (serve[p] >= 0) carried[static_cast<uint32_t>(serve[p])] += demand[p];
        if (!oracle) {
            cl::Measurements &ms = e.measurements();
            for (uint32_t p = 0; p < P; ++p) {
                if (serve[p] < 0) continue;
                const uint32_t c = static_cast<uint32_t>(serve[p]);
                ms.add(static_cast<uint16_t>(c), w.prefixes[p].prefix,
                       static_cast<float>(base[std::size_t{p} * C + c] + cong[c]) +
                           noise(p, c, step, o.noise_ms),
                       0, 1, t);
            }
            if (o.probes && std::fmod(t, o.probe_every_s) < o.step_s / 2)
                for (uint32_t p = 0; p < P; ++p) {
                    uint32_t done = 0;
                    for (uint16_t c : nearest[p]) {
                        if (done == o.probes) break;
                        if (!up[c]) continue;
                        ++done;
                        ms.add(c, w.prefixes[p].prefix,
                               static_cast<float>(base[std::size_t{p} * C + c] + cong[c]) +
                                   noise(p, c, step ^ 0xABCDEF, o.noise_ms),
                               0, 1, t);
                    }
                }
        }
        // Scoring.
        const bool scoring = t >= o.warmup_h * 3600;
        double total = 0, step_pen = 0, step_within = 0, step_over = 0, step_flaps = 0;
        for (uint32_t c = 0; c < C; ++c) {
            const double u = carried[c] / w.clusters[c].capacity_gbps;
            if (scoring) res.peak_util[c] = std::max(res.peak_util[c], u);
            if (u > 1) step_over += carried[c];
        }
        for (uint32_t p = 0; p < P; ++p) {
            const double d = demand[p];
            total += d;
            double pen = 1e4;  // nowhere to go: the worst bin
            if (serve[p] >= 0 && best[p] >= 0) {
                const uint32_t s = static_cast<uint32_t>(serve[p]);
                const uint32_t b = static_cast<uint32_t>(best[p]);
                pen = s == b ? 0.0
                             : (base[std::size_t{p} * C + s] + cong[s]) -
                                   (base[std::size_t{p} * C + b] + cong[b]);
                if (!up[s]) pen = 1e4;
            }
            pen = std::max(0.0, pen);
            step_pen += d * pen;
            step_within += pen <= o.within_ms ? d : 0;
            if (scoring && w.prefixes[p].ecs) {
                scored_self += d;
                pen_self += d * pen;
                within_self += pen <= o.within_ms ? d : 0;
            }
            if (scoring) {
                res.hist[std::min<uint32_t>(kBins, static_cast<uint32_t>(pen / kBinMs))] += d;
                if (step > 0 && serve[p] != prev[p]) {
                    const bool was_down = prev[p] >= 0 && !up[static_cast<uint32_t>(prev[p])];
                    (was_down ? forced : flaps) += 1;
                    step_flaps += !was_down;
                }
            }
        }
        if (scoring) {
            scored += total;
            pen_sum += step_pen;
            within += step_within;
            over += step_over;
            prefix_h += P * o.step_s / 3600;
            res.timeline.push_back({t / 3600, step_pen / total, step_within / total,
                                    step_over / total, step_flaps / P});
            if (o.dns_every && step % o.dns_every == 0) {
                double routes = 0;
                answers_sum += dns_answers(w, model, decided, &routes);
                routes_sum += routes;
                dns_samples += 1;
            }
        }
        prev = serve;
    }
    if (scored_self > 0)
        res.mean_self = pen_self / scored_self, res.within_self = within_self / scored_self;
    if (scored > 0) {
        res.mean_pen = pen_sum / scored;
        res.within = within / scored;
        res.over_cap = over / scored;
        res.p95 = percentile(res.hist, scored, 0.95);
        res.p99 = percentile(res.hist, scored, 0.99);
    }
    for (double u : res.peak_util) res.max_util = std::max(res.max_util, u);
    if (prefix_h > 0) res.flaps_ph = flaps / prefix_h, res.forced_ph = forced / prefix_h;
    if (dns_samples > 0) {
        res.routes = routes_sum / dns_samples;
        res.answers_ratio = answers_sum / dns_samples;
        res.answers_per_prefix = res.routes / P;
    }
    res.decide_s = decide_s;
    res.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return res;
}

}  // namespace ep::bench::mapsim

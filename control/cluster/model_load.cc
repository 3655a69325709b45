#include "control/cluster/model_load.h"

#include <arpa/inet.h>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

// toml++ (Debian libtomlplusplus-dev): the cluster file needs arrays of
// tables ([[cluster]]), which the daemon's flat StrictToml reader
// (control/config.cc) does not take; the strictness (unknown keys name their
// line) is kept here by checking every key against the list below.
#include <toml++/toml.h>

#include "control/cluster/geodb.h"
#include "dataplane/dns/zone_table.h"

namespace ep::cluster {

namespace {

struct Ctx {
    std::string file;
    std::string err;
    std::string at(const toml::node &n) const {
        return file + ":" + std::to_string(n.source().begin.line) + ": ";
    }
    bool fail(const toml::node &n, const std::string &why) {
        if (err.empty()) err = at(n) + why;
        return false;
    }
};

bool check_keys(Ctx &c, const toml::table &t, const std::set<std::string> &known,
                const std::string &where) {
    for (auto &&[k, v] : t) {
        if (known.count(std::string(k.str()))) continue;
        std::string list;
        for (const std::string &n : known) list += (list.empty() ? "" : ", ") + n;
        return c.fail(
            v, "unknown key '" + std::string(k.str()) + "' in " + where + " (known: " + list + ")");
    }
    return true;
}

bool get_string(Ctx &c, const toml::table &t, const char *key, std::string *out) {
    const toml::node *n = t.get(key);
    if (!n) return true;
    if (!n->is_string()) return c.fail(*n, std::string("'") + key + "' must be a string");
    *out = *n->value<std::string>();
    return true;
}

bool get_number(Ctx &c, const toml::table &t, const char *key, double *out) {
    const toml::node *n = t.get(key);
    if (!n) return true;
    if (!n->is_number()) return c.fail(*n, std::string("'") + key + "' must be a number");
    *out = *n->value<double>();
    return true;
}

bool get_uint(Ctx &c, const toml::table &t, const char *key, uint64_t max, uint64_t *out) {
    const toml::node *n = t.get(key);
    if (!n) return true;
    if (!n->is_integer() || *n->value<int64_t>() < 0 ||
        static_cast<uint64_t>(*n->value<int64_t>()) > max)
        return c.fail(
            *n, std::string("'") + key + "' must be an integer from 0 to " + std::to_string(max));
    *out = static_cast<uint64_t>(*n->value<int64_t>());
    return true;
}

bool get_strings(Ctx &c, const toml::table &t, const char *key, std::vector<std::string> *out) {
    const toml::node *n = t.get(key);
    if (!n) return true;
    const toml::array *a = n->as_array();
    if (!a) return c.fail(*n, std::string("'") + key + "' must be an array of strings");
    for (const toml::node &e : *a) {
        if (!e.is_string()) return c.fail(e, std::string("'") + key + "' must hold strings");
        out->push_back(*e.value<std::string>());
    }
    return true;
}

bool parse_cluster(Ctx &c, const toml::table &t, Cluster *cl) {
    if (!check_keys(c, t,
                    {"name", "kind", "lat", "lon", "capacity_gbps", "health", "v4", "v6",
                     "addresses", "titles", "http_host"},
                    "[[cluster]]"))
        return false;
    std::string kind = "bring-home", health = "up";
    std::vector<std::string> v4, v6;
    double lat = NAN, lon = NAN;
    if (!get_string(c, t, "name", &cl->name) || !get_string(c, t, "kind", &kind) ||
        !get_string(c, t, "health", &health) || !get_number(c, t, "lat", &lat) ||
        !get_number(c, t, "lon", &lon) || !get_number(c, t, "capacity_gbps", &cl->capacity_gbps) ||
        !get_strings(c, t, "v4", &v4) || !get_strings(c, t, "v6", &v6) ||
        !get_strings(c, t, "addresses", &v4) || !get_strings(c, t, "titles", &cl->titles) ||
        !get_string(c, t, "http_host", &cl->http_host))
        return false;
    // Location and BaseURL carry it verbatim: a host name or address and an
    // optional port, nothing that could break out of a header or an XML
    // attribute.
    for (char ch : cl->http_host)
        if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == ':' ||
              ch == '[' || ch == ']'))
            return c.fail(*t.get("http_host"),
                          "http_host must be HOST or HOST:PORT, not '" + cl->http_host + "'");
    if (cl->name.empty()) return c.fail(t, "a [[cluster]] needs a name");
    if (std::isnan(lat) || std::isnan(lon))
        return c.fail(t, "cluster '" + cl->name + "' needs lat and lon");
    cl->lat = lat;
    cl->lon = lon;
    if (kind == "enter-deep")
        cl->kind = Kind::kEnterDeep;
    else if (kind == "bring-home")
        cl->kind = Kind::kBringHome;
    else
        return c.fail(*t.get("kind"), "kind must be enter-deep or bring-home, not '" + kind + "'");
    if (!parse_health(health, &cl->health))
        return c.fail(*t.get("health"),
                      "health must be up, draining or down, not '" + health + "'");
    // v4 and addresses may mix families: each address goes where it belongs.
    for (const std::string &a : v4) v6.push_back(a);
    for (const std::string &a : v6) {
        std::array<uint8_t, 4> b4;
        std::array<uint8_t, 16> b6;
        if (inet_pton(AF_INET, a.c_str(), b4.data()) == 1)
            cl->v4.push_back(b4);
        else if (inet_pton(AF_INET6, a.c_str(), b6.data()) == 1)
            cl->v6.push_back(b6);
        else
            return c.fail(t, "cluster '" + cl->name + "': '" + a + "' is not an address");
    }
    return true;
}

bool parse_name(Ctx &c, const toml::table &t, uint32_t default_ttl, SteeredName *n) {
    if (!check_keys(c, t, {"owner", "ttl", "title"}, "[[name]]")) return false;
    uint64_t ttl = default_ttl;
    if (!get_string(c, t, "owner", &n->owner) || !get_uint(c, t, "ttl", 0x7fffffff, &ttl) ||
        !get_string(c, t, "title", &n->title))
        return false;
    if (!n->owner.empty() && n->owner.back() == '.') n->owner.pop_back();
    if (n->owner.empty()) return c.fail(t, "a [[name]] needs an owner");
    n->ttl = static_cast<uint32_t>(ttl);
    return true;
}

std::vector<std::string> split_csv(const std::string &line) {
    std::vector<std::string> out;
    std::string cur;
    for (char ch : line) {
        if (ch == ',') {
            out.push_back(cur);
            cur.clear();
        } else if (ch != '\r') {
            cur += ch;
        }
    }
    out.push_back(cur);
    for (std::string &s : out) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(s.begin());
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
    }
    return out;
}

}  // namespace

bool parse_clients_csv(std::istream &in, const std::string &name, const GeoDb *geo,
                       std::vector<ClientNet> *out, std::string *err) {
    std::string line;
    int lineno = 0;
    std::map<std::string, int> col;
    // Index of what is already there (the database's networks), by prefix.
    std::map<std::string, std::size_t> at;
    for (std::size_t i = 0; i < out->size(); ++i) at[to_string((*out)[i].prefix)] = i;
    std::set<std::string> ours;
    auto fail = [&](const std::string &why) {
        *err = name + ":" + std::to_string(lineno) + ": " + why;
        return false;
    };
    while (std::getline(in, line)) {
        ++lineno;
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        const std::vector<std::string> f = split_csv(line);
        if (col.empty()) {
            for (std::size_t i = 0; i < f.size(); ++i) {
                static const std::set<std::string> known{"prefix", "lat", "lon",   "asn",
                                                         "demand_gbps", "probe", "ldns"};
                if (!known.count(f[i]))
                    return fail("unknown column '" + f[i] +
                                "' (the header names columns: prefix, lat, lon, asn, "
                                "demand_gbps, probe, ldns)");
                if (col.count(f[i])) return fail("column '" + f[i] + "' twice");
                col[f[i]] = static_cast<int>(i);
            }
            if (!col.count("prefix")) return fail("the header has no 'prefix' column");
            if (col.count("lat") != col.count("lon")) return fail("lat and lon come together");
            continue;
        }
        if (f.size() != col.size())
            return fail(std::to_string(f.size()) + " fields, the header has " +
                        std::to_string(col.size()));
        auto field = [&](const char *k) -> std::string {
            const auto it = col.find(k);
            return it == col.end() ? "" : f[static_cast<std::size_t>(it->second)];
        };
        ClientNet c;
        std::string e;
        if (!parse_prefix(field("prefix"), &c.prefix, &e)) return fail(e);
        auto number = [&](const char *k, double *v) {
            const std::string s = field(k);
            if (s.empty()) return true;
            char *end = nullptr;
            *v = std::strtod(s.c_str(), &end);
            return end && *end == 0;
        };
        double lat = NAN, lon = NAN, asn = 0, demand = c.demand_gbps;
        if (!number("lat", &lat) || !number("lon", &lon)) return fail("bad lat/lon");
        if (!number("asn", &asn) || asn < 0 || asn > 4294967295.0 || asn != std::floor(asn))
            return fail("bad asn '" + field("asn") + "'");
        if (!number("demand_gbps", &demand) || demand < 0)
            return fail("bad demand_gbps '" + field("demand_gbps") + "'");
        if (std::isnan(lat) != std::isnan(lon)) return fail("lat without lon or lon without lat");
        if (std::isnan(lat)) {
            if (!geo) return fail("no lat/lon, and no geolocation database (geoip = true)");
            if (!geo->locate(c.prefix, &c))
                return fail("no lat/lon, and the geolocation database does not place " +
                            to_string(c.prefix));
        } else {
            c.lat = static_cast<float>(lat);
            c.lon = static_cast<float>(lon);
            c.source = Source::kCsv;
        }
        // Active probes: an address each (host length), optional.
        for (const char *k : {"probe", "ldns"}) {
            const std::string v = field(k);
            if (v.empty()) continue;
            Prefix a;
            if (!parse_prefix(v, &a, &e) || a.len != (a.family == 1 ? 32 : 128))
                return fail("bad " + std::string(k) + " address '" + v + "'");
            (k[0] == 'p' ? c.probe : c.ldns) = a;
        }
        c.asn = static_cast<uint32_t>(asn);
        c.demand_gbps = static_cast<float>(demand);
        const std::string key = to_string(c.prefix);
        if (!ours.insert(key).second) return fail(key + " is listed twice");
        if (const auto it = at.find(key); it != at.end()) {
            (*out)[it->second] = c;  // the CSV overrides the database
        } else {
            at[key] = out->size();
            out->push_back(c);
        }
    }
    if (col.empty()) return fail("no header line");
    return true;
}

bool parse_model(std::string_view text, const std::string &name, const std::string &base_dir,
                 Model *out, std::string *err) {
    Ctx c{name, ""};
    toml::table t;
    try {
        t = toml::parse(text, name);
    } catch (const toml::parse_error &e) {
        *err = name + ":" + std::to_string(e.source().begin.line) + ": " +
               std::string(e.description());
        return false;
    }
    Model m;
    Settings &s = m.settings;
    if (!check_keys(c, t,
                    {"policy", "candidates", "geo_base_ms", "geo_ms_per_km", "loss_ms_per_pct",
                     "headroom", "load_band", "stick_ms", "stick_pct", "miss_ms", "replicas",
                     "measure_half_life_s", "measure_max_age_s", "recompute_s", "ttl", "clients",
                     "geoip", "geoip_networks", "cluster", "name"},
                    "the top level")) {
        *err = c.err;
        return false;
    }
    uint64_t cand = s.candidates, rs = s.recompute_s, ttl = s.ttl, reps = s.replicas;
    std::string clients;
    bool ok =
        get_string(c, t, "policy", &s.policy) && get_uint(c, t, "candidates", 1 << 10, &cand) &&
        get_number(c, t, "geo_base_ms", &s.geo_base_ms) &&
        get_number(c, t, "geo_ms_per_km", &s.geo_ms_per_km) &&
        get_number(c, t, "loss_ms_per_pct", &s.loss_ms_per_pct) &&
        get_number(c, t, "headroom", &s.headroom) && get_number(c, t, "load_band", &s.load_band) &&
        get_number(c, t, "stick_ms", &s.stick_ms) && get_number(c, t, "stick_pct", &s.stick_pct) &&
        get_number(c, t, "miss_ms", &s.miss_ms) && get_uint(c, t, "replicas", 64, &reps) &&
        get_number(c, t, "measure_half_life_s", &s.measure_half_life_s) &&
        get_number(c, t, "measure_max_age_s", &s.measure_max_age_s) &&
        get_uint(c, t, "recompute_s", 86400, &rs) && get_uint(c, t, "ttl", 0x7fffffff, &ttl) &&
        get_string(c, t, "clients", &clients);
    s.candidates = static_cast<unsigned>(cand);
    s.recompute_s = static_cast<unsigned>(rs);
    s.replicas = static_cast<unsigned>(reps);
    s.ttl = static_cast<uint32_t>(ttl);
    // geoip = true (the packaged files) or a path to an IPv4 database.
    std::string geo_v4, geo_v6;
    bool geo_networks = false;
    if (const toml::node *n = t.get("geoip"); ok && n) {
        if (n->is_boolean()) {
            if (*n->value<bool>()) geo_v4 = kGeoIpV4, geo_v6 = kGeoIpV6;
        } else if (n->is_string()) {
            geo_v4 = *n->value<std::string>();
        } else {
            ok = c.fail(*n, "'geoip' is true, false or the path of a GeoIP.dat");
        }
    }
    if (const toml::node *n = t.get("geoip_networks"); ok && n) {
        if (!n->is_boolean())
            ok = c.fail(*n, "'geoip_networks' is true or false");
        else
            geo_networks = *n->value<bool>();
    }
    auto each = [&](const char *key, auto fn) {
        const toml::node *n = t.get(key);
        if (!ok || !n) return;
        const toml::array *a = n->as_array();
        if (!a || !a->is_array_of_tables()) {
            ok = c.fail(*n, std::string("'") + key + "' must be tables: [[" + key + "]]");
            return;
        }
        for (const toml::node &e : *a) ok = ok && fn(*e.as_table());
    };
    each("cluster", [&](const toml::table &ct) {
        Cluster cl;
        if (!parse_cluster(c, ct, &cl)) return false;
        m.clusters.push_back(std::move(cl));
        return true;
    });
    each("name", [&](const toml::table &nt) {
        SteeredName sn;
        if (!parse_name(c, nt, s.ttl, &sn)) return false;
        m.names.push_back(std::move(sn));
        return true;
    });
    if (!ok) {
        *err = c.err;
        return false;
    }
    std::unique_ptr<GeoDb> geo;
    if (!geo_v4.empty()) {
        if (!(geo = GeoDb::open(geo_v4, geo_v6, kZoneTab, err))) return false;
        m.geodb = geo_v4 + (geo_v6.empty() ? "" : " + " + geo_v6);
        if (geo_networks) geo->networks(&m.clients);
    } else if (geo_networks) {
        *err = name + ": geoip_networks needs geoip";
        return false;
    }
    if (!clients.empty()) {
        const std::filesystem::path p = std::filesystem::path(base_dir) / clients;
        std::ifstream in(p);
        if (!in) {
            *err = name + ": clients file " + p.string() + ": cannot read";
            return false;
        }
        if (!parse_clients_csv(in, p.string(), geo.get(), &m.clients, err)) return false;
        m.clients_file = p.string();
    }
    *out = std::move(m);
    return true;
}

bool load_model(const std::string &path, Model *out, std::string *err) {
    std::ifstream in(path);
    if (!in) {
        *err = path + ": cannot read";
        return false;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_model(ss.str(), path, std::filesystem::path(path).parent_path().string(), out,
                       err);
}

std::string validate(const Model &m) {
    const Settings &s = m.settings;
    if (s.policy != "geo" && s.policy != "measured" && s.policy != "load-aware" &&
        s.policy != "content")
        return "policy '" + s.policy + "' is not one of geo, measured, load-aware, content";
    if (s.candidates < 1 || s.candidates > 16) return "candidates must be 1 to 16";
    if (!(s.headroom > 0 && s.headroom <= 1)) return "headroom must be in (0, 1]";
    if (!(s.load_band >= 0 && s.load_band < s.headroom))
        return "load_band must be in [0, headroom)";
    if (s.geo_base_ms < 0 || s.geo_ms_per_km <= 0) return "geo_base_ms >= 0 and geo_ms_per_km > 0";
    if (s.stick_ms < 0 || s.stick_pct < 0 || s.miss_ms < 0 || s.loss_ms_per_pct < 0)
        return "stick_ms, stick_pct, miss_ms and loss_ms_per_pct must not be negative";
    if (!(s.measure_half_life_s > 0) || !(s.measure_max_age_s > 0))
        return "measure_half_life_s and measure_max_age_s must be positive";
    if (s.recompute_s == 0) return "recompute_s must be at least 1";
    if (s.replicas == 0) return "replicas must be at least 1";
    if (m.clusters.empty()) return "no [[cluster]]";
    if (m.clusters.size() > 65535) return "more than 65535 clusters";
    std::set<std::string> names;
    for (const Cluster &c : m.clusters) {
        if (!names.insert(c.name).second) return "cluster '" + c.name + "' is defined twice";
        // The name is a DASH pathway (serviceLocation) in MPDs and steering
        // manifests: letters, digits, '-', '_' and '.' keep it free of
        // quoting in XML and JSON.
        for (char ch : c.name)
            if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' ||
                  ch == '.'))
                return "cluster '" + c.name + "': a name is letters, digits, '-', '_' and '.'";
        if (c.v4.empty() && c.v6.empty()) return "cluster '" + c.name + "' has no address";
        if (!(c.lat >= -90 && c.lat <= 90 && c.lon >= -180 && c.lon <= 180))
            return "cluster '" + c.name + "': lat/lon out of range";
        if (!(c.capacity_gbps > 0)) return "cluster '" + c.name + "' needs capacity_gbps > 0";
    }
    std::set<std::string> owners;
    for (const SteeredName &n : m.names) {
        uint8_t wire[255];
        uint32_t len = 0;
        if (!dns::name_from_text(n.owner.c_str(), wire, &len))
            return "name '" + n.owner + "' is not a DNS name";
        std::string low;
        for (char ch : n.owner)
            low += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (!owners.insert(low).second) return "name '" + n.owner + "' is listed twice";
    }
    for (const ClientNet &c : m.clients) {
        if (!(c.lat >= -90 && c.lat <= 90 && c.lon >= -180 && c.lon <= 180))
            return "client " + to_string(c.prefix) + ": lat/lon out of range";
        if (!(c.demand_gbps >= 0)) return "client " + to_string(c.prefix) + ": negative demand";
    }
    return "";
}

bool load_and_validate(const std::string &path, Model *out, std::string *err) {
    Model m;
    if (!load_model(path, &m, err)) return false;
    if (const std::string why = validate(m); !why.empty()) {
        *err = path + ": " + why;
        return false;
    }
    *out = std::move(m);
    return true;
}

}  // namespace ep::cluster

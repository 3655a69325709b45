#include "control/cluster/geodb.h"

#include <GeoIP.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace ep::cluster {

bool parse_iso6709(const std::string &s, double *lat, double *lon) {
    // ±DDMM[SS]±DDDMM[SS]
    const std::size_t split = s.find_first_of("+-", 1);
    if (split == std::string::npos || (s[0] != '+' && s[0] != '-')) return false;
    auto conv = [](const std::string &p, int deg_digits, double *out) {
        const std::string d = p.substr(1);
        if (d.size() != static_cast<std::size_t>(deg_digits + 2) &&
            d.size() != static_cast<std::size_t>(deg_digits + 4))
            return false;
        for (char c : d)
            if (c < '0' || c > '9') return false;
        double v = std::stoi(d.substr(0, deg_digits)) + std::stoi(d.substr(deg_digits, 2)) / 60.0;
        if (d.size() == static_cast<std::size_t>(deg_digits + 4))
            v += std::stoi(d.substr(deg_digits + 2, 2)) / 3600.0;
        *out = p[0] == '-' ? -v : v;
        return true;
    };
    return conv(s.substr(0, split), 2, lat) && conv(s.substr(split), 3, lon);
}

namespace {

class LegacyGeoIp final : public GeoDb {
  public:
    ~LegacyGeoIp() override {
        if (v4_) GeoIP_delete(v4_);
        if (v6_) GeoIP_delete(v6_);
    }
    bool init(const std::string &v4, const std::string &v6, const std::string &zone_tab,
              std::string *err) {
        std::ifstream in(zone_tab);
        if (!in) {
            *err = zone_tab + ": cannot read (Debian package tzdata)";
            return false;
        }
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty() || line[0] == '#') continue;
            std::istringstream ls(line);
            std::string cc, coord;
            ls >> cc >> coord;
            double lat, lon;
            // The first zone of a country is its reference place.
            if (cc.size() == 2 && !places_.count(cc) && parse_iso6709(coord, &lat, &lon))
                places_[cc] = {lat, lon};
        }
        // GEOIP_MEMORY_CACHE: the file (2 MiB / 8 MiB) is read once, lookups
        // never touch the disk again.
        if (!v4.empty() && !(v4_ = GeoIP_open(v4.c_str(), GEOIP_MEMORY_CACHE | GEOIP_SILENCE))) {
            *err = v4 + ": cannot open (Debian package geoip-database)";
            return false;
        }
        if (!v6.empty() && !(v6_ = GeoIP_open(v6.c_str(), GEOIP_MEMORY_CACHE | GEOIP_SILENCE))) {
            *err = v6 + ": cannot open (Debian package geoip-database)";
            return false;
        }
        return true;
    }

    bool locate(const Prefix &p, ClientNet *out) const override {
        int id = 0;
        GeoIPLookup gl{};
        if (p.family == 1 && v4_) {
            const unsigned long ip = static_cast<unsigned long>(p.net[0]) << 24 |
                                     unsigned{p.net[1]} << 16 | unsigned{p.net[2]} << 8 | p.net[3];
            id = GeoIP_id_by_ipnum_gl(v4_, ip, &gl);
        } else if (p.family == 2 && v6_) {
            geoipv6_t a;
            std::memcpy(&a, p.net, 16);
            id = GeoIP_id_by_ipnum_v6_gl(v6_, a, &gl);
        }
        return place(id, out);
    }

    void networks(std::vector<ClientNet> *out) const override {
        // Walk the database's prefix tree leaf by leaf: each lookup reports
        // the netmask of the leaf that decided it, the next leaf starts
        // right after it.
        if (v4_) {
            uint64_t ip = 0;
            while (ip < (uint64_t{1} << 32)) {
                GeoIPLookup gl{};
                const int id = GeoIP_id_by_ipnum_gl(v4_, static_cast<unsigned long>(ip), &gl);
                const int len = gl.netmask > 0 && gl.netmask <= 32 ? gl.netmask : 32;
                ClientNet c;
                if (place(id, &c)) {
                    c.prefix.family = 1;
                    c.prefix.len = static_cast<uint8_t>(len);
                    for (int i = 0; i < 4; ++i)
                        c.prefix.net[i] = static_cast<uint8_t>(ip >> (24 - 8 * i));
                    out->push_back(c);
                }
                ip += uint64_t{1} << (32 - len);
            }
        }
        if (v6_) {
            // Only global unicast (2000::/3), without the ranges the file
            // fills with copies of the IPv4 tree: Teredo 2001::/32 and
            // 6to4 2002::/16 (and ::/8 below 2000::, IPv4-compatible space).
            using u128 = unsigned __int128;
            auto top16 = [](u128 x) { return static_cast<unsigned>(x >> 112); };
            u128 ip = u128{0x2000} << 112;
            while (top16(ip) < 0x4000) {
                if (top16(ip) == 0x2001 && static_cast<uint16_t>(ip >> 96) == 0) {
                    ip = (u128{0x2001} << 112) + (u128{1} << 96);
                    continue;
                }
                if (top16(ip) == 0x2002) {
                    ip = u128{0x2003} << 112;
                    continue;
                }
                geoipv6_t a;
                uint8_t b[16];
                for (int i = 0; i < 16; ++i) b[i] = static_cast<uint8_t>(ip >> (120 - 8 * i));
                std::memcpy(&a, b, 16);
                GeoIPLookup gl{};
                const int id = GeoIP_id_by_ipnum_v6_gl(v6_, a, &gl);
                const int len = gl.netmask > 0 && gl.netmask <= 128 ? gl.netmask : 128;
                ClientNet c;
                if (place(id, &c)) {
                    c.prefix.family = 2;
                    c.prefix.len = static_cast<uint8_t>(len);
                    std::memcpy(c.prefix.net, b, 16);
                    out->push_back(c);
                }
                ip += u128{1} << (128 - len);
            }
        }
    }

  private:
    bool place(int id, ClientNet *out) const {
        if (id <= 0) return false;
        const char *cc = GeoIP_code_by_id(id);
        if (!cc) return false;
        const auto it = places_.find(cc);
        if (it == places_.end()) return false;  // "EU", "AP", "A1": no place
        out->lat = static_cast<float>(it->second.first);
        out->lon = static_cast<float>(it->second.second);
        out->source = Source::kGeoDb;
        std::memcpy(out->country, cc, 2);
        return true;
    }

    GeoIP *v4_ = nullptr;
    GeoIP *v6_ = nullptr;
    std::map<std::string, std::pair<double, double>> places_;
};

}  // namespace

std::unique_ptr<GeoDb> GeoDb::open(const std::string &v4, const std::string &v6,
                                   const std::string &zone_tab, std::string *err) {
    auto db = std::make_unique<LegacyGeoIp>();
    if (!db->init(v4, v6, zone_tab, err)) return nullptr;
    return db;
}

}  // namespace ep::cluster

// Client networks and their locations from a packaged geolocation database:
// Debian's geoip-database (MaxMind GeoLite Country, legacy format, read with
// libgeoip), which names a country per prefix. A country becomes a place
// through tzdata's zone.tab (the coordinates of the first time zone listed
// for the country, usually its capital or largest city). Country precision
// is coarse: a client CSV (model_load.h) overrides any prefix it names.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "control/cluster/model.h"

namespace ep::cluster {

inline constexpr const char *kGeoIpV4 = "/usr/share/GeoIP/GeoIP.dat";
inline constexpr const char *kGeoIpV6 = "/usr/share/GeoIP/GeoIPv6.dat";
inline constexpr const char *kZoneTab = "/usr/share/zoneinfo/zone.tab";

class GeoDb {
  public:
    virtual ~GeoDb() = default;
    // Opens the IPv4 and IPv6 databases (either path may be empty) and
    // the country table. nullptr with the reason when a named file fails.
    static std::unique_ptr<GeoDb> open(const std::string &v4, const std::string &v6,
                                       const std::string &zone_tab, std::string *err);
    // The country of p's first address and its place; false when the
    // database has none or the country has no coordinates.
    virtual bool locate(const Prefix &p, ClientNet *out) const = 0;
    // Every prefix of the databases that names a placed country, as a
    // client network (source kGeoDb, the default demand).
    virtual void networks(std::vector<ClientNet> *out) const = 0;
};

// "+4230+00131" (ISO 6709 as zone.tab writes it) to degrees.
bool parse_iso6709(const std::string &s, double *lat, double *lon);

}  // namespace ep::cluster

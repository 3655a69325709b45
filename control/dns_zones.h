// Zone files to the data plane's answer table. The control thread parses
// master-format files (RFC 1035 5: $ORIGIN, $TTL, relative names) with
// Knot's libzscanner, compiles every zone into one dns::ZoneTable and
// hands it to control/dns_tables.h, which publishes it to the lcores with RCU.
// No DPDK here: the unit tests and the fuzzer link this.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/dns/steer_map.h"
#include "dataplane/dns/zone_table.h"

namespace ep {

// Parses `files` (each one zone; its apex is the owner of its SOA, names
// before the first $ORIGIN are relative to the root) and compiles them.
// nullptr with "FILE:LINE: what" in *err for the first problem.
std::unique_ptr<dns::ZoneTable> load_zones(const std::vector<std::string> &files, std::string *err);

// The same from zone texts in memory, {name for messages, text} (tests, fuzzer).
std::unique_ptr<dns::ZoneTable> load_zone_texts(
    const std::vector<std::pair<std::string, std::string>> &zones, std::string *err);

// The static steering table (--dns-steer) as a SteerMap, the same plain data
// cluster selection publishes (control/dns_tables.h): each line "NAME PREFIX ADDR[,ADDR...] [TTL]", e.g.
// "video.kingcdn.test 198.51.100.0/24 10.77.0.3,10.77.0.4 30". NAME must be a
// name of a loaded zone (a wildcard's owner, "*.edge.kingcdn.test", steers
// what it synthesizes); PREFIX IPv4 or IPv6; the addresses all A or all
// AAAA; TTL 60 when left out. Two lines for the same NAME and PREFIX, one with
// IPv4 and one with IPv6 addresses, are one answer set (the lower TTL).
// False with the line and what is wrong in *err.
bool parse_steering(const std::vector<std::string> &lines, const dns::ZoneTable &zones,
                    dns::SteerMap *out, std::string *err);

}  // namespace ep

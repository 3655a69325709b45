// Zone files to the data plane's answer table. The control thread parses
// master-format files (RFC 1035 5: $ORIGIN, $TTL, relative names) with
// Knot's libzscanner, compiles every zone into one dns::ZoneTable and
// publishes it to the lcores through an atomic pointer.
//
// Not yet: reload. Swapping the pointer is safe for readers, but freeing the
// previous table needs a grace period (rte_rcu_qsbr, the operations issue);
// until then a table, once published, lives as long as the process.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/dns/steering.h"
#include "dataplane/dns/zone_table.h"

namespace ep {

// Parses `files` (each one zone; its apex is the owner of its SOA, names
// before the first $ORIGIN are relative to the root) and compiles them.
// nullptr with "FILE:LINE: what" in *err for the first problem.
std::unique_ptr<dns::ZoneTable> load_zones(const std::vector<std::string> &files, std::string *err);

// The same from zone texts in memory, {name for messages, text} (tests, fuzzer).
std::unique_ptr<dns::ZoneTable> load_zone_texts(
    const std::vector<std::pair<std::string, std::string>> &zones, std::string *err);

// The static steering table (--dns-steer) until cluster selection publishes
// one: each line "NAME PREFIX ADDR[,ADDR...] [TTL]", e.g.
// "video.kingcdn.test 198.51.100.0/24 10.77.0.3,10.77.0.4 30". NAME must be a
// name of a loaded zone (a wildcard's owner, "*.edge.kingcdn.test", steers
// what it synthesizes); PREFIX IPv4 or IPv6; the addresses all A or all
// AAAA; TTL 60 when left out. False with the line and what is wrong in *err.
bool parse_steering(const std::vector<std::string> &lines, const dns::ZoneTable &zones,
                    dns::StaticSteering *out, std::string *err);

// What the lcores read. One per process.
class DnsZones {
  public:
    // Loads and publishes; on failure the published table stays as it was.
    bool load(const std::vector<std::string> &files, std::string *err);
    const std::atomic<const dns::ZoneTable *> *source() const { return &current_; }
    const dns::ZoneTable *current() const { return current_.load(std::memory_order_acquire); }

  private:
    std::atomic<const dns::ZoneTable *> current_{nullptr};
    std::vector<std::unique_ptr<dns::ZoneTable>> tables_;  // see the note on reload above
};

}  // namespace ep

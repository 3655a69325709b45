// The compiled, read-only zone table the data lcores answer from, and the
// builder the control thread fills from parsed zone files.
//
// Layout: flat arrays (nodes, RRsets, one blob of names and RDATA) and an
// open-addressed index keyed by (zone, lower-case owner name). Hand-written
// rather than rte_hash because dataplane/dns is pure (no DPDK, so unit tests
// and the fuzzer use the same table) and the table never changes after it
// is built: a read-only power-of-two probe array needs no locking or
// deletion support. Every ancestor of an owner down to the apex is a node
// (an empty non-terminal when it owns nothing), so "no node" means "no such
// name and nothing below it" (RFC 4592 2.2.2) and the closest encloser falls
// out of a top-down walk.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/dns/wire.h"

namespace ep::dns {

class ZoneTable {
  public:
    struct RRset {
        uint16_t type = 0;
        uint16_t count = 0;
        uint32_t ttl = 0;
        uint32_t rdata = 0;  // blob offset: count x {u16 length, bytes}
    };
    enum NodeFlags : uint8_t {
        kApex = 1,
        kCut = 2,  // NS below the apex: a delegation point (RFC 1034 4.2.1)
    };
    struct Node {
        uint32_t name = 0;  // blob offset: lower-case wire name
        uint32_t rrsets = 0;
        uint16_t zone = 0;
        uint8_t n_rrsets = 0;
        uint8_t flags = 0;
    };
    struct Zone {
        uint32_t apex = 0;     // node index
        uint32_t soa = 0;      // RRset index
        uint32_t neg_ttl = 0;  // min(SOA TTL, SOA MINIMUM), RFC 2308 5
        uint32_t serial = 0;
        uint32_t records = 0;
    };

    const Zone *zone(uint32_t i) const { return &zones_[i]; }
    uint32_t zone_count() const { return static_cast<uint32_t>(zones_.size()); }
    const Node &node(uint32_t i) const { return nodes_[i]; }
    const RRset &rrset_at(uint32_t i) const { return rrsets_[i]; }
    const uint8_t *blob(uint32_t off) const { return blob_.data() + off; }
    const uint8_t *node_name(const Node &n) const { return blob(n.name); }

    // The deepest zone whose apex is `name` or an ancestor of it, or -1.
    int find_zone(const uint8_t *name) const;
    // The node `name` (any case) of zone z, or nullptr.
    const Node *find(uint32_t z, const uint8_t *name, uint32_t len) const;
    const RRset *rrset(const Node &n, uint16_t type) const;
    uint32_t node_index(const Node *n) const { return static_cast<uint32_t>(n - nodes_.data()); }

  private:
    friend class ZoneBuilder;
    uint32_t probe(uint32_t hash) const { return hash & mask_; }

    std::vector<Zone> zones_;
    std::vector<Node> nodes_;
    std::vector<RRset> rrsets_;
    std::vector<uint8_t> blob_;
    std::vector<uint32_t> index_;       // node index + 1; 0 is empty
    std::vector<uint32_t> zone_index_;  // zone index + 1 by apex name
    uint32_t mask_ = 0, zone_mask_ = 0;
};

// Control side: collects records zone by zone, checks what a server needs
// to hold (RFC 1034/1035/2181), compiles. Not for the fast path.
class ZoneBuilder {
  public:
    // Starts a zone at `apex` (wire, any case); false when it is already there.
    bool begin_zone(const uint8_t *apex, std::string *err);
    // Adds one record to the current zone. RDATA names are uncompressed wire.
    bool add(const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rdata,
             uint32_t rdlen, std::string *err);
    // Checks and compiles everything added; nullptr with *err on a problem.
    std::unique_ptr<ZoneTable> compile(std::string *err);

  private:
    struct Rec {
        std::string owner;  // lower-case wire
        uint16_t type;
        uint32_t ttl;
        std::string rdata;
    };
    struct PendingZone {
        std::string apex;
        std::vector<Rec> recs;
    };
    std::vector<PendingZone> zones_;
};

// "www.example.test." from wire (RFC 1035 5.1 escapes for odd bytes), for
// error messages and the admin command.
std::string name_to_text(const uint8_t *name);
// The inverse, for tests and the builder's callers; false when malformed.
bool name_from_text(const char *text, uint8_t *out, uint32_t *len);

}  // namespace ep::dns

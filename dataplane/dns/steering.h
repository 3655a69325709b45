// The hook where answers for steered names come from: a read-only mapping
// from the client's address (the ECS address when the query carries one,
// else the resolver's source) to the address set that should serve it, with
// the prefix length that decided it (the ECS SCOPE, RFC 7871 7.2.1).
//
// The answer builder asks it for A/AAAA queries at names of our zones; a
// name the mapping does not steer falls back to the zone's own records with
// SCOPE 0. The daemon's implementation is FibSteering
// (dataplane/dns_steering.h), compiled from a SteerMap (the static
// --dns-steer table or cluster selection's) and published with RCU;
// StaticSteering below is a pure stand-in for the unit tests, the fuzzer and
// the microbenchmark, which run without DPDK.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/dns/wire.h"

namespace ep::dns {

struct Client {
    uint16_t family = 1;  // 1 IPv4, 2 IPv6 (RFC 7871 FAMILY numbers)
    uint8_t prefix = 32;  // significant leading bits of addr
    uint8_t addr[16] = {};
};

struct SteerResult {
    uint8_t scope = 0;  // ECS SCOPE PREFIX-LENGTH to send back
    uint32_t ttl = 0;
    uint16_t count = 0;              // addresses at addrs
    const uint8_t *addrs = nullptr;  // count x 4 bytes (A) or 16 (AAAA)
};

class Steering {
  public:
    virtual ~Steering() = default;
    // `owner` is the lower-case wire name of the zone node that matched (the
    // wildcard's owner for a synthesized answer). Fast path: read-only, no
    // allocation, no locks.
    virtual bool steer(const uint8_t *owner, uint16_t qtype, const Client &c,
                       SteerResult *out) const = 0;
};

// A fixed table: owner name, client prefix, addresses. Longest prefix wins,
// linear scan, no scope aggregation: for tests without DPDK only.
class StaticSteering final : public Steering {
  public:
    struct Row {
        std::string owner;  // lower-case wire
        uint16_t family = 1;
        uint8_t prefix = 0;
        uint8_t net[16] = {};
        uint16_t qtype = kA;
        uint32_t ttl = 60;
        std::vector<uint8_t> addrs;  // count x 4 or 16
    };
    void add(Row r) { rows_.push_back(std::move(r)); }
    bool steer(const uint8_t *owner, uint16_t qtype, const Client &c,
               SteerResult *out) const override {
        const Row *best = nullptr;
        for (const Row &r : rows_) {
            if (r.qtype != qtype || r.family != c.family || r.prefix > c.prefix) continue;
            if (!name_equal(reinterpret_cast<const uint8_t *>(r.owner.data()), owner)) continue;
            if (!prefix_match(r.net, c.addr, r.prefix)) continue;
            if (!best || r.prefix > best->prefix) best = &r;
        }
        if (!best) return false;
        out->scope = best->prefix;
        out->ttl = best->ttl;
        out->count = static_cast<uint16_t>(best->addrs.size() / (qtype == kA ? 4 : 16));
        out->addrs = best->addrs.data();
        return true;
    }

  private:
    static bool prefix_match(const uint8_t *a, const uint8_t *b, uint32_t bits) {
        for (uint32_t i = 0; i < bits / 8; ++i)
            if (a[i] != b[i]) return false;
        if (bits % 8 == 0) return true;
        const uint8_t m = static_cast<uint8_t>(0xff << (8 - bits % 8));
        return (a[bits / 8] & m) == (b[bits / 8] & m);
    }
    std::vector<Row> rows_;
};

}  // namespace ep::dns

// The steering table the lcores read: a compiled dns::SteerPlan behind the
// dns::Steering hook, one FIB per address family (rte_fib DIR24_8 for IPv4,
// rte_fib6 TRIE for IPv6) mapping the client's address to a region, then a
// regions x owners matrix to the answer set and the ECS scope.
//
// Why rte_fib and not rte_lpm: the lookup is the same DIR-24-8 idea, but
// rte_fib lets the next hop be 1 or 2 bytes, so the 2^24-entry first level
// is 16 or 32 MiB of hugepages instead of rte_lpm's fixed 64 MiB (and
// rte_lpm6's 64 MiB for IPv6), and two copies live during a publication;
// and it takes a default next hop for "no route" instead of a separate
// return code. Regions (not answer sets) are the next hops, so one lookup
// serves every steered owner.
//
// Read-only once built; one copy per NUMA socket that runs data lcores
// (a read-only table gains nothing from a copy per core on the same
// socket but memory use). Built and freed on the control thread
// (control/dns_tables.h publishes it with RCU).
#pragma once

#include <rte_fib.h>
#include <rte_fib6.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/dns/steer_plan.h"
#include "dataplane/dns/steering.h"

namespace ep {

class FibSteering final : public dns::Steering {
  public:
    // nullptr with *err when out of (hugepage) memory or the plan does not fit.
    static std::unique_ptr<FibSteering> build(const dns::SteerPlan &plan, int socket,
                                              std::string *err);
    ~FibSteering() override;
    bool steer(const uint8_t *owner, uint16_t qtype, const dns::Client &c,
               dns::SteerResult *out) const override;
    uint64_t version = 0;  // the SteerMap's

  private:
    FibSteering() = default;
    struct Set {
        uint32_t ttl;
        uint32_t v4_off, v4_n, v6_off, v6_n;  // into addrs_
    };
    rte_fib *v4_ = nullptr;
    rte_fib6 *v6_ = nullptr;
    uint64_t miss4_ = 0, miss6_ = 0;  // the FIBs' default next hops
    uint32_t v4_regions_ = 0;
    uint32_t nowners_ = 0;
    std::vector<uint32_t> owner_off_;  // into names_, one per owner
    std::vector<uint8_t> names_;       // the owners' lower-case wire names
    std::vector<dns::SteerPlan::Cell> cells_;
    std::vector<Set> sets_;
    std::vector<uint8_t> addrs_;
};

}  // namespace ep

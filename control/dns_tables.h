// What the DNS service's lcores read, and how the control side replaces it:
// the zone table and the steering table, each behind an atomic pointer,
// replaced by building a new one, storing the pointer, and freeing the old
// one after a grace period (control/rcu_domain.h: every DNS service
// instance is a reader and reports a quiescent state in its poll(), once per
// loop iteration, between packets).
//
// A failed build changes nothing: the previous table keeps serving.
//
// Entry points for other parts of the control plane:
//   reload_dns_zones(err)       re-reads the --dns-zone files (admin
//                                command `zones reload`; a SIGHUP later)
//   publish_steering(map, err)  cluster selection hands a new mapping
// Both may be called from any control-side thread at any time after the
// DNS row's setup (a mutex orders writers; readers take no lock).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "control/rcu_domain.h"
#include "dataplane/dns/steer_map.h"
#include "dataplane/dns/steering.h"
#include "dataplane/dns/zone_table.h"

namespace ep {

class DnsTables {
  public:
    // `readers`: DNS service instances (one per queue); `sockets`: the NUMA
    // sockets of the data lcores (a steering copy each).
    bool init(uint32_t readers, const std::vector<int> &sockets, std::string *err);
    ~DnsTables();

    // A reader id for one service instance, registered and online; false
    // when all `readers` are taken.
    bool add_reader(uint32_t *id) { return rcu_.add_reader(id); }
    rte_rcu_qsbr *rcu() const { return rcu_.qsbr(); }

    const std::atomic<const dns::ZoneTable *> *zones() const { return &zones_; }
    const dns::ZoneTable *current_zones() const { return zones_.load(std::memory_order_acquire); }
    // The steering slot the lcores of `socket` read (nullptr inside: no steering).
    const std::atomic<const dns::Steering *> *steering(int socket) const;

    // Parses and compiles `files`, then publishes; false with "FILE:LINE: why".
    bool load_zones(const std::vector<std::string> &files, std::string *err);
    bool publish_steering(const dns::SteerMap &map, std::string *err);
    uint64_t steering_version() const { return steer_version_; }
    uint64_t zones_version() const { return zones_version_; }

    // Frees what every reader has moved past; with wait, waits up to
    // `wait_ms` for the latest retirement's grace period.
    void reclaim(uint32_t wait_ms) { rcu_.reclaim(wait_ms); }
    size_t pending() const { return rcu_.pending(); }

  private:
    std::mutex mu_;  // writers only
    RcuDomain rcu_;
    std::atomic<const dns::ZoneTable *> zones_{nullptr};
    struct Slot {
        int socket;
        std::atomic<const dns::Steering *> cur{nullptr};
    };
    std::deque<Slot> slots_;  // stable addresses
    uint64_t steer_version_ = 0, zones_version_ = 0;
};

// The process's tables (nullptr when the DNS service is off). Set up by the
// DNS row of control/service_table.cc.
DnsTables *dns_tables();
std::unique_ptr<DnsTables> &dns_tables_slot();

// The files reload_dns_zones() reads (the --dns-zone list), set at setup.
void set_dns_zone_files(const std::vector<std::string> &files);
// Re-reads the configured zone files and publishes them (see above).
bool reload_dns_zones(std::string *err);
// Compiles `map` (scopes aggregated, dataplane/dns/steer_plan.h) into a
// FIB per socket and publishes it.
bool publish_steering(const dns::SteerMap &map, std::string *err);

}  // namespace ep

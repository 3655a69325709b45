// What the HTTP service's lcores read to steer clients (redirects, DASH
// content steering: dataplane/http/steer.h), and how cluster selection
// replaces it: one HttpSteerTable behind an atomic pointer, replaced by
// building a new one, storing the pointer, and freeing the old one after a
// grace period. Its own RCU domain (control/rcu_domain.h, as
// control/dns_tables.h has for the DNS service): every HTTP server instance
// is a reader and reports a quiescent state in its poll(), once per loop
// iteration.
//
// Made by the HTTP row's setup (control/service_table.cc) when cluster
// selection runs and knows this appliance's cluster (--cluster-self);
// published into by ClusterControl after every recompute.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "control/rcu_domain.h"
#include "dataplane/http/steer_map.h"
#include "dataplane/http_steer_table.h"

namespace ep {

class HttpSteerTables {
  public:
    bool init(uint32_t readers, std::string *err);
    ~HttpSteerTables();
    bool add_reader(uint32_t *id) { return rcu_.add_reader(id); }
    rte_rcu_qsbr *rcu() const { return rcu_.qsbr(); }
    const std::atomic<const HttpSteerTable *> *slot() const { return &cur_; }

    // Compiles and publishes; false (the previous table serving) on failure.
    bool publish(const http::SteerMap &map, std::string *err);
    uint64_t published() const { return published_; }
    uint64_t version() const { return version_; }
    std::size_t routes() const { return routes_; }
    void reclaim(uint32_t wait_ms) { rcu_.reclaim(wait_ms); }

  private:
    std::mutex mu_;  // writers only
    RcuDomain rcu_;
    std::atomic<const HttpSteerTable *> cur_{nullptr};
    uint64_t published_ = 0, version_ = 0;
    std::size_t routes_ = 0;
};

// The process's tables (nullptr when HTTP steering is off).
HttpSteerTables *http_steer_tables();
std::unique_ptr<HttpSteerTables> &http_steer_tables_slot();

}  // namespace ep

// The table the HTTP service reads to steer a client: the client's address
// → its client network's cluster ranking (http::SteerMap compiled), plus
// the clusters' names and hosts. One rte_fib (DIR24_8) for IPv4 and one
// rte_fib6 (TRIE) for IPv6 whose next hops index the rankings, as the DNS
// steering table does (dataplane/dns_steering.h says why rte_fib and not
// rte_lpm); a sibling of it rather than a share, because the DNS table's
// next hops are aggregated answer regions, which lose the per-network
// ranking and scores that redirects and steering manifests need.
//
// Read-only once built; built and freed on the control thread, published
// with RCU by control/http_steer_tables.h. One copy for the process (the
// lookup is once per manifest request, not per packet).
#pragma once

#include <rte_fib.h>
#include <rte_fib6.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/http/steer.h"
#include "dataplane/http/steer_map.h"

namespace ep {

class HttpSteerTable {
  public:
    // nullptr with *err when out of (hugepage) memory.
    static std::unique_ptr<HttpSteerTable> build(const http::SteerMap &map, std::string *err);
    ~HttpSteerTable();
    HttpSteerTable(const HttpSteerTable &) = delete;
    HttpSteerTable &operator=(const HttpSteerTable &) = delete;

    // family 1: addr holds 4 bytes (network order), 2: 16. Fills the view's
    // clusters and self always, the ranking when the client is known.
    void view(uint8_t family, const uint8_t *addr, http::SteerView *out) const;
    uint64_t version() const { return version_; }
    std::size_t routes() const { return rankings_.size(); }

  private:
    HttpSteerTable() = default;
    rte_fib *v4_ = nullptr;
    rte_fib6 *v6_ = nullptr;
    uint64_t miss4_ = 0, miss6_ = 0;  // the FIBs' default next hops
    uint32_t v4_routes_ = 0;
    std::vector<http::ClientRanking> rankings_;  // IPv4 routes first
    std::vector<std::string> names_, hosts_;     // the views point into these
    std::vector<http::ClusterInfo> clusters_;
    uint16_t self_ = http::kNoCluster;
    uint64_t version_ = 0;
};

}  // namespace ep

// Authoritative DNS over UDP (dataplane/dns does the protocol): the glue
// between a queue's UDP bindings and the answer builder. One per data-lcore
// queue; the zone table is shared, read-only, published by the control
// thread (control/dns_zones.h). Answers are built in the received buffer
// (l3fwd style): a UDP answer is bounded by the EDNS payload size and the
// MTU anyway, and the buffer holds an MTU, so a second buffer never helps.
// Counters are written by the owning lcore only and read relaxed.
#pragma once

#include <atomic>
#include <cstdint>

#include "dataplane/dns/counters.h"
#include "dataplane/net/udp/handler.h"
#include "dataplane/service.h"

namespace ep {

namespace dns {
class ZoneTable;
class Steering;
}  // namespace dns

struct DnsConfig {
    const std::atomic<const dns::ZoneTable *> *zones = nullptr;
    const dns::Steering *steering = nullptr;  // nullptr: no steered names
    uint16_t max_udp = 1232;  // our EDNS payload size (DNS flag day 2020 default)
};

class DnsService final : public Service, public net::udp::Handler {
  public:
    explicit DnsService(const DnsConfig &cfg) : cfg_(cfg) {}
    std::string_view name() const override { return "dns"; }
    void visit_counters(const CounterVisitor &fn) const override;
    int on_datagram(net::udp::Datagram &d) override;
    dns::Counters counters() const;

  private:
    DnsConfig cfg_;
    dns::Counters c_;
};

}  // namespace ep

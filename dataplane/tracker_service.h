// The UDP BitTorrent tracker (BEP 15) as a data-plane service: one per
// data-lcore queue, answering in the received mbuf (udp::Handler). The
// protocol and the swarm state are pure code in dataplane/swarm/; this is
// the glue: addresses in, the lcore's clock, counters out, and the shared
// state every instance points at (TrackerShared, owned by the daemon).
#pragma once

#include <cstdint>
#include <memory>

#include "dataplane/net/udp/handler.h"
#include "dataplane/service.h"
#include "dataplane/swarm/tracker.h"

namespace ep {

// One per daemon: the connection-ID secret, the info hashes we serve
// (control thread inserts), and the swarm table (one shard per data lcore).
struct TrackerShared {
    TrackerShared(const swarm::TrackerConfig &c, const swarm::TableConfig &t, uint64_t k0,
                  uint64_t k1)
        : cfg(c), ids(k0, k1), table(t) {}
    swarm::TrackerConfig cfg;
    swarm::udpt::ConnIds ids;
    swarm::TorrentSet ours;
    swarm::SwarmTable table;
};

class TrackerService final : public Service, public net::udp::Handler {
  public:
    TrackerService(TrackerShared *shared, uint32_t shard, uint64_t seed)
        : tracker_(shared->cfg, &shared->ids, &shared->ours, &shared->table, shard, seed) {}
    std::string_view name() const override { return "tracker"; }
    void poll(const Clock &clk) override;
    void visit_counters(const CounterVisitor &fn) const override;
    int on_datagram(net::udp::Datagram &d) override;

  private:
    swarm::Tracker tracker_;
    int64_t unix_s_ = 0;  // from the last poll: the lcore reads the clock once per loop
    uint64_t last_sweep_ns_ = 0;
};

}  // namespace ep

// The passive measurement feed on the control thread (issue 16): owns one
// RttRing (dataplane/rtt_ring.h) per data lcore and drains them every tick
// into cluster selection's Measurements for this appliance's cluster
// (control/cluster/passive_feed.h). Made by ClusterControl when --clusters is
// given; the daemon attaches each lcore's TCP stacks to its ring.
#pragma once

#include <cstdint>
#include <vector>

#include "control/cluster/passive_feed.h"
#include "dataplane/rtt_ring.h"

namespace ep {

class RttFeed {
  public:
    static constexpr uint32_t kRingSize = 4096;  // records per lcore between two drains
    RttFeed() = default;
    RttFeed(const RttFeed &) = delete;
    RttFeed &operator=(const RttFeed &) = delete;
    ~RttFeed();
    // The ring of data lcore `lcore` (made on first use; the lcore's stacks
    // share it: one producer). sent/full: the lcore's counters. Null when
    // out of memory.
    RttRing *ring(uint8_t lcore, uint64_t *sent, uint64_t *full);
    // Every ring into m; self_cluster < 0: counted as ignored.
    void drain(int32_t self_cluster, cluster::Measurements &m, double now_s);
    const cluster::PassiveCounters &counters() const { return ctr_; }

  private:
    struct Slot {
        uint8_t lcore;
        void *mem;
        RttRing *ring;
    };
    std::vector<Slot> slots_;
    cluster::PassiveCounters ctr_;
};

}  // namespace ep

// The UDP tracker's request handling (BEP 15 over the shared swarm table):
// one datagram in, the reply written over it. Pure and per lcore: each data
// lcore has one Tracker bound to its shard; the table and the torrent set
// are shared. The data-plane glue (dataplane/tracker_service.cc) only moves
// bytes; unit tests and the fuzzer drive this directly.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/swarm/tracker_table.h"
#include "dataplane/swarm/udp_tracker.h"

namespace ep::swarm {

// Counters of one tracker instance (one lcore), with help text.
#define EP_TRACKER_COUNTERS(X)                                                           \
    X(connects, "BEP 15 connect requests answered")                                      \
    X(announces, "announces answered with a peer list")                                  \
    X(scrapes, "scrape requests answered")                                               \
    X(peers_returned, "peer entries sent in announce replies")                           \
    X(peers_added, "peers that joined a swarm (through this lcore)")                     \
    X(peers_removed, "peers that left with event=stopped")                               \
    X(peers_expired, "peers dropped because they stopped announcing")                    \
    X(completed_events, "announces with event=completed")                                \
    X(errors_sent, "error replies (action 3): unknown torrent, full")                    \
    X(unknown_torrent, "announce/scrape for an info hash we do not track (closed mode)") \
    X(swarms_full, "announce refused: this lcore's swarm table is full")                 \
    X(peers_full, "announce refused: the swarm's peer slots on this lcore are full")     \
    X(short_packet, "dropped: shorter than its action's fixed fields")                   \
    X(bad_protocol_id, "dropped: connect without BEP 15's protocol id")                  \
    X(bad_action, "dropped: action not connect/announce/scrape")                         \
    X(bad_connection_id, "dropped: connection id forged or expired")                     \
    X(bad_event, "dropped: announce event not 0..3")                                     \
    X(bad_scrape_length, "dropped: scrape with no, too many or partial info hashes")     \
    X(no_room, "dropped: the reply would not fit the buffer")

struct TrackerCounters {
#define EP_X(n, h) uint64_t n = 0;
    EP_TRACKER_COUNTERS(EP_X)
#undef EP_X
};

struct TrackerConfig {
    uint32_t interval_s = 1800;     // BEP 15 "interval" (BEP 3 HTTP: also "min interval")
    uint32_t min_interval_s = 300;  // HTTP "min interval"; BEP 15 has no field for it
    uint32_t peer_ttl_s = 0;        // 0: 2 * interval + 60
    uint32_t numwant_default = 50;  // the textbook's "about 50"
    uint32_t numwant_max = 50;
    bool open = false;  // track any info hash, not only the appliance's own
};

// How long a peer stays listed after its last announce (UDP and HTTP alike).
inline uint32_t peer_ttl(const TrackerConfig &c) {
    return c.peer_ttl_s ? c.peer_ttl_s : 2 * c.interval_s + 60;
}

class Tracker {
  public:
    Tracker(const TrackerConfig &cfg, const udpt::ConnIds *ids, const TorrentSet *ours,
            SwarmTable *table, uint32_t shard, uint64_t seed)
        : cfg_(cfg), ids_(ids), ours_(ours), table_(table), shard_(shard), rng_(seed | 1) {}
    // Handles the datagram at buf[0..len) from src at unix time now; writes
    // the reply over it (room bytes writable). Returns the reply length, or
    // -1 when the datagram is dropped (counted).
    int handle(uint8_t *buf, size_t len, size_t room, const Addr &src, int64_t now);
    // Owner's housekeeping: expire up to `budget` peer slots.
    void sweep(int64_t now, uint32_t budget) {
        c_.peers_expired += table_->sweep(shard_, static_cast<uint32_t>(now), budget);
    }
    const TrackerCounters &counters() const { return c_; }
    uint32_t ttl() const { return peer_ttl(cfg_); }

  private:
    bool tracked(const uint8_t ih[20]) const { return cfg_.open || ours_->contains(ih); }
    int error(uint8_t *buf, size_t room, uint32_t tid, const char *msg);
    TrackerConfig cfg_;
    const udpt::ConnIds *ids_;
    const TorrentSet *ours_;
    SwarmTable *table_;
    uint32_t shard_;
    uint64_t rng_;
    TrackerCounters c_;
};

}  // namespace ep::swarm

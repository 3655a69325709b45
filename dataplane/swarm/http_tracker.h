// The HTTP tracker (BEP 3 "Trackers", BEP 23 compact peer lists, BEP 7
// peers6, BEP 48 scrape) over the swarm table the UDP tracker writes: a
// peer that announced over UDP is in the peer list of an HTTP announce and
// the other way round, on any data lcore. Pure and per lcore like
// swarm::Tracker: the query string and the client's address in, the
// bencoded body out. The HTTP session answers GET /announce and GET
// /scrape with it (dataplane/http_server.cc is the glue).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/swarm/http_tracker_query.h"
#include "dataplane/swarm/tracker.h"

namespace ep::swarm {

// Counters of one HTTP tracker instance (one lcore), with help text. The
// query errors (EP_HTTPT_QUERY_ERRORS) follow these, one counter each.
#define EP_HTTP_TRACKER_COUNTERS(X)                                                      \
    X(announces, "HTTP announces answered with a peer list")                             \
    X(scrapes, "HTTP scrapes answered")                                                  \
    X(peers_returned, "IPv4 peer entries sent in 'peers' (BEP 23 compact)")              \
    X(peers6_returned, "IPv6 peer entries sent in 'peers6' (BEP 7)")                     \
    X(peers_added, "peers that joined a swarm through an HTTP announce")                 \
    X(peers_removed, "peers that left with event=stopped")                               \
    X(peers_expired, "expired peers freed by HTTP announces on the way")                 \
    X(completed_events, "announces with event=completed")                                \
    X(failures_sent, "replies with a 'failure reason' (every refusal below)")            \
    X(unknown_torrent, "announce/scrape for an info hash we do not track (closed mode)") \
    X(swarms_full, "announce refused: this lcore's swarm table is full")                 \
    X(peers_full, "announce refused: the swarm's peer slots on this lcore are full")     \
    X(full_scrape, "scrape without info_hash refused (no full scrape)")                  \
    X(no_room, "the reply did not fit the response buffer: a failure sent instead")

struct HttpTrackerCounters {
#define EP_X(n, h) uint64_t n = 0;
    EP_HTTP_TRACKER_COUNTERS(EP_X)
    EP_HTTPT_QUERY_ERRORS(EP_X)
#undef EP_X
};

class HttpTracker {
  public:
    enum class Route : uint8_t { kNone, kAnnounce, kScrape };
    // "/announce" and "/scrape" (BEP 48: the scrape URL is the announce URL
    // with "announce" replaced by "scrape").
    static Route route(std::string_view path);
    // A reply buffer smaller than this only ever holds a failure.
    static constexpr size_t kMinRoom = 96;

    HttpTracker(const TrackerConfig &cfg, const TorrentSet *ours, SwarmTable *table, uint32_t shard,
                uint64_t seed)
        : cfg_(cfg), ours_(ours), table_(table), shard_(shard), rng_(seed | 1) {}
    // Answers the request at `route` with query string `query` (still
    // percent-encoded) from `src` (its address; the port is not used) at
    // unix time now: the bencoded body goes to out[0..room). Returns its
    // length; 0 only when room < kMinRoom.
    size_t handle(Route r, std::string_view query, const Addr &src, int64_t now, char *out,
                  size_t room);
    const HttpTrackerCounters &counters() const { return c_; }

  private:
    bool tracked(const uint8_t ih[20]) const { return cfg_.open || ours_->contains(ih); }
    size_t announce(std::string_view query, const Addr &src, uint32_t now, char *out, size_t room);
    size_t scrape(std::string_view query, char *out, size_t room);
    size_t failure(const char *why, char *out, size_t room);
    size_t refuse(httpt::QueryError e, char *out, size_t room);

    TrackerConfig cfg_;
    const TorrentSet *ours_;
    SwarmTable *table_;
    uint32_t shard_;
    uint64_t rng_;
    HttpTrackerCounters c_;
};

}  // namespace ep::swarm

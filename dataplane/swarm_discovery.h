// Fill mode, finding peers (docs/swarm.md "Peers from trackers and magnet
// links"): the data plane announces to a torrent's HTTP trackers (BEP 3,
// BEP 23 compact peers; tiers of BEP 12 flattened in order) over its own
// TCP client, re-announces on the tracker's interval, sends
// event=completed once the fetch is complete, and hands every new peer to
// the torrent's FetchJob (which dials it). For a magnet link it first
// fetches the info dict from the peers found (BEP 9 over BEP 10, one peer
// at a time: dataplane/swarm/metadata_fetch.h); the control thread then
// builds the FetchJob from the verified metadata and attaches it here.
//
// The pure parts (request builders, reply and magnet parsers, the metadata
// session) are in dataplane/swarm/; this is glue: connections, time,
// counters. One DiscoveryService per queue; jobs go to the first queue's,
// the same lcore as the FetchService's jobs (so add_peer needs no lock).
//
// UDP trackers (BEP 15): connect, then announce with the connection ID
// (reused for its minute), from local UDP port kUdpClientPort through
// TcpIo::send_udp; the replies come back through the queue's UDP bindings
// (on_datagram). A request unanswered for 5 s is sent again, 3 times in
// all, then the tracker is tried again after retry_s (BEP 15 asks for
// 15 * 2^n s; shorter here, bounded by the number of tries).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/net/tcp/handler.h"
#include "dataplane/net/tcp/stack.h"
#include "dataplane/net/udp/handler.h"
#include "dataplane/service.h"
#include "dataplane/swarm/metadata_fetch.h"
#include "dataplane/swarm/sha1.h"
#include "dataplane/swarm/tracker_client.h"
#include "dataplane/swarm_fetch.h"

namespace ep {

#define EP_SWARM_DISCOVERY_COUNTERS(X)                                                           \
    X(discover_jobs, "torrents or magnets whose peers this lcore looks for")                     \
    X(announces_sent, "HTTP announces sent to trackers")                                         \
    X(announces_ok, "announces answered with an interval (and peers)")                           \
    X(announces_started, "event=started announces answered")                                     \
    X(announces_completed, "event=completed announces answered")                                 \
    X(announce_connect_failures, "tracker connections refused or never answered")                \
    X(announce_timeouts, "announces given up: no whole answer within 30 s")                      \
    X(announce_udp_skipped, "udp:// trackers skipped: the UDP client port could not be bound")   \
    X(udp_requests_sent, "BEP 15 connect and announce requests sent (retries included)")         \
    X(udp_no_route, "BEP 15 requests not sent yet: next hop unresolved or no mbuf (sent later)") \
    X(udp_replies_stray, "datagrams on the client port matching no request in flight")           \
    X(announce_bad_url, "tracker URLs not usable (https, host names, no port)")                  \
    X(tracker_peers, "peers received from trackers (before de-duplication)")                     \
    X(peers_new, "new peer addresses handed to the fetch (trackers, magnet x.pe, --peer)")       \
    X(peers_over_limit, "peers not used: the torrent already has its 16 peers")                  \
    X(meta_connects, "outbound connections opened to fetch a magnet's metadata")                 \
    X(meta_connect_failures, "metadata connections refused or closed before the metadata")

struct SwarmDiscoveryCounters {
#define EP_X(field, help) uint64_t field = 0;
    EP_SWARM_DISCOVERY_COUNTERS(EP_X)
#undef EP_X
    uint64_t reply_errors[swarm::kReplyErrors + 2] = {};  // by swarm::ReplyError
};

struct DiscoveryConfig {
    uint16_t listen_port = 6881;  // our peer-wire port, announced
    uint32_t min_interval_s = 5;  // floor under the tracker's interval
    uint32_t retry_s = 15;        // after a failed announce
    uint64_t exchange_timeout_ns = 30'000'000'000ull;
    uint32_t numwant = 50;
    uint8_t peer_id[20] = {};
    swarm::MetadataConfig meta;  // max size, timeout (info hash set per job)
};

class DiscoveryService;

class DiscoveryJob {
  public:
    static constexpr uint32_t kMaxTrackers = 8;
    enum class Phase : uint8_t { kQueued, kMetadata, kMetadataDone, kFetching, kFailed };

    // Control thread. `fetch`: the job already built (a .torrent); nullptr
    // for a magnet (metadata first). `urls` in tier order; only http:// with
    // an IPv4 host is used.
    bool init(const DiscoveryConfig &cfg, const swarm::Sha1 &info_hash, const std::string &name,
              const std::vector<std::string> &urls,
              const std::vector<std::pair<uint32_t, uint16_t>> &peers, FetchJob *fetch,
              std::string *err);
    // Control thread: the FetchJob built from the metadata (release).
    void attach(FetchJob *f) { fetch_.store(f, std::memory_order_release); }

    Phase phase() const { return phase_.load(std::memory_order_acquire); }
    const std::string &name() const { return name_; }
    const swarm::Sha1 &info_hash() const { return info_hash_; }
    const uint8_t *metadata() const { return meta_buf_.get(); }
    uint32_t metadata_size() const { return session_.size(); }
    uint32_t nfound() const { return nfound_.load(std::memory_order_acquire); }
    std::pair<uint32_t, uint16_t> found(uint32_t i) const {
        return {found_[i].ip_be, found_[i].port};
    }
    uint32_t ntrackers() const { return ntrackers_; }
    const std::string &tracker_url(uint32_t i) const { return trackers_[i].text; }
    uint32_t tracker_ok(uint32_t i) const {
        return trackers_[i].ok.load(std::memory_order_relaxed);
    }
    uint32_t tracker_failed(uint32_t i) const {
        return trackers_[i].failed.load(std::memory_order_relaxed);
    }
    const std::vector<std::string> &urls() const { return urls_; }

  private:
    friend class DiscoveryService;
    struct Tracker {
        std::string text;
        swarm::TrackerUrl url;
        bool usable = false;
        bool open = false;
        tcp::ConnId conn{};
        // UDP (BEP 15)
        uint8_t udp_state = 0;  // 0 idle, 1 connect in flight, 2 announce in flight
        uint8_t udp_tries = 0;
        uint32_t txid = 0;
        uint64_t conn_id = 0, conn_id_ns = 0, sent_ns = 0;
        uint64_t next_ns = 0, deadline_ns = 0;
        bool started_sent = false, completed_sent = false;
        swarm::AnnounceEvent in_flight = swarm::AnnounceEvent::kNone;
        bool answered = false;  // this exchange's reply was handled
        uint32_t tx_len = 0, tx_off = 0, rx_len = 0;
        std::unique_ptr<uint8_t[]> tx, rx;
        std::atomic<uint32_t> ok{0}, failed{0};
    };
    struct Found {
        uint32_t ip_be = 0;
        uint16_t port = 0;
        bool meta_tried = false, meta_bad = false;
    };

    DiscoveryConfig cfg_{};
    swarm::Sha1 info_hash_{};
    std::string name_;
    std::vector<std::string> urls_;
    std::atomic<Phase> phase_{Phase::kQueued};
    std::atomic<FetchJob *> fetch_{nullptr};
    FetchJob *seen_fetch_ = nullptr;  // lcore: the job its found peers were given to
    Tracker trackers_[kMaxTrackers];
    uint32_t ntrackers_ = 0;
    Found found_[FetchJob::kMaxPeers];
    std::atomic<uint32_t> nfound_{0};
    // Metadata (magnets): one peer at a time.
    swarm::MetadataConfig meta_cfg_{};
    swarm::MetadataSession session_;
    std::unique_ptr<uint8_t[]> meta_buf_, meta_have_;
    bool meta_open_ = false;
    tcp::ConnId meta_conn_{};
    uint32_t meta_peer_ = 0;
    uint64_t meta_retry_ns_ = 0;
};

class TcpIo;

class DiscoveryService final : public Service, public tcp::Handler, public net::udp::Handler {
  public:
    static constexpr uint32_t kMaxJobs = 4;
    static constexpr uint16_t kUdpClientPort = 6968;  // our source port for BEP 15 requests
    DiscoveryService(const DiscoveryConfig &cfg, uint32_t local_ip_be, bool primary);
    // io: where UDP requests go out (nullptr: udp:// trackers are skipped).
    void init(tcp::Stack *stack, TcpIo *io) {
        stack_ = stack;
        io_ = io;
    }
    int on_datagram(net::udp::Datagram &d) override;
    bool primary() const { return primary_; }
    bool offer(DiscoveryJob *job);  // control thread; false while the mailbox is full

    std::string_view name() const override { return "discover"; }
    void poll(const Clock &clk) override;
    void visit_counters(const CounterVisitor &fn) const override;

    void on_connected(tcp::Stack &, tcp::ConnId) override;
    size_t on_data(tcp::Stack &, tcp::ConnId, const uint8_t *data, size_t len) override;
    void on_peer_closed(tcp::Stack &, tcp::ConnId) override;
    void on_writable(tcp::Stack &, tcp::ConnId) override;
    void on_closed(tcp::Stack &, tcp::ConnId, tcp::CloseReason) override;

  private:
    struct Ref {
        DiscoveryJob *job;
        uint32_t what;  // tracker index, or kMeta
    };
    static constexpr uint32_t kMeta = DiscoveryJob::kMaxTrackers;
    void start(DiscoveryJob &j);
    void run(DiscoveryJob &j);
    void announce(DiscoveryJob &j, uint32_t t);
    void send_tracker(DiscoveryJob &j, uint32_t t);
    void tracker_done(DiscoveryJob &j, uint32_t t, bool eof);
    void handle_reply(DiscoveryJob &j, uint32_t t, swarm::ReplyError e,
                      const swarm::AnnounceReply &rep);
    swarm::AnnounceParams params(DiscoveryJob &j, uint32_t t);
    void udp_run(DiscoveryJob &j, uint32_t t);
    void udp_send(DiscoveryJob &j, uint32_t t);
    void add_found(DiscoveryJob &j, uint32_t ip_be, uint16_t port);
    void dial_meta(DiscoveryJob &j);
    void after_meta(DiscoveryJob &j);
    Ref *ref_for(DiscoveryJob &j, uint32_t what);

    DiscoveryConfig cfg_;
    uint32_t local_ip_be_ = 0;
    bool primary_ = false;
    tcp::Stack *stack_ = nullptr;
    TcpIo *io_ = nullptr;
    uint32_t txid_seq_ = 0;
    std::atomic<DiscoveryJob *> mailbox_{nullptr};
    DiscoveryJob *jobs_[kMaxJobs] = {};
    Ref refs_[kMaxJobs][DiscoveryJob::kMaxTrackers + 1] = {};
    uint64_t now_ns_ = 0;
    SwarmDiscoveryCounters ctr_;
    swarm::MetadataCounters mctr_;
};

}  // namespace ep

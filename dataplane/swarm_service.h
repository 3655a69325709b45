// The BitTorrent peer wire (TCP, port 6881 by default) as a data-plane
// service: one SwarmService per TCP stack (per data lcore and port). Thin
// glue between swarm::PeerSession (one per connection, pure), the choker
// (swarm::Choker, one per service: the lcore's upload slots), the torrent
// catalog the control thread publishes (swarm::Catalog), ChunkStream and
// tcp::Stack. Piece blocks leave as a 13-byte copied head and a slice of
// the chunk (zero copy); a block of a disk-only chunk waits on the stream's
// promotion path like an HTTP body does. docs/swarm.md "Peer wire".
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "chunkstore/store.h"
#include "dataplane/chunk_stream.h"
#include "dataplane/conn_pool.h"
#include "dataplane/net/tcp/stack.h"
#include "dataplane/response_log.h"
#include "dataplane/service.h"
#include "dataplane/swarm/catalog.h"
#include "dataplane/swarm/choker.h"
#include "dataplane/swarm/peer_session.h"

namespace ep {

class FetchHandoff;  // dataplane/swarm_fetch.h

// What the glue counts itself, X(field, help); the sessions' counters, the
// framing errors (wire_error.NAME) and the stream's follow in one section.
#define EP_SWARM_SERVICE_COUNTERS(X)                                                          \
    X(conn_pool_exhausted, "accepted connections refused: no session free")                   \
    X(object_changed, "closed: a torrent's object was replaced or removed since it was made") \
    X(unservable_piece, "closed: a requested piece maps to no stored file")                   \
    X(blocks_sent, "piece blocks fully queued on TCP")                                        \
    X(piece_bytes, "piece payload bytes queued (chunk slices, plus pad zeros)")               \
    X(pad_bytes, "zero bytes of BEP 47 pad files sent inside pieces")                         \
    X(metadata_bytes, "info-dict bytes sent in BEP 9 pieces")                                 \
    X(unchokes, "unchoke messages sent")                                                      \
    X(chokes, "choke messages sent")                                                          \
    X(choke_rounds, "choker rounds (every 10 s with peers)")                                  \
    X(handed_to_fetch, "connections for a torrent being fetched, handed to the fetch job")

struct SwarmServiceCounters {
#define EP_X(field, help) uint64_t field = 0;
    EP_SWARM_SERVICE_COUNTERS(EP_X)
#undef EP_X
};

struct SwarmConfig {
    uint32_t max_conns = 256;
    swarm::SessionConfig session;
    swarm::ChokerConfig choker;
    StreamConfig stream;
};

class SwarmService final : public Service, public tcp::Handler, private StreamOwner {
  public:
    // One seeding connection as `edgectl swarm` shows it: written by the
    // lcore every sweep (100 ms), read by the control thread (relaxed).
    // `torrent` is a catalog entry (never freed while the daemon runs);
    // nullptr: the slot is not a live connection.
    struct PeerView {
        static constexpr uint8_t kAmChoking = 1, kPeerInterested = 2, kOptimistic = 4;
        std::atomic<const swarm::CatTorrent *> torrent{nullptr};
        std::atomic<uint32_t> ip_be{0};
        std::atomic<uint16_t> port{0};
        std::atomic<uint8_t> flags{0};
        std::atomic<uint64_t> uploaded{0};
        std::atomic<uint64_t> up_rate{0};  // bytes/s over the last choker round
    };
    uint32_t views() const { return cfg_.max_conns; }
    const PeerView &view(uint32_t i) const { return views_[i]; }

    SwarmService(const SwarmConfig &cfg, const swarm::Catalog *catalog, uint64_t seed);
    ~SwarmService() override;

    bool init(tcp::Stack *stack, chunkstore::Store *store, uint32_t reader_id, uint16_t port,
              AccessSink *access = nullptr);

    // Service
    std::string_view name() const override { return "swarm"; }
    void poll(const Clock &clk) override;
    void visit_counters(const CounterVisitor &fn) const override;

    // tcp::Handler
    void on_accept(tcp::Stack &, tcp::ConnId) override;
    size_t on_data(tcp::Stack &, tcp::ConnId, const uint8_t *data, size_t len) override;
    void on_peer_closed(tcp::Stack &, tcp::ConnId) override;
    void on_writable(tcp::Stack &, tcp::ConnId) override;
    void on_closed(tcp::Stack &, tcp::ConnId, tcp::CloseReason) override;

    // The lcore's access-log ring (--access-log): one record per connection
    // when it closes. nullptr: no access log.
    void set_response_log(ResponseLog *log) { rlog_ = log; }
    // Fill mode on this lcore: a handshake for a torrent the catalog does
    // not serve but a fetch under way wants goes to that fetch.
    void set_handoff(FetchHandoff *h) { handoff_ = h; }

    const swarm::SessionCounters &session_counters() const { return sctr_; }
    const SwarmServiceCounters &counters() const { return ctr_; }

  private:
    struct Conn;
    Conn *conn_of(tcp::ConnId c) const;
    void pump(Conn *c);
    // Each returns true when the front item is fully queued.
    bool write_bytes(Conn *c);
    bool write_bitfield(Conn *c, const swarm::OutItem &it);
    bool write_small(Conn *c, const uint8_t *msg, uint32_t len);
    bool write_piece(Conn *c, const swarm::OutItem &it);
    bool write_metadata(Conn *c, const swarm::OutItem &it);
    void after_input(Conn *c);
    bool hand_off(Conn *c, const uint8_t *data, size_t len);
    // Why a connection ended, for its access-log record (status, detail).
    struct CloseWhy {
        uint16_t status;
        const char *reason;
    };
    void abort(Conn *c, CloseWhy why);
    void release(Conn *c, CloseWhy why);
    void log_close(const Conn &c, CloseWhy why);
    void run_choker(uint64_t now_ns, bool round_due);
    void publish_views();

    // StreamOwner
    void stream_wake(StreamConn &sc) override;
    void stream_run(StreamConn &sc) override;
    void stream_abort(StreamConn &sc) override;

    SwarmConfig cfg_;
    const swarm::Catalog *catalog_;
    tcp::Stack *stack_ = nullptr;
    chunkstore::Store *store_ = nullptr;
    uint32_t tid_ = 0;
    ConnPool<Conn> pool_;
    std::unique_ptr<swarm::OutItem[]> items_;  // cap_ per connection
    uint32_t items_per_conn_ = 0;
    std::unique_ptr<swarm::ChokePeer *[]> choke_list_;
    std::unique_ptr<PeerView[]> views_;
    std::unique_ptr<Conn *[]> choke_conns_;
    swarm::Choker choker_;
    bool choke_dirty_ = false;
    ChunkStream stream_;
    uint64_t now_ns_ = 0;
    int64_t unix_s_ = 0;
    uint64_t next_sweep_ns_ = 0;
    ResponseLog *rlog_ = nullptr;
    FetchHandoff *handoff_ = nullptr;
    swarm::SessionCounters sctr_;
    SwarmServiceCounters ctr_;
};

}  // namespace ep

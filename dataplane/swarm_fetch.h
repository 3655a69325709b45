// Fill mode in the data plane (issue 12, docs/swarm.md "Fill mode"): the
// appliance as a BitTorrent leecher. Thin glue between the pure leecher
// (swarm::FetchTorrent, swarm::FetchSession: dataplane/swarm/fetch_session.h),
// the data plane's own TCP client side (tcp::Stack::connect, as the origin
// fill uses it) and the chunk store's fill channel (Store::post_fill, the
// same sink as pull on miss: docs/origin.md).
//
//  - FetchJob: one torrent being fetched. Built whole on the control thread
//    (every allocation happens there: the picker, the sessions with their
//    rings, a staging buffer of the object's size, one FillMsg per piece),
//    then handed to the lcore through FetchService::offer(). Its progress
//    (pieces stored, per-peer bytes, bans) is written by the lcore and read
//    by the control thread, relaxed.
//  - FetchService: one per queue (every instance shows the same counters);
//    the daemon offers jobs to the first one. Per job it connects to every
//    peer given, feeds the sessions, copies their small output onto TCP,
//    and posts each piece whose SHA-1 matched as that chunk of the object
//    (FetchTorrent verifies before calling piece_done: nothing unverified is
//    ever posted). When every piece is stored the job is complete; the
//    control thread then gives the object its torrent (control/torrents.cc).
//
// Uploading while fetching (docs/swarm.md "Uploading while fetching"): every
// connection of a job, dialled or accepted (a peer that dialled our peer
// port for this torrent: SwarmService hands it over, FetchHandoff), runs
// the leecher's tit-for-tat choker (swarm::Choker, kLeech, one per job); a
// request for a piece already stored is sent as a 13-byte copied head and a
// slice of chunk i of the object through this service's ChunkStream (zero
// copy, the seeding path), never from the staging buffer.
//
// Not yet: tracker announces (peers come from the command line), magnet
// links (BEP 9 metadata), more than one data lcore (outbound connections
// are opened without a port filter: with --origin and several lcores the
// steering stage would route their answers elsewhere).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chunkstore/store.h"
#include "dataplane/chunk_stream.h"
#include "dataplane/net/tcp/handler.h"
#include "dataplane/net/tcp/stack.h"
#include "dataplane/service.h"
#include "dataplane/swarm/choker.h"
#include "dataplane/swarm/fetch_session.h"
#include "dataplane/swarm/sha1.h"

namespace ep {

// What the glue counts itself, X(field, help); the sessions' counters
// (EP_FETCH_COUNTERS) and framing errors follow in the same section.
#define EP_SWARM_FETCH_COUNTERS(X)                                                                \
    X(fetch_jobs_started, "torrents this lcore began to fetch (edgectl swarm fetch)")             \
    X(fetch_jobs_complete, "torrents whose every piece was verified and stored")                  \
    X(fetch_pieces_verified, "pieces whose SHA-1 matched the torrent's (then posted)")            \
    X(fetch_pieces_bad, "pieces whose SHA-1 did not match: never stored, fetched again")          \
    X(fetch_pieces_stored, "verified pieces the store published as chunks")                       \
    X(fetch_store_refused, "verified pieces the store refused (RAM full, version gone)")          \
    X(fetch_post_retries, "pieces posted again: the fill channel was full")                       \
    X(fetch_peers_banned, "peers banned: they contributed to --swarm-fetch-ban-after bad pieces") \
    X(fetch_connects, "outbound peer-wire connections opened")                                    \
    X(fetch_connect_failures, "outbound peer-wire connections refused or never answered")         \
    X(fetch_peer_closes, "fetch connections that ended before the torrent was complete")          \
    X(fetch_bytes_down, "piece payload bytes received (first copies written to staging)")         \
    X(fetch_bytes_up, "piece payload bytes uploaded to peers (chunk slices)")                     \
    X(fetch_accepted, "incoming peer-wire connections for a torrent being fetched, taken over")   \
    X(fetch_accept_refused, "incoming ones refused: no free slot, or the address is banned")      \
    X(fetch_upload_object_gone, "closed: a piece to upload whose object version is gone")         \
    X(fetch_choke_rounds, "tit-for-tat choker rounds over the fetch connections")                 \
    X(fetch_unchokes, "unchoke messages sent to fetch peers")                                     \
    X(fetch_chokes, "choke messages sent to fetch peers")

struct SwarmFetchCounters {
#define EP_X(field, help) uint64_t field = 0;
    EP_SWARM_FETCH_COUNTERS(EP_X)
#undef EP_X
};

struct FetchServiceConfig {
    uint32_t ban_after = 2;                       // bad pieces a peer may contribute to
    uint64_t reconnect_ms = 2000;                 // a peer that closed is dialled again after this
    swarm::FetchConfig session;                   // queue depth, timeouts, our peer id
    swarm::ChokerConfig choker = leech_choker();  // per job: tit-for-tat
    StreamConfig stream;                          // uploads' pinned-RAM share
    static swarm::ChokerConfig leech_choker() {
        swarm::ChokerConfig c;
        c.mode = swarm::ChokeMode::kLeech;
        return c;
    }
};

// SwarmService (the peer port) asks it about a handshake for a torrent the
// catalog does not serve yet: one being fetched takes the connection over.
class FetchHandoff {
  public:
    virtual bool can_adopt(const uint8_t *info_hash, uint32_t ip_be) const = 0;
    // Takes the connection (handler, user) and feeds it `data`, the bytes
    // received so far (the peer's handshake first).
    virtual void adopt(tcp::ConnId id, const uint8_t *data, size_t len) = 0;

  protected:
    ~FetchHandoff() = default;
};

class FetchService;

class FetchJob final : public swarm::PieceSink {
  public:
    static constexpr uint32_t kMaxPeers = 16;  // dialled (--peer)
    static constexpr uint32_t kIncoming = 8;   // accepted (peers that dial us)
    static constexpr uint32_t kMaxSlots = kMaxPeers + kIncoming;
    // Peer::flags (what `edgectl swarm` prints).
    static constexpr uint8_t kAmChoking = 1, kAmInterested = 2, kPeerChoking = 4,
                             kPeerInterested = 8, kOptimistic = 16, kSnubbed = 32,
                             kIncomingPeer = 64;
    enum class Phase : uint8_t { kQueued, kRunning, kComplete, kFailed };
    enum class PeerState : uint8_t { kIdle, kConnecting, kActive, kClosed, kBanned };
    struct Peer {
        // lcore-written, control-read (relaxed); the address too (an
        // accepted peer's is learnt on the lcore)
        std::atomic<uint32_t> ip_be{0};
        std::atomic<uint16_t> port{0};
        std::atomic<uint8_t> state{0};
        std::atomic<uint8_t> flags{0};
        std::atomic<uint64_t> bytes_down{0};
        std::atomic<uint64_t> bytes_up{0};
        std::atomic<uint64_t> down_rate{0};  // bytes/s over the last choker round
        std::atomic<uint64_t> up_rate{0};
        std::atomic<uint32_t> bad_pieces{0};
        std::atomic<uint32_t> connects{0};
    };

    // Control thread: everything the lcore will touch is allocated here.
    // `piece_hashes` is the info dict's `pieces`; the object must have been
    // begun (Store::begin_fill) as (oid, generation).
    bool init(const FetchServiceConfig &cfg, const std::string &name, uint64_t length,
              const std::string &piece_hashes, const swarm::Sha1 &info_hash,
              chunkstore::ObjectId oid, uint64_t generation,
              const std::vector<std::pair<uint32_t, uint16_t>> &peers, FetchService *svc,
              std::string *err);

    // ---- progress (control thread, relaxed) ----
    const std::string &name() const { return name_; }
    const swarm::Sha1 &info_hash() const { return info_hash_; }
    Phase phase() const { return phase_.load(std::memory_order_acquire); }
    uint32_t pieces() const { return npieces_; }
    uint32_t pieces_stored() const { return stored_.load(std::memory_order_relaxed); }
    // Dialled slots in use: 0..npeers(); slots kMaxPeers..kMaxSlots are
    // accepted ones (peers that dialled us).
    uint32_t npeers() const { return npeers_.load(std::memory_order_acquire); }
    uint32_t nslots() const { return kMaxSlots; }
    uint64_t choke_rounds() const { return rounds_.load(std::memory_order_relaxed); }
    // Lcore (the first queue's, where DiscoveryService runs too): a peer a
    // tracker or magnet named joins the next free dialled slot and is
    // dialled on the next poll. False when it is known already or every
    // dialled slot is taken.
    bool add_peer(uint32_t ip_be, uint16_t port);
    const Peer &peer(uint32_t i) const { return peers_[i]; }
    chunkstore::ObjectId oid() const { return oid_; }
    uint64_t generation() const { return gen_; }

  private:
    friend class FetchService;
    // PieceSink (lcore)
    uint8_t *piece_buffer(uint32_t piece) override;
    void piece_done(uint32_t piece) override;
    void piece_bad(uint32_t piece) override;

    struct Conn : StreamConn {  // the upload's stream state is the base
        FetchJob *job = nullptr;
        uint32_t slot = 0;
        bool wake = false;           // the stream asked for a pump at the next poll
        bool seen_interest = false;  // the peer's interest the choker last saw
        // The block being uploaded: head copied, then a slice of the chunk.
        bool up_on = false;
        uint32_t up_off = 0;
        uint64_t up_body = 0;
        uint8_t up_head[13];
        ChunkStream::Handle h = 0;
        uint64_t up_mark = 0;  // uploaded at the last choker round
        swarm::FetchSession session;
        tcp::ConnId conn{};
        bool open = false;
        uint64_t retry_ns = 0;
        uint64_t counted_down = 0;  // session's choke.downloaded already added
        std::unique_ptr<uint8_t[]> bits;
        std::unique_ptr<swarm::BlockReq[]> out;
    };

    std::string name_;
    swarm::Sha1 info_hash_{};
    FetchServiceConfig cfg_{};
    FetchService *svc_ = nullptr;
    chunkstore::ObjectId oid_ = 0;
    uint64_t gen_ = 0;
    uint64_t length_ = 0;
    uint32_t npieces_ = 0;
    std::string hashes_;
    swarm::FetchTorrent torrent_;
    std::unique_ptr<uint8_t[]> staging_;                  // the object, piece i at i * 256 KiB
    std::unique_ptr<chunkstore::Store::FillMsg[]> msgs_;  // one per piece
    // Per piece: 0 nothing, 1 verified and waiting for a channel slot,
    // 2 posted, 3 stored.
    std::unique_ptr<uint8_t[]> pstate_;
    std::atomic<uint32_t> npeers_{0};  // dialled slots in use (grows on the lcore: add_peer)
    Peer peers_[kMaxSlots];
    swarm::Choker choker_;
    swarm::ChokePeer *choke_list_[kMaxSlots] = {};
    uint32_t choke_slot_[kMaxSlots] = {};
    bool choke_dirty_ = false;
    uint64_t next_publish_ns_ = 0;
    std::atomic<uint64_t> rounds_{0};
    std::unique_ptr<Conn[]> conns_;
    std::atomic<Phase> phase_{Phase::kQueued};
    std::atomic<uint32_t> stored_{0};
    uint32_t ready_ = 0;   // pieces verified, not yet posted
    uint32_t posted_ = 0;  // pieces posted and not yet settled
    uint64_t next_check_ns_ = 0;
};

class FetchService final : public Service,
                           public tcp::Handler,
                           public FetchHandoff,
                           private StreamOwner {
  public:
    static constexpr uint32_t kMaxJobs = 4;
    FetchService(const FetchServiceConfig &cfg, uint32_t local_ip_be);
    ~FetchService() override;
    // `primary`: the instance jobs go to, the only one that takes a fill
    // channel of the store (there are 64 for every service of every queue).
    bool init(tcp::Stack *stack, chunkstore::Store *store, uint32_t reader_id, bool primary,
              AccessSink *access = nullptr);
    bool primary() const { return channel_ != UINT32_MAX; }

    // Control thread: hands a job to this instance's lcore; false while the
    // mailbox is still full (offer again next tick).
    bool offer(FetchJob *job);

    // Service
    std::string_view name() const override { return "fetch"; }
    void poll(const Clock &clk) override;
    void visit_counters(const CounterVisitor &fn) const override;

    // tcp::Handler (outbound peer-wire connections)
    void on_connected(tcp::Stack &, tcp::ConnId) override;
    size_t on_data(tcp::Stack &, tcp::ConnId, const uint8_t *data, size_t len) override;
    void on_peer_closed(tcp::Stack &, tcp::ConnId) override;
    void on_writable(tcp::Stack &, tcp::ConnId) override;
    void on_closed(tcp::Stack &, tcp::ConnId, tcp::CloseReason) override;

    // FetchHandoff (the peer port's SwarmService, same lcore)
    bool can_adopt(const uint8_t *info_hash, uint32_t ip_be) const override;
    void adopt(tcp::ConnId id, const uint8_t *data, size_t len) override;

    swarm::FetchCounters *session_counters() { return &sctr_; }
    SwarmFetchCounters &counters() { return ctr_; }
    const FetchServiceConfig &config() const { return cfg_; }

  private:
    friend class FetchJob;
    struct Ref {  // what a connection's user pointer names
        FetchJob *job;
        uint32_t slot;
    };
    Ref *ref_of(tcp::ConnId c) const;
    FetchJob *job_for(const uint8_t *info_hash) const;
    void run_choker(FetchJob &j);
    void publish(FetchJob &j, bool round);
    uint32_t watermark(const FetchJob &j, const FetchJob::Conn &c) const;
    bool start_block(FetchJob &j, FetchJob::Conn &c);
    bool send_block(FetchJob &j, FetchJob::Conn &c);
    void abort_conn(FetchJob &j, uint32_t slot);
    // StreamOwner
    void stream_wake(StreamConn &sc) override;
    void stream_run(StreamConn &sc) override;
    void stream_abort(StreamConn &sc) override;
    void run(FetchJob &j);
    void dial(FetchJob &j, uint32_t slot);
    void pump(FetchJob &j, uint32_t slot);
    void after_input(FetchJob &j, uint32_t slot);
    void drop(FetchJob &j, uint32_t slot, bool abort);
    void settle(FetchJob &j);
    void finish(FetchJob &j);

    FetchServiceConfig cfg_;
    uint32_t local_ip_be_ = 0;
    tcp::Stack *stack_ = nullptr;
    chunkstore::Store *store_ = nullptr;
    uint32_t channel_ = UINT32_MAX;
    std::atomic<FetchJob *> mailbox_{nullptr};
    FetchJob *jobs_[kMaxJobs] = {};
    // One Ref per (job, slot), fixed addresses (set_user points at them).
    Ref refs_[kMaxJobs][FetchJob::kMaxSlots] = {};
    uint64_t now_ns_ = 0;
    uint64_t next_sweep_ns_ = 0;
    uint32_t tid_ = 0;
    ChunkStream stream_;  // uploads (primary only)
    bool woken_ = false;
    swarm::FetchCounters sctr_;
    SwarmFetchCounters ctr_;
};

}  // namespace ep

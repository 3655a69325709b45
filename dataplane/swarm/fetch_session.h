// Fill mode (issue 12): the appliance as a leecher, pure. Two pieces:
//
//  - FetchTorrent: one torrent being fetched (per data lcore): the piece
//    picker, the expected piece hashes, where pieces are written (a
//    PieceSink: the glue hands out chunk buffers of the store), SHA-1
//    verification of every complete piece before the sink publishes it,
//    bad pieces per connection slot for banning, and two logs the sessions
//    follow: pieces completed (each session sends `have`) and endgame
//    blocks that arrived (each session cancels its duplicate request).
//  - FetchSession: one outbound peer-wire connection (BEP 3/6): bytes and
//    time in, bytes out (a ring the glue copies onto TCP; everything we
//    send is small: handshake, bitfield, interested, request, cancel,
//    have). It tracks what the peer has (bitfield, have, have-all) into the
//    picker, says interested / not interested, keeps up to `queue_depth`
//    16 KiB requests outstanding while unchoked, and writes piece blocks
//    straight into the sink's buffer (the one copy of the receive path:
//    TCP payload into the chunk).
//    It uploads too (issue 12: "while fetching, the appliance uploads to the
//    swarm like any peer"): our bitfield and haves name the pieces the sink
//    *holds* (verified and stored as chunks: FetchTorrent::mark_held), the
//    choker's decision comes in through set_choked(), and a request for a
//    held piece while unchoked is queued for the glue, which sends it as a
//    13-byte head and a slice of the chunk (zero copy, as the seeding
//    session). Requests for pieces not held, or while choked, get a BEP 6
//    reject (dropped without the fast extension) and are counted.
//    The session may also be the accepting side (start_accepted): a peer
//    that dialled our peer port for a torrent being fetched.
//
// Not yet: BEP 10 / magnet metadata, allowed-fast.
// No allocation after init(); no exceptions. SHA-1 runs through libcrypto
// (swarm::sha1), once per 256 KiB piece.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dataplane/swarm/choker.h"
#include "dataplane/swarm/peer_wire.h"
#include "dataplane/swarm/piece_picker.h"

namespace ep::swarm {

// Per-lcore counters, X(name, help); framing errors by pw::Error name.
#define EP_FETCH_COUNTERS(X)                                                                  \
    X(handshakes, "outbound handshakes answered with our info hash")                          \
    X(wrong_torrent, "closed: the peer answered with another info hash")                      \
    X(handshake_timeouts, "closed: no handshake answer within the handshake timeout")         \
    X(idle_timeouts, "closed: the peer sent nothing (not even a keep-alive) for too long")    \
    X(requests_sent, "block requests sent")                                                   \
    X(blocks_received, "blocks received and written into the piece buffer (first copy)")      \
    X(blocks_duplicate, "blocks that arrived after another copy (endgame): dropped")          \
    X(blocks_unrequested, "piece messages for a block not outstanding to that peer: dropped") \
    X(cancels_sent, "cancels sent: another peer's copy of the block arrived first (endgame)") \
    X(rejects_received, "BEP 6 rejects of our requests (the blocks are picked again)")        \
    X(choke_drops, "outstanding requests dropped by a choke (no BEP 6): picked again")        \
    X(request_timeouts, "requests given up: no block from that peer for the snub timeout")    \
    X(pieces_passed, "pieces whose SHA-1 matched (handed to the sink)")                       \
    X(pieces_failed, "pieces whose SHA-1 did not match (fetched again)")                      \
    X(banned, "closed: the peer contributed to ban_after bad pieces")                         \
    X(requests_refused, "peers' requests refused: not held, while choked, or queue full")     \
    X(requests_not_held, "requests for a piece we do not hold (yet): rejected")               \
    X(requests_while_choked, "requests while we choke the peer: rejected (BEP 6) or dropped") \
    X(upload_queue_full, "requests over the upload queue (kUpQueue): rejected")               \
    X(requests_queued, "peers' requests queued for upload (a held piece, unchoked)")          \
    X(cancels_received, "peers' cancels that removed a queued upload request")                \
    X(blocks_uploaded, "blocks sent to peers (13-byte head copied, block a chunk slice)")     \
    X(bytes_uploaded, "piece payload bytes sent to peers")                                    \
    X(accepted, "incoming connections (a peer dialled us) handed to the fetch")               \
    X(bitfield_not_first, "bitfield/have-all/have-none after other messages (ignored)")       \
    X(output_full, "closed: our output ring overflowed")                                      \
    X(keepalives_sent, "keep-alives sent on an otherwise silent connection")

struct FetchCounters {
#define EP_X(n, h) uint64_t n = 0;
    EP_FETCH_COUNTERS(EP_X)
#undef EP_X
    uint64_t wire_errors[pw::kErrors + 1] = {};
};

// Where pieces go. The glue implements it over the chunk store: a buffer
// of piece_len bytes per piece (a chunk slot), published once verified.
class PieceSink {
  public:
    virtual uint8_t *piece_buffer(uint32_t piece) = 0;
    virtual void piece_done(uint32_t piece) = 0;  // SHA-1 matched
    virtual void piece_bad(uint32_t) {}           // SHA-1 mismatch: buffer rewritten later

  protected:
    ~PieceSink() = default;
};

struct FetchTorrentConfig {
    PickerConfig picker;
    const uint8_t *piece_hashes = nullptr;  // 20 * num_pieces bytes (the info dict's `pieces`)
    uint8_t info_hash[20] = {};
    uint32_t max_slots = 64;     // connections at once
    uint32_t ban_after = 2;      // bad pieces a peer may contribute to before it is banned
    uint32_t cancel_log = 1024;  // endgame arrivals remembered for the sessions' cancels
};

class FetchTorrent {
  public:
    bool init(const FetchTorrentConfig &cfg, PieceSink *sink, FetchCounters *ctr,
              uint64_t seed = 1);
    const FetchTorrentConfig &config() const { return cfg_; }
    PiecePicker &picker() { return picker_; }
    const PiecePicker &picker() const { return picker_; }
    FetchCounters &counters() { return *ctr_; }

    // ---- for FetchSession ----
    PiecePicker::Block begin_block(uint32_t slot, const BlockReq &b);
    void write(const BlockReq &b, uint32_t off, const uint8_t *p, uint32_t n);
    void end_block(const BlockReq &b);
    // Pieces completed so far, in order (sessions send `have` for each).
    uint32_t completed() const { return static_cast<uint32_t>(done_.size()); }
    uint32_t completed_at(uint32_t k) const { return done_[k]; }
    // Pieces the sink holds as chunks (verified and stored): what we
    // advertise and upload. The sink calls mark_held once a piece is
    // stored (in tests: at piece_done).
    void mark_held(uint32_t piece);
    bool held(uint32_t piece) const { return piece < held_bits_.size() && held_bits_[piece]; }
    uint32_t held_count() const { return static_cast<uint32_t>(held_log_.size()); }
    uint32_t held_at(uint32_t k) const { return held_log_[k]; }
    // Endgame arrivals: sequence numbers; entries older than cancel_log are gone.
    uint64_t cancel_seq() const { return cancel_seq_; }
    const BlockReq &cancel_at(uint64_t seq) const { return cancels_[seq % cfg_.cancel_log]; }

    // ---- banning ----
    uint32_t bad_pieces(uint32_t slot) const { return slot < bad_.size() ? bad_[slot] : 0; }
    bool banned(uint32_t slot) const { return bad_pieces(slot) >= cfg_.ban_after; }
    // The slot is given to another peer address: its bad-piece count starts
    // again. A new connection from the same address keeps it.
    void reset_slot(uint32_t slot);

  private:
    void verify(uint32_t piece);
    FetchTorrentConfig cfg_{};
    PieceSink *sink_ = nullptr;
    FetchCounters *ctr_ = nullptr;
    PiecePicker picker_;
    std::vector<uint16_t> contrib_;    // per block: slot whose copy was written
    std::vector<uint32_t> bad_;        // per slot
    std::vector<uint32_t> bad_stamp_;  // per slot: the last failed check it was counted in
    uint32_t failed_checks_ = 0;       // failed SHA-1 checks so far (bad_stamp_'s clock)
    std::vector<uint32_t> done_;       // completion order (capacity num_pieces)
    std::vector<BlockReq> cancels_;
    uint64_t cancel_seq_ = 0;
    std::vector<bool> others_;  // per block: endgame duplicates were outstanding
    std::vector<bool> held_bits_;
    std::vector<uint32_t> held_log_;  // held order (capacity num_pieces): haves
};

struct FetchConfig {
    uint32_t queue_depth = 16;  // outstanding 16 KiB requests per peer (1 piece)
    uint64_t handshake_timeout_ns = 10'000'000'000ull;
    uint64_t idle_timeout_ns = 240'000'000'000ull;
    uint64_t keepalive_ns = 90'000'000'000ull;
    uint64_t request_timeout_ns = 60'000'000'000ull;  // = anti-snubbing's 60 s
    uint8_t peer_id[20] = {};
};

class FetchSession {
  public:
    static constexpr uint32_t kRing = 16384;  // output bytes (power of two)
    // Peers' requests queued for upload. libtorrent keeps up to 500
    // outstanding to a fast peer that sent no BEP 10 `reqq`; the rest are
    // rejected (BEP 6) and asked again.
    static constexpr uint32_t kUpQueue = 512;

    // bitfield: (num_pieces + 7) / 8 bytes; outstanding: cfg.queue_depth entries.
    bool init(const FetchConfig *cfg, FetchTorrent *tor, uint32_t slot, uint8_t *bitfield,
              BlockReq *outstanding);
    void start(uint64_t now_ns);  // queues our handshake (we connect)
    // The peer connected to us: its handshake comes first, ours answers it.
    void start_accepted(uint64_t now_ns);
    size_t feed(const uint8_t *in, size_t n, uint64_t now_ns);
    void tick(uint64_t now_ns);  // timeouts, keep-alive, haves, cancels, requests
    // The glue closes the connection (TCP gone, shutdown): releases every
    // outstanding request and what the peer had back to the picker.
    void close();

    // ---- output ----
    uint32_t output(const uint8_t **p) const;  // contiguous bytes queued
    void consume(uint32_t n);
    bool has_output() const { return rtail_ != rhead_; }

    // ---- upload (the glue sends the blocks) ----
    // The choker's decision: choke / unchoke sent if it changes; a choke
    // drops queued requests that have not started (BEP 3), rejecting each
    // with BEP 6.
    void set_choked(bool choke);
    bool am_choking() const { return am_choking_; }
    bool upload_pending() const { return up_tail_ != up_head_; }
    const BlockReq &upload_front() const { return up_[up_head_ % kUpQueue]; }
    // The glue began sending the front block: a cancel or choke no longer
    // removes it (its bytes are on the wire in order).
    void upload_started() { up_started_ = true; }
    // The front block is fully queued on TCP: counted, popped.
    void upload_done();
    uint64_t uploaded() const { return choke_.uploaded; }

    // ---- state ----
    bool closed() const { return st_ == St::kClosed; }
    bool active() const { return st_ == St::kActive; }
    bool peer_choking() const { return peer_choking_; }
    bool interested() const { return am_interested_; }  // we in the peer
    bool peer_interested() const { return peer_interested_; }
    uint32_t outstanding() const { return n_out_; }
    bool peer_has(uint32_t piece) const { return PeerHas{bits_, all_}.has(piece); }
    ChokePeer &choke() { return choke_; }  // downloaded, last_piece_ns, interested for kLeech
    uint32_t slot() const { return slot_; }

  private:
    enum class St : uint8_t { kHandshake, kActive, kClosed };
    void shut();
    bool put(const uint8_t *p, uint32_t n);
    void put_simple(pw::MsgId id);
    void on_handshake(const pw::Handshake &hs);
    void on_message(const pw::Event &e, uint64_t now_ns);
    void on_piece_start(const pw::Event &e);
    void on_piece_end(uint64_t now_ns);
    void sync();  // haves, cancels, interest, requests
    void sync_haves();
    void sync_useful();
    void on_request(const pw::Event &e);
    void on_cancel(const pw::Event &e);
    void put_bitfield();
    void reject(const BlockReq &b);
    void add_useful(uint32_t piece);
    int find_out(const BlockReq &b) const;
    void drop_out(uint32_t k);
    void abort_all();

    const FetchConfig *cfg_ = nullptr;
    FetchTorrent *tor_ = nullptr;
    FetchCounters *ctr_ = nullptr;
    uint32_t slot_ = 0;
    pw::Parser parser_{pw::Limits{}};
    St st_ = St::kHandshake;
    bool fast_ = false;
    bool first_msg_ = true;
    bool peer_choking_ = true, am_interested_ = false, peer_interested_ = false;
    bool am_choking_ = true;
    bool accepted_ = false;  // the peer dialled us: answer its handshake
    uint8_t *bits_ = nullptr;
    bool all_ = false;         // have-all
    bool counted_ = false;     // bitfield/have-all added to the picker
    bool bf_apply_ = false;    // the bitfield being received is the first message
    uint32_t bytes_ = 0;       // bitfield bytes
    uint32_t useful_ = 0;      // pieces the peer has and we lack
    BlockReq *out_ = nullptr;  // outstanding requests
    uint32_t n_out_ = 0;
    BlockReq cur_{};  // the piece message being received
    bool cur_write_ = false, cur_on_ = false;
    uint32_t have_cursor_ = 0;    // into the torrent's held log: haves sent
    uint32_t useful_cursor_ = 0;  // into its completed log: useful_ kept
    uint64_t cancel_cursor_ = 0;
    uint64_t started_ns_ = 0, last_rx_ns_ = 0, last_tx_ns_ = 0, last_block_ns_ = 0;
    ChokePeer choke_{};
    BlockReq up_[kUpQueue];
    uint32_t up_head_ = 0, up_tail_ = 0;  // monotonic
    bool up_started_ = false;             // the front is being sent
    uint8_t ring_[kRing];
    uint32_t rhead_ = 0, rtail_ = 0;  // monotonic
};

}  // namespace ep::swarm

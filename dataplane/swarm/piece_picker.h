// The leecher's piece picker (fill mode, issue 12), pure: what peers have
// and what arrived in, block requests out. One per torrent being fetched;
// every connection of that torrent asks it what to request next.
//
// Policy (BEP 3 "rarest first"; Cohen, "Incentives build robustness in
// BitTorrent", 2003, section 2.2):
//  - strict priority: blocks of pieces already partly requested or received
//    go before any new piece, so pieces complete (and can be verified and
//    shared) as soon as possible. In this order: the pieces this connection
//    is downloading, then partial pieces nobody is downloading now (their
//    requests were dropped by a choke, a reject or a close), then, after
//    new pieces, free blocks of pieces another connection is downloading.
//    Sharing an active piece only as a last resort keeps a fast source
//    (the seed) on rare pieces: with plain "any partial first", a seed whose
//    queue drained first would take over blocks of common pieces a slow
//    peer had started, and the simulation (edgebench swarm-sim) showed half
//    of the seed's upload going to pieces the swarm already had;
//  - random first piece(s): until `random_first` pieces are complete, a new
//    piece is drawn at random among those the peer has (rare pieces are
//    slow to get; a newcomer needs something to trade quickly);
//  - rarest first afterwards: the piece the fewest connected peers have
//    (availability from bitfields, have, have-all), ties broken at random;
//  - endgame: once every missing block is requested, a peer may also
//    request blocks already requested from others (at most `endgame_dup`
//    requests per block); the first copy to arrive wins and the caller
//    cancels the others (on_block says so).
// Blocks are 16 KiB (BEP 3), the last block of the last piece shorter.
// All storage is allocated once in init(); no call allocates.
#pragma once

#include <cstdint>
#include <vector>

namespace ep::swarm {

inline constexpr uint32_t kBlockLen = 16 * 1024;

struct PickerConfig {
    uint32_t num_pieces = 0;
    uint32_t piece_length = 0;  // a multiple of 16 KiB (ours: 256 KiB)
    uint64_t total_length = 0;
    uint32_t random_first = 4;  // pieces picked at random before rarest first
    uint32_t endgame_dup = 3;   // requests per block in endgame, at most
};

struct BlockReq {
    uint32_t piece = 0, begin = 0, length = 0;
    bool operator==(const BlockReq &o) const { return piece == o.piece && begin == o.begin; }
};

// What one remote peer has: its BEP 3 bitfield (piece 0 = high bit of byte
// 0), or all pieces (a seed, BEP 6 have-all).
struct PeerHas {
    const uint8_t *bits = nullptr;
    bool all = false;
    bool has(uint32_t piece) const {
        return all || (bits && (bits[piece >> 3] & (0x80u >> (piece & 7))));
    }
};

class PiecePicker {
  public:
    enum class Block : uint8_t {
        kNew,        // first copy: the caller writes it (claim() was called)
        kDuplicate,  // already received or being received: drop the data
        kInvalid,    // not a block of this torrent
    };

    bool init(const PickerConfig &cfg, uint64_t seed = 1);
    const PickerConfig &config() const { return cfg_; }

    // ---- availability ----
    void add_have(uint32_t piece);
    void remove_have(uint32_t piece);
    void add_bitfield(const uint8_t *bits);  // (num_pieces + 7) / 8 bytes
    void remove_bitfield(const uint8_t *bits);
    void add_seed() { ++seeds_; }  // have-all: counts for every piece
    void remove_seed() {
        if (seeds_) --seeds_;
    }
    uint32_t availability(uint32_t piece) const { return pieces_[piece].avail + seeds_; }

    // ---- requests ----
    // Up to `max` blocks to request from a peer that has `peer`; `who`
    // names the connection (any id, for piece affinity); `mine` are the
    // blocks already outstanding to it (never picked again). Marks them
    // requested. Returns how many were written to out.
    uint32_t pick(uint32_t who, const PeerHas &peer, const BlockReq *mine, uint32_t n_mine,
                  BlockReq *out, uint32_t max);
    // A request that will not be answered (choke without BEP 6, reject,
    // cancel, the connection closed): the block may be picked again.
    void abort_request(const BlockReq &b);
    // A piece message for `b` starts arriving: claims the block so that one
    // copy only is written (two connections can interleave their halves of
    // the same endgame block). kNew: write it, then call received() or, if
    // the message never completes, unclaim(). `others` (optional) is set to
    // true when other requests for the block are outstanding (endgame): the
    // caller cancels them.
    Block claim(const BlockReq &b, bool *others = nullptr);
    void unclaim(const BlockReq &b);  // the claimed copy did not complete
    // The claimed block is in the buffer. Returns true when that completes
    // its piece (all blocks received): hash it, then passed() or failed().
    bool received(const BlockReq &b);
    void passed(uint32_t piece);  // SHA-1 matched: we have it
    void failed(uint32_t piece);  // SHA-1 mismatch: every block is wanted again

    // ---- state ----
    bool have(uint32_t piece) const { return pieces_[piece].have; }
    uint32_t have_count() const { return have_count_; }
    bool complete() const { return have_count_ == cfg_.num_pieces; }
    bool endgame() const { return unrequested_ == 0 && !complete(); }
    uint32_t blocks_in(uint32_t piece) const;
    uint32_t block_len(uint32_t piece, uint32_t block) const;
    uint32_t piece_len(uint32_t piece) const;
    // Does `peer` have a piece we lack? (interest, BEP 3)
    bool interesting(const PeerHas &peer) const;

  private:
    enum BlockState : uint8_t { kFree, kRequested, kReceiving, kReceived };
    struct Piece {
        uint32_t avail = 0;     // peers that have it (not counting seeds_)
        uint16_t received = 0;  // blocks received
        uint16_t touched = 0;   // blocks requested, receiving or received
        uint16_t active = 0;    // blocks requested or receiving
        uint32_t owner = 0;     // the connection that last took free blocks of it
        int32_t partial_pos = -1;
        bool have = false;
    };
    uint64_t rand();
    uint32_t block_index(const BlockReq &b, bool *ok) const;
    void make_partial(uint32_t piece);
    void drop_partial(uint32_t piece);
    // Requests free blocks of `piece` (or, in endgame, blocks with fewer
    // than endgame_dup requests and not in `mine`); returns the count.
    uint32_t take_blocks(uint32_t who, uint32_t piece, bool endgame, const BlockReq *mine,
                         uint32_t n_mine, BlockReq *out, uint32_t max);
    bool new_piece_ok(const PeerHas &peer, uint32_t p) const {
        return !pieces_[p].have && pieces_[p].touched == 0 && peer.has(p);
    }

    PickerConfig cfg_{};
    uint32_t bpp_ = 0;  // blocks per piece (the last piece may have fewer)
    std::vector<Piece> pieces_;
    std::vector<uint8_t> state_;     // per block: BlockState
    std::vector<uint8_t> nreq_;      // per block: outstanding requests
    std::vector<uint32_t> partial_;  // pieces touched and not yet had
    uint32_t seeds_ = 0;
    uint32_t have_count_ = 0;
    uint64_t unrequested_ = 0;  // blocks of missing pieces in state kFree
    uint64_t rng_ = 1;
};

}  // namespace ep::swarm

#include "dataplane/swarm/piece_picker.h"

namespace ep::swarm {

bool PiecePicker::init(const PickerConfig &cfg, uint64_t seed) {
    if (cfg.num_pieces == 0 || cfg.piece_length == 0 || cfg.piece_length % kBlockLen ||
        cfg.piece_length / kBlockLen > 0xFFFF || cfg.total_length == 0 ||
        cfg.total_length > uint64_t{cfg.num_pieces} * cfg.piece_length ||
        cfg.total_length <= uint64_t{cfg.num_pieces - 1} * cfg.piece_length)
        return false;
    cfg_ = cfg;
    if (cfg_.endgame_dup == 0) cfg_.endgame_dup = 1;
    if (cfg_.endgame_dup > 255) cfg_.endgame_dup = 255;
    bpp_ = cfg.piece_length / kBlockLen;
    pieces_.assign(cfg.num_pieces, Piece{});
    const uint64_t blocks = uint64_t{cfg.num_pieces - 1} * bpp_ + blocks_in(cfg.num_pieces - 1);
    state_.assign(uint64_t{cfg.num_pieces} * bpp_, kFree);
    nreq_.assign(uint64_t{cfg.num_pieces} * bpp_, 0);
    partial_.assign(cfg.num_pieces, 0);
    partial_.clear();  // capacity stays: push_back never allocates
    seeds_ = have_count_ = 0;
    unrequested_ = blocks;
    // splitmix64 of the seed: callers pass neighbouring seeds (one per
    // torrent or peer), and xorshift started from neighbouring states gives
    // correlated first draws (peers picking the same "random" pieces).
    uint64_t z = seed + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    rng_ = (z ^ (z >> 31)) | 1;
    return true;
}

uint64_t PiecePicker::rand() {
    // xorshift64, as the choker: deterministic under test, no syscalls.
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
}

uint32_t PiecePicker::piece_len(uint32_t piece) const {
    if (piece + 1 < cfg_.num_pieces) return cfg_.piece_length;
    return static_cast<uint32_t>(cfg_.total_length - uint64_t{piece} * cfg_.piece_length);
}
uint32_t PiecePicker::blocks_in(uint32_t piece) const {
    return (piece_len(piece) + kBlockLen - 1) / kBlockLen;
}
uint32_t PiecePicker::block_len(uint32_t piece, uint32_t block) const {
    const uint32_t len = piece_len(piece), begin = block * kBlockLen;
    return len - begin < kBlockLen ? len - begin : kBlockLen;
}

uint32_t PiecePicker::block_index(const BlockReq &b, bool *ok) const {
    *ok = b.piece < cfg_.num_pieces && b.begin % kBlockLen == 0 &&
          b.begin / kBlockLen < blocks_in(b.piece) &&
          b.length == block_len(b.piece, b.begin / kBlockLen);
    return *ok ? b.piece * bpp_ + b.begin / kBlockLen : 0;
}

void PiecePicker::add_have(uint32_t piece) {
    if (piece < cfg_.num_pieces) ++pieces_[piece].avail;
}
void PiecePicker::remove_have(uint32_t piece) {
    if (piece < cfg_.num_pieces && pieces_[piece].avail) --pieces_[piece].avail;
}
void PiecePicker::add_bitfield(const uint8_t *bits) {
    const PeerHas h{bits, false};
    for (uint32_t p = 0; p < cfg_.num_pieces; ++p)
        if (h.has(p)) ++pieces_[p].avail;
}
void PiecePicker::remove_bitfield(const uint8_t *bits) {
    const PeerHas h{bits, false};
    for (uint32_t p = 0; p < cfg_.num_pieces; ++p)
        if (h.has(p) && pieces_[p].avail) --pieces_[p].avail;
}

bool PiecePicker::interesting(const PeerHas &peer) const {
    if (complete()) return false;
    if (peer.all) return true;
    for (uint32_t p = 0; p < cfg_.num_pieces; ++p)
        if (!pieces_[p].have && peer.has(p)) return true;
    return false;
}

void PiecePicker::make_partial(uint32_t piece) {
    Piece &pc = pieces_[piece];
    if (pc.partial_pos >= 0) return;
    pc.partial_pos = static_cast<int32_t>(partial_.size());
    partial_.push_back(piece);
}
void PiecePicker::drop_partial(uint32_t piece) {
    Piece &pc = pieces_[piece];
    if (pc.partial_pos < 0) return;
    const uint32_t last = partial_.back();
    partial_[pc.partial_pos] = last;
    pieces_[last].partial_pos = pc.partial_pos;
    partial_.pop_back();
    pc.partial_pos = -1;
}

uint32_t PiecePicker::take_blocks(uint32_t who, uint32_t piece, bool endgame, const BlockReq *mine,
                                  uint32_t n_mine, BlockReq *out, uint32_t max) {
    uint32_t n = 0;
    const uint32_t nb = blocks_in(piece);
    const uint32_t base = piece * bpp_;
    for (uint32_t b = 0; b < nb && n < max; ++b) {
        const uint32_t i = base + b;
        const BlockReq req{piece, b * kBlockLen, block_len(piece, b)};
        if (state_[i] == kFree) {
            state_[i] = kRequested;
            nreq_[i] = 1;
            --unrequested_;
            ++pieces_[piece].touched;
            ++pieces_[piece].active;
            pieces_[piece].owner = who;
        } else if (endgame && state_[i] == kRequested && nreq_[i] < cfg_.endgame_dup) {
            bool dup = false;
            for (uint32_t k = 0; k < n_mine && !dup; ++k) dup = mine[k] == req;
            if (dup) continue;
            ++nreq_[i];
        } else {
            continue;
        }
        out[n++] = req;
    }
    if (n) make_partial(piece);
    return n;
}

uint32_t PiecePicker::pick(uint32_t who, const PeerHas &peer, const BlockReq *mine, uint32_t n_mine,
                           BlockReq *out, uint32_t max) {
    uint32_t n = 0;
    if (complete() || max == 0) return 0;
    const bool eg = endgame();
    // 1. Strict priority: pieces already started, this connection's own
    // first, then those nobody is downloading now (see the header).
    for (int tier = 0; tier < 2; ++tier)
        for (uint32_t k = 0; k < partial_.size() && n < max; ++k) {
            const uint32_t p = partial_[k];
            const Piece &pc = pieces_[p];
            const bool mine_now = pc.active && pc.owner == who;
            if ((tier == 0 ? !mine_now : pc.active != 0) || !peer.has(p)) continue;
            n += take_blocks(who, p, false, mine, n_mine + n, out + n, max - n);
        }
    if (!eg) {
        // 2. New pieces: random until random_first are had, then rarest first.
        // A linear scan from a random start (ties then fall at random): one
        // scan per new piece, i.e. per 16 blocks; a bucket index by
        // availability would make it O(1) for torrents of many thousand pieces.
        while (n < max) {
            const uint32_t np = cfg_.num_pieces;
            const uint32_t start = static_cast<uint32_t>(rand() % np);
            uint32_t best = np;
            if (have_count_ < cfg_.random_first) {
                for (uint32_t k = 0; k < np && best == np; ++k) {
                    const uint32_t p = (start + k) % np;
                    if (new_piece_ok(peer, p)) best = p;
                }
            } else {
                uint32_t best_avail = UINT32_MAX;
                for (uint32_t k = 0; k < np; ++k) {
                    const uint32_t p = (start + k) % np;
                    if (!new_piece_ok(peer, p) || pieces_[p].avail >= best_avail) continue;
                    best = p;
                    best_avail = pieces_[p].avail;
                }
            }
            if (best == np) break;
            n += take_blocks(who, best, false, mine, n_mine + n, out + n, max - n);
        }
    }
    // 3. Free blocks of pieces other connections are downloading; in
    // endgame, also blocks already requested elsewhere.
    for (uint32_t k = 0; k < partial_.size() && n < max; ++k) {
        const uint32_t p = partial_[k];
        if (peer.has(p)) n += take_blocks(who, p, eg, mine, n_mine + n, out + n, max - n);
    }
    return n;
}

void PiecePicker::abort_request(const BlockReq &b) {
    bool ok;
    const uint32_t i = block_index(b, &ok);
    if (!ok || pieces_[b.piece].have) return;
    if (state_[i] != kRequested && state_[i] != kReceiving) return;
    if (nreq_[i]) --nreq_[i];
    if (nreq_[i] || state_[i] != kRequested) return;
    state_[i] = kFree;
    ++unrequested_;
    Piece &pc = pieces_[b.piece];
    if (pc.active) --pc.active;
    if (--pc.touched == 0) drop_partial(b.piece);
}

PiecePicker::Block PiecePicker::claim(const BlockReq &b, bool *others) {
    bool ok;
    const uint32_t i = block_index(b, &ok);
    if (others) *others = false;
    if (!ok) return Block::kInvalid;
    if (pieces_[b.piece].have || state_[i] == kReceiving || state_[i] == kReceived)
        return Block::kDuplicate;
    if (state_[i] == kFree) {
        // Unrequested (or requested and aborted): accept it anyway, the data
        // is as good; it counts as touched now.
        --unrequested_;
        ++pieces_[b.piece].touched;
        ++pieces_[b.piece].active;
        make_partial(b.piece);
        nreq_[i] = 1;
    }
    state_[i] = kReceiving;
    if (others) *others = nreq_[i] > 1;
    return Block::kNew;
}

void PiecePicker::unclaim(const BlockReq &b) {
    bool ok;
    const uint32_t i = block_index(b, &ok);
    if (!ok || state_[i] != kReceiving) return;
    // The connection that was receiving it dropped its request with it.
    state_[i] = kRequested;
    abort_request(b);
}

bool PiecePicker::received(const BlockReq &b) {
    bool ok;
    const uint32_t i = block_index(b, &ok);
    if (!ok || state_[i] != kReceiving) return false;
    state_[i] = kReceived;
    Piece &pc = pieces_[b.piece];
    ++pc.received;
    if (pc.active) --pc.active;
    return pc.received == blocks_in(b.piece);
}

void PiecePicker::passed(uint32_t piece) {
    if (piece >= cfg_.num_pieces || pieces_[piece].have) return;
    Piece &pc = pieces_[piece];
    if (pc.received != blocks_in(piece)) return;
    drop_partial(piece);
    pc.have = true;
    ++have_count_;
}

void PiecePicker::failed(uint32_t piece) {
    if (piece >= cfg_.num_pieces || pieces_[piece].have) return;
    Piece &pc = pieces_[piece];
    const uint32_t nb = blocks_in(piece), base = piece * bpp_;
    for (uint32_t b = 0; b < nb; ++b) {
        if (state_[base + b] == kFree) continue;
        if (state_[base + b] == kReceived) {
            state_[base + b] = kFree;
            nreq_[base + b] = 0;
            ++unrequested_;
        }
        // Blocks still requested elsewhere (endgame) stay requested.
    }
    pc.received = 0;
    uint32_t touched = 0;
    for (uint32_t b = 0; b < nb; ++b) touched += state_[base + b] != kFree;
    pc.touched = static_cast<uint16_t>(touched);
    pc.active = static_cast<uint16_t>(touched);  // no block is received now
    if (touched == 0) drop_partial(piece);
}

}  // namespace ep::swarm

#include "dataplane/swarm/fetch_session.h"

#include <cstring>

#include "dataplane/swarm/sha1.h"

namespace ep::swarm {

// ---------------------------------------------------------------- torrent

bool FetchTorrent::init(const FetchTorrentConfig &cfg, PieceSink *sink, FetchCounters *ctr,
                        uint64_t seed) {
    if (!sink || !ctr || !cfg.piece_hashes || cfg.max_slots == 0 || cfg.max_slots > 0xFFFF ||
        cfg.cancel_log == 0 || cfg.ban_after == 0)
        return false;
    if (!picker_.init(cfg.picker, seed)) return false;
    cfg_ = cfg;
    sink_ = sink;
    ctr_ = ctr;
    const uint64_t blocks = uint64_t{cfg.picker.num_pieces} * (cfg.picker.piece_length / kBlockLen);
    contrib_.assign(blocks, 0);
    others_.assign(blocks, false);
    bad_.assign(cfg.max_slots, 0);
    bad_stamp_.assign(cfg.max_slots, 0);
    failed_checks_ = 0;
    done_.reserve(cfg.picker.num_pieces);
    done_.clear();
    cancels_.assign(cfg.cancel_log, BlockReq{});
    cancel_seq_ = 0;
    held_bits_.assign(cfg.picker.num_pieces, false);
    held_log_.reserve(cfg.picker.num_pieces);
    held_log_.clear();
    return true;
}

void FetchTorrent::mark_held(uint32_t piece) {
    if (piece >= held_bits_.size() || held_bits_[piece]) return;
    held_bits_[piece] = true;
    held_log_.push_back(piece);
}

void FetchTorrent::reset_slot(uint32_t slot) {
    if (slot >= bad_.size()) return;
    bad_[slot] = 0;
    bad_stamp_[slot] = 0;
}

PiecePicker::Block FetchTorrent::begin_block(uint32_t slot, const BlockReq &b) {
    bool others = false;
    const PiecePicker::Block r = picker_.claim(b, &others);
    if (r == PiecePicker::Block::kNew) {
        const uint64_t i =
            uint64_t{b.piece} * (cfg_.picker.piece_length / kBlockLen) + b.begin / kBlockLen;
        contrib_[i] = static_cast<uint16_t>(slot);
        others_[i] = others;
    }
    return r;
}

void FetchTorrent::write(const BlockReq &b, uint32_t off, const uint8_t *p, uint32_t n) {
    // Bounded by the block (the parser bounded it by the piece already).
    if (off >= b.length || n > b.length - off) return;
    uint8_t *buf = sink_->piece_buffer(b.piece);
    if (buf) std::memcpy(buf + b.begin + off, p, n);
}

void FetchTorrent::end_block(const BlockReq &b) {
    const uint64_t i =
        uint64_t{b.piece} * (cfg_.picker.piece_length / kBlockLen) + b.begin / kBlockLen;
    if (others_[i]) {
        // Endgame: the other connections that asked for it cancel theirs.
        cancels_[cancel_seq_ % cfg_.cancel_log] = b;
        ++cancel_seq_;
        others_[i] = false;
    }
    ++ctr_->blocks_received;
    if (picker_.received(b)) verify(b.piece);
}

void FetchTorrent::verify(uint32_t piece) {
    const uint8_t *buf = sink_->piece_buffer(piece);
    const uint32_t len = picker_.piece_len(piece);
    const Sha1 h = buf ? sha1(buf, len) : Sha1{};
    if (buf && std::memcmp(h.data(), cfg_.piece_hashes + uint64_t{piece} * 20, 20) == 0) {
        picker_.passed(piece);
        done_.push_back(piece);
        ++ctr_->pieces_passed;
        sink_->piece_done(piece);
        return;
    }
    // Every connection that wrote a block of it is suspect: a piece can be
    // assembled from several peers' blocks, and the hash cannot say whose
    // block was wrong. Each counts once per failed check (stamped with the
    // check's number: the same piece failing again, from a peer that
    // reconnected, counts again).
    ++ctr_->pieces_failed;
    const uint32_t check = ++failed_checks_;
    const uint32_t bpp = cfg_.picker.piece_length / kBlockLen;
    const uint32_t nb = picker_.blocks_in(piece);
    for (uint32_t k = 0; k < nb; ++k) {
        const uint16_t s = contrib_[uint64_t{piece} * bpp + k];
        if (s < bad_.size() && bad_stamp_[s] != check) {
            bad_stamp_[s] = check;
            ++bad_[s];
        }
    }
    picker_.failed(piece);
    sink_->piece_bad(piece);
}

// ---------------------------------------------------------------- session

bool FetchSession::init(const FetchConfig *cfg, FetchTorrent *tor, uint32_t slot, uint8_t *bitfield,
                        BlockReq *outstanding) {
    cfg_ = cfg;
    tor_ = tor;
    ctr_ = tor ? &tor->counters() : nullptr;
    slot_ = slot;
    bits_ = bitfield;
    out_ = outstanding;
    st_ = St::kClosed;
    return cfg && tor && bitfield && outstanding && cfg->queue_depth > 0 &&
           slot < tor->config().max_slots;
}

void FetchSession::start(uint64_t now_ns) {
    const PickerConfig &pc = tor_->config().picker;
    pw::Limits lim;
    lim.num_pieces = pc.num_pieces;
    lim.piece_length = pc.piece_length;
    lim.total_length = pc.total_length;
    parser_ = pw::Parser(lim);
    st_ = St::kHandshake;
    fast_ = false;
    first_msg_ = true;
    peer_choking_ = true;
    am_choking_ = true;
    accepted_ = false;
    up_head_ = up_tail_ = 0;
    up_started_ = false;
    am_interested_ = peer_interested_ = false;
    all_ = counted_ = bf_apply_ = false;
    bytes_ = (pc.num_pieces + 7) / 8;
    std::memset(bits_, 0, bytes_);
    useful_ = 0;
    n_out_ = 0;
    cur_on_ = cur_write_ = false;
    have_cursor_ = useful_cursor_ = 0;
    cancel_cursor_ = tor_->cancel_seq();
    started_ns_ = last_rx_ns_ = last_tx_ns_ = last_block_ns_ = now_ns;
    choke_ = ChokePeer{};
    choke_.connected_ns = now_ns;
    rhead_ = rtail_ = 0;
    // The slot's bad-piece count is kept: the glue gives each peer address
    // one slot, so a corrupt peer that reconnects after every bad piece is
    // still banned (reset_slot() is for a slot given to another address).
    // BEP 3: the initiator sends its handshake first. We set the fast bit
    // (BEP 6) and not the extension bit: fill mode needs no BEP 10 yet.
    uint8_t hs[pw::kHandshakeLen];
    pw::write_handshake(hs, tor_->config().info_hash, cfg_->peer_id, true, false);
    put(hs, sizeof hs);
}

void FetchSession::start_accepted(uint64_t now_ns) {
    start(now_ns);
    rhead_ = rtail_ = 0;  // our handshake answers theirs (on_handshake)
    accepted_ = true;
}

bool FetchSession::put(const uint8_t *p, uint32_t n) {
    if (st_ == St::kClosed) return false;
    if (rtail_ - rhead_ + n > kRing) {
        ++ctr_->output_full;
        shut();
        return false;
    }
    for (uint32_t i = 0; i < n; ++i) ring_[(rtail_ + i) & (kRing - 1)] = p[i];
    rtail_ += n;
    return true;
}

void FetchSession::put_simple(pw::MsgId id) {
    uint8_t m[5];
    pw::write_simple(m, id);
    put(m, 5);
}

uint32_t FetchSession::output(const uint8_t **p) const {
    const uint32_t pos = rhead_ & (kRing - 1), len = rtail_ - rhead_;
    *p = ring_ + pos;
    return len < kRing - pos ? len : kRing - pos;
}

void FetchSession::consume(uint32_t n) {
    if (n > rtail_ - rhead_) n = rtail_ - rhead_;
    rhead_ += n;
}

int FetchSession::find_out(const BlockReq &b) const {
    for (uint32_t k = 0; k < n_out_; ++k)
        if (out_[k] == b && out_[k].length == b.length) return static_cast<int>(k);
    return -1;
}

void FetchSession::drop_out(uint32_t k) {
    // Order does not matter: the peer answers requests in any order.
    out_[k] = out_[--n_out_];
}

void FetchSession::abort_all() {
    for (uint32_t k = 0; k < n_out_; ++k) tor_->picker().abort_request(out_[k]);
    n_out_ = 0;
}

void FetchSession::shut() {
    if (st_ == St::kClosed) return;
    st_ = St::kClosed;
    abort_all();
    up_head_ = up_tail_ = 0;
    up_started_ = false;
    if (cur_on_ && cur_write_) tor_->picker().unclaim(cur_);
    cur_on_ = cur_write_ = false;
    if (counted_) {
        if (all_)
            tor_->picker().remove_seed();
        else
            tor_->picker().remove_bitfield(bits_);
        counted_ = false;
    }
}

void FetchSession::close() {
    shut();
}

size_t FetchSession::feed(const uint8_t *in, size_t n, uint64_t now_ns) {
    size_t used = 0;
    if (n) last_rx_ns_ = now_ns;
    while (st_ != St::kClosed) {
        pw::Event e;
        used += parser_.feed(in + used, n - used, &e);
        switch (e.ev) {
            case pw::Ev::kNone:
                sync();
                return used;
            case pw::Ev::kError:
                ++ctr_->wire_errors[static_cast<unsigned>(e.err)];
                shut();
                return used;
            case pw::Ev::kHandshake:
                on_handshake(e.hs);
                break;
            case pw::Ev::kKeepAlive:
                break;
            case pw::Ev::kMessage:
                on_message(e, now_ns);
                break;
            case pw::Ev::kPayload:
                if (e.id == pw::kBitfield && bf_apply_) {
                    std::memcpy(bits_ + e.data_off, e.data, e.data_len);
                } else if (e.id == pw::kPiece && cur_on_ && cur_write_) {
                    tor_->write(cur_, e.data_off, e.data, e.data_len);
                }
                break;
            case pw::Ev::kMessageEnd:
                if (e.id == pw::kBitfield && bf_apply_) {
                    bf_apply_ = false;
                    sync_useful();
                    tor_->picker().add_bitfield(bits_);
                    counted_ = true;
                    for (uint32_t p = 0; p < tor_->config().picker.num_pieces; ++p)
                        if (peer_has(p) && !tor_->picker().have(p)) ++useful_;
                } else if (e.id == pw::kPiece) {
                    on_piece_end(now_ns);
                }
                break;
        }
        if (tor_->banned(slot_)) {
            ++ctr_->banned;
            shut();
        }
    }
    return used;
}

void FetchSession::on_handshake(const pw::Handshake &hs) {
    if (std::memcmp(hs.info_hash, tor_->config().info_hash, 20) != 0) {
        ++ctr_->wrong_torrent;
        shut();
        return;
    }
    ++ctr_->handshakes;
    st_ = St::kActive;
    fast_ = hs.reserved[pw::kReservedFastByte] & pw::kReservedFastBit;
    if (accepted_) {
        // BEP 3: the receiver answers once it knows the torrent is one it has.
        ++ctr_->accepted;
        uint8_t ours[pw::kHandshakeLen];
        pw::write_handshake(ours, tor_->config().info_hash, cfg_->peer_id, true, false);
        if (!put(ours, sizeof ours)) return;
    }
    const PickerConfig &pc = tor_->config().picker;
    pw::Limits lim;
    lim.num_pieces = pc.num_pieces;
    lim.piece_length = pc.piece_length;
    lim.total_length = pc.total_length;
    lim.fast = fast_;
    parser_.set_limits(lim);
    // What we already hold: have-all/have-none (BEP 6) or a bitfield (BEP
    // 3); the pieces held from now on go out as `have` (sync_haves).
    // Held, not merely verified: a peer may request what we advertise, and
    // we send it from its chunk.
    have_cursor_ = tor_->held_count();
    useful_cursor_ = tor_->completed();
    put_bitfield();
}

void FetchSession::put_bitfield() {
    const uint32_t n = tor_->config().picker.num_pieces, held = tor_->held_count();
    if (fast_ && held == 0) {
        put_simple(pw::kHaveNone);
    } else if (fast_ && held == n) {
        put_simple(pw::kHaveAll);
    } else if (held) {
        uint8_t head[5];
        pw::write_bitfield_head(head, bytes_);
        if (!put(head, 5)) return;
        for (uint32_t b = 0; b < bytes_; ++b) {
            uint8_t v = 0;
            for (uint32_t k = 0; k < 8; ++k) {
                const uint32_t p = b * 8 + k;
                if (p < n && tor_->held(p)) v |= static_cast<uint8_t>(0x80u >> k);
            }
            if (!put(&v, 1)) return;
        }
    }
}

void FetchSession::add_useful(uint32_t piece) {
    if (!tor_->picker().have(piece)) ++useful_;
}

void FetchSession::on_message(const pw::Event &e, uint64_t now_ns) {
    const bool first = first_msg_;
    first_msg_ = false;
    PiecePicker &pk = tor_->picker();
    switch (e.id) {
        case pw::kChoke:
            peer_choking_ = true;
            // BEP 6: with the fast extension a choke does not cancel
            // requests (the peer rejects each one it drops); without it,
            // every request is gone.
            if (!fast_ && n_out_) {
                ctr_->choke_drops += n_out_;
                abort_all();
            }
            break;
        case pw::kUnchoke:
            peer_choking_ = false;
            break;
        case pw::kInterested:
            peer_interested_ = choke_.interested = true;
            break;
        case pw::kNotInterested:
            peer_interested_ = choke_.interested = false;
            break;
        case pw::kHave:
            if (all_ || peer_has(e.index)) break;
            sync_useful();
            if (st_ == St::kClosed) break;
            bits_[e.index >> 3] |= static_cast<uint8_t>(0x80u >> (e.index & 7));
            if (counted_) {
                pk.add_have(e.index);
            } else {
                // A have before (or instead of) a bitfield: the bitfield is
                // all zero so far; count it from here on.
                pk.add_bitfield(bits_);
                counted_ = true;
            }
            add_useful(e.index);
            break;
        case pw::kBitfield:
            // Its payload follows (kPayload, kMessageEnd). Only as the first
            // message (BEP 3); later ones are skipped.
            bf_apply_ = first && !counted_;
            if (!bf_apply_) ++ctr_->bitfield_not_first;  // its payload is skipped
            break;
        case pw::kHaveAll:
            if (!first || counted_) {
                ++ctr_->bitfield_not_first;
                break;
            }
            sync_useful();
            all_ = true;
            counted_ = true;
            pk.add_seed();
            useful_ = tor_->config().picker.num_pieces - pk.have_count();
            break;
        case pw::kHaveNone:
            if (!first || counted_) ++ctr_->bitfield_not_first;
            counted_ = true;
            break;
        case pw::kRequest:
            on_request(e);
            break;
        case pw::kCancel:
            on_cancel(e);
            break;
        case pw::kReject: {
            const int k = find_out(BlockReq{e.index, e.begin, e.length});
            if (k >= 0) {
                ++ctr_->rejects_received;
                pk.abort_request(out_[k]);
                drop_out(static_cast<uint32_t>(k));
            }
            break;
        }
        case pw::kPiece:
            on_piece_start(e);
            break;
        default:
            break;  // port, suggest, allowed-fast: nothing to do yet
    }
    (void)now_ns;
}

void FetchSession::on_piece_start(const pw::Event &e) {
    cur_ = BlockReq{e.index, e.begin, e.length};
    cur_on_ = e.payload_len > 0;  // an empty piece message has no end event
    cur_write_ = false;
    const int k = find_out(cur_);
    if (k < 0) {
        ++ctr_->blocks_unrequested;
        return;
    }
    drop_out(static_cast<uint32_t>(k));
    const PiecePicker::Block r = tor_->begin_block(slot_, cur_);
    if (r == PiecePicker::Block::kNew && cur_on_) {
        cur_write_ = true;
    } else {
        // A copy from elsewhere arrived first (endgame), or the block does
        // not match ours: our request is answered, the data dropped.
        if (r == PiecePicker::Block::kNew)
            tor_->picker().unclaim(cur_);
        else
            tor_->picker().abort_request(cur_);
        ++ctr_->blocks_duplicate;
    }
}

void FetchSession::on_piece_end(uint64_t now_ns) {
    if (!cur_on_) return;
    cur_on_ = false;
    choke_.downloaded += cur_.length;
    choke_.last_piece_ns = last_block_ns_ = now_ns;
    if (!cur_write_) return;
    cur_write_ = false;
    tor_->end_block(cur_);
}

// `have` for every piece held since the last call (BEP 3: sent to every
// connected peer as a piece completes; here once it is a chunk we can send).
void FetchSession::sync_haves() {
    while (have_cursor_ < tor_->held_count()) {
        uint8_t m[9];
        pw::write_have(m, tor_->held_at(have_cursor_++));
        if (!put(m, sizeof m)) return;
    }
}

// Pieces verified since the last call that the peer has are no longer
// useful from it. Called before the peer's bits change, so a piece is
// never both counted in by add_useful and out here.
void FetchSession::sync_useful() {
    while (useful_cursor_ < tor_->completed()) {
        const uint32_t p = tor_->completed_at(useful_cursor_++);
        if (peer_has(p) && useful_) --useful_;
    }
}

void FetchSession::reject(const BlockReq &b) {
    // BEP 6: with the fast extension every request gets a piece or a
    // reject; without it a dropped request is simply not answered (BEP 3).
    if (!fast_) return;
    uint8_t m[17];
    pw::write_request(m, pw::kReject, b.piece, b.begin, b.length);
    put(m, sizeof m);
}

void FetchSession::on_request(const pw::Event &e) {
    // The parser bounded it already: a 16 KiB block at most, inside the piece.
    const BlockReq b{e.index, e.begin, e.length};
    if (am_choking_) {
        ++ctr_->requests_refused;
        ++ctr_->requests_while_choked;
        return reject(b);
    }
    if (!tor_->held(b.piece)) {
        ++ctr_->requests_refused;
        ++ctr_->requests_not_held;
        return reject(b);
    }
    if (up_tail_ - up_head_ >= kUpQueue) {
        ++ctr_->requests_refused;
        ++ctr_->upload_queue_full;
        return reject(b);
    }
    up_[up_tail_++ % kUpQueue] = b;
    ++ctr_->requests_queued;
}

void FetchSession::on_cancel(const pw::Event &e) {
    // A queued request that has not started is removed (and, BEP 6,
    // rejected); the block being sent is finished.
    const BlockReq b{e.index, e.begin, e.length};
    for (uint32_t k = up_head_ + (up_started_ ? 1 : 0); k != up_tail_; ++k) {
        const BlockReq &q = up_[k % kUpQueue];
        if (!(q == b) || q.length != b.length) continue;
        for (uint32_t j = k; j + 1 != up_tail_; ++j) up_[j % kUpQueue] = up_[(j + 1) % kUpQueue];
        --up_tail_;
        ++ctr_->cancels_received;
        return reject(b);
    }
}

void FetchSession::set_choked(bool choke) {
    if (st_ != St::kActive || choke == am_choking_) return;
    am_choking_ = choke;
    put_simple(choke ? pw::kChoke : pw::kUnchoke);
    if (!choke) return;
    // BEP 3: a choke discards the peer's pending requests; BEP 6: each is
    // rejected. The one being sent is finished by the glue.
    const uint32_t keep = up_started_ && up_tail_ != up_head_ ? 1 : 0;
    for (uint32_t k = up_head_ + keep; k != up_tail_; ++k) reject(up_[k % kUpQueue]);
    up_tail_ = up_head_ + keep;
}

void FetchSession::upload_done() {
    if (up_tail_ == up_head_) return;
    const BlockReq &b = up_[up_head_ % kUpQueue];
    choke_.uploaded += b.length;
    ++ctr_->blocks_uploaded;
    ctr_->bytes_uploaded += b.length;
    ++up_head_;
    up_started_ = false;
}

void FetchSession::sync() {
    if (st_ != St::kActive) return;
    sync_useful();
    sync_haves();
    // Endgame cancels: blocks another connection received first.
    const uint64_t seq = tor_->cancel_seq();
    const uint32_t log = tor_->config().cancel_log;
    if (seq - cancel_cursor_ > log) cancel_cursor_ = seq - log;
    for (; cancel_cursor_ < seq; ++cancel_cursor_) {
        const BlockReq &b = tor_->cancel_at(cancel_cursor_);
        const int k = find_out(b);
        if (k < 0) continue;
        uint8_t m[17];
        pw::write_request(m, pw::kCancel, b.piece, b.begin, b.length);
        if (!put(m, sizeof m)) return;
        ++ctr_->cancels_sent;
        tor_->picker().abort_request(out_[k]);
        drop_out(static_cast<uint32_t>(k));
    }
    // Interest (BEP 3): the peer has a piece we lack.
    const bool want = useful_ > 0 && !tor_->picker().complete();
    if (want != am_interested_) {
        am_interested_ = want;
        put_simple(want ? pw::kInterested : pw::kNotInterested);
    }
    // Pipelining: keep up to queue_depth requests outstanding while
    // unchoked, refilled when half of them are answered (one pick per
    // several blocks, not one per block).
    if (st_ != St::kActive || peer_choking_ || !am_interested_ || n_out_ > cfg_->queue_depth / 2)
        return;
    if (n_out_ == 0) last_block_ns_ = last_rx_ns_;  // the request clock starts now
    const uint32_t got = tor_->picker().pick(slot_, PeerHas{bits_, all_}, out_, n_out_,
                                             out_ + n_out_, cfg_->queue_depth - n_out_);
    for (uint32_t k = 0; k < got; ++k) {
        const BlockReq &b = out_[n_out_ + k];
        uint8_t m[17];
        pw::write_request(m, pw::kRequest, b.piece, b.begin, b.length);
        if (!put(m, sizeof m)) {
            // Closed (shut() released n_out_ requests); release the rest.
            for (uint32_t j = k; j < got; ++j) tor_->picker().abort_request(out_[n_out_ + j]);
            return;
        }
        ++ctr_->requests_sent;
    }
    n_out_ += got;
}

void FetchSession::tick(uint64_t now_ns) {
    if (st_ == St::kClosed) return;
    if (st_ == St::kHandshake) {
        if (now_ns - started_ns_ >= cfg_->handshake_timeout_ns) {
            ++ctr_->handshake_timeouts;
            shut();
        }
        return;
    }
    if (now_ns - last_rx_ns_ >= cfg_->idle_timeout_ns) {
        ++ctr_->idle_timeouts;
        shut();
        return;
    }
    if (now_ns - last_tx_ns_ >= cfg_->keepalive_ns) {
        uint8_t m[4];
        pw::write_keepalive(m);
        put(m, 4);
        ++ctr_->keepalives_sent;
        last_tx_ns_ = now_ns;
    }
    // A peer that holds our requests and sends nothing: give them to others
    // (it may still answer; a late block is then a duplicate or unrequested).
    if (n_out_ && now_ns - last_block_ns_ >= cfg_->request_timeout_ns) {
        ctr_->request_timeouts += n_out_;
        for (uint32_t k = 0; k < n_out_; ++k) {
            uint8_t m[17];
            pw::write_request(m, pw::kCancel, out_[k].piece, out_[k].begin, out_[k].length);
            put(m, sizeof m);
        }
        abort_all();
        last_block_ns_ = now_ns;
    }
    sync();
    if (has_output()) last_tx_ns_ = now_ns;  // the glue drains it by the next tick
}

}  // namespace ep::swarm

#include "dataplane/swarm/peer_session.h"

#include <cstring>

namespace ep::swarm {

namespace {
// Decimal digits of v into out; returns the count.
uint32_t put_uint(uint8_t *out, uint64_t v) {
    char tmp[24];
    uint32_t n = 0;
    do {
        tmp[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v);
    for (uint32_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(tmp[n - 1 - i]);
    return n;
}
// A tiny appender over a fixed buffer (bencoding of our own small dicts).
struct Put {
    uint8_t *p;
    uint32_t n = 0;
    void s(const char *lit) {
        const size_t k = std::strlen(lit);
        std::memcpy(p + n, lit, k);
        n += static_cast<uint32_t>(k);
    }
    void i(uint64_t v) {
        p[n++] = 'i';
        n += put_uint(p + n, v);
        p[n++] = 'e';
    }
};
int64_t dict_int(const BNode *nodes, uint32_t d, const char *key, int64_t dflt) {
    const uint32_t v = bdict_find(nodes, d, key);
    return v && nodes[v].type == BType::kInt ? nodes[v].i : dflt;
}
}  // namespace

bool PeerSession::init(const SessionConfig *cfg, SessionCounters *ctr, OutItem *items,
                       uint32_t items_cap) {
    cfg_ = cfg;
    ctr_ = ctr;
    items_ = items;
    cap_ = items_cap;
    return cfg && ctr && items && items_cap > cfg->reqq;
}

void PeerSession::start(uint64_t now_ns) {
    parser_ = pw::Parser(pw::Limits{});
    lim_ = {};
    st_ = St::kHandshake;
    hs_ = {};
    tor_ = {};
    tag_ = 0;
    fast_ = extended_ = false;
    choked_ = true;
    interested_ = false;
    first_msg_ = true;
    peer_ut_metadata_ = 0;
    started_ns_ = last_rx_ns_ = last_tx_ns_ = now_ns_ = now_ns;
    uploaded_ = 0;
    outstanding_ = 0;
    head_ = tail_ = 0;
    front_started_ = false;
    rhead_ = rtail_ = 0;
    ext_id_ = 0;
    ext_len_ = 0;
    ext_skip_ = false;
}

bool PeerSession::push(const OutItem &it) {
    if (tail_ - head_ >= cap_) {
        ++ctr_->output_full;
        close();
        return false;
    }
    items_[tail_++ % cap_] = it;
    return true;
}

bool PeerSession::push_bytes(const uint8_t *p, uint32_t n) {
    if (rtail_ - rhead_ + n > kByteRing) {
        ++ctr_->output_full;
        close();
        return false;
    }
    OutItem it;
    it.kind = OutItem::kBytes;
    it.len = n;
    if (!push(it)) return false;
    for (uint32_t i = 0; i < n; ++i) ring_[(rtail_ + i) & (kByteRing - 1)] = p[i];
    rtail_ += n;
    return true;
}

uint32_t PeerSession::bytes_at(uint32_t off, const uint8_t **p) const {
    const OutItem &it = front();
    if (it.kind != OutItem::kBytes || off >= it.len) return 0;
    const uint32_t pos = (rhead_ + off) & (kByteRing - 1);
    const uint32_t rest = it.len - off;
    *p = ring_ + pos;
    return rest < kByteRing - pos ? rest : kByteRing - pos;
}

void PeerSession::pop_front() {
    if (!has_output()) return;
    const OutItem &it = front();
    if (it.kind == OutItem::kBytes) rhead_ += it.len;
    if (it.kind == OutItem::kPiece && !it.cancelled) --outstanding_;
    ++head_;
    front_started_ = false;
    last_tx_ns_ = now_ns_;
}

size_t PeerSession::feed(const uint8_t *in, size_t n, uint64_t now_ns) {
    size_t used = 0;
    now_ns_ = now_ns;
    if (n) last_rx_ns_ = now_ns;
    while (st_ == St::kHandshake || st_ == St::kActive) {
        pw::Event e;
        used += parser_.feed(in + used, n - used, &e);
        switch (e.ev) {
            case pw::Ev::kNone:
                return used;
            case pw::Ev::kError:
                ++ctr_->wire_errors[static_cast<unsigned>(e.err)];
                close();
                return used;
            case pw::Ev::kHandshake:
                hs_ = e.hs;
                st_ = St::kLookup;  // the glue looks the info hash up
                return used;
            case pw::Ev::kKeepAlive:
                break;
            case pw::Ev::kMessage:
                on_message(e);
                break;
            case pw::Ev::kPayload:
                if (e.id == pw::kExtended && !ext_skip_) {
                    std::memcpy(ext_buf_ + e.data_off, e.data, e.data_len);
                    ext_len_ = e.data_off + e.data_len;
                }
                break;  // bitfield payloads: a seed needs nothing from them
            case pw::Ev::kMessageEnd:
                if (e.id == pw::kExtended) on_extended();
                break;
        }
    }
    return used;
}

void PeerSession::set_torrent(const SessionTorrent &t, uint32_t tag) {
    if (st_ != St::kLookup) return;
    tor_ = t;
    tag_ = tag;
    fast_ = hs_.reserved[pw::kReservedFastByte] & pw::kReservedFastBit;
    extended_ = hs_.reserved[pw::kReservedExtByte] & pw::kReservedExtBit;
    lim_.num_pieces = t.num_pieces;
    lim_.piece_length = t.piece_length;
    lim_.total_length = t.total_length;
    lim_.fast = fast_;
    lim_.extended = extended_;
    parser_.set_limits(lim_);
    st_ = St::kActive;
    ++ctr_->handshakes;
    // BEP 3: the receiving side answers once it knows the torrent. We set
    // both the fast (BEP 6) and the extension (BEP 10) bits.
    uint8_t hs[pw::kHandshakeLen];
    pw::write_handshake(hs, hs_.info_hash, cfg_->peer_id, true, true);
    if (!push_bytes(hs, sizeof hs)) return;
    // BEP 6: have-all (or BEP 3's bitfield) is the first message after the
    // handshake; the extension handshake follows (BEP 10 "should be sent
    // immediately after the standard bittorrent handshake": libtorrent
    // sends it after the bitfield too).
    if (fast_) {
        uint8_t m[5];
        pw::write_simple(m, pw::kHaveAll);
        if (!push_bytes(m, 5)) return;
    } else {
        OutItem it;
        it.kind = OutItem::kBitfield;
        it.len = (t.num_pieces + 7) / 8;
        if (!push(it)) return;
    }
    if (extended_) send_ext_handshake();
}

void PeerSession::unknown_torrent() {
    ++ctr_->unknown_torrent;
    close();
}

void PeerSession::send_ext_handshake() {
    // Keys in sorted order (BEP 3 dictionaries): m, metadata_size, reqq,
    // upload_only (BEP 21: we only seed), v.
    uint8_t buf[192];
    Put w{buf + 6};
    w.s("d1:md11:ut_metadata");
    w.i(kOurUtMetadata);
    w.s("e");
    if (tor_.metadata_size) {
        w.s("13:metadata_size");
        w.i(tor_.metadata_size);
    }
    w.s("4:reqq");
    w.i(cfg_->reqq);
    w.s("11:upload_onlyi1e1:v9:edgeplanee");
    pw::write_extended_head(buf, 0, w.n);
    push_bytes(buf, 6 + w.n);
}

void PeerSession::send_reject(uint32_t index, uint32_t begin, uint32_t len) {
    OutItem it;
    it.kind = OutItem::kReject;
    it.index = index, it.begin = begin, it.len = len;
    if (push(it)) ++ctr_->rejects_sent;
}

void PeerSession::on_message(const pw::Event &e) {
    // libtorrent sends its BEP 10 handshake before its have-none: an
    // extended message does not end the "first message" window.
    const bool first = first_msg_;
    if (e.id != pw::kExtended) first_msg_ = false;
    switch (e.id) {
        case pw::kInterested:
            interested_ = true;
            break;
        case pw::kNotInterested:
            interested_ = false;
            break;
        case pw::kBitfield:
        case pw::kHaveAll:
        case pw::kHaveNone:
            // BEP 3 / BEP 6: only ever the first message after the handshake.
            // Counted, not fatal: aria2 1.36 sends one after its first
            // requests, and a seed needs nothing from the peer's pieces.
            if (!first) ++ctr_->bitfield_not_first;
            break;
        case pw::kRequest:
            on_request(e);
            break;
        case pw::kCancel:
            on_cancel(e);
            break;
        case pw::kPiece:
            // We never request: a piece is either a confused or a hostile peer.
            ++ctr_->unrequested_piece;
            close();
            break;
        case pw::kExtended:
            ext_id_ = static_cast<uint8_t>(e.index);
            ext_len_ = 0;
            ext_skip_ = e.payload_len > kExtMax;
            if (e.payload_len == 0) on_extended();
            break;
        default:
            // choke/unchoke (we download nothing), have, port, suggest,
            // allowed-fast, reject: nothing for a seed to do.
            break;
    }
}

void PeerSession::on_request(const pw::Event &e) {
    ++ctr_->requests;
    if (choked_) {
        // BEP 6: a request we will not serve gets a reject; BEP 3 peers
        // know a choked peer's requests are dropped.
        ++ctr_->requests_while_choked;
        if (fast_) send_reject(e.index, e.begin, e.length);
        return;
    }
    if (outstanding_ >= cfg_->reqq) {
        ++ctr_->too_many_requests;
        close();
        return;
    }
    OutItem it;
    it.kind = OutItem::kPiece;
    it.index = e.index, it.begin = e.begin, it.len = e.length;
    if (!push(it)) return;
    ++outstanding_;
    ++ctr_->blocks_queued;
}

void PeerSession::on_cancel(const pw::Event &e) {
    for (uint32_t k = head_ + (front_started_ ? 1 : 0); k != tail_; ++k) {
        OutItem &it = items_[k % cap_];
        if (it.kind != OutItem::kPiece || it.cancelled || it.index != e.index ||
            it.begin != e.begin || it.len != e.length)
            continue;
        it.cancelled = true;
        --outstanding_;
        ++ctr_->cancels;
        // BEP 6: with the fast extension a cancelled request is still
        // answered, with the piece or a reject.
        if (fast_) send_reject(e.index, e.begin, e.length);
        return;
    }
}

void PeerSession::set_choked(bool choked) {
    if (st_ != St::kActive || choked == choked_) return;
    choked_ = choked;
    uint8_t m[5];
    pw::write_simple(m, choked ? pw::kChoke : pw::kUnchoke);
    if (!push_bytes(m, 5) || !choked) return;
    // BEP 3: choking discards the peer's pending requests; BEP 6: with the
    // fast extension each is rejected explicitly.
    const uint32_t end = tail_;
    for (uint32_t k = head_ + (front_started_ ? 1 : 0); k != end; ++k) {
        OutItem &it = items_[k % cap_];
        if (it.kind != OutItem::kPiece || it.cancelled) continue;
        it.cancelled = true;
        --outstanding_;
        if (fast_) {
            const OutItem copy = it;
            send_reject(copy.index, copy.begin, copy.len);
            if (closed()) return;
        }
    }
}

void PeerSession::on_extended() {
    if (ext_skip_) {
        ++ctr_->ext_ignored;
        return;
    }
    const std::string_view msg(reinterpret_cast<const char *>(ext_buf_), ext_len_);
    uint32_t n = 0;
    size_t used = 0;
    if (ext_id_ == 0) {  // BEP 10 handshake
        if (bdecode(msg, nodes_, sizeof nodes_ / sizeof nodes_[0], &n) != BError::kOk ||
            nodes_[0].type != BType::kDict) {
            ++ctr_->ext_bad;
            return;
        }
        ++ctr_->ext_handshakes;
        const uint32_t m = bdict_find(nodes_, 0, "m");
        if (m && nodes_[m].type == BType::kDict) {
            const int64_t id = dict_int(nodes_, m, "ut_metadata", 0);
            peer_ut_metadata_ = id > 0 && id < 256 ? static_cast<uint8_t>(id) : 0;
        }
        return;
    }
    if (ext_id_ != kOurUtMetadata) {
        ++ctr_->ext_ignored;
        return;
    }
    // BEP 9: a bencoded dict, followed by raw data in a data message.
    if (bdecode_prefix(msg, nodes_, sizeof nodes_ / sizeof nodes_[0], &n, &used) != BError::kOk ||
        nodes_[0].type != BType::kDict) {
        ++ctr_->ext_bad;
        return;
    }
    const int64_t type = dict_int(nodes_, 0, "msg_type", -1);
    const int64_t piece = dict_int(nodes_, 0, "piece", -1);
    if (type != 0) return;  // data or reject sent to a seed: nothing to do
    ++ctr_->metadata_requests;
    if (!peer_ut_metadata_) {  // it never told us where to send the answer
        ++ctr_->ext_ignored;
        return;
    }
    const uint64_t off = static_cast<uint64_t>(piece) * kMetaPiece;
    if (piece < 0 || off >= tor_.metadata_size) {
        ++ctr_->metadata_rejects;
        uint8_t buf[64];
        Put w{buf + 6};
        w.s("d8:msg_typei2e5:piece");
        w.i(piece < 0 ? 0 : static_cast<uint64_t>(piece));
        w.s("e");
        pw::write_extended_head(buf, peer_ut_metadata_, w.n);
        push_bytes(buf, 6 + w.n);
        return;
    }
    OutItem it;
    it.kind = OutItem::kMetadata;
    it.index = static_cast<uint32_t>(piece);
    const uint64_t rest = tor_.metadata_size - off;
    it.len = static_cast<uint32_t>(rest < kMetaPiece ? rest : kMetaPiece);
    if (push(it)) ++ctr_->metadata_pieces;
}

uint32_t PeerSession::metadata_head(const OutItem &it, uint8_t *out) const {
    Put w{out + 6};
    w.s("d8:msg_typei1e5:piece");
    w.i(it.index);
    w.s("10:total_size");
    w.i(tor_.metadata_size);
    w.s("e");
    pw::write_extended_head(out, peer_ut_metadata_, w.n + it.len);
    return 6 + w.n;
}

void PeerSession::tick(uint64_t now_ns) {
    now_ns_ = now_ns;
    switch (st_) {
        case St::kHandshake:
        case St::kLookup:
            if (now_ns - started_ns_ > cfg_->handshake_timeout_ns) {
                ++ctr_->handshake_timeouts;
                close();
            }
            return;
        case St::kActive:
            if (now_ns - last_rx_ns_ > cfg_->idle_timeout_ns) {
                ++ctr_->idle_timeouts;
                close();
                return;
            }
            if (!has_output() && now_ns - last_tx_ns_ > cfg_->keepalive_ns) {
                uint8_t m[4];
                pw::write_keepalive(m);
                if (push_bytes(m, 4)) ++ctr_->keepalives_sent;
                last_tx_ns_ = now_ns;
            }
            return;
        case St::kClosed:
            return;
    }
}

}  // namespace ep::swarm

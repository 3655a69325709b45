#include "dataplane/swarm/peer_wire.h"

#include <cstring>

#include "dataplane/net/byte_order.h"

namespace ep::swarm::pw {

const char *error_name(Error e) {
    switch (e) {
        case Error::none:
            return "none";
#define EP_X(n, h) \
    case Error::n: \
        return #n;
            EP_PEER_WIRE_ERRORS(EP_X)
#undef EP_X
    }
    return "?";
}

namespace {
uint32_t bitfield_bytes(uint32_t pieces) {
    return (pieces + 7) / 8;
}
}  // namespace

uint32_t Parser::max_message() const {
    // The largest legal messages: a piece carrying a 16 KiB block (BEP 3),
    // the bitfield of this torrent, an extension message (BEP 10).
    uint32_t m = 9 + kBlockMax;
    if (1 + bitfield_bytes(lim_.num_pieces) > m) m = 1 + bitfield_bytes(lim_.num_pieces);
    if (lim_.extended && 2 + lim_.max_extended > m) m = 2 + lim_.max_extended;
    return m;
}

// Fixed bytes after the length prefix (id included) for each id; -1 unknown.
// Variable-length messages list their fixed part; the rest is payload.
static int fixed_len(uint8_t id, const Limits &lim, bool *variable) {
    *variable = false;
    switch (id) {
        case kChoke:
        case kUnchoke:
        case kInterested:
        case kNotInterested:
            return 1;
        case kHave:
            return 5;
        case kBitfield:
            *variable = true;
            return 1;
        case kRequest:
        case kCancel:
            return 13;
        case kPiece:
            *variable = true;
            return 9;
        case kPort:
            return 3;
        case kSuggest:
        case kAllowedFast:
            return lim.fast ? 5 : -1;
        case kHaveAll:
        case kHaveNone:
            return lim.fast ? 1 : -1;
        case kReject:
            return lim.fast ? 13 : -1;
        case kExtended:
            *variable = true;
            return lim.extended ? 2 : -1;
        default:
            return -1;
    }
}

size_t Parser::feed(const uint8_t *in, size_t n, Event *e) {
    *e = Event{};
    size_t used = 0;
    while (true) {
        switch (state_) {
            case St::kError:
                e->ev = Ev::kError;
                return used;
            case St::kHandshake: {
                // BEP 3: pstrlen (19), "BitTorrent protocol", 8 reserved bytes,
                // info hash, peer id. Checked as soon as the first 20 bytes are in.
                // A peer whose first two bytes are not 19 'B' never meant to
                // send a plaintext handshake: most often an MSE/PE key
                // exchange (96 random-looking bytes, which libtorrent and
                // aria2 try first and then reconnect in plaintext), else a
                // message first or another protocol: no_plain_handshake.
                // Only 19 'B' then a wrong protocol string is bad_handshake
                // (an MSE key starts with 19 'B' once in 65536 tries).
                while (have_ < kHandshakeLen && used < n) {
                    buf_[have_++] = in[used++];
                    if ((have_ == 1 && buf_[0] != 19) || (have_ == 2 && buf_[1] != kProtocol[0]))
                        return used + fail(Error::no_plain_handshake, e);
                    if (have_ == 20 && std::memcmp(buf_ + 1, kProtocol, 19) != 0)
                        return used + fail(Error::bad_handshake, e);
                }
                if (have_ < kHandshakeLen) return used;
                std::memcpy(e->hs.reserved, buf_ + 20, 8);
                std::memcpy(e->hs.info_hash, buf_ + 28, 20);
                std::memcpy(e->hs.peer_id, buf_ + 48, 20);
                e->ev = Ev::kHandshake;
                have_ = 0;
                state_ = St::kLen;
                return used;
            }
            case St::kLen: {
                while (have_ < 4 && used < n) buf_[have_++] = in[used++];
                if (have_ < 4) return used;
                msg_len_ = net::get32(buf_);
                have_ = 0;
                if (msg_len_ == 0) {
                    e->ev = Ev::kKeepAlive;
                    return used;
                }
                if (msg_len_ > max_message()) return used + fail(Error::too_long, e);
                state_ = St::kFixed;
                break;
            }
            case St::kFixed: {
                if (have_ == 0) {
                    if (used == n) return used;
                    id_ = in[used];
                    bool variable = false;
                    const int f = fixed_len(id_, lim_, &variable);
                    if (f < 0) return used + fail(Error::unknown_id, e);
                    if (variable ? msg_len_ < static_cast<uint32_t>(f)
                                 : msg_len_ != static_cast<uint32_t>(f))
                        return used + fail(Error::bad_length, e);
                    fixed_ = static_cast<uint32_t>(f);
                }
                while (have_ < fixed_ && used < n) buf_[have_++] = in[used++];
                if (have_ < fixed_) return used;
                *e = check_fixed();
                have_ = 0;
                if (e->ev == Ev::kError) {
                    state_ = St::kError;
                    return used;
                }
                var_left_ = msg_len_ - fixed_;
                var_off_ = 0;
                e->payload_len = var_left_;
                state_ = var_left_ ? St::kPayload : St::kLen;
                return used;
            }
            case St::kEnd:
                e->ev = Ev::kMessageEnd;
                e->id = id_;
                state_ = St::kLen;
                return used;
            case St::kPayload: {
                if (used == n) return used;
                const uint32_t k =
                    static_cast<uint32_t>(n - used < var_left_ ? n - used : var_left_);
                if (id_ == kBitfield && k == var_left_ && (lim_.num_pieces & 7)) {
                    // BEP 3: spare bits at the end are zero.
                    const uint8_t spare = static_cast<uint8_t>(0xFF >> (lim_.num_pieces & 7));
                    if (in[used + k - 1] & spare) return used + fail(Error::bad_bitfield, e);
                }
                e->ev = Ev::kPayload;
                e->id = id_;
                e->data = in + used;
                e->data_len = k;
                e->data_off = var_off_;
                var_off_ += k;
                var_left_ -= k;
                used += k;
                if (var_left_ == 0) state_ = St::kEnd;
                return used;
            }
        }
    }
}

Event Parser::check_fixed() {
    Event e;
    e.ev = Ev::kMessage;
    e.id = id_;
    const uint8_t *p = buf_ + 1;
    auto piece_size = [&](uint32_t index) -> uint64_t {
        const uint64_t start = uint64_t{index} * lim_.piece_length;
        const uint64_t end = start + lim_.piece_length;
        return (end > lim_.total_length ? lim_.total_length : end) - start;
    };
    auto err = [&](Error why) {
        e.ev = Ev::kError;
        e.err = why;
        return e;
    };
    switch (id_) {
        case kHave:
        case kSuggest:
        case kAllowedFast:
            e.index = net::get32(p);
            if (e.index >= lim_.num_pieces) return err(Error::out_of_range);
            break;
        case kBitfield:
            // BEP 3: exactly ceil(pieces/8) bytes; spare bits are checked by the
            // caller's slice handling (they are in the last byte).
            if (msg_len_ - 1 != bitfield_bytes(lim_.num_pieces)) return err(Error::bad_length);
            break;
        case kRequest:
        case kCancel:
        case kReject:
            e.index = net::get32(p), e.begin = net::get32(p + 4), e.length = net::get32(p + 8);
            if (e.length > kBlockMax) return err(Error::request_too_long);
            if (e.index >= lim_.num_pieces || e.length == 0 ||
                uint64_t{e.begin} + e.length > piece_size(e.index))
                return err(Error::out_of_range);
            break;
        case kPiece:
            e.index = net::get32(p), e.begin = net::get32(p + 4), e.length = msg_len_ - 9;
            if (e.length > kBlockMax) return err(Error::request_too_long);
            if (e.index >= lim_.num_pieces || uint64_t{e.begin} + e.length > piece_size(e.index))
                return err(Error::out_of_range);
            break;
        case kExtended:
            e.index = p[0];  // the extended message id (0 = BEP 10 handshake)
            break;
        default:
            break;
    }
    return e;
}

size_t write_handshake(uint8_t *out, const uint8_t info_hash[20], const uint8_t peer_id[20],
                       bool fast, bool extended) {
    out[0] = 19;
    std::memcpy(out + 1, kProtocol, 19);
    std::memset(out + 20, 0, 8);
    if (extended) out[20 + kReservedExtByte] |= kReservedExtBit;
    if (fast) out[20 + kReservedFastByte] |= kReservedFastBit;
    std::memcpy(out + 28, info_hash, 20);
    std::memcpy(out + 48, peer_id, 20);
    return kHandshakeLen;
}
size_t write_keepalive(uint8_t *out) {
    net::put32(out, 0);
    return 4;
}
size_t write_simple(uint8_t *out, MsgId id) {
    net::put32(out, 1);
    out[4] = id;
    return 5;
}
size_t write_index(uint8_t *out, MsgId id, uint32_t index) {
    net::put32(out, 5);
    out[4] = id;
    net::put32(out + 5, index);
    return 9;
}
size_t write_have(uint8_t *out, uint32_t index) {
    return write_index(out, kHave, index);
}
size_t write_request(uint8_t *out, MsgId id, uint32_t index, uint32_t begin, uint32_t length) {
    net::put32(out, 13);
    out[4] = id;
    net::put32(out + 5, index), net::put32(out + 9, begin), net::put32(out + 13, length);
    return 17;
}
size_t write_piece_head(uint8_t *out, uint32_t index, uint32_t begin, uint32_t block_len) {
    net::put32(out, 9 + block_len);
    out[4] = kPiece;
    net::put32(out + 5, index), net::put32(out + 9, begin);
    return 13;
}
size_t write_bitfield_head(uint8_t *out, uint32_t bytes) {
    net::put32(out, 1 + bytes);
    out[4] = kBitfield;
    return 5;
}
size_t write_extended_head(uint8_t *out, uint8_t ext_id, uint32_t payload_len) {
    net::put32(out, 2 + payload_len);
    out[4] = kExtended;
    out[5] = ext_id;
    return 6;
}

}  // namespace ep::swarm::pw

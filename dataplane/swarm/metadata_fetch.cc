// BEP 9 metadata fetch over BEP 10: see metadata_fetch.h.
#include "dataplane/swarm/metadata_fetch.h"

#include <cstdio>
#include <cstring>

#include "dataplane/net/byte_order.h"
#include "dataplane/swarm/bencode.h"
#include "dataplane/swarm/peer_wire.h"
#include "dataplane/swarm/sha1.h"

namespace ep::swarm {

namespace {
// The largest message we accept a length prefix for: a bitfield of a
// torrent of 2^24 pieces, or an extended message of one piece + its dict.
constexpr uint32_t kMaxMessage = (1u << 21) + 1;

int64_t dict_int(const BNode *nodes, uint32_t d, std::string_view key, int64_t dflt) {
    const uint32_t v = bdict_find(nodes, d, key);
    return v && nodes[v].type == BType::kInt ? nodes[v].i : dflt;
}
}  // namespace

bool MetadataSession::init(const MetadataConfig *cfg, MetadataCounters *ctr, uint8_t *buffer,
                           uint8_t *have) {
    if (!cfg || !ctr || !buffer || !have || cfg->max_size == 0) return false;
    cfg_ = cfg;
    ctr_ = ctr;
    buf_ = buffer;
    have_ = have;
    st_ = St::kIdle;
    mismatch_ = false;
    peer_ut_ = 0;
    size_ = npieces_ = received_ = 0;
    hs_have_ = len_have_ = body_len_ = body_have_ = 0;
    keep_ = false;
    rhead_ = rtail_ = 0;
    return true;
}

void MetadataSession::start(uint64_t now_ns) {
    uint8_t hs[pw::kHandshakeLen];
    const size_t n = pw::write_handshake(hs, cfg_->info_hash, cfg_->peer_id, false, true);
    st_ = St::kHandshake;
    last_progress_ns_ = now_ns;
    put(hs, static_cast<uint32_t>(n));
}

bool MetadataSession::put(const uint8_t *p, uint32_t n) {
    if (kRing - (rtail_ - rhead_) < n) return false;
    for (uint32_t i = 0; i < n; ++i) ring_[(rtail_ + i) & (kRing - 1)] = p[i];
    rtail_ += n;
    return true;
}

uint32_t MetadataSession::output(const uint8_t **p) const {
    const uint32_t off = rhead_ & (kRing - 1);
    const uint32_t avail = rtail_ - rhead_;
    *p = ring_ + off;
    return avail < kRing - off ? avail : kRing - off;
}

void MetadataSession::consume(uint32_t n) {
    rhead_ += n;
}

void MetadataSession::tick(uint64_t now_ns) {
    if (st_ == St::kDone || st_ == St::kFailed || st_ == St::kIdle) return;
    if (now_ns - last_progress_ns_ > cfg_->timeout_ns) {
        ++ctr_->meta_timeouts;
        st_ = St::kFailed;
    }
}

size_t MetadataSession::feed(const uint8_t *in, size_t n, uint64_t now_ns) {
    size_t i = 0;
    while (i < n && st_ != St::kDone && st_ != St::kFailed && st_ != St::kIdle) {
        if (st_ == St::kHandshake) {
            const uint32_t take = static_cast<uint32_t>(
                n - i < pw::kHandshakeLen - hs_have_ ? n - i : pw::kHandshakeLen - hs_have_);
            std::memcpy(hs_ + hs_have_, in + i, take);
            hs_have_ += take;
            i += take;
            if (hs_have_ == pw::kHandshakeLen) on_handshake(hs_);
            continue;
        }
        if (len_have_ < 4) {
            len_[len_have_++] = in[i++];
            if (len_have_ < 4) continue;
            body_len_ = net::get32(len_);
            body_have_ = 0;
            keep_ = false;
            if (body_len_ > kMaxMessage) {
                ++ctr_->meta_framing;
                st_ = St::kFailed;
                break;
            }
            if (body_len_ == 0) len_have_ = 0;  // keep-alive
            continue;
        }
        // The body: its first byte is the id.
        if (body_have_ == 0) {
            keep_ = in[i] == pw::kExtended;
            if (keep_ && body_len_ > sizeof msg_) {  // only data pieces are that long
                ++ctr_->meta_bad_message;
                st_ = St::kFailed;
                break;
            }
        }
        const uint32_t take =
            static_cast<uint32_t>(n - i < body_len_ - body_have_ ? n - i : body_len_ - body_have_);
        if (keep_) std::memcpy(msg_ + body_have_, in + i, take);
        body_have_ += take;
        i += take;
        if (body_have_ == body_len_) {
            len_have_ = 0;
            if (keep_) on_extended(now_ns);
        }
    }
    return n;  // everything is consumed (skipped or gathered)
}

void MetadataSession::on_handshake(const uint8_t *hs) {
    if (hs[0] != 19 || std::memcmp(hs + 1, pw::kProtocol, 19) != 0) {
        ++ctr_->meta_framing;
        st_ = St::kFailed;
        return;
    }
    if (std::memcmp(hs + 28, cfg_->info_hash, 20) != 0) {
        ++ctr_->meta_wrong_torrent;
        st_ = St::kFailed;
        return;
    }
    ++ctr_->meta_handshakes;
    if (!(hs[20 + pw::kReservedExtByte] & pw::kReservedExtBit)) {
        ++ctr_->meta_no_extensions;
        st_ = St::kFailed;
        return;
    }
    // BEP 10: ours goes right after the handshake (sorted keys: m, v).
    static const char kExt[] = "d1:md11:ut_metadatai3ee1:v9:edgeplanee";
    uint8_t head[6];
    const uint32_t plen = static_cast<uint32_t>(sizeof kExt - 1);
    pw::write_extended_head(head, 0, plen);
    put(head, 6);
    put(reinterpret_cast<const uint8_t *>(kExt), plen);
    st_ = St::kExtWait;
}

void MetadataSession::on_extended(uint64_t now_ns) {
    if (body_len_ < 2) {
        ++ctr_->meta_bad_message;
        st_ = St::kFailed;
        return;
    }
    const uint8_t ext = msg_[1];
    const uint8_t *p = msg_ + 2;
    const uint32_t n = body_len_ - 2;
    if (ext == 0) {
        if (st_ == St::kExtWait) on_ext_handshake(p, n);
        return;  // a second handshake (an update) changes nothing we need
    }
    if (ext == kOurUtMetadata && st_ == St::kPieces) on_data(p, n, now_ns);
    // other extensions (ut_pex, ...) are ignored
}

void MetadataSession::on_ext_handshake(const uint8_t *p, uint32_t n) {
    BNode nodes[128];
    uint32_t nn = 0;
    const std::string_view msg(reinterpret_cast<const char *>(p), n);
    if (bdecode(msg, nodes, 128, &nn) != BError::kOk || nodes[0].type != BType::kDict) {
        ++ctr_->meta_bad_message;
        st_ = St::kFailed;
        return;
    }
    const uint32_t m = bdict_find(nodes, 0, "m");
    const int64_t id =
        m && nodes[m].type == BType::kDict ? dict_int(nodes, m, "ut_metadata", 0) : 0;
    const int64_t size = dict_int(nodes, 0, "metadata_size", 0);
    if (id <= 0 || id > 255 || size <= 0) {
        ++ctr_->meta_no_ut_metadata;
        st_ = St::kFailed;
        return;
    }
    if (size > cfg_->max_size) {
        ++ctr_->meta_too_large;
        st_ = St::kFailed;
        return;
    }
    peer_ut_ = static_cast<uint8_t>(id);
    size_ = static_cast<uint32_t>(size);
    npieces_ = (size_ + MetadataConfig::kPiece - 1) / MetadataConfig::kPiece;
    received_ = 0;
    std::memset(have_, 0, npieces_);
    st_ = St::kPieces;
    request_all();
}

// Every piece at once: at most 256 requests of ~40 bytes (4 MiB limit) fit
// the ring; BEP 9 puts no limit on requests outstanding.
void MetadataSession::request_all() {
    for (uint32_t k = 0; k < npieces_; ++k) {
        char d[64];
        const int len = std::snprintf(d, sizeof d, "d8:msg_typei0e5:piecei%uee", k);
        uint8_t head[6];
        pw::write_extended_head(head, peer_ut_, static_cast<uint32_t>(len));
        if (!put(head, 6) ||
            !put(reinterpret_cast<const uint8_t *>(d), static_cast<uint32_t>(len))) {
            st_ = St::kFailed;  // cannot happen under the size limit
            return;
        }
    }
}

void MetadataSession::on_data(const uint8_t *p, uint32_t n, uint64_t now_ns) {
    BNode nodes[32];
    uint32_t nn = 0;
    size_t used = 0;
    const std::string_view msg(reinterpret_cast<const char *>(p), n);
    if (bdecode_prefix(msg, nodes, 32, &nn, &used) != BError::kOk ||
        nodes[0].type != BType::kDict) {
        ++ctr_->meta_bad_message;
        st_ = St::kFailed;
        return;
    }
    const int64_t type = dict_int(nodes, 0, "msg_type", -1);
    const int64_t piece = dict_int(nodes, 0, "piece", -1);
    if (type == 2) {  // reject
        ++ctr_->meta_rejects;
        st_ = St::kFailed;
        return;
    }
    if (type != 1) return;  // a request to us: we have nothing to give
    const int64_t total = dict_int(nodes, 0, "total_size", -1);
    if (piece < 0 || static_cast<uint64_t>(piece) >= npieces_ || total != size_) {
        ++ctr_->meta_bad_message;
        st_ = St::kFailed;
        return;
    }
    const uint32_t k = static_cast<uint32_t>(piece);
    const uint32_t off = k * MetadataConfig::kPiece;
    const uint32_t want =
        size_ - off < MetadataConfig::kPiece ? size_ - off : MetadataConfig::kPiece;
    if (n - used != want) {
        ++ctr_->meta_bad_message;
        st_ = St::kFailed;
        return;
    }
    ++ctr_->meta_pieces;
    last_progress_ns_ = now_ns;
    if (have_[k]) return;  // a duplicate
    std::memcpy(buf_ + off, p + used, want);
    have_[k] = 1;
    if (++received_ == npieces_) verify();
}

void MetadataSession::verify() {
    const Sha1 h = sha1(buf_, size_);
    if (std::memcmp(h.data(), cfg_->info_hash, 20) != 0) {
        ++ctr_->meta_hash_mismatch;
        mismatch_ = true;
        st_ = St::kFailed;
        return;
    }
    ++ctr_->meta_complete;
    st_ = St::kDone;
}

}  // namespace ep::swarm

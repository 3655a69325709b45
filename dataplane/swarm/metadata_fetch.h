// Magnet links: the info dictionary from a peer (BEP 9 "ut_metadata" over
// the BEP 10 extension protocol), pure. One outbound connection: bytes and
// time in, bytes out (a ring the glue copies onto TCP).
//
//   we: handshake (BEP 10 bit set)          peer: handshake, then anything
//   peer: extended handshake {m: {ut_metadata: N}, metadata_size: S}
//   we:   extended handshake {m: {ut_metadata: 3}}, then a request
//         {msg_type: 0, piece: i} for every 16 KiB piece of S
//   peer: data {msg_type: 1, piece: i, total_size: S} + the piece's bytes
//
// When every piece is in, SHA-1 of the S bytes must be the magnet's info
// hash (BEP 9: "the info-hash ... is the SHA-1 of the info dictionary"),
// else the session fails with hash_mismatch and nothing of it is used.
// Other messages (bitfield, have, unchoke, ...) are skipped without being
// buffered. No allocation after init(); no exceptions. Fuzzed by
// tests/fuzz/fuzz_metadata_fetch.cc.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ep::swarm {

#define EP_METADATA_COUNTERS(X)                                                               \
    X(meta_handshakes, "metadata connections whose peer answered with our info hash")         \
    X(meta_wrong_torrent, "metadata connections closed: another info hash in the handshake")  \
    X(meta_no_extensions, "peers without the BEP 10 extension bit: cannot send metadata")     \
    X(meta_no_ut_metadata, "peers whose extended handshake has no ut_metadata (or no size)")  \
    X(meta_too_large, "peers announcing metadata_size above the limit (4 MiB)")               \
    X(meta_bad_message, "ut_metadata messages not parsable, or a piece of the wrong size")    \
    X(meta_rejects, "ut_metadata rejects of our requests (the peer lacks the metadata)")      \
    X(meta_pieces, "ut_metadata pieces received")                                             \
    X(meta_hash_mismatch, "metadata whose SHA-1 is not the info hash: refused, peer dropped") \
    X(meta_complete, "metadata received whole and verified against the info hash")            \
    X(meta_timeouts, "metadata connections given up: no progress within the timeout")         \
    X(meta_framing, "metadata connections closed: bad handshake or a message too long")

struct MetadataCounters {
#define EP_X(n, h) uint64_t n = 0;
    EP_METADATA_COUNTERS(EP_X)
#undef EP_X
};

struct MetadataConfig {
    static constexpr uint32_t kPiece = 16384;  // BEP 9: 16 KiB pieces
    uint32_t max_size = 4u << 20;              // info dicts above this are refused
    uint64_t timeout_ns = 20'000'000'000ull;   // no new piece (or handshake) for this long
    uint8_t info_hash[20] = {};
    uint8_t peer_id[20] = {};
};

class MetadataSession {
  public:
    static constexpr uint32_t kRing = 16384;  // output bytes (power of two)
    static constexpr uint8_t kOurUtMetadata = 3;
    enum class St : uint8_t { kIdle, kHandshake, kExtWait, kPieces, kDone, kFailed };

    // buffer: cfg.max_size bytes; have: cfg.max_size / kPiece + 1 bytes.
    bool init(const MetadataConfig *cfg, MetadataCounters *ctr, uint8_t *buffer, uint8_t *have);
    void start(uint64_t now_ns);  // queues our handshake (we connected)
    size_t feed(const uint8_t *in, size_t n, uint64_t now_ns);
    void tick(uint64_t now_ns);  // timeout
    void fail() { st_ = St::kFailed; }

    uint32_t output(const uint8_t **p) const;  // contiguous bytes queued
    void consume(uint32_t n);
    bool has_output() const { return rtail_ != rhead_; }

    St state() const { return st_; }
    bool done() const { return st_ == St::kDone; }
    bool failed() const { return st_ == St::kFailed; }
    bool hash_mismatch() const { return mismatch_; }
    // The verified info dict (done() only).
    const uint8_t *metadata() const { return buf_; }
    uint32_t size() const { return size_; }

  private:
    bool put(const uint8_t *p, uint32_t n);
    void on_handshake(const uint8_t *hs);
    void on_extended(uint64_t now_ns);
    void on_ext_handshake(const uint8_t *p, uint32_t n);
    void on_data(const uint8_t *p, uint32_t n, uint64_t now_ns);
    void request_all();
    void verify();

    const MetadataConfig *cfg_ = nullptr;
    MetadataCounters *ctr_ = nullptr;
    uint8_t *buf_ = nullptr;
    uint8_t *have_ = nullptr;
    St st_ = St::kIdle;
    bool mismatch_ = false;
    uint8_t peer_ut_ = 0;
    uint32_t size_ = 0, npieces_ = 0, received_ = 0;
    uint64_t last_progress_ns_ = 0;
    // Framing: the handshake, then 4-byte length + body. An extended
    // message's body is gathered in msg_; others are skipped.
    uint8_t hs_[68];
    uint32_t hs_have_ = 0;
    uint8_t len_[4];
    uint32_t len_have_ = 0;
    uint32_t body_len_ = 0, body_have_ = 0;
    bool keep_ = false;  // this message is gathered (id 20)
    uint8_t msg_[MetadataConfig::kPiece + 512];
    uint8_t ring_[kRing];
    uint32_t rhead_ = 0, rtail_ = 0;  // monotonic
};

}  // namespace ep::swarm

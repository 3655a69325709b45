// BitTorrent peer-wire framing (BEP 3 "peer protocol", BEP 6 fast extension,
// BEP 10 extension protocol) as a pure state machine: bytes in, one event at
// a time out, each violation a named error. The peer-wire service feeds it
// what TCP delivered; nothing here knows about sockets or time.
//
// The parser never buffers a payload: a message's fixed fields (at most 12
// bytes after the id) are gathered, then any variable part (bitfield, piece
// block, extended payload) comes out as slices of the caller's input.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ep::swarm::pw {

// BEP 3 message ids, BEP 6 (0x0D..0x11), BEP 10 (20).
enum MsgId : uint8_t {
    kChoke = 0,
    kUnchoke = 1,
    kInterested = 2,
    kNotInterested = 3,
    kHave = 4,
    kBitfield = 5,
    kRequest = 6,
    kPiece = 7,
    kCancel = 8,
    kPort = 9,  // BEP 5 DHT port: parsed and ignored
    kSuggest = 0x0D,
    kHaveAll = 0x0E,
    kHaveNone = 0x0F,
    kReject = 0x10,
    kAllowedFast = 0x11,
    kExtended = 20,
};

inline constexpr uint32_t kBlockMax =
    16 * 1024;                               // BEP 3: requests of more than 16 KiB may be dropped
inline constexpr size_t kHandshakeLen = 68;  // 1 + 19 + 8 + 20 + 20
inline constexpr char kProtocol[] = "BitTorrent protocol";
// Reserved bits (BEP 4): byte 5 bit 0x10 = extension protocol (BEP 10),
// byte 7 bit 0x04 = fast extension (BEP 6).
inline constexpr uint8_t kReservedExtByte = 5, kReservedExtBit = 0x10;
inline constexpr uint8_t kReservedFastByte = 7, kReservedFastBit = 0x04;

#define EP_PEER_WIRE_ERRORS(X)                                                  \
    X(bad_handshake, "began as BEP 3's handshake (19, 'B') but the protocol string is wrong") \
    X(no_plain_handshake, "first bytes not BEP 3's handshake: MSE/PE (encrypted; libtorrent and aria2 try it first, then plaintext), a message, or not BitTorrent") \
    X(request_too_long, "request/cancel/reject for more than 16 KiB")           \
    X(out_of_range, "piece index or begin+length outside the torrent")          \
    X(too_long, "length prefix larger than the largest legal message")          \
    X(unknown_id, "message id not known (or of an extension not negotiated)")   \
    X(bad_length, "length prefix wrong for the message id")                     \
    X(bad_bitfield, "bitfield with spare bits set")

enum class Error : uint8_t {
    none,
#define EP_X(n, h) n,
    EP_PEER_WIRE_ERRORS(EP_X)
#undef EP_X
};
inline constexpr unsigned kErrors = 0
#define EP_X(n, h) +1
    EP_PEER_WIRE_ERRORS(EP_X)
#undef EP_X
    ;
const char *error_name(Error e);

// What the parser needs to know of the torrent and the session.
struct Limits {
    uint32_t num_pieces = 0;
    uint32_t piece_length = 0;
    uint64_t total_length = 0;          // the last piece is shorter
    uint32_t max_extended = 64 * 1024;  // BEP 10 payload (ut_metadata piece: 16 KiB + dict)
    bool fast = false;                  // both sides set the BEP 6 bit
    bool extended = false;              // both sides set the BEP 10 bit
};

struct Handshake {
    uint8_t reserved[8];
    uint8_t info_hash[20];
    uint8_t peer_id[20];
};

enum class Ev : uint8_t {
    kNone,       // need more input
    kHandshake,  // hs filled
    kKeepAlive,
    kMessage,     // a message with fixed fields only (id, index, begin, length)
    kPayload,     // a slice of the current message's variable part
    kMessageEnd,  // end of a message that had a variable part
    kError,       // err set; the parser stays in error (close the connection)
};

struct Event {
    Ev ev = Ev::kNone;
    uint8_t id = 0;
    uint32_t index = 0, begin = 0, length = 0;  // as the message has them
    uint32_t payload_len = 0;                   // kMessage of a variable message: bytes to come
    const uint8_t *data = nullptr;              // kPayload
    uint32_t data_len = 0;
    uint32_t data_off = 0;  // offset of the slice within the variable part
    Error err = Error::none;
    Handshake hs{};
};

class Parser {
  public:
    // expect_handshake: false for tests of the message stream alone.
    explicit Parser(const Limits &lim, bool expect_handshake = true)
        : lim_(lim), state_(expect_handshake ? St::kHandshake : St::kLen) {}
    void set_limits(const Limits &lim) { lim_ = lim; }
    // Consumes a prefix of in[0..n) and returns how many bytes it used; `e`
    // is the event that prefix completed (kNone when all of it was used and
    // more is needed). Call again with the rest until it returns 0 bytes
    // and kNone.
    size_t feed(const uint8_t *in, size_t n, Event *e);
    // The largest message length prefix accepted for these limits.
    uint32_t max_message() const;
    bool failed() const { return state_ == St::kError; }
    // Between messages (after the handshake, no byte of the next one in):
    // where a test may splice in a message of its own.
    bool at_message_boundary() const { return state_ == St::kLen && have_ == 0; }

  private:
    enum class St : uint8_t { kHandshake, kLen, kFixed, kPayload, kEnd, kError };
    Event check_fixed();
    size_t fail(Error why, Event *e) {
        state_ = St::kError;
        e->ev = Ev::kError;
        e->err = why;
        return 0;
    }
    Limits lim_;
    St state_;
    uint8_t buf_[kHandshakeLen];
    uint32_t have_ = 0;     // bytes gathered in buf_
    uint32_t msg_len_ = 0;  // current message's length prefix
    uint32_t fixed_ = 0;    // fixed bytes of the current message (id included)
    uint32_t var_left_ = 0, var_off_ = 0;
    uint8_t id_ = 0;
};

// ---- encoder: writes into out (the caller's buffer), returns bytes written ----
size_t write_handshake(uint8_t *out, const uint8_t info_hash[20], const uint8_t peer_id[20],
                       bool fast, bool extended);
size_t write_simple(uint8_t *out, MsgId id);      // choke..not interested, have-all/none: 5 bytes
size_t write_keepalive(uint8_t *out);             // 4 zero bytes
size_t write_have(uint8_t *out, uint32_t index);  // also suggest / allowed-fast via id
size_t write_index(uint8_t *out, MsgId id, uint32_t index);
// request, cancel, reject: 17 bytes
size_t write_request(uint8_t *out, MsgId id, uint32_t index, uint32_t begin, uint32_t length);
// The 13-byte head of a piece message; the block follows as a slice.
size_t write_piece_head(uint8_t *out, uint32_t index, uint32_t begin, uint32_t block_len);
// The 5-byte head of a bitfield of `bytes` bytes; 6-byte head of an extended message.
size_t write_bitfield_head(uint8_t *out, uint32_t bytes);
size_t write_extended_head(uint8_t *out, uint8_t ext_id, uint32_t payload_len);

}  // namespace ep::swarm::pw

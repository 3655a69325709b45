// What goes into and comes out of the engine. The glue parses headers into a
// SegmentIn (after checking the checksum) and turns a SegmentOut into mbufs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/net/tcp/addr.h"
#include "dataplane/net/tcp/options.h"
#include "dataplane/net/tcp/send_item.h"

namespace ep::tcp {

enum TcpFlags : uint8_t {
    kFin = 0x01,
    kSyn = 0x02,
    kRst = 0x04,
    kPsh = 0x08,
    kAck = 0x10,
    kUrg = 0x20,
    kEce = 0x40,
    kCwr = 0x80,
};

struct SegmentIn {
    IpAddr src;  // remote
    IpAddr dst;  // local
    uint16_t sport = 0;
    uint16_t dport = 0;
    Seq seq = 0;
    Seq ack = 0;
    uint8_t flags = 0;
    uint16_t window = 0;  // raw header field, unscaled
    TcpOptions opts;
    const uint8_t *payload = nullptr;
    uint32_t payload_len = 0;
};

// One piece of a segment's payload: bytes [offset, offset+len) of a send item.
// For an inline item (item->ops == nullptr) the glue copies `data` into the
// header mbuf; for an external item it attaches an external-buffer mbuf at
// `data` and pins item->ref through item->ops->ref (unpinned by the mbuf's free).
// No default member initializers: SegmentOut is built per segment and only
// pieces[0, npieces) are written and valid.
struct PayloadPiece {
    const SendItem *item;
    const uint8_t *data;
    uint32_t offset;  // offset of `data` inside the item
    uint32_t len;
};

inline constexpr int kMaxPieces = 8;

struct SegmentOut {
    IpAddr src;  // local
    IpAddr dst;  // remote
    uint16_t sport = 0;
    uint16_t dport = 0;
    Seq seq = 0;
    Seq ack = 0;
    uint8_t flags = 0;
    uint16_t window = 0;  // already scaled down (header field)
    bool retransmit = false;
    // Non-zero: a TSO super-segment, payload_len > tso_segsz, to be cut by
    // the port into segments of tso_segsz payload bytes (the last shorter).
    uint16_t tso_segsz = 0;
    uint8_t npieces = 0;
    uint32_t payload_len = 0;
    TcpOptions opts;
    PayloadPiece pieces[kMaxPieces];
};

// Implemented by the glue (and by tests). Called synchronously from input(),
// poll() and the application calls; the segment is only valid during the call.
class Output {
  public:
    virtual ~Output() = default;
    virtual void emit(const SegmentOut &seg) = 0;
};

}  // namespace ep::tcp

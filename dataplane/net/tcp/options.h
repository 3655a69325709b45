// TCP options (RFC 9293 section 3.2): MSS, window scale and timestamps (RFC 7323),
// SACK-permitted and SACK blocks (RFC 2018). The glue parses the wire format with
// parse_options() and writes it with write_options(); the engine only sees the struct.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/net/tcp/seq.h"

namespace ep::tcp {

struct SackBlock {
    Seq start = 0;  // left edge
    Seq end = 0;    // right edge (first byte after the block)
};

inline constexpr int kMaxSackBlocks = 4;
inline constexpr size_t kMaxOptionBytes = 40;

struct TcpOptions {
    bool has_mss = false;
    bool has_wscale = false;
    bool sack_permitted = false;
    bool has_ts = false;
    uint8_t wscale = 0;
    uint8_t num_sack = 0;
    uint16_t mss = 0;
    uint32_t ts_val = 0;
    uint32_t ts_ecr = 0;
    SackBlock sack[kMaxSackBlocks];
};

enum OptionKind : uint8_t {
    kOptEnd = 0,
    kOptNop = 1,
    kOptMss = 2,
    kOptWscale = 3,
    kOptSackPermitted = 4,
    kOptSack = 5,
    kOptTimestamp = 8,
};

// Parses the option bytes after the fixed header. Returns false on a malformed
// option list (RFC 9293 3.2: a length field that runs past the header).
bool parse_options(const uint8_t *p, size_t len, TcpOptions &out);

// Writes options in the Linux order (<mss,sackOK,TS,nop,wscale> on SYNs,
// <nop,nop,TS><nop,nop,sack ...> otherwise), padded to 4 bytes. Returns the length.
size_t write_options(const TcpOptions &o, uint8_t out[kMaxOptionBytes]);

// Bytes write_options() will produce.
size_t options_length(const TcpOptions &o);

}  // namespace ep::tcp

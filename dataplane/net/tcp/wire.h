// TCP header wire format (RFC 9293 3.1) for the glue: parse a received header
// into a SegmentIn, serialize a SegmentOut's header. Addresses come from the
// IP layer; the checksum is verified/filled by the glue (see checksum.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/net/tcp/segment.h"

namespace ep::tcp {

inline constexpr size_t kTcpHeaderMin = 20;
inline constexpr size_t kTcpHeaderMax = 60;

enum class ParseError : uint8_t { kOk, kTooShort, kBadDataOffset, kBadOptions };

// p points at the TCP header, len covers header + payload (from the IP length).
// Fills ports, seq, ack, flags, window, options, payload (pointing into p).
ParseError parse_header(const uint8_t *p, size_t len, SegmentIn &out);

// Header length (fixed header + padded options) of a segment to send.
size_t header_length(const SegmentOut &s);

// Writes the header (checksum field zero, urgent pointer zero) and returns its
// length; out must hold kTcpHeaderMax bytes.
size_t write_header(const SegmentOut &s, uint8_t *out);

}  // namespace ep::tcp

// UDP (RFC 768) over IPv4: receive checks and the in-place reply. Pure: bytes
// in, a parsed view or a drop reason out.
//
// Receive (RFC 768 "Fields", RFC 1122 §4.1.3.4): the UDP length must cover the
// 8-byte header and fit the IP payload (bytes beyond it are ignored); a
// non-zero checksum is verified over the pseudo-header; a zero checksum means
// the sender computed none, which IPv4 allows (RFC 768 "Checksum").
// Transmit: the checksum is always computed (RFC 1122 §4.1.3.4 SHOULD), and
// a computed 0 is sent as 0xffff (RFC 768).
#pragma once

#include <cstdint>

#include "dataplane/counters.h"
#include "dataplane/net/ipv4.h"

namespace ep::net::udp {

inline constexpr uint16_t kHeaderLen = 8;

struct View {
    uint16_t src_port = 0;  // host order
    uint16_t dst_port = 0;  // host order
    uint16_t payload_len = 0;
    uint16_t payload_off = 0;  // from the IPv4 header
};

// `ip` points at the IPv4 header of a datagram parse_ipv4 accepted.
Drop parse(const uint8_t *ip, const Ipv4View &v, View *out);

// Turns the received datagram at `ip` into the reply: addresses and ports
// swapped, a 20-byte IPv4 header (options are not echoed), fresh TTL, the
// payload the handler left at payload_off (`reply_len` bytes), checksums
// computed. Returns the reply's IPv4 total length.
uint16_t reply_in_place(uint8_t *ip, const View &u, uint16_t reply_len);

// Moves the UDP datagram of a header with options up to ip + 20 so a reply
// built in place has a plain header; updates `u` and the header length.
void strip_ip_options(uint8_t *ip, Ipv4View *v, View *u);

}  // namespace ep::net::udp

// ICMP echo (RFC 792; RFC 1122 §3.2.2.6: the reply carries the request's
// identifier, sequence and data unchanged) and destination unreachable /
// fragmentation needed (type 3 code 4, RFC 1191 §4) quoting one of our TCP
// segments, for path MTU discovery. Other ICMP types are counted and dropped.
#pragma once

#include <cstdint>

#include "dataplane/counters.h"
#include "dataplane/net/ipv4.h"

namespace ep::net {

// `ip` points at the IPv4 header of a validated datagram (see parse_ipv4).
// On success the datagram is rewritten in place into the echo reply (IPv4
// addresses swapped, fresh TTL, checksums fixed) and Drop::none is returned;
// the caller then fixes the Ethernet header and transmits.
Drop icmp_echo_reply_in_place(uint8_t *ip, const Ipv4View &view);

// What a "fragmentation needed" message quotes of the datagram we sent: its
// IPv4 header and at least the first 8 bytes of TCP (RFC 792: ports and
// sequence number).
struct FragNeeded {
    uint32_t local = 0;   // quoted source: our address, network order
    uint32_t remote = 0;  // quoted destination, network order
    uint16_t lport = 0;   // host order
    uint16_t rport = 0;
    uint32_t seq = 0;  // quoted TCP sequence number, host order
    uint16_t mtu = 0;  // next-hop MTU (RFC 1191 §4); 0 from an old router
};

// Drop::none with *out filled for a valid type 3 code 4 message quoting a TCP
// segment sent from this host's address; Drop::icmp_unsupported_type for any
// other type or code (the caller then tries the echo path), else why it is
// malformed. Checks the ICMP checksum. Whether the quoted segment is really
// ours (RFC 5927 §4.1) is the TCP engine's to decide.
Drop parse_icmp_frag_needed(const uint8_t *ip, const Ipv4View &view, FragNeeded *out);

// RFC 792 destination unreachable, code 3 (port unreachable), which RFC 1122
// §3.2.2.1 and §4.1.3.1 require for a UDP datagram no one listens for. Built
// in place: the received datagram's IPv4 header and leading bytes move back
// behind a new IPv4 and ICMP header. The quote is as much of the datagram as
// keeps the error within 576 bytes (RFC 1812 §4.3.2.3; RFC 792 asks for at
// least the header and 64 bits). `room` is how many bytes may be written from
// `ip`. Returns the error's IPv4 total length, or 0 when room is too small.
uint16_t icmp_port_unreachable_in_place(uint8_t *ip, const Ipv4View &view, uint32_t room);

}  // namespace ep::net

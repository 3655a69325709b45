// ICMP echo (RFC 792; RFC 1122 §3.2.2.6: the reply carries the request's
// identifier, sequence and data unchanged). Other ICMP types are counted and
// dropped for now.
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

// RFC 792 destination unreachable, code 3 (port unreachable), which RFC 1122
// §3.2.2.1 and §4.1.3.1 require for a UDP datagram no one listens for. Built
// in place: the received datagram's IPv4 header and leading bytes move back
// behind a new IPv4 and ICMP header. The quote is as much of the datagram as
// keeps the error within 576 bytes (RFC 1812 §4.3.2.3; RFC 792 asks for at
// least the header and 64 bits). `room` is how many bytes may be written from
// `ip`. Returns the error's IPv4 total length, or 0 when room is too small.
uint16_t icmp_port_unreachable_in_place(uint8_t *ip, const Ipv4View &view, uint32_t room);

}  // namespace ep::net

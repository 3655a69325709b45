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

}  // namespace ep::net

// The answer builder: a parsed query and the zone table in, the response
// message out (RFC 1034 4.3.2 lookup, RFC 1035 4.1 format and 4.1.4
// compression, RFC 2308 negative answers, RFC 6891 EDNS0, RFC 7871 ECS).
// Pure, no allocation: the response is written into a caller's buffer,
// which may be the query's own (the header and question are kept where they
// are, so their bytes, and the query's letter case, are not copied).
#pragma once

#include <cstdint>

#include "dataplane/dns/counters.h"
#include "dataplane/dns/query.h"

namespace ep::dns {

class ZoneTable;
class Steering;

struct AnswerEnv {
    const ZoneTable *zones = nullptr;  // nullptr: nothing loaded, every name REFUSED
    const Steering *steering = nullptr;
    uint32_t client_ip = 0;   // the resolver's IPv4 source, network order
    uint16_t max_udp = 1232;  // our EDNS payload size: advertised, and our cap
    bool tcp = false;         // over TCP (RFC 7766): no payload-size bound, only `cap`
};

// The longest CNAME chain followed inside our zones (RFC 1034 3.6.2 leaves
// the bound to the server; loops end here too).
inline constexpr uint32_t kMaxChain = 8;

// Answers the message msg[0, len) into out[0, cap) (out may be msg). Returns
// the response length, or -1 when the message gets no answer (counted).
int respond(const uint8_t *msg, uint32_t len, uint8_t *out, uint32_t cap, const AnswerEnv &env,
            Counters &c);

}  // namespace ep::dns

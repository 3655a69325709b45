// The query parser (RFC 1035 4.1, EDNS0 RFC 6891 6, ECS RFC 7871 6). Pure:
// bytes in, a parsed view or the reason it is malformed out.
//
// A query is the 12-byte header, exactly one question, no answer or
// authority records, and additional records of which at most one is OPT.
// Nothing in a query may be compressed: a resolver has no reason to, and
// refusing pointers removes loops and forward references from the attack
// surface. Any byte after the last record is an error.
#pragma once

#include <cstdint>

#include "dataplane/dns/wire.h"

namespace ep::dns {

// What became of a message, in the order the checks run. Each one past `ok`
// has a counter of the same name (counters.h).
enum class Parse : uint8_t {
    ok,
    drop_short_header,  // no id to answer with
    drop_response,      // QR set
    notimp,             // opcode other than QUERY: header fields valid only
    malformed_qdcount,
    malformed_counts,
    malformed_pointer,
    malformed_label,
    malformed_name_too_long,
    malformed_truncated,
    malformed_trailing,
    malformed_opt,
    malformed_ecs,  // the rest parsed: the question and OPT can be echoed
};

// EDNS Client Subnet as received (RFC 7871 6): echoed exactly as sent.
struct Ecs {
    bool present = false;
    uint16_t family = 0;   // 1 IPv4, 2 IPv6
    uint8_t source = 0;    // SOURCE PREFIX-LENGTH
    uint8_t scope = 0;     // SCOPE PREFIX-LENGTH (0 in queries)
    uint8_t addr_len = 0;  // ceil(source / 8)
    uint8_t addr[16] = {};
};

struct Query {
    uint16_t id = 0;
    uint16_t flags = 0;  // second header word as received
    uint8_t opcode = 0;
    // The question as received (offset kHeaderLen of the message): its case
    // is echoed (0x20, draft-vixie-dnsext-dns0x20) and its bytes stay where
    // they are when the answer is built in place.
    uint32_t qname_len = 0;
    uint32_t question_end = 0;     // offset just past QCLASS
    uint8_t lname[kMaxName] = {};  // qname lower-cased, for lookups
    uint16_t qtype = 0;
    uint16_t qclass = 0;
    bool edns = false;
    uint8_t edns_version = 0;
    uint16_t udp_payload = 0;  // as sent; callers apply the 512 floor
    bool do_bit = false;
    Ecs ecs;
};

// Parses msg[0, len). q->id, flags and opcode are set whenever the header is
// there; the question fields (question_end non-zero) whenever the one
// question could be read, whatever is wrong after it (and for notimp).
Parse parse_query(const uint8_t *msg, uint32_t len, Query *q);

}  // namespace ep::dns

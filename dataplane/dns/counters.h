// Per-queue counters of the DNS service: one named counter per answer kind
// and per reason a query was dropped or refused as malformed. Plain uint64_t
// written by the owning lcore, read relaxed by the control thread.
#pragma once

#include <cstdint>

namespace ep::dns {

// X(field, help).
#define EP_DNS_COUNTERS(X)                                                                    \
    X(queries, "DNS messages received")                                                       \
    X(answers, "authoritative answers with data (NOERROR, AA)")                               \
    X(nodata, "NOERROR with no data, SOA in authority (RFC 2308 2.2)")                        \
    X(nxdomain, "NXDOMAIN, SOA in authority (RFC 2308 2.1)")                                  \
    X(referrals, "referrals to a delegated child zone, NS in authority (RFC 1034 4.3.2)")     \
    X(cname_chased, "CNAMEs followed inside our zones while answering")                       \
    X(refused, "REFUSED: name outside our zones, class not IN, or zone transfer over UDP")    \
    X(notimp, "NOTIMP: opcode other than QUERY (RFC 1035 4.1.1)")                             \
    X(formerr, "FORMERR sent (each malformed_* below answered)")                              \
    X(badvers, "BADVERS: EDNS version above 0 (RFC 6891 6.1.3)")                              \
    X(truncated, "answers sent with TC: they did not fit the UDP payload size")               \
    X(tcp_queries, "messages received over TCP (RFC 7766)")                                   \
    X(tcp_connections, "TCP connections accepted")                                            \
    X(tcp_conn_limit, "TCP connections reset: every connection slot taken")                   \
    X(tcp_too_long, "TCP connections reset: a length prefix over the query limit")            \
    X(tcp_send_waited, "TCP answers that waited for send-queue room (the connection pauses)") \
    X(tcp_send_full, "TCP connections reset: the send queue refused room it had promised")    \
    X(tcp_idle_closed, "TCP connections closed after the idle timeout (RFC 7766 6.2.3)")      \
    X(rrl_limited, "UDP answers over the response rate limit (rrl_dropped + rrl_slipped)")    \
    X(rrl_dropped, "dropped: over the response rate limit of the source prefix")              \
    X(rrl_slipped, "over the rate limit, sent truncated (TC) so clients retry over TCP")      \
    X(edns, "queries with an OPT record (RFC 6891)")                                          \
    X(ecs, "queries with an EDNS Client Subnet option (RFC 7871)")                            \
    X(drop_short_header, "dropped: shorter than the 12-byte header")                          \
    X(drop_response, "dropped: QR set, a response (never answered, no loops)")                \
    X(drop_no_room, "dropped: the buffer cannot hold the answer's header and question")       \
    X(malformed_qdcount, "FORMERR: QDCOUNT is not 1")                                         \
    X(malformed_counts, "FORMERR: ANCOUNT or NSCOUNT is not 0 in a query")                    \
    X(malformed_pointer, "FORMERR: compression pointer in a query")                           \
    X(malformed_label, "FORMERR: label type 01/10, a length over 63 (RFC 6891 5)")            \
    X(malformed_name_too_long, "FORMERR: name over 255 bytes (RFC 1035 2.3.4)")               \
    X(malformed_truncated, "FORMERR: the message ends inside a field")                        \
    X(malformed_trailing, "FORMERR: bytes after the last record")                             \
    X(malformed_opt, "FORMERR: OPT not at the root, twice, or options past RDLENGTH")         \
    X(malformed_ecs, "FORMERR: ECS family unknown, prefix too long or wrong address length")

struct Counters {
#define EP_DNS_FIELD(name, help) uint64_t name = 0;
    EP_DNS_COUNTERS(EP_DNS_FIELD)
#undef EP_DNS_FIELD
};

}  // namespace ep::dns

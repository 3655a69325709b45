// The HTTP tracker's requests (BEP 3 "Trackers", BEP 23, BEP 48): the query
// string of GET /announce and GET /scrape, parsed into fixed fields. Pure:
// bytes in, fields or a named error out; no allocation.
//
// The query is RFC 3986 key=value pairs joined by '&'. Values are
// percent-decoded; info_hash and peer_id are 20 raw bytes, so a client sends
// every byte that is not unreserved as %XX (BEP 3). '+' is taken literally:
// BitTorrent clients escape it (libtorrent, transmission, aria2 all do), and
// reading it as a space would change a binary hash. Keys are compared as
// sent. Parameters we do not use (key, trackerid, supportcrypto, corrupt,
// redundant, no_peer_id, ...) are skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dataplane/swarm/udp_tracker.h"

namespace ep::swarm::httpt {

// A scrape names at most this many torrents: the reply (about 70 bytes per
// torrent) must fit one HTTP response buffer.
inline constexpr uint32_t kMaxScrapeHashes = 24;

#define EP_HTTPT_QUERY_ERRORS(X)                                                   \
    X(bad_escape, "a '%' not followed by two hex digits")                          \
    X(missing_info_hash, "announce without info_hash")                             \
    X(bad_info_hash, "info_hash not 20 bytes once decoded")                        \
    X(repeated_info_hash, "announce with two info_hash parameters")                \
    X(missing_peer_id, "announce without peer_id")                                 \
    X(bad_peer_id, "peer_id not 20 bytes once decoded")                            \
    X(missing_port, "announce without port")                                       \
    X(bad_port, "port not a decimal number in 1..65535")                           \
    X(bad_number, "uploaded/downloaded/left/numwant not a decimal number")         \
    X(bad_event, "event not started, completed, stopped, paused or empty")         \
    X(too_many_hashes, "scrape with more info_hash parameters than a reply holds") \
    X(bad_value, "a parameter value longer than any legal one")

enum class QueryError : uint8_t {
    ok,
#define EP_X(n, h) n,
    EP_HTTPT_QUERY_ERRORS(EP_X)
#undef EP_X
};
const char *query_error_name(QueryError e);
// The text a client gets in "failure reason".
const char *query_error_text(QueryError e);

struct Announce {
    uint8_t info_hash[20] = {};
    uint8_t peer_id[20] = {};
    uint16_t port = 0;
    uint64_t uploaded = 0, downloaded = 0;
    uint64_t left = 0;
    bool has_left = false;  // BEP 3 makes it required; a client without it is a leecher
    udpt::Event event = udpt::Event::kNone;  // "paused" (BEP 21) is kNone
    int32_t numwant = -1;                    // -1: not given (negative values too)
    bool compact = true;  // compact=0 asked for; we answer compact anyway (BEP 23 allows)
    bool has_ip = false;  // an "ip" that is a dotted IPv4 address (parsed, not trusted)
    udpt::Addr ip;
};

struct Scrape {
    uint32_t count = 0;  // 0: a full scrape was asked (no info_hash)
    uint8_t info_hash[kMaxScrapeHashes][20] = {};
};

QueryError parse_announce(std::string_view query, Announce *out);
QueryError parse_scrape(std::string_view query, Scrape *out);

// The query of a request target ("/announce?a=b" -> "a=b"; "" without '?').
std::string_view query_of(std::string_view target);

// Percent-decodes s into out[0..cap); returns the length, -1 when the
// result would not fit, -2 on a bad escape.
int percent_decode(std::string_view s, uint8_t *out, size_t cap);

}  // namespace ep::swarm::httpt

// The appliance as a tracker *client* (fill mode, docs/swarm.md "Peers from
// trackers"): announce requests and the parsing of their replies, pure
// (bytes in, a verdict out; no sockets, no allocation). The glue
// (dataplane/swarm_discovery.cc) sends them over the data plane's own TCP
// client. Fuzzed by tests/fuzz/fuzz_tracker_client.cc.
//
//  - HTTP (BEP 3 "Trackers", BEP 23 compact peers): a GET of
//    PATH?info_hash=..&peer_id=..&port=..&uploaded=..&downloaded=..&left=..
//    &compact=1&numwant=..[&event=started|completed|stopped], HTTP/1.0 with
//    Connection: close (one request per connection: an announce every few
//    minutes needs no keep-alive). The reply: status 200, a bencoded dict
//    with `failure reason`, or `interval` [`min interval`] and `peers`
//    (a compact string of 6-byte entries, or BEP 3's list of dicts).
//  - UDP (BEP 15): connect and announce request writers and their reply
//    parsers (the client side of dataplane/swarm/udp_tracker.h).
//
// Tracker hosts must be IPv4 literals: the data plane has no resolver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ep::swarm {

struct TrackerUrl {
    bool udp = false;
    uint32_t ip_be = 0;  // network order
    uint16_t port = 0;   // host order
    std::string path;    // "/announce" (+ the URL's own query, kept)
};

#define EP_TRACKER_URL_ERRORS(X)                                                       \
    X(url_scheme, "tracker URL neither http:// nor udp:// (https, wss)")               \
    X(url_host, "tracker host is not an IPv4 literal (no resolver on the data plane)") \
    X(url_port, "tracker port missing (udp) or not 1..65535")

enum class UrlError : uint8_t {
    ok,
#define EP_X(n, h) n,
    EP_TRACKER_URL_ERRORS(EP_X)
#undef EP_X
};
UrlError parse_tracker_url(std::string_view url, TrackerUrl *out);

enum class AnnounceEvent : uint8_t {
    kNone = 0,
    kCompleted = 1,
    kStarted = 2,
    kStopped = 3
};  // BEP 15 numbering

struct AnnounceParams {
    uint8_t info_hash[20] = {};
    uint8_t peer_id[20] = {};
    uint16_t port = 0;  // our peer-wire port
    uint64_t uploaded = 0, downloaded = 0, left = 0;
    AnnounceEvent event = AnnounceEvent::kNone;
    uint32_t numwant = 50;
    uint32_t key = 0;
};

// The whole HTTP request; 0 when `cap` is too small (1 KiB always does for
// a path under 256 bytes).
size_t build_http_announce(char *out, size_t cap, const TrackerUrl &u, const AnnounceParams &p);

struct Peer4 {
    uint32_t ip_be = 0;
    uint16_t port = 0;
};

struct AnnounceReply {
    static constexpr uint32_t kMaxPeers = 64;  // more are ignored (bounded connections anyway)
    uint32_t interval = 0, min_interval = 0;   // seconds (0: absent)
    uint32_t npeers = 0;
    uint32_t peers_ignored = 0;  // past kMaxPeers, or non-IPv4 entries
    Peer4 peers[kMaxPeers];
    char failure[128] = {};  // `failure reason` / BEP 15 error text (NUL-terminated, cut)
};

#define EP_TRACKER_REPLY_ERRORS(X)                                                  \
    X(reply_incomplete, "the connection ended inside the HTTP head or body")        \
    X(reply_status, "HTTP status other than 200")                                   \
    X(reply_head, "HTTP head not parsable, too long, or chunked transfer coding")   \
    X(reply_bencode, "body not a strict bencoded dictionary")                       \
    X(reply_failure, "the tracker answered a failure reason (or BEP 15 error)")     \
    X(reply_no_interval, "no interval (or an interval that is not a positive int)") \
    X(reply_peers, "peers neither a compact string of 6-byte entries nor a list")   \
    X(reply_udp_short, "UDP reply shorter than its action needs")                   \
    X(reply_udp_action, "UDP reply of another action than the request's")           \
    X(reply_udp_txid, "UDP reply with another transaction ID")

enum class ReplyError : uint8_t {
    ok,
    need_more,  // not an error: feed more bytes (HTTP, before the end of the connection)
#define EP_X(n, h) n,
    EP_TRACKER_REPLY_ERRORS(EP_X)
#undef EP_X
};
inline constexpr unsigned kReplyErrors = 0
#define EP_X(n, h) +1
    EP_TRACKER_REPLY_ERRORS(EP_X)
#undef EP_X
    ;
const char *reply_error_name(ReplyError e);
const char *url_error_name(UrlError e);

// The HTTP reply so far (`eof`: the tracker closed the connection). Returns
// need_more while the head is incomplete or the body shorter than its
// Content-Length (without one, the body ends at eof).
ReplyError parse_http_announce_reply(const uint8_t *p, size_t n, bool eof, AnnounceReply *out);
// The bencoded body alone (also used by the HTTP parser).
ReplyError parse_announce_body(std::string_view body, AnnounceReply *out);

// ---- UDP (BEP 15) ----
inline constexpr size_t kUdpConnectLen = 16, kUdpAnnounceLen = 98;
size_t build_udp_connect(uint8_t *out, uint32_t txid);
size_t build_udp_announce(uint8_t *out, uint64_t conn_id, uint32_t txid, const AnnounceParams &p);
ReplyError parse_udp_connect_reply(const uint8_t *p, size_t n, uint32_t txid, uint64_t *conn_id,
                                   AnnounceReply *err_out);
ReplyError parse_udp_announce_reply(const uint8_t *p, size_t n, uint32_t txid, AnnounceReply *out);

}  // namespace ep::swarm

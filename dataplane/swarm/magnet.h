// Magnet URIs (BEP 9 "magnet URI format"): what `edgectl swarm fetch
// 'magnet:?...'` is given. Pure: a string in, the info hash, display name,
// trackers and peers out, or a named error. Runs on the control thread
// (allocates); fuzzed by tests/fuzz/fuzz_magnet.cc.
//
//   magnet:?xt=urn:btih:<40 hex | 32 base32>&dn=<name>&tr=<tracker>...&x.pe=<ip:port>...
//
// Parameters may come in any order; values are percent-decoded ('+' is a
// space in dn, as browsers write it). Unknown parameters (xl, ws, so, ...)
// are ignored, as BEP 9 lets a client do. x.pe peers that are not IPv4
// literals (host names, IPv6) are skipped and counted: the data plane
// resolves no names and speaks IPv4.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dataplane/swarm/sha1.h"

namespace ep::swarm {

#define EP_MAGNET_ERRORS(X)                                                 \
    X(not_magnet, "does not start with magnet:?")                           \
    X(no_btih, "no xt=urn:btih: parameter (a v1 info hash)")                \
    X(bad_btih, "info hash neither 40 hex digits nor 32 base32 characters") \
    X(two_btih, "two different v1 info hashes")                             \
    X(bad_escape, "a percent escape that is not two hex digits")            \
    X(too_long, "longer than 64 KiB, or more than 64 trackers or 64 peers")

enum class MagnetError : uint8_t {
    ok,
#define EP_X(n, h) n,
    EP_MAGNET_ERRORS(EP_X)
#undef EP_X
};
const char *magnet_error_name(MagnetError e);

struct Magnet {
    Sha1 info_hash{};
    std::string name;                                  // dn, may be empty
    std::vector<std::string> trackers;                 // tr, in order, unique
    std::vector<std::pair<uint32_t, uint16_t>> peers;  // x.pe: network-order IPv4, host port
    uint32_t peers_skipped = 0;                        // x.pe not an IPv4 literal with a port
};

MagnetError parse_magnet(std::string_view uri, Magnet *out);

// Percent-decoding (RFC 3986 2.1); false on a broken escape.
bool percent_decode(std::string_view in, std::string *out, bool plus_is_space);
// "a.b.c.d:port" -> network-order address and host-order port (port > 0).
bool parse_ipv4_port(std::string_view s, uint32_t *ip_be, uint16_t *port);

}  // namespace ep::swarm

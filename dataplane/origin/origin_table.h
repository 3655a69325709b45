// Origins by path prefix, like a reverse proxy's upstreams: a request whose
// path starts with a route's prefix is filled from that route's servers, in
// the order given (the first is primary, the rest are failover). Pure and
// fixed-size: the control thread builds one table from the config
// (`--origin /prefix=A.B.C.D:PORT[,A.B.C.D:PORT...]`), every data lcore
// reads its own copy; nothing here allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ep::origin {

struct Server {
    uint32_t ip_be = 0;  // network byte order, as the TCP stack's IpAddr wants it
    uint16_t port = 80;
};

struct Route {
    static constexpr size_t kMaxPrefix = 128;
    static constexpr uint8_t kMaxServers = 4;
    char prefix[kMaxPrefix] = {};
    uint8_t prefix_len = 0;
    uint8_t nservers = 0;
    Server servers[kMaxServers];
    std::string_view prefix_view() const { return {prefix, prefix_len}; }
};

// Parses "PREFIX=ADDR:PORT[,ADDR:PORT...]" (":PORT" optional, 80). PREFIX
// starts with '/'. Names are not resolved here (a pure parser): an address
// must be a dotted IPv4 literal. On error returns false and *why says what.
bool parse_route(std::string_view spec, Route *out, const char **why);
// A dotted-quad IPv4 literal (no leading zeros beyond "0", no spaces).
bool parse_ipv4_literal(std::string_view s, uint32_t *ip_be);

class Table {
  public:
    static constexpr size_t kMaxRoutes = 16;
    // false: table full, or the prefix is configured already.
    bool add(const Route &r);
    // The route with the longest prefix matching `path` (the request path
    // with its leading '/'), on a segment boundary: "/vod" matches "/vod"
    // and "/vod/a.mp4", not "/vodka". nullptr: no origin for it.
    const Route *match(std::string_view path) const;
    // The same for an object key (the path without its leading '/').
    const Route *match_key(std::string_view key) const;
    size_t size() const { return n_; }
    const Route &at(size_t i) const { return routes_[i]; }

  private:
    Route routes_[kMaxRoutes];
    size_t n_ = 0;
};

}  // namespace ep::origin

// Origins by path prefix, like a reverse proxy's upstreams: a request whose
// path starts with a route's prefix is filled from that route's servers, in
// the order given (the first is primary, the rest are failover). Pure and
// fixed-size: the control thread builds one table from the config
// (`--origin /prefix=ADDR[:PORT][,ADDR[:PORT]...]`, ADDR a dotted IPv4
// literal or a host name), every data lcore reads the published one;
// nothing here allocates. A named server's address is filled in by the
// control thread's resolver (control/origin_resolver.h): until then it is 0
// ("unresolved") and never tried.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ep::origin {

struct Server {
    static constexpr size_t kMaxName = 64;
    uint32_t ip_be = 0;  // network byte order, as the TCP stack's IpAddr wants it; 0: unresolved
    uint16_t port = 80;
    uint8_t name_len = 0;  // 0: given as an IPv4 literal
    char name[kMaxName] = {};
    std::string_view name_view() const { return {name, name_len}; }
    bool resolved() const { return ip_be != 0; }
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
// starts with '/'. ADDR is a dotted IPv4 literal or a host name (RFC 1123
// 2.1 letters, digits, '-' and '.'); names are not resolved here (a pure
// parser): a named server keeps ip_be 0 until the resolver fills it in.
// On error returns false and *why says what.
bool parse_route(std::string_view spec, Route *out, const char **why);
// A dotted-quad IPv4 literal (no leading zeros beyond "0", no spaces).
bool parse_ipv4_literal(std::string_view s, uint32_t *ip_be);
// A host name as RFC 1123 2.1 allows: labels of letters, digits and '-',
// not starting or ending with '-', separated by single dots, not all digits.
bool valid_host_name(std::string_view s);

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
    Route &at(size_t i) { return routes_[i]; }  // the resolver fills in addresses

  private:
    Route routes_[kMaxRoutes];
    size_t n_ = 0;
};

}  // namespace ep::origin

#include "control/cluster/model.h"

#include <arpa/inet.h>

#include <cstring>

namespace ep::cluster {

bool Prefix::operator==(const Prefix &o) const {
    return family == o.family && len == o.len && std::memcmp(net, o.net, 16) == 0;
}

Prefix truncate(const Prefix &a, uint8_t len) {
    Prefix p = a;
    p.len = len;
    const unsigned bytes = a.family == 1 ? 4 : 16;
    for (unsigned i = 0; i < bytes; ++i) {
        const int keep = static_cast<int>(len) - static_cast<int>(8 * i);
        if (keep >= 8) continue;
        p.net[i] = keep <= 0 ? 0 : static_cast<uint8_t>(p.net[i] & (0xff << (8 - keep)));
    }
    return p;
}

bool contains(const Prefix &outer, const Prefix &inner) {
    return outer.family == inner.family && outer.len <= inner.len &&
           truncate(inner, outer.len) == outer;
}

bool parse_prefix(std::string_view s, Prefix *out, std::string *err) {
    const std::size_t slash = s.find('/');
    const std::string addr(s.substr(0, slash));
    Prefix p;
    if (inet_pton(AF_INET, addr.c_str(), p.net) == 1) {
        p.family = 1;
        p.len = 32;
    } else if (inet_pton(AF_INET6, addr.c_str(), p.net) == 1) {
        p.family = 2;
        p.len = 128;
    } else {
        *err = "'" + std::string(s) + "' is not an IPv4 or IPv6 address or prefix";
        return false;
    }
    if (slash != std::string_view::npos) {
        const std::string_view l = s.substr(slash + 1);
        unsigned v = 0;
        if (l.empty() || l.size() > 3) {
            *err = "'" + std::string(s) + "': bad prefix length";
            return false;
        }
        for (char c : l) {
            if (c < '0' || c > '9') {
                *err = "'" + std::string(s) + "': bad prefix length";
                return false;
            }
            v = v * 10 + static_cast<unsigned>(c - '0');
        }
        if (v > p.len) {
            *err = "'" + std::string(s) + "': prefix length over " + std::to_string(p.len);
            return false;
        }
        const Prefix t = truncate(p, static_cast<uint8_t>(v));
        p.len = static_cast<uint8_t>(v);
        if (!(t == p)) {
            *err = "'" + std::string(s) + "': host bits set (did you mean " + to_string(t) + "?)";
            return false;
        }
    }
    *out = p;
    return true;
}

std::string to_string(const Prefix &p) {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(p.family == 1 ? AF_INET : AF_INET6, p.net, buf, sizeof buf);
    return std::string(buf) + "/" + std::to_string(p.len);
}

const char *kind_name(Kind k) {
    return k == Kind::kEnterDeep ? "enter-deep" : "bring-home";
}

const char *health_name(Health h) {
    return h == Health::kUp ? "up" : h == Health::kDraining ? "draining" : "down";
}

bool parse_health(std::string_view s, Health *out) {
    if (s == "up")
        *out = Health::kUp;
    else if (s == "draining")
        *out = Health::kDraining;
    else if (s == "down")
        *out = Health::kDown;
    else
        return false;
    return true;
}

std::string http_host_of(const Cluster &c) {
    if (!c.http_host.empty()) return c.http_host;
    char b[INET6_ADDRSTRLEN];
    if (!c.v4.empty() && inet_ntop(AF_INET, c.v4[0].data(), b, sizeof b)) return b;
    if (!c.v6.empty() && inet_ntop(AF_INET6, c.v6[0].data(), b, sizeof b))
        return "[" + std::string(b) + "]";
    return {};
}

}  // namespace ep::cluster

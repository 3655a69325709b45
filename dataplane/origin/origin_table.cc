#include "dataplane/origin/origin_table.h"

namespace ep::origin {

namespace {

bool parse_uint(std::string_view s, uint32_t max, uint32_t *out) {
    if (s.empty() || s.size() > 5) return false;
    uint32_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<uint32_t>(c - '0');
    }
    if (v > max) return false;
    *out = v;
    return true;
}

}  // namespace

bool parse_ipv4_literal(std::string_view s, uint32_t *ip_be) {
    uint8_t b[4];
    for (int i = 0; i < 4; ++i) {
        const size_t dot = i < 3 ? s.find('.') : s.size();
        if (dot == std::string_view::npos) return false;
        const std::string_view part = s.substr(0, dot);
        uint32_t v;
        if (part.size() > 3 || (part.size() > 1 && part[0] == '0') || !parse_uint(part, 255, &v))
            return false;
        b[i] = static_cast<uint8_t>(v);
        s.remove_prefix(i < 3 ? dot + 1 : dot);
    }
    if (!s.empty()) return false;
    // Bytes in memory order are network order.
    *ip_be = uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
    return true;
}

bool valid_host_name(std::string_view s) {
    if (s.empty() || s.size() >= Server::kMaxName) return false;
    bool all_digits = true;
    size_t label = 0;
    char prev = '.';
    for (char c : s) {
        const bool alnum =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (c == '.') {
            if (prev == '.' || prev == '-') return false;
            label = 0;
        } else if (c == '-') {
            if (prev == '.') return false;
            all_digits = false;
            ++label;
        } else if (alnum) {
            all_digits &= c >= '0' && c <= '9';
            ++label;
        } else {
            return false;
        }
        if (label > 63) return false;
        prev = c;
    }
    // Trailing dot allowed (a fully qualified name); "1.2.3" is no name.
    return prev != '-' && !all_digits;
}

bool parse_route(std::string_view spec, Route *out, const char **why) {
    const char *dummy;
    if (!why) why = &dummy;
    *out = Route{};
    const size_t eq = spec.find('=');
    if (eq == std::string_view::npos) return *why = "expected PREFIX=ADDR[:PORT][,...]", false;
    std::string_view prefix = spec.substr(0, eq);
    if (prefix.empty() || prefix[0] != '/') return *why = "the prefix must start with '/'", false;
    // "/vod/" and "/vod" name the same segment.
    while (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
    if (prefix.size() >= Route::kMaxPrefix) return *why = "prefix too long", false;
    for (char c : prefix)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            return *why = "the prefix has a space or control character", false;
    for (size_t i = 0; i < prefix.size(); ++i) out->prefix[i] = prefix[i];
    out->prefix_len = static_cast<uint8_t>(prefix.size());
    std::string_view list = spec.substr(eq + 1);
    if (list.empty()) return *why = "no origin server after '='", false;
    while (!list.empty()) {
        const size_t comma = list.find(',');
        const std::string_view one = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        if (comma != std::string_view::npos && list.empty())
            return *why = "empty server after ','", false;
        if (out->nservers == Route::kMaxServers) return *why = "more than 4 servers", false;
        Server s;
        const size_t colon = one.find(':');
        const std::string_view addr = one.substr(0, colon);
        if (!parse_ipv4_literal(addr, &s.ip_be)) {
            if (!valid_host_name(addr))
                return *why = "a server is neither an IPv4 address nor a host name", false;
            s.ip_be = 0;  // the resolver's (control thread) to fill in
            s.name_len = static_cast<uint8_t>(addr.size());
            for (size_t i = 0; i < addr.size(); ++i) s.name[i] = addr[i];
        }
        if (colon != std::string_view::npos) {
            uint32_t port;
            if (!parse_uint(one.substr(colon + 1), 65535, &port) || port == 0)
                return *why = "bad port", false;
            s.port = static_cast<uint16_t>(port);
        }
        out->servers[out->nservers++] = s;
    }
    return true;
}

bool Table::add(const Route &r) {
    if (n_ == kMaxRoutes || r.nservers == 0) return false;
    for (size_t i = 0; i < n_; ++i)
        if (routes_[i].prefix_view() == r.prefix_view()) return false;
    routes_[n_++] = r;
    return true;
}

const Route *Table::match(std::string_view path) const {
    const Route *best = nullptr;
    for (size_t i = 0; i < n_; ++i) {
        const std::string_view p = routes_[i].prefix_view();
        if (path.substr(0, p.size()) != p) continue;
        // "/" matches everything; otherwise the prefix ends a path segment.
        if (p != "/" && path.size() > p.size() && path[p.size()] != '/') continue;
        if (!best || p.size() > best->prefix_len) best = &routes_[i];
    }
    return best;
}

const Route *Table::match_key(std::string_view key) const {
    const Route *best = nullptr;
    for (size_t i = 0; i < n_; ++i) {
        const std::string_view p = routes_[i].prefix_view().substr(1);  // without its '/'
        if (key.substr(0, p.size()) != p) continue;
        if (!p.empty() && key.size() > p.size() && key[p.size()] != '/') continue;
        if (!best || p.size() + 1 > best->prefix_len) best = &routes_[i];
    }
    return best;
}

}  // namespace ep::origin

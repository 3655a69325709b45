// Magnet URI parser (BEP 9): see magnet.h.
#include "dataplane/swarm/magnet.h"
#include "dataplane/http/percent_decode.h"

#include <cstring>

namespace ep::swarm {

const char *magnet_error_name(MagnetError e) {
    switch (e) {
        case MagnetError::ok:
            return "ok";
#define EP_X(n, h)       \
    case MagnetError::n: \
        return #n;
            EP_MAGNET_ERRORS(EP_X)
#undef EP_X
    }
    return "?";
}

namespace {

// RFC 4648 section 6 alphabet, case-insensitive: 32 characters = 160 bits.
bool base32_20(std::string_view s, uint8_t out[20]) {
    if (s.size() != 32) return false;
    uint64_t acc = 0;
    int bits = 0, k = 0;
    for (char c : s) {
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a';
        else if (c >= '2' && c <= '7')
            v = c - '2' + 26;
        else
            return false;
        acc = (acc << 5) | static_cast<uint64_t>(v);
        bits += 5;
        if (bits >= 8) {
            out[k++] = static_cast<uint8_t>(acc >> (bits - 8));
            bits -= 8;
        }
    }
    return k == 20;
}

bool hex_20(std::string_view s, uint8_t out[20]) {
    if (s.size() != 40) return false;
    for (size_t i = 0; i < 20; ++i) {
        const int a = uri::hex_value(s[2 * i]), b = uri::hex_value(s[2 * i + 1]);
        if (a < 0 || b < 0) return false;
        out[i] = static_cast<uint8_t>(a << 4 | b);
    }
    return true;
}

}  // namespace

bool percent_decode(std::string_view in, std::string *out, bool plus_is_space) {
    out->resize(in.size());  // decoding never grows a string
    const uri::PercentResult r =
        uri::percent_decode(in, out->data(), out->size(), {.plus_is_space = plus_is_space});
    out->resize(r.len);
    return !r.bad_escape;
}

bool parse_ipv4_port(std::string_view s, uint32_t *ip_be, uint16_t *port) {
    const size_t colon = s.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    uint32_t octets[4] = {};
    int n = 0;
    size_t i = 0;
    while (i < colon) {
        if (n == 4) return false;
        uint32_t v = 0;
        size_t digits = 0;
        while (i < colon && s[i] >= '0' && s[i] <= '9') {
            v = v * 10 + static_cast<uint32_t>(s[i] - '0');
            if (++digits > 3 || v > 255) return false;
            ++i;
        }
        if (digits == 0) return false;
        octets[n++] = v;
        if (i < colon) {
            if (s[i] != '.') return false;
            ++i;
            if (i == colon) return false;
        }
    }
    if (n != 4) return false;
    uint32_t p = 0;
    size_t digits = 0;
    for (size_t j = colon + 1; j < s.size(); ++j) {
        if (s[j] < '0' || s[j] > '9' || ++digits > 5) return false;
        p = p * 10 + static_cast<uint32_t>(s[j] - '0');
    }
    if (digits == 0 || p == 0 || p > 65535) return false;
    const uint8_t b[4] = {static_cast<uint8_t>(octets[0]), static_cast<uint8_t>(octets[1]),
                          static_cast<uint8_t>(octets[2]), static_cast<uint8_t>(octets[3])};
    std::memcpy(ip_be, b, 4);  // network order: the first octet first in memory
    *port = static_cast<uint16_t>(p);
    return true;
}

MagnetError parse_magnet(std::string_view uri, Magnet *out) {
    *out = Magnet{};
    constexpr std::string_view kHead = "magnet:?";
    if (uri.size() > 65536) return MagnetError::too_long;
    if (uri.size() < kHead.size()) return MagnetError::not_magnet;
    for (size_t i = 0; i < kHead.size(); ++i)  // the scheme is case-insensitive (RFC 3986 3.1)
        if ((uri[i] | (i < 6 ? 0x20 : 0)) != kHead[i]) return MagnetError::not_magnet;
    std::string_view rest = uri.substr(kHead.size());
    bool have_hash = false;
    std::string val;
    while (!rest.empty()) {
        const size_t amp = rest.find('&');
        const std::string_view kv = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        const size_t eq = kv.find('=');
        if (eq == std::string_view::npos) continue;  // a bare key: nothing to use
        const std::string_view key = kv.substr(0, eq);
        if (!percent_decode(kv.substr(eq + 1), &val, key == "dn")) return MagnetError::bad_escape;
        if (key == "xt") {
            constexpr std::string_view kBtih = "urn:btih:";
            if (val.compare(0, kBtih.size(), kBtih) != 0) continue;  // btmh (v2) and others
            const std::string_view h = std::string_view(val).substr(kBtih.size());
            Sha1 hash{};
            if (!hex_20(h, hash.data()) && !base32_20(h, hash.data())) return MagnetError::bad_btih;
            if (have_hash && hash != out->info_hash) return MagnetError::two_btih;
            out->info_hash = hash;
            have_hash = true;
        } else if (key == "dn") {
            out->name = val;
        } else if (key == "tr") {
            bool dup = false;
            for (const auto &t : out->trackers) dup |= t == val;
            if (dup) continue;
            if (out->trackers.size() == 64) return MagnetError::too_long;
            out->trackers.push_back(val);
        } else if (key == "x.pe") {
            uint32_t ip = 0;
            uint16_t port = 0;
            if (!parse_ipv4_port(val, &ip, &port)) {
                ++out->peers_skipped;
                continue;
            }
            if (out->peers.size() == 64) return MagnetError::too_long;
            out->peers.emplace_back(ip, port);
        }
    }
    return have_hash ? MagnetError::ok : MagnetError::no_btih;
}

}  // namespace ep::swarm
